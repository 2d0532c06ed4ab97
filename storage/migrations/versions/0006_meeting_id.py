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
    with op.batch_alter_table("call") as batch:
        batch.alter_column("zoom_meeting_id", new_column_name="meeting_id")
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
    with op.batch_alter_table("call") as batch:
        batch.alter_column("meeting_id", new_column_name="zoom_meeting_id")
