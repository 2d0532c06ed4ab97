"""Community names normalised for uniqueness (wider key, keys recomputed); the claim
that lets one publication of a plan run at a time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def _clean(name: str) -> str:
    # the rule of bot.services.communities.clean_name, as it was when this ran
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE
    )
    return re.sub(r" +", " ", text).strip()


def upgrade() -> None:
    with op.batch_alter_table("community") as batch:
        batch.alter_column(
            "name_key", existing_type=sa.String(80), type_=sa.String(320), existing_nullable=False
        )
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("publishing_since", UTCDateTime(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, team_id, name, name_key FROM community")).all()
    taken = {(team, key) for _, team, _, key in rows}
    for cid, team, name, key in rows:
        clean = _clean(name)
        new_key = unicodedata.normalize("NFKC", clean.casefold())
        if new_key == key:
            continue
        if (team, new_key) in taken:
            # an older community already looks the same: keep this one's old key (staff
            # can rename it); nothing is lost
            continue
        taken.discard((team, key))
        taken.add((team, new_key))
        conn.execute(
            sa.text("UPDATE community SET name = :name, name_key = :key WHERE id = :id"),
            {"name": clean[:80], "key": new_key, "id": cid},
        )


def downgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("publishing_since")
    with op.batch_alter_table("community") as batch:
        batch.alter_column(
            "name_key", existing_type=sa.String(320), type_=sa.String(80), existing_nullable=False
        )
