"""Communities, people, memberships and handled Slack events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(80), nullable=False),
        sa.Column("slack_channel_id", sa.String(32), nullable=False),
        sa.Column("mission", sa.String(3000), nullable=False),
        sa.Column("description", sa.String(3000), nullable=False),
        sa.Column("purpose_areas", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("roster_version", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("team_id", "slack_channel_id", name="uq_community_channel"),
        sa.UniqueConstraint("team_id", "name_key", name="uq_community_name"),
    )
    op.create_table(
        "person",
        sa.Column("slack_user_id", sa.String(32), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("real_name", sa.String(200), nullable=False),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("profile_fetched_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "slack_user_id",
            sa.String(32),
            sa.ForeignKey("person.slack_user_id"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("community_id", "slack_user_id", name="uq_membership"),
        sa.CheckConstraint("role IN ('leader', 'member')", name="ck_membership_role"),
    )
    op.create_index("ix_membership_community_id", "membership", ["community_id"])
    op.create_index("ix_membership_slack_user_id", "membership", ["slack_user_id"])
    op.create_table(
        "handled_event",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("handled_event")
    op.drop_index("ix_membership_slack_user_id", "membership")
    op.drop_index("ix_membership_community_id", "membership")
    op.drop_table("membership")
    op.drop_table("person")
    op.drop_table("community")
