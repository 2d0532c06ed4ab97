"""Reminders (the scheduler's outbox), nudge series, reminder preferences.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership") as batch:
        batch.add_column(
            sa.Column("reminders", sa.String(16), nullable=False, server_default="channel")
        )
    op.create_index("ix_community_created_at", "community", ["created_at"])
    with op.batch_alter_table("call") as batch:
        batch.add_column(
            sa.Column("needs_planning", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("recording_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("slides_url", sa.Text(), nullable=True))
    with op.batch_alter_table("community") as batch:
        batch.add_column(
            sa.Column(
                "call_reminders", sa.String(32), nullable=False, server_default="week,day,hour"
            )
        )
    op.create_index("ix_call_needs_planning", "call", ["needs_planning"])
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(160), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "milestone_id",
            sa.Integer(),
            sa.ForeignKey("milestone.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("recipient", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.UniqueConstraint("kind", "target", "due_at", name="uq_reminder_key"),
    )
    op.create_index("ix_reminder_state_due", "reminder", ["state", "due_at"])
    op.create_index("ix_reminder_call", "reminder", ["call_id"])
    op.create_table(
        "scheduler_mark",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "nudge_series",
        sa.Column("series", sa.String(160), primary_key=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("nudge_series")
    op.drop_table("scheduler_mark")
    op.drop_index("ix_reminder_call", "reminder")
    op.drop_index("ix_reminder_state_due", "reminder")
    op.drop_table("reminder")
    op.drop_index("ix_call_needs_planning", "call")
    with op.batch_alter_table("community") as batch:
        batch.drop_column("call_reminders")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("slides_url")
        batch.drop_column("recording_url")
        batch.drop_column("needs_planning")
    op.drop_index("ix_community_created_at", "community")
    with op.batch_alter_table("membership") as batch:
        batch.drop_column("reminders")
