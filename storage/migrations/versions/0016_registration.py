"""Registration for calls' meetings: whether a call's meeting requires it, and each
person's registration (Zoom's registrant id and their own join link).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "call", sa.Column("registration", sa.String(8), nullable=False, server_default="off")
    )
    op.create_table(
        "call_registration",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("registrant_id", sa.String(64), nullable=True),
        sa.Column("join_url", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("call_id", "slack_user_id", name="uq_call_registration"),
        sa.CheckConstraint(
            "state IN ('registered', 'cancelled', 'no_email')", name="ck_call_registration_state"
        ),
    )
    op.create_index("ix_call_registration_registrant", "call_registration", ["registrant_id"])


def downgrade() -> None:
    op.drop_index("ix_call_registration_registrant", table_name="call_registration")
    op.drop_table("call_registration")
    op.drop_column("call", "registration")
