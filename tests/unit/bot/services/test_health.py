"""Community health: the numbers per community, `copbot export health` in CSV and JSON
(the CSV read back is the JSON), and the App Home's lines for staff and leaders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from bot.blocks.after_call import health_text
from bot.blocks.limits import check_view
from bot.cli import export as health_cli
from bot.cli import main
from bot.flows import home
from bot.services import calls as call_rules
from bot.services import communities as svc
from bot.services import health, health_export
from storage.models import (
    Attendance,
    CallAttendance,
    CallStatus,
    Membership,
    Poll,
    PollOption,
    PollVote,
    Role,
    ValueQuestion,
)
from tests.helpers.endpoint import STAFF
from tests.helpers.records import ended_call, new_community

NOW = datetime.now(UTC)


def _attended(session, call, came: int, people: list[str]) -> None:
    session.add(CallAttendance(call_id=call.id, came=came, members=len(people)))
    for uid in people:
        session.add(
            Attendance(
                call_id=call.id,
                community_id=call.community_id,
                slack_user_id=uid,
                minutes=30,
                member=True,
                attended_at=call.start_at,
            )
        )
    session.commit()


@pytest.fixture
def communities(session, settings):
    first, _ = call_rules.program_year(
        NOW.astimezone(settings.zone).date(), settings.program_year_start
    )
    year_start = datetime.combine(first, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    a = new_community(session, name="Alpha", channel="CHEALTH1", leader="U1")
    svc.set_leaders(session, a, ["U1", "U2"])
    for uid in ("U5", "U6", "U7"):
        svc.join(session, a, uid)
    b = new_community(session, name="Beta", channel="CHEALTH2", leader="U3")
    c = new_community(session, name="Gamma", channel="CHEALTH3", leader="U4")
    session.exec(delete(Membership).where(Membership.community_id == c.id))
    for old in (a, b, c):  # old enough to be behind
        old.created_at = NOW - timedelta(days=400)
        session.add(old)
    session.commit()
    # Alpha: two calls held this year (the second recent), one to come, one cancelled
    held_early = ended_call(session, a, max(year_start, NOW - timedelta(days=200)), meeting_id=1)
    held_recent = ended_call(session, a, NOW - timedelta(days=10), meeting_id=2)
    ended_call(session, a, NOW + timedelta(days=20), meeting_id=3)
    gone = ended_call(session, a, NOW - timedelta(days=5), meeting_id=4)
    gone.status = CallStatus.CANCELLED.value
    session.add(gone)
    session.commit()
    _attended(session, held_early, 6, ["U5", "U6"])
    _attended(session, held_recent, 4, ["U5"])
    # U6 last came long ago but answered a value question lately: active too
    session.add(
        ValueQuestion(
            call_id=held_recent.id,
            community_id=a.id,
            slack_user_id="U6",
            stage="try",
            due_at=NOW - timedelta(days=9),
            state="sent",
            answer="x",
            answered_at=NOW - timedelta(days=8),
        )
    )
    # U7 voted in a named poll lately: active; a vote in an anonymous poll cannot count
    named = Poll(community_id=a.id, question="Q?", anonymous=False, created_by="U1")
    old = Poll(community_id=a.id, question="Old?", anonymous=False, created_by="U1")
    old.created_at = NOW - timedelta(days=120)
    session.add_all([named, old])
    session.commit()
    for poll, voter in ((named, "U7"), (old, "U2")):
        option = PollOption(poll_id=poll.id, position=0, label="A", label_key="a")
        session.add(option)
        session.commit()
        session.add(PollVote(poll_id=poll.id, option_id=option.id, voter=voter))
    # Beta: a call long ago, none since
    ended_call(session, b, NOW - timedelta(days=120), meeting_id=5)
    session.commit()
    return a, b, c, held_early


def test_health_numbers_per_community(communities, session, settings):
    a, b, c, _ = communities
    first, end = call_rules.program_year(
        NOW.astimezone(settings.zone).date(), settings.program_year_start
    )
    rows = {r.name: r for r in health.build(session, NOW, first, end, settings.timezone)}
    alpha, beta, gamma = rows["Alpha"], rows["Beta"], rows["Gamma"]
    assert (alpha.leaders, alpha.members) == (2, 5)
    assert (alpha.calls_planned, alpha.calls_held, alpha.attendance) == (3, 2, [6, 4])
    assert alpha.active_90_days == 3  # U5 came, U6 answered, U7 voted (U2 voted long ago)
    assert not alpha.one_leader_or_none and not alpha.no_call_in_90_days
    assert beta.one_leader_or_none and beta.no_call_in_90_days and beta.leaders == 1
    assert gamma.leaders == 0 and gamma.one_leader_or_none and gamma.last_call is None
    assert health.flags(gamma) == ["no leader", "no call in 90 days"]
    assert health.flags(beta) == ["one leader", "no call in 90 days"]


def test_export_round_trips_and_the_cli_writes_it(
    communities, db_url, settings, monkeypatch, capsys, tmp_path
):
    found = health_cli.health_rows(settings)
    as_json = json.loads(health_export.to_json(found))
    assert health_export.from_csv(health_export.to_csv(found)) == as_json
    assert [r["name"] for r in as_json] == ["Alpha", "Beta", "Gamma"]
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COPBOT_TIMEZONE", settings.timezone)
    assert main(["export", "health", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == as_json
    assert main(["export", "health"]) == 0
    assert health_export.from_csv(capsys.readouterr().out) == as_json


def test_a_new_community_with_its_first_call_ahead_is_not_behind(session, settings):
    young = new_community(session, name="Young", channel="CHEALTH4", leader="U8")
    svc.set_leaders(session, young, ["U8", "U9"])
    ended_call(session, young, NOW + timedelta(days=14), meeting_id=6)
    old = new_community(session, name="Older", channel="CHEALTH5", leader="U8")
    svc.set_leaders(session, old, ["U8", "U9"])
    old.created_at = NOW - timedelta(days=91)
    session.add(old)
    session.commit()
    first, end = call_rules.program_year(
        NOW.astimezone(settings.zone).date(), settings.program_year_start
    )
    rows = {r.name: r for r in health.build(session, NOW, first, end, settings.timezone)}
    assert rows["Young"].calls_planned == 1 and rows["Young"].last_call is None
    assert not rows["Young"].no_call_in_90_days and health.flags(rows["Young"]) == []
    assert rows["Older"].no_call_in_90_days  # 91 days without a call: behind
    line = health_text(rows["Young"])
    assert line == "0 of 1 call held · 0 active members in 90 days of 2"
    assert health_text(rows["Older"]).startswith("no calls planned this year yet · ")
    held = health.HealthRow(1, "X", 2, 5, calls_planned=2, calls_held=1)
    assert "1 of 2 calls held · attendance not recorded yet · " in health_text(held)


def test_home_shows_staff_every_line_and_a_leader_their_own(communities, deps, slack, session):
    a, b, c, _ = communities
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    home.publish(client, deps, STAFF)
    staff_view = slack.calls_to("views.publish")[-1].args["view"]
    staff_view = json.loads(staff_view) if isinstance(staff_view, str) else staff_view
    text = json.dumps(staff_view, ensure_ascii=False)
    # each community's line of staff's table carries its health
    assert "2 of 3 calls held · attendance 6 → 4 · 3 active members in 90 days of 5" in text
    assert "no calls planned this year yet · 0 active members in 90 days of 0" in text
    assert ":warning: no leader, no call in 90 days" in text
    assert check_view(staff_view) == []
    home.publish(client, deps, "U3")  # Beta's only leader
    leader_view = slack.calls_to("views.publish")[-1].args["view"]
    leader_view = json.loads(leader_view) if isinstance(leader_view, str) else leader_view
    text = json.dumps(leader_view)
    assert "*Beta*" in text and "*Alpha*" not in text and "one leader" in text
    assert svc.role_of(session, b.id, "U3") == Role.LEADER


def test_home_fits_slack_s_100_blocks_with_300_communities(deps, slack, session):
    for n in range(300):
        new_community(session, name=f"Community {n:03d}", channel=f"CMANY{n:04d}", leader="U1")
    session.commit()
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    home.publish(client, deps, STAFF)
    view = slack.calls_to("views.publish")[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert len(view["blocks"]) <= 100 and check_view(view) == []


def test_the_export_command_says_what_it_needs(db_url, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as stopped:
        main(["export", "health", "--format", "md"])
    assert stopped.value.code == 2
    assert "invalid choice: 'md'" in capsys.readouterr().err
