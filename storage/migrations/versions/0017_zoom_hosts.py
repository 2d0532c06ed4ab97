"""A pool of Zoom hosts: the host of each call's meeting, the hosts' booked time (unique
per host and 5-minute slot) and their meeting creates/updates per UTC day.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("zoom_host", sa.String(254), nullable=True))
        batch.add_column(sa.Column("meeting_not_before", UTCDateTime(), nullable=True))
    op.create_table(
        "host_booking",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host", sa.String(254), nullable=False),
        sa.Column("slot_at", UTCDateTime(), nullable=False),
        sa.Column(
            "call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False
        ),
        sa.UniqueConstraint("host", "slot_at", name="uq_host_booking_slot"),
    )
    op.create_index("ix_host_booking_call", "host_booking", ["call_id"])
    op.create_table(
        "zoom_host_day",
        sa.Column("host", sa.String(254), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("requests", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("zoom_host_day")
    op.drop_index("ix_host_booking_call", "host_booking")
    op.drop_table("host_booking")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("meeting_not_before")
        batch.drop_column("zoom_host")
