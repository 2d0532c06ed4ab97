"""Announcements through the signed endpoint, against the Slack stand-in."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update as sa_update
from sqlmodel import select

from bot.blocks import announcements as ab
from bot.blocks.limits import check_message
from bot.deps import Deps
from bot.flows import announcements as flows
from bot.flows import home as app_home
from bot.flows import polls as poll_flows
from bot.scheduler import lease_ttl, tick
from bot.services import announcements as rules
from bot.services import communities as svc
from bot.slack_client import make_web_client
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import (
    Announcement,
    AnnouncementCopy,
    PurposeArea,
    SchedulerLease,
    utcnow,
)
from tests.helpers.endpoint import STAFF
from tests.helpers.records import new_community

CHANNELS = ["CANN0001", "CANN0002", "CANN0003"]
VIEW_IDS = itertools.count(1)  # each form Slack opens has its own view id


@pytest.fixture
def communities(session):
    made = [
        new_community(
            session,
            team="T0STANDIN",
            channel=channel,
            name=f"Community {i}",
            leader="U1",
            areas=(PurposeArea.PRACTICE,) if i == 2 else (),
        )
        for i, channel in enumerate(CHANNELS)
    ]
    svc.join(session, made[0], "U2")
    session.commit()
    return made


@pytest.fixture
def boss(as_user):
    return as_user(STAFF, CHANNELS[0])


def values(text="Webinar #4 is on *Thursday* & the readings are up.", **kw) -> dict:
    fields = dict(targets=None, area=None, mention="none", send_at=None, pin=False)
    fields.update(kw)
    out = {
        rules.TEXT: {"value": payloads.input_value("plain_text_input", text)},
        rules.MENTION: {"value": payloads.input_value("radio_buttons", fields["mention"])},
    }
    if fields["targets"] is not None:
        out[rules.TARGETS] = {
            "value": {
                "type": "multi_static_select",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": str(t)}, "value": str(t)}
                    for t in fields["targets"]
                ],
            }
        }
    if fields["area"]:
        out[rules.AREA] = {
            "value": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": fields["area"]},
                    "value": fields["area"],
                },
            }
        }
    if fields["send_at"] is not None:
        out[rules.SEND_AT] = {
            "value": {"type": "datetimepicker", "selected_date_time": fields["send_at"]}
        }
    if fields["pin"]:
        out[rules.OPTIONS] = {"value": payloads.input_value("checkboxes", ["pin"])}
    return out


def submit(user, callback, vals, meta=None, view_id=None) -> dict:
    response = user.interact(
        payloads.view_submission_payload(
            callback,
            vals,
            user_id=user.user_id,
            private_metadata=json.dumps(meta or {}),
            view_id=view_id or f"VFORM{next(VIEW_IDS):04d}",
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def draft(user, **kw) -> tuple[int, dict]:
    """Fill in the form; returns the announcement's id and the preview view."""
    body = submit(user, ab.CREATE_CALLBACK, values(**kw))
    assert body.get("response_action") == "push", body
    meta = json.loads(body["view"]["private_metadata"])
    return meta["announcement"], body["view"]


def send(user, announcement_id: int) -> dict:
    return submit(user, ab.PREVIEW_CALLBACK, {}, {"announcement": announcement_id})


def posts(slack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] in CHANNELS]


def home_click(user, action_id: str, value: str):
    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user.user_id},
        "api_app_id": "A0COPBOT",
        # each click is its own (Slack gives every click a new trigger_id and action_ts)
        "trigger_id": f"77.{uuid.uuid4().hex}.trigger",
        "container": {"type": "view", "view_id": "VHOME01"},
        "view": {"id": "VHOME01", "type": "home", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "action_ts": f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}",
            }
        ],
    }
    response = user.interact(payload)
    assert response.status_code == 200
    user.settle()
    return response


def copies(engine, announcement_id):
    with session_scope(engine) as s:
        return rules.copies(s, announcement_id)


def dms(slack, user=STAFF) -> list[str]:
    return [
        c.args.get("text", "")
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == user
    ]


# ---- who may -----------------------------------------------------------------------------------
def test_only_staff_announce_and_nothing_is_posted_otherwise(communities, as_user, slack, engine):
    leader = as_user("U1", CHANNELS[0])
    assert "Only staff can post announcements" in leader.reply("announce")["text"]
    body = submit(leader, ab.CREATE_CALLBACK, values(targets=[communities[0].id]))
    assert body["response_action"] == "errors"
    leader.settle()
    assert slack.calls_to("views.open") == [] and posts(slack) == []
    with session_scope(engine) as s:
        assert s.exec(select(Announcement)).all() == []


# ---- sending -----------------------------------------------------------------------------------
def test_preview_then_send_reaches_every_community_once(communities, boss, slack, engine):
    boss.command("announce")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert view["callback_id"] == ab.CREATE_CALLBACK
    announcement_id, preview = draft(boss, targets=["all"], pin=True)
    assert "Webinar #4" in json.dumps(preview["blocks"]) and "&amp;" in json.dumps(
        preview["blocks"]
    )
    boss.settle()
    assert posts(slack) == []  # a preview sends nothing
    assert send(boss, announcement_id) == {"response_action": "clear"}
    assert send(boss, announcement_id) == {"response_action": "clear"}  # a replay
    boss.settle()
    sent = posts(slack)
    assert sorted(c.args["channel"] for c in sent) == CHANNELS
    first = sent[0].json_arg("blocks")
    assert (
        f"<@{STAFF}>" in first[0]["text"]["text"]
        and "CoP program staff" in first[0]["text"]["text"]
    )
    assert sent[0].args["text"].startswith(f"Announcement from <@{STAFF}>")
    assert len(slack.calls_to("pins.add")) == 3
    assert all(c.state == "posted" and c.ts for c in copies(engine, announcement_id))
    assert any("went out in 3 of 3 channels" in t for t in dms(slack))


def test_a_purpose_area_adds_its_communities(communities, boss, slack):
    announcement_id, _ = draft(boss, targets=[communities[0].id], area="practice")
    send(boss, announcement_id)
    boss.settle()
    assert sorted(c.args["channel"] for c in posts(slack)) == [CHANNELS[0], CHANNELS[2]]


def test_typed_mentions_are_neutralised_unless_the_box_is_ticked(communities, boss, slack):
    text = "Hi <!channel> and @here, see <https://evil.example|this> & more"
    announcement_id, _ = draft(boss, text=text, targets=[communities[0].id])
    send(boss, announcement_id)
    boss.settle()
    [post] = posts(slack)
    shown = post.args["text"] + json.dumps(post.json_arg("blocks"))
    assert "<!channel>" not in shown and "<!here>" not in shown and "<https://evil" not in shown
    assert "&lt;!channel&gt;" in shown and "@\\u200bhere" in shown
    slack.reset()
    announcement_id, _ = draft(
        boss, text="All hands", targets=[communities[0].id], mention="channel"
    )
    send(boss, announcement_id)
    boss.settle()
    [post] = posts(slack)
    assert post.args["text"].startswith("<!channel> ")


def test_long_announcements_are_split_to_fit_or_refused(communities, boss, slack):
    text = "\n".join(["R&D <tips> & tricks " * 10] * 14)[: rules.MAX_TEXT]
    announcement_id, preview = draft(boss, text=text, targets=[communities[0].id])
    send(boss, announcement_id)
    boss.settle()
    [post] = posts(slack)
    payload = {"text": post.args["text"], "blocks": post.json_arg("blocks")}
    assert check_message(payload) == []
    assert len(payload["blocks"]) > 2  # the escaped text needed several sections
    body = submit(boss, ab.CREATE_CALLBACK, values(text="x" * 3001, targets=[communities[0].id]))
    assert body["response_action"] == "errors" and "3000" in body["errors"][rules.TEXT]
    body = submit(boss, ab.CREATE_CALLBACK, values(text="   "))
    assert set(body["errors"]) == {rules.TEXT, rules.TARGETS}


def test_failed_channels_are_named_and_retried(communities, boss, slack, engine, deps):
    slack.fail("chat.postMessage", "not_in_channel")
    announcement_id, _ = draft(boss, targets=["all"])
    send(boss, announcement_id)
    boss.settle()
    assert len(posts(slack)) == 3  # one refused, two posted
    assert any("2 of 3 channels; failed: Community 0 (not_in_channel)" in t for t in dms(slack))
    home = app_home.build(deps, STAFF)["blocks"]
    assert "not_in_channel" in json.dumps(home)
    assert any(
        e["action_id"] == ab.RETRY_ACTION
        for b in home
        if b["type"] == "actions"
        for e in b["elements"]
    )
    home_click(boss, ab.RETRY_ACTION, str(announcement_id))
    assert all(c.state == "posted" for c in copies(engine, announcement_id))
    assert len(posts(slack)) == 4


# ---- edit and delete ---------------------------------------------------------------------------
def test_editing_updates_every_copy_and_deleting_deletes_every_copy(
    communities, boss, slack, engine
):
    announcement_id, _ = draft(boss, targets=["all"])
    send(boss, announcement_id)
    boss.settle()
    home_click(boss, ab.EDIT_ACTION, str(announcement_id))
    form = slack.wait_for("views.open")[-1].json_arg("view")
    text_block = next(b for b in form["blocks"] if b["block_id"] == rules.TEXT)
    assert text_block["element"]["initial_value"].startswith("Webinar #4")
    body = submit(
        boss,
        ab.CREATE_CALLBACK,
        values(text="Webinar #4 moved to *Friday*."),
        {"announcement": announcement_id},
    )
    assert body == {}
    boss.settle()
    updates = slack.calls_to("chat.update")
    posted = {(c.channel, c.ts) for c in copies(engine, announcement_id)}
    assert {(u.args["channel"], u.args["ts"]) for u in updates} == posted
    assert all("moved to *Friday*" in json.dumps(u.json_arg("blocks")) for u in updates)
    assert "(edited)" in json.dumps(updates[0].json_arg("blocks"))
    home_click(boss, ab.DELETE_ACTION, str(announcement_id))
    deleted = slack.calls_to("chat.delete")
    assert {(d.args["channel"], d.args["ts"]) for d in deleted} == posted
    assert all(c.state == "deleted" for c in copies(engine, announcement_id))
    home_click(boss, ab.DELETE_ACTION, str(announcement_id))
    assert len(slack.calls_to("chat.delete")) == 3  # deleting twice deletes nothing more


def test_others_cannot_use_the_buttons_and_bad_ids_get_a_message(communities, as_user, boss, slack):
    announcement_id, _ = draft(boss, targets=["all"])
    send(boss, announcement_id)
    boss.settle()
    slack.reset()
    leader = as_user("U1", CHANNELS[0])
    home_click(leader, ab.DELETE_ACTION, str(announcement_id))
    assert slack.calls_to("chat.delete") == []
    assert any("Only staff" in t for t in dms(slack, "U1"))
    home_click(boss, ab.DELETE_ACTION, "12x")
    home_click(boss, ab.EDIT_ACTION, "999999")
    texts = dms(slack)
    assert any("not an announcement copbot knows" in t for t in texts)
    assert any("no longer exists" in t for t in texts)


# ---- scheduled ---------------------------------------------------------------------------------
def test_a_scheduled_announcement_goes_out_once_across_racing_passes_and_a_restart(
    communities, boss, slack, engine, deps, settings
):
    at = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
    announcement_id, preview = draft(boss, targets=["all"], send_at=at)
    assert "<!date^" in json.dumps(preview["blocks"])
    send(boss, announcement_id)
    boss.settle()
    assert posts(slack) == []
    # changed before it goes: new text and only two communities
    submit(
        boss,
        ab.CREATE_CALLBACK,
        values(text="Changed text", targets=[communities[0].id, communities[1].id], send_at=at),
        {"announcement": announcement_id},
    )
    boss.settle()
    client = make_web_client(settings)
    due = datetime.fromtimestamp(at, UTC) + timedelta(seconds=5)
    assert flows.run_due(deps, client, due - timedelta(minutes=1)) == []
    barrier = threading.Barrier(4)

    def one_pass() -> None:
        barrier.wait()
        flows.run_due(deps, client, due)

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert flows.run_due(Deps(settings=settings, engine=engine), client, due) == []
    sent = posts(slack)
    assert sorted(c.args["channel"] for c in sent) == CHANNELS[:2]
    assert all("Changed text" in c.args["text"] for c in sent)


def test_scheduler_passes_send_a_due_announcement_once_even_when_polls_fail(
    communities, boss, slack, engine, settings, monkeypatch, caplog
):
    at = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
    announcement_id, _ = draft(boss, targets=["all"], send_at=at)
    send(boss, announcement_id)
    boss.settle()
    due = datetime.fromtimestamp(at, UTC) + timedelta(seconds=5)
    client = make_web_client(settings)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(poll_flows, "run_due", broken)  # a failing step stops nothing
    wall = utcnow()
    barrier, passes = threading.Barrier(4), []

    def one_pass(worker: str) -> None:
        deps = Deps(settings=settings, engine=engine)
        barrier.wait()
        passes.append(tick(deps, client, due, worker, clock=lambda: wall, hold=True))

    threads = [threading.Thread(target=one_pass, args=(f"w-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [owner] = [r for r in passes if r.owner]  # the others found the lease taken
    assert len(owner.sent) == 1 and owner.sent[0].startswith(f"announcement {announcement_id}")
    assert "the polls step failed" in caplog.text
    # a restart, after the lease lapsed: nothing more goes out
    lapsed = wall + lease_ttl(settings) + timedelta(seconds=1)
    again = tick(Deps(settings=settings, engine=engine), client, due, "w-9", clock=lambda: lapsed)
    assert again.owner and again.sent == []
    assert sorted(c.args["channel"] for c in posts(slack)) == CHANNELS


def test_a_pass_that_loses_its_lease_while_announcing_sends_no_more(
    communities, boss, slack, engine, settings, monkeypatch
):
    from types import SimpleNamespace

    from bot import scheduler as scheduler_module

    at = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
    first, _ = draft(boss, targets=[communities[0].id], send_at=at)
    send(boss, first)
    second, _ = draft(boss, targets=[communities[1].id], send_at=at)
    send(boss, second)
    boss.settle()
    due = datetime.fromtimestamp(at, UTC) + timedelta(seconds=5)
    wall = utcnow()
    # each announcement takes long: another scheduler takes the lease meanwhile
    ticks = itertools.count()
    fake = SimpleNamespace(monotonic=lambda: next(ticks) * 3600.0, perf_counter=time.perf_counter)
    monkeypatch.setattr(scheduler_module, "time", fake)
    real_send = flows.send

    def slow_send(client, deps, announcement_id, now):
        line = real_send(client, deps, announcement_id, now)
        with session_scope(engine) as s:
            s.execute(
                sa_update(SchedulerLease).values(
                    holder="other", expires_at=wall + timedelta(hours=1)
                )
            )
        return line

    monkeypatch.setattr(flows, "send", slow_send)
    client = make_web_client(settings)
    result = tick(Deps(settings=settings, engine=engine), client, due, "w-1", clock=lambda: wall)
    assert [line.split()[1] for line in result.sent] == [str(first)]
    assert [c.args["channel"] for c in posts(slack)] == [CHANNELS[0]]
    with session_scope(engine) as s:
        assert s.get(Announcement, second).state == "scheduled"  # the new holder sends it


def test_a_cancelled_scheduled_announcement_never_goes(communities, boss, slack, deps, settings):
    at = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
    announcement_id, _ = draft(boss, targets=["all"], send_at=at)
    send(boss, announcement_id)
    home_click(boss, ab.DELETE_ACTION, str(announcement_id))
    assert any("Cancelled" in t for t in dms(slack))
    due = datetime.fromtimestamp(at, UTC) + timedelta(minutes=1)
    assert flows.run_due(deps, make_web_client(settings), due) == []
    assert posts(slack) == []


def test_a_send_time_in_the_past_is_a_field_error(communities, boss, engine):
    past = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    body = submit(boss, ab.CREATE_CALLBACK, values(targets=["all"], send_at=past))
    assert body["response_action"] == "errors" and rules.SEND_AT in body["errors"]


# ---- App Home ----------------------------------------------------------------------------------
def test_home_lists_announcements_for_staff_and_open_polls_for_members(
    communities, boss, as_user, slack, engine
):
    announcement_id, _ = draft(boss, text="Readings <b>posted</b>", targets=["all"])
    send(boss, announcement_id)
    ben = as_user("U2", CHANNELS[0])
    as_user("U1", CHANNELS[0]).reply('poll "Pizza or tacos?" "Pizza" "Tacos"')
    boss.settle()
    slack.reset()
    boss.event({"type": "app_home_opened", "user": STAFF, "tab": "home"})
    boss.settle()
    staff_home = json.dumps(slack.wait_for("views.publish")[-1].json_arg("view"))
    assert "Readings &lt;b&gt;posted" in staff_home and "in 3 of 3 channels" in staff_home
    ben.event({"type": "app_home_opened", "user": "U2", "tab": "home"})
    ben.settle()
    member_home = json.dumps(slack.wait_for("views.publish", 2)[-1].json_arg("view"))
    assert "Pizza or tacos?" in member_home
    assert "Readings" not in member_home
    with session_scope(engine) as s:
        assert len(s.exec(select(AnnouncementCopy)).all()) == 3


def test_rate_limited_posts_are_retried_after_retry_after_and_none_doubled(
    communities, boss, slack, engine
):
    slack.limit_posts(per_channel=1.0, burst=1, workspace=2.0)
    announcement_id, _ = draft(boss, targets=["all"])
    send(boss, announcement_id)
    boss.settle()
    assert slack.rate_limited, "the burst of 3 posts at 2 a second was not limited"
    delivered = [c for c in posts(slack) if c not in slack.rate_limited]
    assert sorted(c.args["channel"] for c in delivered) == CHANNELS
    assert all(c.state == "posted" for c in copies(engine, announcement_id))


def test_a_send_cut_short_by_a_restart_resumes_without_doubling(
    communities, boss, slack, engine, deps, settings
):
    from sqlalchemy import update

    at = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    announcement_id, _ = draft(boss, targets=["all"], send_at=at)
    send(boss, announcement_id)
    boss.settle()
    now = datetime.now(UTC)
    first, second, third = copies(engine, announcement_id)
    with session_scope(engine) as s:  # a pass claimed it, posted one, died posting the next
        s.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id)
            .values(state="sending", claimed_at=now - timedelta(minutes=1))
        )
        s.execute(
            update(AnnouncementCopy)
            .where(AnnouncementCopy.id == first.id)
            .values(state="posted", ts="1700000001.000100")
        )
        s.execute(
            update(AnnouncementCopy).where(AnnouncementCopy.id == second.id).values(state="posting")
        )
    client = make_web_client(settings)
    assert flows.run_due(deps, client, now) == []  # its lease has not run out
    [line] = flows.run_due(deps, client, now + rules.SEND_LEASE)
    assert "in 2 of 3 channels; failed: Community 1 (interrupted)" in line
    assert [c.args["channel"] for c in posts(slack)] == [third.channel]
    assert flows.run_due(deps, client, now + 2 * rules.SEND_LEASE) == []


def test_the_same_form_submitted_again_or_after_back_is_one_draft(communities, boss, slack, engine):
    form = values(targets=["all"])
    first = submit(boss, ab.CREATE_CALLBACK, form, view_id="VSAME01")
    again = submit(boss, ab.CREATE_CALLBACK, form, view_id="VSAME01")  # a replay
    assert first == again
    changed = submit(
        boss, ab.CREATE_CALLBACK, values(text="Fixed typo", targets=["all"]), view_id="VSAME01"
    )
    [only] = {
        json.loads(b["view"]["private_metadata"])["announcement"] for b in (first, again, changed)
    }
    with session_scope(engine) as s:
        [stored] = s.exec(select(Announcement)).all()
        assert (stored.id, stored.text) == (only, "Fixed typo")
    send(boss, only)
    boss.settle()
    late = submit(boss, ab.CREATE_CALLBACK, form, view_id="VSAME01")
    assert late["response_action"] == "errors" and "went out already" in json.dumps(late)
    assert len(posts(slack)) == 3 and all("Fixed typo" in c.args["text"] for c in posts(slack))


def _shown(slack) -> dict[str, str]:
    """What each channel shows last: its post, then each update in the order Slack did
    them (the stand-in records a call when it has answered it)."""
    shown: dict[str, str] = {}
    for c in slack.calls:
        if c.method in ("chat.postMessage", "chat.update") and c.args["channel"] in CHANNELS:
            shown[c.args["channel"]] = json.dumps(c.json_arg("blocks"))
    return shown


def test_an_edit_saved_while_the_copies_go_out_reaches_every_copy(communities, boss, slack, engine):
    """Slack slowed to 0.6 s a call; the edit is saved while the second copy is being
    posted with the original text: that copy ends with the edit too."""
    announcement_id, _ = draft(boss, targets=["all"])
    slack.slow(0.6)
    send(boss, announcement_id)
    deadline = time.monotonic() + 10
    while not posts(slack) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert posts(slack), "the first copy never went out"
    time.sleep(0.2)  # the second copy is on its way, with the original text
    body = submit(
        boss,
        ab.CREATE_CALLBACK,
        values(text="Webinar #4 moved to *Friday*."),
        {"announcement": announcement_id},
    )
    assert body == {}
    boss.settle()
    slack.slow(0)
    assert sorted(c.args["channel"] for c in posts(slack)) == CHANNELS  # each posted once
    shown = _shown(slack)
    assert sorted(shown) == CHANNELS
    stale = [ch for ch, blocks in shown.items() if "moved to *Friday*" not in blocks]
    assert stale == []
    assert all(c.state == "posted" for c in copies(engine, announcement_id))
