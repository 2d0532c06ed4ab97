"""Onsite rooms are held in quarter-hour cells of UTC: each block's cells are written
again as every quarter hour its time touches, so two blocks that overlap in a room by any
instant share a cell, and the room-and-cell key refuses the second.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

block = sa.table(
    "onsite_block",
    sa.column("id", sa.Integer()),
    sa.column("room_id", sa.Integer()),
    sa.column("start_at", UTCDateTime()),
    sa.column("end_at", UTCDateTime()),
)
slot = sa.table(
    "onsite_room_slot",
    sa.column("room_id", sa.Integer()),
    sa.column("starts_at", UTCDateTime()),
    sa.column("block_id", sa.Integer()),
)


def _rewrite(cell: timedelta, *, on_the_grid: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(block.c.id, block.c.room_id, block.c.start_at, block.c.end_at))
    blocks = rows.all()
    bind.execute(sa.delete(slot))
    for block_id, room_id, start, end in blocks:
        at = _EPOCH + ((start - _EPOCH) // cell) * cell if on_the_grid else start
        cells = []
        while at < end:
            cells.append({"room_id": room_id, "starts_at": at, "block_id": block_id})
            at += cell
        if cells:
            bind.execute(sa.insert(slot), cells)


def upgrade() -> None:
    _rewrite(timedelta(minutes=15), on_the_grid=True)


def downgrade() -> None:
    _rewrite(timedelta(minutes=30), on_the_grid=False)  # as 0012 wrote them
