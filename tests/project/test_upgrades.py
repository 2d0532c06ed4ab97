"""Upgrades keep every row: for each earlier migration, a database is built at that
migration and filled with rows for the features of its time (each table gets rows as the
migration that made it left it; reminders, polls and calls with their real shapes), then
`copbot db upgrade` takes it to the newest schema, and:

- every table that was filled still has the same rows (same keys, and the same value in
  every column that still exists under its name, except where a migration's purpose is
  to rewrite that column: `REWRITTEN`);
- what the rows meant still holds: the pending reminder is sent once, and only once, by
  the first scheduler pass at its time; the anonymous poll's votes are counted as before;
  the calls and the plan read back through copbot's own services.

On SQLite, and on PostgreSQL (in a database of its own beside DATABASE_URL's) when set.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, String, Text, inspect, text
from sqlalchemy.engine import make_url

from bot.cli import main
from storage import db

AT = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)  # the call's start
DUE = datetime(2027, 2, 28, 17, 0, tzinfo=UTC)  # its day-before reminder

# columns a migration exists to rewrite: (table, column) -> the migration that does
REWRITTEN = {
    ("community", "name_key"): "0008",  # names normalised (NFKC, invisible characters)
}
# tables a migration exists to rewrite row by row: table -> the migration that does (their
# rows are checked by meaning in `_meanings_hold`)
REWRITTEN_TABLES = {
    "onsite_room_slot": "0015",  # a block's half hours become the quarter hours it touches
}
# realistic values by column name, for columns not given by the shapes below
BY_NAME: dict[str, object] = {
    "team_id": "T0STANDIN",
    "slack_channel_id": "CUPGRADE1",
    "name": "Rural Care",
    "name_key": "rural care",
    "timezone": "America/Chicago",
    "tz": "America/Chicago",
    "email": "ada@example.org",
    "state": "pending",
    "calendar_token": "tok-upgrade-0123456789",
    "call_reminders": "week,day,hour",
    "reminders": "channel",
    "purpose_areas": "relationships,practice",
    "uid": "call-upgrade-1",
    "join_url": "https://zoom.example/j/1",
    "recording_url": "https://zoom.example/rec/1",
    "slides_url": "https://example.org/slides.pdf",
    "url": "https://example.org/reading",
    "meeting_state": "created",
    "question_key": "purpose.why",
}


def revisions() -> list[str]:
    """Every migration from the first to the newest."""
    script = ScriptDirectory.from_config(db._alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


REVISIONS = revisions()


def _check_choices(inspector, table: str) -> dict[str, str]:
    """The first allowed value of each `column IN ('a', 'b')` check constraint."""
    choices = {}
    for check in inspector.get_check_constraints(table):
        # SQLite: "role IN ('leader', 'member')"; PostgreSQL:
        # "((role)::text = ANY ((ARRAY['leader'::character varying, …])::text[]))"
        sql = check.get("sqltext", "")
        column = re.match(r"[(\s]*\"?(\w+)\"?", sql)
        literal = re.search(r"'([^']*)'", sql)
        if column and literal:
            choices[column.group(1)] = literal.group(1)
    return choices


def _value(table: str, column, choices: dict[str, str], row_ids: dict[str, object]):
    name = column.name
    if name in choices:
        return choices[name]
    for fk in column.foreign_keys:
        return row_ids.get(fk.column.table.name)
    if name in BY_NAME:
        return BY_NAME[name]
    kind = column.type
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, DateTime) or name.endswith("_at") or name in ("at", "until"):
        return AT
    if isinstance(kind, Date):
        return date(2027, 3, 1)
    if isinstance(kind, Integer):
        return 2
    if isinstance(kind, String) and kind.length:
        if name.endswith(("user_id", "_by", "recipient", "voter", "host", "alternate")):
            return "U1"
        return f"{table}.{name}"[: kind.length]
    if isinstance(kind, String | Text):
        return f"{table}.{name}: a person's words, kept"
    return None


# rows with the real shapes of their time: (revision, table) -> list of column values
SHAPES: dict[tuple[str, str], list[dict]] = {
    ("0001", "person"): [
        {"slack_user_id": "U1", "display_name": "Ada", "real_name": "Ada L", "is_bot": False},
        {"slack_user_id": "U5", "display_name": "Bo", "real_name": "Bo K", "is_bot": False},
    ],
    ("0001", "membership"): [
        {"slack_user_id": "U1", "role": "leader"},
        {"slack_user_id": "U5", "role": "member"},
    ],
    ("0003", "call"): [
        {
            "start_at": AT,
            "duration_minutes": 60,
            "timezone": "America/Chicago",
            "topic": "Webinar #3",
            "kind": "community",
            "status": "scheduled",
            "sequence": 2,
            "zoom_meeting_id": 81234567890,
        }
    ],
    ("0005", "reminder"): [
        {
            "kind": "call_day",
            "target": "{call}:s2",
            "due_at": DUE,
            "expires_at": AT,
            "recipient": None,
            "milestone_id": None,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": None,
            "claimed_at": None,
            "claimed_by": None,
            "sent_at": None,
            "last_error": None,
        }
    ],
    ("0005", "nudge_series"): [
        {"series": "agenda_due:community:{community}:2027", "done_at": None, "updated_by": "U1"}
    ],
    ("0011", "poll_vote"): [],  # three votes, below
    ("0012", "onsite_block"): [{"start_at": AT, "end_at": AT + timedelta(hours=2)}],
    ("0012", "onsite_room_slot"): [
        {"starts_at": AT + timedelta(minutes=30 * n)}
        for n in range(4)  # as 0012 wrote them
    ],
    ("0011", "poll"): [
        {
            "anonymous": True,
            "multiple": False,
            "state": "open",
            "max_choices": None,
            "closes_at": None,
            "closed_at": None,
            "question": "Which month?",
        }
    ],
    ("0011", "poll_option"): [
        {"label": "April", "label_key": "april", "position": 0},
        {"label": "May", "label_key": "may", "position": 1},
    ],
}


def _fill(engine, revision: str, filled: dict[str, list[dict]], row_ids: dict) -> None:
    """Rows for the tables `revision` made (and shaped rows it names)."""
    inspector = inspect(engine)
    meta = MetaData()
    meta.reflect(engine)
    for table in meta.sorted_tables:
        name = table.name
        if name == "alembic_version" or (name in filled and (revision, name) not in SHAPES):
            continue
        shapes = SHAPES.get((revision, name), [{}] if name not in filled else [])
        choices = _check_choices(inspector, name)
        for shape in shapes:
            values = {}
            for column in table.columns:
                if (
                    not column.foreign_keys
                    and column.primary_key
                    and column.autoincrement is not False
                    and isinstance(column.type, Integer)
                    and len(table.primary_key.columns) == 1
                ):
                    continue
                if column.name in shape:
                    value = shape[column.name]
                    if isinstance(value, str) and "{" in value:
                        value = value.replace("{call}", f"call:{row_ids.get('call')}")
                        value = value.replace("{community}", str(row_ids.get("community")))
                else:
                    value = _value(name, column, choices, row_ids)
                values[column.name] = value
            with engine.begin() as conn:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].name not in values:
                    new_id = conn.execute(table.insert().values(**values).returning(pk[0])).scalar()
                    values[pk[0].name] = new_id
                else:
                    conn.execute(table.insert().values(**values))
                row_ids.setdefault(name, values[pk[0].name] if len(pk) == 1 else None)
                if len(pk) == 1:
                    row_ids[name] = values[pk[0].name]
            filled.setdefault(name, []).append(values)
    if revision == "0011":  # two anonymous votes for May, one for April
        _votes(engine, row_ids, filled)


def _votes(engine, row_ids, filled) -> None:
    meta = MetaData()
    meta.reflect(engine, only=["poll_vote", "poll_option"])
    with engine.connect() as conn:
        options = dict(
            conn.execute(
                text("SELECT label, id FROM poll_option WHERE poll_id = :p"),
                {"p": row_ids["poll"]},
            ).all()
        )
    vote = meta.tables["poll_vote"]
    filled["poll_vote"] = []
    with engine.begin() as conn:
        for voter, label in (("a" * 64, "May"), ("b" * 64, "May"), ("c" * 64, "April")):
            values = {"poll_id": row_ids["poll"], "option_id": options[label], "voter": voter}
            values = {k: v for k, v in values.items() if k in vote.c}
            conn.execute(vote.insert().values(**values))
            filled["poll_vote"].append(values)


def _rows(engine, table: str, columns: list[str]) -> list[tuple]:
    meta = MetaData()
    meta.reflect(engine, only=[table])
    t = meta.tables[table]
    keep = [c for c in columns if c in t.c]
    with engine.connect() as conn:
        return sorted(
            (
                tuple(_plain(v) for v in row)
                for row in conn.execute(t.select().with_only_columns(*[t.c[c] for c in keep])).all()
            ),
            key=repr,
        ), keep


def _plain(value):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


@pytest.fixture
def fresh_url(tmp_path):
    """A database of its own: a SQLite file, or a new PostgreSQL database beside
    DATABASE_URL's."""
    made = []

    def make(tag: str) -> str:
        base = os.environ.get("DATABASE_URL")
        if not base or db.is_sqlite(base):
            return f"sqlite:///{tmp_path / f'upgrade-{tag}.db'}"
        parsed = make_url(base)
        name = f"{parsed.database}_upgrade_{tag}"
        admin = db.get_engine(base).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = parsed.set(database=name).render_as_string(hide_password=False)
        made.append((admin, name, url))
        return url

    yield make
    db.dispose_engines()
    for admin, name, _url in made:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
@pytest.mark.parametrize("start", REVISIONS[:-1])
def test_an_upgrade_from_every_earlier_migration_keeps_every_row(
    start, fresh_url, monkeypatch, capsys, slack
):
    url = fresh_url(start)
    engine = db.get_engine(url)
    filled: dict[str, list[dict]] = {}
    row_ids: dict[str, object] = {}
    for revision in REVISIONS[: REVISIONS.index(start) + 1]:
        db.upgrade(url, revision)
        _fill(engine, revision, filled, row_ids)
    before = {table: _rows(engine, table, list(rows[0])) for table, rows in filled.items() if rows}
    assert sum(len(rows) for rows, _ in before.values()) >= len(before) > 0

    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert "database schema is at revision" in capsys.readouterr().out
    current, head = db.schema_status(url)
    assert current == head == REVISIONS[-1]

    existing = set(inspect(engine).get_table_names())
    for table, (rows, columns) in before.items():
        if table not in existing or REWRITTEN_TABLES.get(table, "") > start:
            continue  # a later migration replaced or rewrote the table: checked by meaning
        kept = [
            c for c in columns if not (REWRITTEN.get((table, c)) and REWRITTEN[(table, c)] > start)
        ]
        after, still = _rows(engine, table, kept)
        expected = [
            tuple(v for c, v in zip(columns, row, strict=True) if c in still) for row in rows
        ]
        assert sorted(after, key=repr) == sorted(expected, key=repr), table
    _meanings_hold(url, start, row_ids, slack)


def _meanings_hold(url: str, start: str, row_ids: dict, slack) -> None:
    from bot.deps import Deps
    from bot.scheduler import tick
    from bot.services import calls as call_rules
    from bot.services import polls as poll_rules
    from bot.slack_client import make_web_client
    from storage.db import session_scope
    from storage.models import Call, Community, Reminder
    from tests.helpers.endpoint import make_settings

    engine = db.get_engine(url)
    settings = make_settings(url, slack.url)
    with session_scope(engine) as s:
        community = s.get(Community, row_ids["community"])
        assert community.name == "Rural Care" and community.slack_channel_id == "CUPGRADE1"
        if "call" in row_ids:
            call = s.get(Call, row_ids["call"])
            assert call.start_at == AT and call.topic == "Webinar #3"
            upcoming = call_rules.upcoming(s, community.id, AT.replace(day=1))
            assert [c.id for c in upcoming] == [call.id]  # listed as the community's next call
        if start >= "0011":
            tally = poll_rules.tally(s, row_ids["poll"])
            counts = {o.label: tally.counts[o.id] for o in tally.options}
            assert counts == {"April": 1, "May": 2}
    if "0012" <= start < REWRITTEN_TABLES["onsite_room_slot"]:
        from bot.services.onsite_assignment import cell_starts
        from storage.models import OnsiteBlock, OnsiteRoomSlot

        with session_scope(engine) as s:
            [block] = s.exec(_select(OnsiteBlock)).all()
            cells = sorted(c.starts_at for c in s.exec(_select(OnsiteRoomSlot)).all())
            assert cells == cell_starts(block.start_at, block.end_at) and len(cells) == 8
    if start >= "0005":
        deps = Deps(settings=settings, engine=engine)
        client = make_web_client(settings)
        first = tick(deps, client, DUE)
        assert first.owner and any(line.startswith("call_day") for line in first.sent), first
        posted = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "CUPGRADE1"]
        assert len(posted) == 1 and "Webinar #3" in posted[0].args["text"]
        again = tick(deps, client, DUE.replace(minute=5))
        assert not any(line.startswith("call_day") for line in again.sent)
        with session_scope(engine) as s:
            day = [r for r in s.exec(_select(Reminder)).all() if r.kind == "call_day"]
            assert [r.state for r in day] == ["sent"]  # the one reminder, sent once


def _select(model):
    from sqlmodel import select

    return select(model)
