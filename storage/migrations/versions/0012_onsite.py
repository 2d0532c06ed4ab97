"""The Annual Meeting: rooms, communities' onsite blocks (a room's half-hours held by
one block each), onsite agendas, the evidence log, progress reports,
guideline acknowledgements, shares and the monthly digest.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "onsite_meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "onsite_room",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("onsite_meeting.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.UniqueConstraint("meeting_id", "name", name="uq_onsite_room"),
    )
    op.create_table(
        "onsite_block",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("onsite_meeting.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "room_id",
            sa.Integer(),
            sa.ForeignKey("onsite_room.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("meeting_id", "community_id", name="uq_onsite_block_community"),
    )
    op.create_table(
        "onsite_room_slot",
        sa.Column(
            "room_id",
            sa.Integer(),
            sa.ForeignKey("onsite_room.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("starts_at", UTCDateTime(), primary_key=True),
        sa.Column(
            "block_id",
            sa.Integer(),
            sa.ForeignKey("onsite_block.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_index("ix_onsite_room_slot_block_id", "onsite_room_slot", ["block_id"])
    op.create_table(
        "onsite_agenda",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_by", sa.String(32), nullable=True),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("community_id", "year", name="uq_onsite_agenda"),
        sa.CheckConstraint("state IN ('draft', 'submitted')", name="ck_onsite_agenda_state"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(32), nullable=True),
        sa.Column("message_channel", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("added_by", sa.String(32), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "community_id", "message_channel", "message_ts", name="uq_evidence_msg"
        ),
    )
    op.create_index("ix_evidence_community", "evidence", ["community_id", "added_at"])
    op.create_table(
        "progress_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("celebrations", sa.Text(), nullable=False),
        sa.Column("practice", sa.Text(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_by", sa.String(32), nullable=True),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("community_id", "year", name="uq_progress_report"),
        sa.CheckConstraint("state IN ('draft', 'submitted')", name="ck_progress_report_state"),
    )
    op.create_table(
        "resource_ack",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(32), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("community_id", "year", name="uq_resource_ack"),
    )
    op.create_table(
        "share",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("region", sa.String(80), nullable=True),
        sa.Column("shared_by", sa.String(32), nullable=False),
        sa.Column("shared_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_share_community", "share", ["community_id", "shared_at"])
    op.create_table(
        "share_digest",
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_month", sa.String(7), nullable=True),
        sa.Column("updated_by", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("share_digest")
    op.drop_index("ix_share_community", table_name="share")
    op.drop_table("share")
    op.drop_table("resource_ack")
    op.drop_table("progress_report")
    op.drop_index("ix_evidence_community", table_name="evidence")
    op.drop_table("evidence")
    op.drop_table("onsite_agenda")
    op.drop_index("ix_onsite_room_slot_block_id", table_name="onsite_room_slot")
    op.drop_table("onsite_room_slot")
    op.drop_table("onsite_block")
    op.drop_table("onsite_room")
    op.drop_table("onsite_meeting")
