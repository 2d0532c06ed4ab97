"""After the call: handled Zoom webhooks, after-call work (attendance, recordings),
attendance per call and per person, a call's recording, slides and readings, the
value-creation questions and the switches that turn them off.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _call_fk() -> sa.Column:
    return sa.Column(
        "call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False
    )


def _community_fk() -> sa.Column:
    return sa.Column(
        "community_id",
        sa.Integer(),
        sa.ForeignKey("community.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "zoom_delivery",
        sa.Column("event_key", sa.String(64), primary_key=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "after_call_job",
        sa.Column("id", sa.Integer(), primary_key=True),
        _call_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("meeting_uuid", sa.String(200), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("call_id", "kind", name="uq_after_call_job"),
        sa.CheckConstraint("kind IN ('attendance', 'recording')", name="ck_after_call_job_kind"),
    )
    op.create_index("ix_after_call_job_due", "after_call_job", ["state", "due_at"])
    op.create_table(
        "call_attendance",
        sa.Column(
            "call_id",
            sa.Integer(),
            sa.ForeignKey("call.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("came", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("first_timers", sa.Integer(), nullable=False),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("counted_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), primary_key=True),
        _call_fk(),
        _community_fk(),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column("attended_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("call_id", "slack_user_id", name="uq_attendance"),
    )
    op.create_index("ix_attendance_person", "attendance", ["community_id", "slack_user_id"])
    op.create_table(
        "call_resource",
        sa.Column("id", sa.Integer(), primary_key=True),
        _call_fk(),
        _community_fk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("passcode", sa.String(64), nullable=True),
        sa.Column("added_by", sa.String(32), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("call_id", "kind", "url", name="uq_call_resource"),
        sa.CheckConstraint(
            "kind IN ('recording', 'slides', 'reading')", name="ck_call_resource_kind"
        ),
    )
    op.create_index("ix_call_resource_community", "call_resource", ["community_id", "added_at"])
    op.create_table(
        "value_question",
        sa.Column("id", sa.Integer(), primary_key=True),
        _call_fk(),
        _community_fk(),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("evidence_ok", sa.Boolean(), nullable=False),
        sa.Column("may_name", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("call_id", "slack_user_id", "stage", name="uq_value_question"),
        sa.CheckConstraint("stage IN ('try', 'follow_up')", name="ck_value_question_stage"),
    )
    op.create_index("ix_value_question_due", "value_question", ["state", "due_at"])
    op.create_table(
        "value_opt_out",
        sa.Column("slack_user_id", sa.String(32), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "community_after_call",
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("value_questions", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("community_after_call")
    op.drop_table("value_opt_out")
    op.drop_index("ix_value_question_due", "value_question")
    op.drop_table("value_question")
    op.drop_index("ix_call_resource_community", "call_resource")
    op.drop_table("call_resource")
    op.drop_index("ix_attendance_person", "attendance")
    op.drop_table("attendance")
    op.drop_table("call_attendance")
    op.drop_index("ix_after_call_job_due", "after_call_job")
    op.drop_table("after_call_job")
    op.drop_table("zoom_delivery")
