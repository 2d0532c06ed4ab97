"""Interactive requests already handled (view submissions, button clicks, commands), with
the answer given, so a replayed delivery answers the same and does nothing more.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_request",
        sa.Column("request_key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
    )
    op.create_index("ix_handled_request_received_at", "handled_request", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_request_received_at", "handled_request")
    op.drop_table("handled_request")
