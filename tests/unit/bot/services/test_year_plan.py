"""The sample August-May year: drafted on working days, accepted into calls and steps."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.blocks import year_plan as yb
from bot.services import calls as rules
from bot.services import year_plan
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import Call, Community, Milestone
from tests.helpers.calls import community_id
from tests.helpers.records import new_community

NOW = datetime(2026, 7, 1, tzinfo=UTC)
FIRST = date(2026, 8, 1)


def test_third_wednesday_and_working_days():
    assert year_plan.third_wednesday(2026, 11) == date(2026, 11, 18)
    assert year_plan.third_wednesday(2027, 1) == date(2027, 1, 20)
    assert year_plan.next_working_day(date(2027, 1, 16), None) == date(2027, 1, 18)  # Sat
    assert year_plan.next_working_day(date(2027, 1, 18), "US") == date(2027, 1, 19)  # MLK Day


def test_drafts_follow_the_sample_year():
    drafts = year_plan.draft_calls(FIRST, "US")
    assert [(d.topic, d.day) for d in drafts] == [
        ("Webinar #1", date(2026, 11, 18)),
        ("Webinar #2", date(2026, 12, 16)),
        ("Webinar #3", date(2027, 1, 20)),
        ("Webinar #4", date(2027, 2, 17)),
        ("Wrap-up session", date(2027, 4, 21)),
    ]
    assert all(year_plan.is_working_day(d.day, "US") for d in drafts)


@pytest.fixture
def community(session):
    return new_community(session, team="T1", channel="C1", name="Survivorship", leader="U1")


def accept(session, community, chosen, now=NOW):
    return year_plan.accept(
        session,
        community,
        FIRST,
        chosen,
        at=time(12),
        zone="America/New_York",
        duration=60,
        user_id="U1",
        now=now,
        holidays_country="US",
        year_start=(8, 1),
        with_meeting=False,
    )


def test_accepting_makes_calls_and_the_steps_around_them(session, community):
    chosen = {d.key: (d.topic, d.day) for d in year_plan.draft_calls(FIRST, "US")}
    chosen["webinar3"] = ("Webinar #3: survivorship clinics", date(2027, 1, 18))  # MLK Day
    result = accept(session, community, chosen)
    assert [c.topic for c in result.calls][2] == "Webinar #3: survivorship clinics"
    assert result.calls[2].start_at == datetime(2027, 1, 19, 17, 0, tzinfo=UTC)
    assert result.moved == ["Webinar #3: survivorship clinics: Mon Jan 18 → Tue Jan 19"]
    assert all(c.kind == "community" for c in result.calls)
    kinds = sorted(m.kind for m in result.milestones)
    assert kinds.count("guide") == kinds.count("readings") == kinds.count("archive") == 4
    assert {"purpose", "participants", "follow_up", "report"} <= set(kinds)
    guide = next(
        m for m in result.milestones if m.kind == "guide" and m.call_id == result.calls[0].id
    )
    assert guide.due_at == result.calls[0].start_at.replace(day=11)  # one week before
    report = next(m for m in result.milestones if m.kind == "report")
    assert report.due_at == datetime(2027, 5, 17, 13, 0, tzinfo=UTC)  # May 15 is a Saturday
    stored = session.exec(select(Milestone)).all()
    assert len(stored) == len(result.milestones)


def test_past_steps_are_left_out_and_a_full_year_makes_additional_calls(session, community):
    for day in ("2026-12-02", "2027-01-06", "2027-02-03", "2027-03-03", "2027-03-10"):
        draft, errors = rules.validate(
            rules.CallForm(
                date=day,
                time="10:00",
                zone="America/New_York",
                duration="60",
                topic="Earlier",
                agenda="",
                host="U1",
                alternate="",
                kind="community",
            ),
            now=NOW,
            holidays_country="US",
        )
        rules.create(session, community, draft, "U1", with_meeting=False)
    chosen = {d.key: (d.topic, d.day) for d in year_plan.draft_calls(FIRST, "US")}
    result = accept(session, community, chosen, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert [c.topic for c in result.calls] == [
        "Webinar #2",
        "Webinar #3",
        "Webinar #4",
        "Wrap-up session",
    ]
    assert result.skipped[0] == "Webinar #1 (Nov 18)"
    assert any("Confirm participants" in s for s in result.skipped)
    assert result.additional == ["Webinar #3", "Webinar #4", "Wrap-up session"]
    assert [c.kind for c in result.calls] == ["community", "additional", "additional", "additional"]


def test_year_through_the_endpoint(leader, slack, zoom, engine):  # noqa: F811
    leader.command("year next")  # next program year: every step is in the future
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == yb.YEAR_CALLBACK
    text = json.dumps(view)
    assert "Webinar #1" in text and "Wrap-up session" in text
    assert "Already past" not in text
    values = {
        rules.TIME: {"value": payloads.input_value("timepicker", "13:00")},
        rules.ZONE: {"value": payloads.input_value("plain_text_input", "America/Chicago")},
        rules.DURATION: {"value": payloads.input_value("number_input", "45")},
    }
    for block in view["blocks"]:
        if block.get("block_id", "").startswith("topic-"):
            values[block["block_id"]] = {
                "value": payloads.input_value("plain_text_input", block["element"]["initial_value"])
            }
        if block.get("block_id", "").startswith("date-"):
            values[block["block_id"]] = {
                "value": payloads.input_value("datepicker", block["element"]["initial_date"])
            }
    meta = view["private_metadata"]
    response = leader.interact(
        payloads.view_submission_payload(
            yb.YEAR_CALLBACK, values, user_id="U1", private_metadata=meta
        )
    )
    assert response.status_code == 200 and not response.content.strip(b"{}")
    leader.settle()
    with session_scope(engine) as s:
        calls = s.exec(select(Call).order_by(Call.start_at)).all()
        milestones = s.exec(select(Milestone)).all()
    assert [c.topic for c in calls] == [
        "Webinar #1",
        "Webinar #2",
        "Webinar #3",
        "Webinar #4",
        "Wrap-up session",
    ]
    assert all(c.duration_minutes == 45 and c.meeting_state == "ready" for c in calls)
    assert all(c.start_at.astimezone(ZoneInfo("America/Chicago")).hour == 13 for c in calls)
    # 4 webinars x (guide, readings, archive) + Aug, Sep, Oct, Mar and May steps
    assert len(zoom.meetings) == 5 and len(milestones) == 17
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert dm.args["text"].startswith("Scheduled 5 calls and recorded 17 steps for reminders.")


def test_year_with_a_bad_time_changes_nothing(leader, slack, engine):  # noqa: F811
    meta = json.dumps({"community": community_id(engine), "first": f"{date.today().year}-08-01"})
    values = {
        rules.TIME: {"value": payloads.input_value("timepicker", "25:00")},
        rules.ZONE: {"value": payloads.input_value("plain_text_input", "America/Chicago")},
        rules.DURATION: {"value": payloads.input_value("number_input", "60")},
        "topic-webinar2": {"value": payloads.input_value("plain_text_input", "")},
        "date-webinar2": {"value": payloads.input_value("datepicker", "2026-12-16")},
    }
    body = leader.interact(
        payloads.view_submission_payload(
            yb.YEAR_CALLBACK, values, user_id="U1", private_metadata=meta
        )
    ).json()
    assert set(body["errors"]) == {rules.TIME, "topic-webinar2"}
    with session_scope(engine) as s:
        assert s.exec(select(Call)).all() == []


# ---- hardening ------------------------------------------------------------------------------
def test_a_year_is_accepted_once(session, community):
    chosen = {d.key: (d.topic, d.day) for d in year_plan.draft_calls(FIRST, "US")}
    accept(session, community, chosen)
    with pytest.raises(year_plan.AlreadyAccepted):
        accept(session, community, chosen)
    assert len(session.exec(select(Call)).all()) == 5


def test_steps_move_with_their_webinar_and_go_when_it_is_cancelled(session, community):
    from datetime import timedelta

    chosen = {d.key: (d.topic, d.day) for d in year_plan.draft_calls(FIRST, "US")}
    result = accept(session, community, chosen)
    webinar = result.calls[0]
    before = {m.kind: m.due_at for m in result.milestones if m.call_id == webinar.id}
    assert set(before) == {"guide", "readings", "archive"}
    draft = rules.CallDraft(
        start_at=webinar.start_at + timedelta(days=7),
        duration_minutes=60,
        timezone="America/New_York",
        topic=webinar.topic,
        agenda="",
        host_user_id="U1",
        alternate_user_id=None,
        kind=rules.CallKind.COMMUNITY,
    )
    rules.reschedule(session, webinar, draft)
    after = {
        m.kind: m.due_at
        for m in session.exec(select(Milestone).where(Milestone.call_id == webinar.id)).all()
    }
    assert after == {kind: due + timedelta(days=7) for kind, due in before.items()}
    others = len(session.exec(select(Milestone)).all())
    assert rules.cancel(session, webinar)
    left = session.exec(select(Milestone)).all()
    assert [m for m in left if m.call_id == webinar.id] == []
    assert len(left) == others - 3  # the year's other steps stay


def _year_values(view, zone="America/Chicago", at="13:00") -> dict:
    values = {
        rules.TIME: {"value": payloads.input_value("timepicker", at)},
        rules.ZONE: {"value": payloads.input_value("plain_text_input", zone)},
        rules.DURATION: {"value": payloads.input_value("number_input", "45")},
    }
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        if block_id.startswith("topic-"):
            values[block_id] = {
                "value": payloads.input_value("plain_text_input", block["element"]["initial_value"])
            }
        if block_id.startswith("date-"):
            values[block_id] = {
                "value": payloads.input_value("datepicker", block["element"]["initial_date"])
            }
    return values


def _submit_year(user, view, view_id="V0000001", **kw):
    response = user.interact(
        payloads.view_submission_payload(
            yb.YEAR_CALLBACK,
            _year_values(view, **kw),
            user_id="U1",
            private_metadata=view["private_metadata"],
            view_id=view_id,
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content.strip() else {}


def test_year_accepted_twice_at_once_schedules_it_once(leader, slack, zoom, engine):  # noqa: F811
    import threading

    leader.command("year next")
    view = slack.wait_for("views.open")[0].json_arg("view")
    answers: dict[str, dict] = {}
    gate = threading.Barrier(2)

    def accept_form(view_id):
        gate.wait()
        answers[view_id] = _submit_year(leader, view, view_id=view_id)

    threads = [threading.Thread(target=accept_form, args=(v,)) for v in ("VA", "VB")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    leader.settle()
    assert sorted(bool(a) for a in answers.values()) == [False, True]  # one ack, one error
    [refused] = [a for a in answers.values() if a]
    assert "accepted already" in refused["errors"][rules.TIME]
    with session_scope(engine) as s:
        assert len(s.exec(select(Call)).all()) == 5
        assert len(s.exec(select(Milestone)).all()) == 17
    assert len(zoom.meetings) == 5
    # the winning form delivered again (a Slack retry) answers as it did, and adds nothing
    [winner] = [v for v, a in answers.items() if not a]
    assert _submit_year(leader, view, view_id=winner) == {}
    leader.settle()
    with session_scope(engine) as s:
        assert len(s.exec(select(Call)).all()) == 5
    assert "accepted already" in leader.reply("year next")["text"]


@pytest.mark.parametrize("arg", ["9999", "-1", "abc", "1999", "20277"])
def test_year_out_of_range_or_garbled_is_a_clear_message(leader, slack, arg):  # noqa: F811
    text = leader.reply(f"year {arg}")["text"]
    assert "`/cop year next`" in text and "drafts" in text
    assert slack.calls_to("views.open") == []


def test_year_by_its_number(leader, slack):  # noqa: F811
    first, _ = rules.program_year(date.today(), (8, 1))
    leader.command(f"year {first.year + 1}")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert json.loads(view["private_metadata"])["first"] == f"{first.year + 1}-08-01"


def test_year_with_a_zone_typo_suggests_names(leader, slack, engine):  # noqa: F811
    leader.command("year next")
    view = slack.wait_for("views.open")[0].json_arg("view")
    body = _submit_year(leader, view, zone="America")
    assert "Did you mean America/" in body["errors"][rules.ZONE]
    with session_scope(engine) as s:
        assert s.exec(select(Call)).all() == []


@pytest.mark.parametrize(
    "meta",
    [
        "garbage",
        "[]",
        '{"community": 1}',
        '{"community": "x", "first": "2027-08-01"}',
        '{"community": 1, "first": "2027-08-02"}',
    ],
)
def test_year_with_garbage_metadata_is_a_field_error(leader, engine, meta):  # noqa: F811
    view = {"blocks": [], "private_metadata": meta}
    body = _submit_year(leader, view)
    assert body["response_action"] == "errors" and rules.TIME in body["errors"]
    with session_scope(engine) as s:
        assert s.exec(select(Call)).all() == []


def test_the_program_year_ends_at_midnight_in_the_organisations_zone(session, community):
    # six community calls of 2026–27, the last at 20:00 on July 31 in Chicago (01:00 UTC
    # on August 1): a seventh in July is refused, whatever UTC says
    for day in ("2026-12-02", "2027-01-13", "2027-02-03", "2027-03-03", "2027-04-07"):
        draft, _ = rules.validate(
            rules.CallForm(day, "10:00", "America/Chicago", "60", "C", "", "U1", "", ""),
            now=NOW,
            holidays_country=None,
        )
        rules.create(session, community, draft, "U1", with_meeting=False)
    late, _ = rules.validate(
        rules.CallForm("2027-07-31", "20:00", "America/Chicago", "60", "L", "", "U1", "", ""),
        now=NOW,
        holidays_country=None,
    )
    rules.create(session, community, late, "U1", with_meeting=False)
    seventh, _ = rules.validate(
        rules.CallForm("2027-07-01", "10:00", "America/Chicago", "60", "S", "", "U1", "", ""),
        now=NOW,
        holidays_country=None,
    )
    assert rules.year_limit_error(session, community, seventh, (8, 1), zone="America/Chicago")
    # and a call at 20:00 on July 31 in Chicago belongs to 2026–27, not to the next year
    first, end = rules.program_year(date(2026, 9, 1), (8, 1))
    count = rules.community_calls_in_year(session, community.id, first, end, zone="America/Chicago")
    assert count == 6


def test_year_form_naming_a_community_one_does_not_lead_changes_nothing(
    leader,  # noqa: F811
    as_user,
    slack,
    engine,
):
    from tests.helpers.communities import create_community as make

    omar = as_user("U7", "COTHER01")
    make(omar, name="Other", channel="COTHER01")
    omar.settle()
    with session_scope(engine) as s:
        other = s.exec(select(Community).where(Community.name == "Other")).one().id
    leader.command("year next")
    view = slack.wait_for("views.open")[0].json_arg("view")
    meta = json.loads(view["private_metadata"])
    forged = {**view, "private_metadata": json.dumps({**meta, "community": other})}
    body = _submit_year(leader, forged)
    assert "Only the community's leaders and staff" in body["errors"][rules.TIME]
    with session_scope(engine) as s:
        assert s.exec(select(Call)).all() == []
