"""A conferencing permission (a Zoom scope) found missing at run time, told to staff
once; the date Zoom deletes an archived recording, and when its leaders were told.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conferencing_alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("permission", sa.String(120), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("told_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("permission", name="uq_conferencing_alert"),
    )
    op.add_column("call_resource", sa.Column("deletes_on", sa.Date(), nullable=True))
    op.add_column("call_resource", sa.Column("deletion_told_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_resource") as batch:
        batch.drop_column("deletion_told_at")
        batch.drop_column("deletes_on")
    op.drop_table("conferencing_alert")
