"""Each registration's own calendar file: an unguessable token in the URL of the .ics
that carries the person's own join link.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_registration") as batch:
        batch.add_column(sa.Column("calendar_token", sa.String(64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id FROM call_registration WHERE state = 'registered'")
    ).all()
    for (row_id,) in rows:
        conn.execute(
            sa.text("UPDATE call_registration SET calendar_token = :t WHERE id = :id"),
            {"t": secrets.token_urlsafe(24), "id": row_id},
        )
    with op.batch_alter_table("call_registration") as batch:
        batch.create_unique_constraint("uq_call_registration_calendar", ["calendar_token"])


def downgrade() -> None:
    with op.batch_alter_table("call_registration") as batch:
        batch.drop_constraint("uq_call_registration_calendar", type_="unique")
        batch.drop_column("calendar_token")
