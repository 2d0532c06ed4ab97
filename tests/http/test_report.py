"""`/cop report` through the signed endpoint: the modal pre-filled with what copbot knows,
draft and submit (staff told once), who may write, the Markdown file, the nudges that
stop on submission, and `copbot export reports` round-trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.blocks import report as rb
from bot.blocks.limits import check_view
from bot.cli import main
from bot.scheduler import tick
from bot.services import reports
from bot.services.communities import join, set_leaders
from bot.services.deliverables_export import REPORT_COLUMNS
from bot.slack_client import make_web_client
from bot.text import csv_uncell
from sandbox import slack_payloads as payloads
from sandbox.slack_standin import TEAM_ID
from storage.db import session_scope
from storage.models import Call, ProgressReport, Reminder, utcnow
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community
from tests.helpers.slack import accepted, ack_text

CHANNEL = "CREPORT1"


@pytest.fixture
def community(as_user, engine, slack, settings):
    year, _first, _end = reports.year_of(
        utcnow().astimezone(settings.zone).date(), settings.program_year_start
    )
    now = utcnow()
    with session_scope(engine) as s:
        c = new_community(
            s, name="Survivorship", channel=CHANNEL, leader="U1", team=TEAM_ID, mission="Care"
        )
        set_leaders(s, c, ["U1", "U2"])
        join(s, c, "U5")
        # one call an hour ago (held, with a recording), one in two hours (scheduled)
        for i, (delta, recording) in enumerate(
            ((timedelta(hours=-1), "https://rec.example/1"), (timedelta(hours=2), None))
        ):
            s.add(
                Call(
                    community_id=c.id, start_at=now + delta, timezone="America/Chicago",
                    topic=f"Call {i}", host_user_id="U1", created_by="U1",
                    recording_url=recording,
                )
            )  # fmt: skip
        return c.id, year


def values(results="", celebrations="", practice="", action="draft"):
    state = {
        rb.RESULTS: {"value": payloads.input_value("plain_text_input", results)},
        rb.CELEBRATIONS: {"value": payloads.input_value("plain_text_input", celebrations)},
        rb.PRACTICE: {"value": payloads.input_value("plain_text_input", practice)},
    }
    if action:
        state[rb.ACTION] = {"value": payloads.input_value("radio_buttons", action)}
    return state


def submit(user, cid, year, meta=None, **kw):
    metadata = meta if meta is not None else json.dumps({"community": cid, "year": year})
    response = user.interact(
        payloads.view_submission_payload(
            rb.REPORT_CALLBACK, values(**kw), user_id=user.user_id, private_metadata=metadata
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def stored(engine):
    with session_scope(engine) as s:
        return s.exec(select(ProgressReport)).first()


def test_modal_shows_what_copbot_knows(community, as_user, slack):
    leader = as_user("U1", CHANNEL)
    assert "Added your note" in leader.reply("evidence We held a journal club")["text"]
    assert "Shared in" in leader.reply("share https://learn.example/a A course")["text"]
    leader.command("report")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert check_view(view) == []
    text = json.dumps(view)
    assert "Community calls: 1 held, 1 scheduled (2 of 3\\u20136) :warning:" in text
    assert "Recordings archived: 1" in text
    assert "Evidence log: 1 item" in text
    assert "Learning opportunities shared: 1" in text
    assert "Onsite meeting: no block assigned; agenda not started" in text
    assert "Purpose: Care" in text
    body = as_user("U5", CHANNEL).reply("report")
    assert "Only the community's leaders and staff write the progress report" in body["text"]


def test_draft_submit_staff_told_once_and_refusals(community, as_user, engine, slack):
    cid, year = community
    leader = as_user("U1", CHANNEL)
    body = submit(leader, cid, year, action="submit")
    assert body["errors"][rb.RESULTS] == "Write the year's results before submitting."
    assert stored(engine) is None
    assert accepted(submit(leader, cid, year, results="Draft, <b>"))
    assert stored(engine).state == "draft"
    assert submit(as_user("U5", CHANNEL), cid, year, results="x")["response_action"] == "errors"
    for meta in ("{}", "nope", json.dumps({"community": cid, "year": year - 3})):
        assert submit(leader, cid, year, meta=meta, results="x")["response_action"] == "errors"
    words = dict(results="12 new mentors", celebrations="A dinner", practice="New clinic")
    assert accepted(submit(leader, cid, year, action="submit", **words))
    assert accepted(submit(as_user("U2", CHANNEL), cid, year, action="submit", **words))
    leader.settle()
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == STAFF)
    assert "submitted the" in dm.args["text"] and "Survivorship" in dm.args["text"]
    assert len(slack.calls_to("chat.postMessage")) == 1
    report = stored(engine)
    assert (report.state, report.submitted_by, report.results) == (
        "submitted",
        "U1",
        words["results"],
    )
    assert json.loads(report.facts)["calls_held"] == 1
    body = as_user(STAFF, CHANNEL).reply("report status")
    assert "1 of 1 communities have submitted" in ack_text(body)
    assert "Only staff" in as_user("U1", CHANNEL).reply("report status")["text"]


def test_report_export_sends_a_markdown_file(community, as_user, slack):
    cid, year = community
    leader = as_user("U1", CHANNEL)
    assert accepted(submit(leader, cid, year, results="Grew to 40 members"))
    leader.reply("evidence Journal club:\n12 came")
    body = leader.reply("report export")
    assert "Markdown file" in body["text"]
    leader.settle()
    [complete] = slack.calls_to("files.completeUploadExternal")
    [asked] = slack.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"] == f"survivorship-report-{year}.md"
    content = slack.uploaded(json.loads(complete.args["files"])[0]["id"])
    assert content.startswith("# Survivorship: annual progress report")
    assert "## Results\n\nGrew to 40 members" in content
    assert "## Evidence log\n\n- " in content and "Journal club: 12 came" in content


def test_report_nudges_stop_on_submission(community, as_user, deps, engine, slack):
    cid, year = community
    client = make_web_client(deps.settings)
    month, day = deps.settings.report_due
    due = datetime(year, month, day, 9, 0, tzinfo=deps.settings.zone).astimezone(UTC)
    first = tick(deps, client, due - timedelta(days=28))
    assert [x for x in first.sent if x.startswith("report_due")]
    leader = as_user("U1", CHANNEL)
    assert accepted(submit(leader, cid, year, action="submit", results="Done well"))
    for step in (timedelta(days=-14), timedelta(days=-3), timedelta(days=1)):
        assert [x for x in tick(deps, client, due + step).sent if x.startswith("report_due")] == []
    with session_scope(engine) as s:
        voided = s.exec(select(Reminder).where(Reminder.kind == "report_due")).all()
        assert {r.last_error for r in voided if r.state == "void"} == {"submitted"}


def test_export_reports_round_trip(community, as_user, db_url, monkeypatch, tmp_path, capsys):
    cid, year = community
    words = dict(
        results='Mentors, "peer" coaches\nand 東京 visits',
        celebrations="Смотр; fête",
        practice="=1+1, checklists",
    )
    assert accepted(submit(as_user("U1", CHANNEL), cid, year, action="submit", **words))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "reports", "--year", str(year)]) == 0
    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out, newline="")))
    assert {k: csv_uncell(row[k]) for k in words} == words
    assert row["practice"] == "'=1+1, checklists" and row["results"] == words["results"]
    assert (row["community"], row["state"], row["calls_held"]) == ("Survivorship", "submitted", "1")
    assert main(["export", "reports", "--year", str(year), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["celebrations"] == "Смотр; fête"
    assert main(["export", "reports", "--year", str(year), "--format", "md"]) == 0
    assert "## Survivorship (submitted)" in capsys.readouterr().out
    assert main(["export", "reports", "--year", "1999"]) == 0
    assert capsys.readouterr().out == ",".join(REPORT_COLUMNS) + "\r\n"


def _said(body: dict) -> str:
    assert accepted(body)
    return ack_text({"blocks": body["view"]["blocks"]})


def test_every_save_says_what_happened_and_where_to_see_it(community, as_user, engine, slack):
    cid, year = community
    leader = as_user("U1", CHANNEL)
    said = _said(submit(leader, cid, year, results="Draft"))
    assert "as a draft" in said and "Staff do not see it yet" in said
    assert f"`/cop report` in <#{CHANNEL}> opens it again" in said
    assert "`/cop report export` sends it to you as a Markdown file" in said
    said = _said(submit(leader, cid, year, action="submit", results="Grew"))
    assert "Submitted the" in said and "staff have been told" in said
    said = _said(submit(leader, cid, year, results="Grew more"))
    assert "Updated the submitted" in said and "staff see this version" in said
    # a replay of the submission answers as the first did
    payload = payloads.view_submission_payload(
        rb.REPORT_CALLBACK,
        {rb.RESULTS: {"value": payloads.input_value("plain_text_input", "Once")}},
        user_id="U1",
        private_metadata=json.dumps({"community": cid, "year": year}),
    )
    first, again = leader.interact(payload), leader.interact(payload)
    assert first.json() == again.json() and accepted(first.json())


# ---- staff read a submitted report in Slack -----------------------------------------------
def _press(user, action_id: str, value: str, *, view: dict | None = None):
    """A button on the staff notice (a message) or, with `view`, in the open report."""
    where = (
        {"container": {"type": "view", "view_id": "VREAD"}, "view": view}
        if view is not None
        else {
            "container": {"type": "message", "channel_id": "D1", "message_ts": "1.1"},
            "response_url": user.slack.response_url("notice"),
        }
    )
    return user.interact(
        {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": user.user_id},
            "api_app_id": "A0COPBOT",
            "trigger_id": f"{datetime.now(UTC).timestamp()}.trigger",
            **where,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "value": value,
                    "block_id": "b",
                    "action_ts": f"{datetime.now(UTC).timestamp():.6f}",
                }
            ],
        }
    )


def test_staff_read_a_submitted_report_in_slack_page_by_page_and_get_the_file(
    community, as_user, engine, slack
):
    cid, year = community
    long = "Mentors & mentees <!channel> met weekly. " * 70  # 3,000 characters, escaped longer
    words = dict(results=long[:3000], celebrations="A dinner *with* everyone", practice=long[:2900])
    leader = as_user("U1", CHANNEL)
    assert accepted(submit(leader, cid, year, action="submit", **words))
    leader.settle()
    [dm] = slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == STAFF)
    buttons = {
        e["action_id"]: e["value"]
        for b in dm.json_arg("blocks")
        if b["type"] == "actions"
        for e in b["elements"]
    }
    assert set(buttons) == {rb.READ_ACTION, rb.FILE_ACTION}
    assert "copbot export reports" not in dm.args["text"]  # the notice no longer sends staff away
    boss = as_user(STAFF)
    _press(boss, rb.READ_ACTION, buttons[rb.READ_ACTION])
    [opened] = slack.wait_for("views.open")
    view = opened.json_arg("view")
    assert check_view(view) == [] and "submit" not in view  # read-only
    shown = ack_text({"blocks": view["blocks"]})
    assert "*Survivorship*: progress report" in shown and "submitted by <@U1>" in shown
    assert "Mentors &amp; mentees &lt;!channel&gt; met weekly." in shown
    assert "<!channel>" not in shown
    assert all(len(b["text"]["text"]) <= 3000 for b in view["blocks"] if b["type"] == "section")
    pages = int(view["blocks"][-2]["elements"][0]["text"].rsplit(" ", 1)[1])
    assert pages >= 2  # long: paged
    nav = {e["action_id"]: e["value"] for e in view["blocks"][-1]["elements"]}
    assert f"{rb.PAGE_ACTION}_next" in nav and f"{rb.PAGE_ACTION}_prev" not in nav
    seen = shown
    for n in range(2, pages + 1):
        _press(boss, f"{rb.PAGE_ACTION}_next", nav[f"{rb.PAGE_ACTION}_next"], view={
            "id": "VREAD", "hash": f"h{n}", "type": "modal", "blocks": []})  # fmt: skip
        updated = slack.wait_for("views.update", count=n - 1)[n - 2].json_arg("view")
        assert check_view(updated) == []
        assert f"Page {n} of {pages}" in ack_text({"blocks": updated["blocks"]})
        seen += ack_text({"blocks": updated["blocks"]})
        nav = {e["action_id"]: e["value"] for e in updated["blocks"][-1]["elements"]}
    assert "A dinner *with* everyone" in seen and "*Connection to professional practice*" in seen
    # the Markdown file, in a direct message to the one who asked
    _press(boss, rb.FILE_ACTION, buttons[rb.FILE_ACTION])
    boss.settle()
    [complete] = slack.wait_for("files.completeUploadExternal")
    assert complete.args["channel_id"].startswith("D") or complete.args.get("channel_id")
    content = slack.uploaded(json.loads(complete.args["files"])[0]["id"])
    assert content.startswith("# Survivorship: annual progress report") and "A dinner" in content


@pytest.mark.parametrize("value", ["abc", "", "99999999999999999999999", "-1", "0", "424242"])
def test_report_buttons_check_the_report_s_own_community(community, as_user, engine, slack, value):
    cid, year = community
    assert accepted(submit(as_user("U1", CHANNEL), cid, year, action="submit", results="Grew"))
    with session_scope(engine) as s:
        report_id = s.exec(select(ProgressReport)).one().id
        other = new_community(s, name="Informatics", channel="COTHER01", leader="U7", team=TEAM_ID)
        assert other.id != cid
    slack.reset()
    for who, pressed in (("U5", str(report_id)), ("U7", str(report_id)), (STAFF, value)):
        for action in (rb.READ_ACTION, rb.FILE_ACTION):
            assert _press(as_user(who), action, pressed).status_code == 200
    as_user(STAFF).settle()
    said = [c.args["text"] for c in slack.calls_to("response_url")]
    assert len(said) == 6
    refused = "Only staff and the leaders of *Survivorship* can read its progress report."
    assert sorted(said) == [refused] * 4 + ["That progress report no longer exists."] * 2
    assert (
        slack.calls_to("views.open") == [] and slack.calls_to("files.completeUploadExternal") == []
    )
    # the report's own leader may read it
    _press(as_user("U2"), rb.READ_ACTION, str(report_id))
    assert slack.wait_for("views.open")
