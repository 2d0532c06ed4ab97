"""Community calls, and a calendar feed token per community.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import secrets

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("community") as batch:
        batch.add_column(sa.Column("calendar_token", sa.String(64), nullable=True))
    conn = op.get_bind()
    for (community_id,) in conn.execute(sa.text("SELECT id FROM community")).all():
        conn.execute(
            sa.text("UPDATE community SET calendar_token = :t WHERE id = :id"),
            {"t": secrets.token_urlsafe(24), "id": community_id},
        )
    with op.batch_alter_table("community") as batch:
        batch.alter_column("calendar_token", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_community_calendar_token", ["calendar_token"])

    op.create_table(
        "call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("host_user_id", sa.String(32), nullable=False),
        sa.Column("alternate_user_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("meeting_state", sa.String(16), nullable=False),
        sa.Column("meeting_claimed_at", UTCDateTime(), nullable=True),
        sa.Column("meeting_error", sa.Text(), nullable=True),
        sa.Column("zoom_meeting_id", sa.BigInteger(), nullable=True),
        sa.Column("join_url", sa.Text(), nullable=True),
        sa.Column("passcode", sa.String(32), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("message_channel", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('community', 'additional')", name="ck_call_kind"),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled', 'held')", name="ck_call_status"),
    )
    op.create_index("ix_call_community_start", "call", ["community_id", "start_at"])
    op.create_index("ix_call_status_start", "call", ["status", "start_at"])


def downgrade() -> None:
    op.drop_index("ix_call_status_start", "call")
    op.drop_index("ix_call_community_start", "call")
    op.drop_table("call")
    with op.batch_alter_table("community") as batch:
        batch.drop_constraint("uq_community_calendar_token", type_="unique")
        batch.drop_column("calendar_token")
