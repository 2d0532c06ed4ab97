"""Reminders name what they are about in typed columns, not key strings; nudge series
get a typed identity; the scheduler's lease; claim tokens.

- reminder: `target` (e.g. "call:12:s3:dm:U5") is replaced by `call_sequence` and
  `series_id` (the other parts were already columns); the unique key is over the typed
  columns; `claim_token` is added.
- nudge_series: keyed by (kind, community, milestone, year) instead of a string.
- scheduler_lease: one row per lease, holder and expiry.

Existing rows are carried over: their key strings are read once, here.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NUDGE_KINDS = ("agenda_due", "report_due", "plan_nudge", "milestone")


def _series_key(series: str) -> tuple[str, int | None, int | None, int | None] | None:
    """(kind, community id, milestone id, year) of an old series string, or None."""
    parts = series.split(":")
    if parts[0] == "milestone" and len(parts) == 2 and parts[1].isdigit():
        return "milestone", None, int(parts[1]), None
    if parts[0] in ("agenda_due", "report_due") and len(parts) == 4 and parts[3].isdigit():
        return parts[0], int(parts[2]), None, int(parts[3])
    if parts[0] == "plan_nudge" and len(parts) == 3:
        return "plan_nudge", int(parts[2]), None, None
    return None


def _new_series_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("community.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "milestone_id",
            sa.Integer(),
            sa.ForeignKey("milestone.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(32), nullable=True),
    )


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    # nudge series: a typed identity
    old_table = sa.table(
        "nudge_series",
        sa.column("series", sa.String()),
        sa.column("done_at", UTCDateTime()),
        sa.column("snoozed_until", UTCDateTime()),
        sa.column("updated_by", sa.String()),
    )
    old_series = conn.execute(sa.select(old_table)).all()
    op.drop_table("nudge_series")
    _new_series_table("nudge_series")
    series = sa.table(
        "nudge_series",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("community_id", sa.Integer()),
        sa.column("milestone_id", sa.Integer()),
        sa.column("year", sa.Integer()),
        sa.column("done_at", UTCDateTime()),
        sa.column("snoozed_until", UTCDateTime()),
        sa.column("updated_by", sa.String()),
    )
    milestone_community = dict(
        conn.execute(sa.text("SELECT id, community_id FROM milestone")).all()
    )
    ids: dict[str, int] = {}

    def series_id(key: str, values: dict) -> int | None:
        if key in ids:
            return ids[key]
        parsed = _series_key(key)
        if parsed is None:
            return None
        kind, community_id, milestone_id, year = parsed
        if milestone_id is not None:
            community_id = milestone_community.get(milestone_id)
        if community_id is None:
            return None
        row = conn.execute(
            series.insert()
            .values(
                kind=kind, community_id=community_id, milestone_id=milestone_id, year=year, **values
            )
            .returning(series.c.id)
        ).scalar_one()
        ids[key] = row
        return row

    for key, done_at, snoozed_until, updated_by in old_series:
        series_id(
            key, {"done_at": done_at, "snoozed_until": snoozed_until, "updated_by": updated_by}
        )
    # reminders: typed columns instead of the key string
    with op.batch_alter_table("reminder") as batch:
        batch.add_column(sa.Column("call_sequence", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "series_id",
                sa.Integer(),
                sa.ForeignKey("nudge_series.id", name="fk_reminder_series", ondelete="CASCADE"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("claim_token", sa.String(36), nullable=True))
    for rid, kind, target in conn.execute(sa.text("SELECT id, kind, target FROM reminder")).all():
        values: dict = {}
        if target.startswith("call:"):
            values["call_sequence"] = int(target.split(":")[2].lstrip("s"))
        elif kind in NUDGE_KINDS:
            values["series_id"] = series_id(target.split(":to:")[0], {})
        if values:
            conn.execute(
                sa.text(
                    "UPDATE reminder SET "
                    + ", ".join(f"{k} = :{k}" for k in values)
                    + " WHERE id = :id"
                ),
                {**values, "id": rid},
            )
    with op.batch_alter_table("reminder") as batch:
        batch.drop_constraint("uq_reminder_key", type_="unique")
        batch.drop_column("target")
    op.create_index(
        "uq_reminder_key",
        "reminder",
        [
            "kind",
            "community_id",
            sa.text("coalesce(call_id, 0)"),
            sa.text("coalesce(call_sequence, 0)"),
            sa.text("coalesce(milestone_id, 0)"),
            sa.text("coalesce(recipient, '')"),
            "due_at",
        ],
        unique=True,
    )
    op.create_index("ix_reminder_series", "reminder", ["series_id"])
    op.create_index(
        "uq_nudge_series_key",
        "nudge_series",
        [
            "kind",
            "community_id",
            sa.text("coalesce(milestone_id, 0)"),
            sa.text("coalesce(year, 0)"),
        ],
        unique=True,
    )


def _old_series_key(kind: str, community_id: int, milestone_id, year) -> str:
    if kind == "milestone":
        return f"milestone:{milestone_id}"
    if year is not None:
        return f"{kind}:community:{community_id}:{year}"
    return f"{kind}:community:{community_id}"


def downgrade() -> None:
    conn = op.get_bind()
    series = {
        sid: _old_series_key(kind, cid, mid, year)
        for sid, kind, cid, mid, year in conn.execute(
            sa.text("SELECT id, kind, community_id, milestone_id, year FROM nudge_series")
        ).all()
    }
    op.drop_index("uq_nudge_series_key", "nudge_series")
    op.drop_index("ix_reminder_series", "reminder")
    op.drop_index("uq_reminder_key", "reminder")
    with op.batch_alter_table("reminder") as batch:
        batch.add_column(sa.Column("target", sa.String(160), nullable=False, server_default=""))
    rows = conn.execute(
        sa.text(
            "SELECT id, kind, call_id, call_sequence, recipient, series_id, due_at FROM reminder"
        )
    ).all()
    for rid, kind, call_id, seq, recipient, series_id, _due in rows:
        if call_id is not None:
            target = f"call:{call_id}:s{seq or 0}"
            if kind == "call_followup":
                target += ":host"
            elif recipient:
                target += f":dm:{recipient}"
        else:
            target = f"{series.get(series_id, kind)}:to:{recipient}"
        conn.execute(
            sa.text("UPDATE reminder SET target = :t WHERE id = :id"), {"t": target, "id": rid}
        )
    with op.batch_alter_table("reminder") as batch:
        batch.drop_constraint("fk_reminder_series", type_="foreignkey")
        batch.drop_column("claim_token")
        batch.drop_column("series_id")
        batch.drop_column("call_sequence")
        batch.create_unique_constraint("uq_reminder_key", ["kind", "target", "due_at"])
    typed = sa.table(
        "nudge_series",
        sa.column("id", sa.Integer()),
        sa.column("done_at", UTCDateTime()),
        sa.column("snoozed_until", UTCDateTime()),
        sa.column("updated_by", sa.String()),
    )
    old = conn.execute(sa.select(typed)).all()
    op.drop_table("nudge_series")
    op.create_table(
        "nudge_series",
        sa.Column("series", sa.String(160), primary_key=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("updated_by", sa.String(32), nullable=True),
    )
    table = sa.table(
        "nudge_series",
        sa.column("series", sa.String()),
        sa.column("done_at", UTCDateTime()),
        sa.column("snoozed_until", UTCDateTime()),
        sa.column("updated_by", sa.String()),
    )
    for sid, done_at, snoozed_until, updated_by in old:
        if sid in series:
            conn.execute(
                table.insert().values(
                    series=series[sid],
                    done_at=done_at,
                    snoozed_until=snoozed_until,
                    updated_by=updated_by,
                )
            )
    op.drop_table("scheduler_lease")
