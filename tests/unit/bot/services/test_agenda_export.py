"""`copbot export agendas`: what leaders submitted through the endpoint comes back equal
from CSV (commas, quotes, newlines, non-Latin text) and JSON; a year with nothing stored
prints the header row."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, time, timedelta

from bot.blocks import agenda as ab
from bot.cli import main
from bot.services import agenda as rules
from bot.services import onsite, onsite_assignment
from bot.services.deliverables_export import AGENDA_COLUMNS
from bot.text import csv_uncell
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Community
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import accepted

NEXT = date.today().year + 1
THU = date(NEXT, 3, 1) + timedelta(days=(3 - date(NEXT, 3, 1).weekday()) % 7)
TRICKY = [
    ("10:00", 45, 'Welcome, "friends"', "Ana, Ben", "Line one\nline two, with a comma"),
    ("10:45", 30, "Сообщество практики", "李明; José", 'She said "hi"\r\nthen left'),
    ("11:30", 30, "=SUM(A1)", "", ""),
]


def _values(sessions, action):
    values = {}
    for n, (start, minutes, title, speakers, description) in enumerate(sessions, start=1):
        for kind, value in (
            ("start", payloads.input_value("timepicker", start)),
            ("minutes", payloads.input_value("number_input", str(minutes))),
            ("title", payloads.input_value("plain_text_input", title)),
            ("speakers", payloads.input_value("plain_text_input", speakers)),
            ("description", payloads.input_value("plain_text_input", description)),
        ):
            values[rules.field(kind, n)] = {"value": value}
    values[ab.ACTION] = {"value": payloads.input_value("radio_buttons", action)}
    return values


def test_csv_and_json_round_trip(as_user, engine, db_url, monkeypatch, tmp_path, capsys):
    with session_scope(engine) as s:
        ids = []
        for name, channel, leader in (('Zeta, the "last"', "CZ", "U1"), ("Alpha", "CA", "U2")):
            c = new_community(s, name=name, channel=channel, leader=leader, team=TEAM_ID)
            ids.append(c.id)
        meeting = onsite.save_meeting(
            s,
            name="Annual Meeting",
            timezone="America/Chicago",
            start=THU,
            end=THU + timedelta(days=1),
            rooms=[("A", 10), ("B", 10)],
            user_id=STAFF,
        )
        rooms = onsite.rooms_of(s, meeting.id)
        for cid, room in zip(ids, rooms, strict=True):
            c = s.get(Community, cid)
            onsite_assignment.assign(
                s, meeting, c, room.id, THU + timedelta(days=1), time(10), time(12), STAFF
            )
        year = meeting.year
    for user, cid, sessions, action in (
        ("U1", ids[0], TRICKY, "submit"),
        ("U2", ids[1], TRICKY[2:], "draft"),
    ):
        response = as_user(user).interact(
            payloads.view_submission_payload(
                ab.AGENDA_CALLBACK,
                _values(sessions, action),
                user_id=user,
                private_metadata=json.dumps({"community": cid, "year": year}),
            )
        )
        assert response.status_code == 200 and accepted(response.json())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "agendas", "--year", str(year)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert [r["community"] for r in rows] == [
        "Alpha",
        'Zeta, the "last"',
        *['Zeta, the "last"'] * 2,
    ]
    zeta = [r for r in rows if r["community"].startswith("Zeta")]
    assert [
        (r["start"], int(r["minutes"]), csv_uncell(r["title"]), r["speakers"], r["description"])
        for r in zeta
    ] == [(s, m, t, sp, d) for s, m, t, sp, d in TRICKY]
    # the formula reaches the spreadsheet as text; the other cells are as typed
    assert [r["title"] for r in zeta] == ['Welcome, "friends"', "Сообщество практики", "'=SUM(A1)"]
    assert {r["state"] for r in zeta} == {"submitted"} and rows[0]["state"] == "draft"
    assert zeta[0]["submitted_by"] == "U1" and zeta[0]["submitted_at"]
    assert main(["export", "agendas", "--year", str(year), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["community"] for r in records] == ["Alpha", 'Zeta, the "last"']
    assert records[1]["sessions"][1]["title"] == "Сообщество практики"


def test_a_year_without_agendas_prints_the_header(db_url, session, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "agendas", "--year", "1999"]) == 0
    assert capsys.readouterr().out == ",".join(AGENDA_COLUMNS) + "\r\n"
    assert main(["export", "agendas", "--year", "1999", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
