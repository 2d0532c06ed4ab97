"""Polls (questions, options, votes) and announcements with their posted copies.

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def _fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), _fk("community"), nullable=False),
        sa.Column("group_key", sa.String(80), nullable=False),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("max_choices", sa.Integer(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("live_results", sa.Boolean(), nullable=False),
        sa.Column("members_add_options", sa.Boolean(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("results_state", sa.String(16), nullable=False),
        sa.Column("results_claimed_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("refresh_claimed_at", UTCDateTime(), nullable=True),
        sa.Column("message_channel", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed')", name="ck_poll_state"),
        sa.UniqueConstraint("community_id", "group_key", name="uq_poll_group"),
    )
    op.create_index("ix_poll_community_id", "poll", ["community_id"])
    op.create_index("ix_poll_state_closes", "poll", ["state", "closes_at"])
    op.create_index("ix_poll_results", "poll", ["results_state"])
    op.create_table(
        "poll_option",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.Integer(), _fk("poll"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(75), nullable=False),
        sa.Column("label_key", sa.String(75), nullable=False),
        sa.UniqueConstraint("poll_id", "label_key", name="uq_poll_option_label"),
        sa.UniqueConstraint("poll_id", "position", name="uq_poll_option_position"),
    )
    op.create_index("ix_poll_option_poll_id", "poll_option", ["poll_id"])
    op.create_table(
        "poll_vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.Integer(), _fk("poll"), nullable=False),
        sa.Column("option_id", sa.Integer(), _fk("poll_option"), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.UniqueConstraint("poll_id", "voter", "option_id", name="uq_poll_vote"),
    )
    op.create_index("ix_poll_vote_option", "poll_vote", ["option_id"])
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mention", sa.String(16), nullable=False),
        sa.Column("pin", sa.Boolean(), nullable=False),
        sa.Column("send_at", UTCDateTime(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(80), nullable=True, unique=True),
    )
    op.create_index("ix_announcement_state_send", "announcement", ["state", "send_at"])
    op.create_table(
        "announcement_copy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("announcement_id", sa.Integer(), _fk("announcement"), nullable=False),
        sa.Column("community_id", sa.Integer(), _fk("community"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ts", sa.Text(), nullable=False),
        sa.Column("error", sa.String(200), nullable=True),
        sa.UniqueConstraint("announcement_id", "community_id", name="uq_announcement_copy"),
    )
    op.create_index(
        "ix_announcement_copy_announcement_id", "announcement_copy", ["announcement_id"]
    )


def downgrade() -> None:
    op.drop_table("announcement_copy")
    op.drop_table("announcement")
    op.drop_table("poll_vote")
    op.drop_table("poll_option")
    op.drop_table("poll")
