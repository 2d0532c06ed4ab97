"""A call's meeting id has a neutral name (`meeting_id`, whatever the conferencing), and
accepted year plans are recorded, one per community and program year.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rename("zoom_meeting_id", "meeting_id")
    op.create_table(
        "year_plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("accepted_by", sa.String(32), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=False),
        sa.Column("view_id", sa.String(64), nullable=True),
        sa.UniqueConstraint("community_id", "first_day", name="uq_year_plan"),
    )


def downgrade() -> None:
    op.drop_table("year_plan")
    _rename("meeting_id", "zoom_meeting_id")


def _rename(old: str, new: str) -> None:
    """Rename in place (SQLite 3.25+ and PostgreSQL both can): a batch copy of `call`
    would drop the table, and with foreign keys on that deletes every reminder of it."""
    op.execute(sa.text(f'ALTER TABLE "call" RENAME COLUMN {old} TO {new}'))
