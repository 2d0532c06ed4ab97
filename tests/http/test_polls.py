"""Polls through the signed endpoint, against the Slack stand-in (SQLite or PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import SQLModel, select

from bot.blocks import polls as pb
from bot.cli import main
from bot.deps import Deps
from bot.flows import polls as flows
from bot.listeners import replay
from bot.scheduler import lease_ttl, tick
from bot.services import communities as svc
from bot.services import poll_closing as closing
from bot.services import polls as rules
from bot.slack_client import make_web_client
from sandbox import slack_payloads as payloads
from storage.db import session_scope
from storage.models import HandledRequest, Poll, PollOption, PollVote, utcnow
from tests.helpers.endpoint import STAFF
from tests.helpers.polls import click, click_payload, vote
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CCOMM001"
OTHER = "CCOMM002"


@pytest.fixture
def community(session):
    c = new_community(session, team="T0STANDIN", channel=CHANNEL, name="Survivorship", leader="U1")
    svc.join(session, c, "U2")
    session.commit()
    return c


@pytest.fixture(autouse=True)
def quick_updates(monkeypatch):
    monkeypatch.setattr(flows, "UPDATE_INTERVAL", 0.2)


def polls(engine) -> list[Poll]:
    with session_scope(engine) as s:
        return list(s.exec(select(Poll).order_by(Poll.id)).all())


def options(engine, poll_id: int) -> list[PollOption]:
    with session_scope(engine) as s:
        return list(
            s.exec(
                select(PollOption)
                .where(PollOption.poll_id == poll_id)
                .order_by(PollOption.position)
            ).all()
        )


def counts(engine, poll_id: int) -> dict[str, int]:
    with session_scope(engine) as s:
        t = rules.tally(s, poll_id)
        return {o.label: t.counts[o.id] for o in t.options}


def ask(user, text='"Lunch on Friday?" "Pizza" "Tacos" "Salad"') -> dict:
    body = user.reply(f"poll {text}")
    user.settle()
    return body


def last_answer(slack) -> str:
    return ack_text(slack.wait_for("response_url")[-1].args)


def poll_values(**kw) -> dict:
    fields = dict(
        question="Which month for the onsite meeting?",
        options="April\nMay\nJune",
        choice="single",
        limit=None,
        settings=["anonymous"],
        closes=None,
        targets=None,
    )
    fields.update(kw)
    values = {
        rules.QUESTION: {"value": payloads.input_value("plain_text_input", fields["question"])},
        rules.OPTIONS: {"value": payloads.input_value("plain_text_input", fields["options"])},
        rules.CHOICE: {"value": payloads.input_value("radio_buttons", fields["choice"])},
        rules.SETTINGS: {"value": payloads.input_value("checkboxes", fields["settings"])},
    }
    if fields["limit"] is not None:
        values[rules.LIMIT] = {"value": payloads.input_value("number_input", fields["limit"])}
    if fields["closes"] is not None:
        values[rules.CLOSES] = {
            "value": {"type": "datetimepicker", "selected_date_time": fields["closes"]}
        }
    if fields["targets"] is not None:
        values[rules.TARGETS] = {
            "value": {
                "type": "multi_static_select",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": str(t)}, "value": str(t)}
                    for t in fields["targets"]
                ],
            }
        }
    return values


def submit(user, community_id, view_id="VPOLL001", **kw):
    response = user.interact(
        payloads.view_submission_payload(
            pb.CREATE_CALLBACK,
            poll_values(**kw),
            user_id=user.user_id,
            private_metadata=json.dumps({"community": community_id}),
            view_id=view_id,
        )
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


# ---- asking ----------------------------------------------------------------------------------
def test_one_line_poll_is_posted_with_a_button_per_option(community, as_user, slack, engine):
    body = ask(as_user("U1", CHANNEL))
    assert "going up" in body["text"]
    [poll] = polls(engine)
    assert (poll.question, poll.anonymous, poll.multiple) == ("Lunch on Friday?", True, False)
    [post] = slack.wait_for("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    blocks = post.json_arg("blocks")
    buttons = [b["accessory"]["value"] for b in blocks if b.get("accessory")]
    assert buttons == [f"{poll.id}:{o.id}" for o in options(engine, poll.id)]
    assert "keyed hash" in json.dumps(blocks)
    assert polls(engine)[0].message_ts == post.args.get("ts") or polls(engine)[0].message_ts


def test_unbalanced_quotes_get_the_right_form_and_store_nothing(community, as_user, engine):
    body = as_user("U1", CHANNEL).reply('poll "Lunch? "Pizza" "Tacos"')
    assert pb.USAGE in body["text"]
    assert polls(engine) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ('"Lunch?" "Pizza"', "at least 2"),
        ('"Lunch?" ' + " ".join(f'"o{i}"' for i in range(11)), "at most 10"),
        ('"Lunch?" "Pizza" " pizza "', "twice"),
        ('"" "A" "B"', "Write the question"),
    ],
)
def test_one_line_bad_polls_are_refused(community, as_user, engine, text, expected):
    body = as_user("U1", CHANNEL).reply(f"poll {text}")
    assert expected in body["text"]
    assert polls(engine) == []


def test_members_cannot_ask(community, as_user, slack, engine):
    body = as_user("U2", CHANNEL).reply('poll "Lunch?" "A" "B"')
    assert "Only the community's leaders and staff can ask polls" in body["text"]
    body = as_user("U2", CHANNEL).reply("poll")
    assert "Only" in body["text"]
    assert polls(engine) == []
    assert slack.calls_to("views.open") == []


def test_modal_field_errors_store_nothing(community, as_user, engine):
    ana = as_user("U1", CHANNEL)
    past = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    cases = [
        (dict(options="Only one"), rules.OPTIONS),
        (dict(options="\n".join(f"o{i}" for i in range(11))), rules.OPTIONS),
        (dict(options="Yes\n  YES \nNo"), rules.OPTIONS),
        (dict(question="   "), rules.QUESTION),
        (dict(closes=past), rules.CLOSES),
        (dict(limit="2"), rules.LIMIT),  # a limit on one choice
    ]
    for fields, block in cases:
        body = submit(ana, community.id, **fields)
        assert body["response_action"] == "errors", fields
        assert block in body["errors"], (fields, body)
    assert polls(engine) == []


def test_modal_poll_replayed_is_posted_once(community, as_user, slack, engine):
    ana = as_user("U1", CHANNEL)
    closes = int((datetime.now(UTC) + timedelta(days=2)).timestamp())
    assert submit(ana, community.id, closes=closes, settings=[]) == {}
    assert submit(ana, community.id, closes=closes, settings=[]) == {}
    ana.settle()
    [poll] = polls(engine)
    assert poll.anonymous is False and poll.closes_at == datetime.fromtimestamp(closes, UTC)
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert "<!date^" in json.dumps(slack.calls_to("chat.postMessage")[0].json_arg("blocks"))


def test_staff_ask_several_communities_and_results_add_up(
    session, community, as_user, slack, engine
):
    other = new_community(session, team="T0STANDIN", channel=OTHER, name="Informatics", leader="U9")
    session.commit()
    boss = as_user(STAFF, CHANNEL)
    boss.command("poll")
    view = slack.wait_for("views.open")[0].json_arg("view")
    assert any(b["block_id"] == rules.TARGETS for b in view["blocks"])
    assert submit(boss, community.id, targets=[community.id, other.id]) == {}
    boss.settle()
    first, second = polls(engine)
    assert {first.community_id, second.community_id} == {community.id, other.id}
    assert first.group_key == second.group_key
    posted = slack.calls_to("chat.postMessage")
    assert sorted(c.args["channel"] for c in posted) == [CHANNEL, OTHER]
    o1, o2 = options(engine, first.id), options(engine, second.id)
    vote(as_user("U5"), first.id, o1[0].id)
    vote(as_user("U6", OTHER), second.id, o2[0].id)
    vote(as_user("U7", OTHER), second.id, o2[1].id)
    click(boss, pb.CLOSE_ACTION, str(first.id))
    click(boss, pb.CLOSE_ACTION, str(second.id))
    boss.settle()
    results = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    # each community's results; the total once in each thread (in the results of a poll
    # closed when the other already was, else in a post of its own)
    totals = [c for c in results if "In total" in json.dumps(c.json_arg("blocks"))]
    assert sorted(c.args["channel"] for c in totals) == [CHANNEL, OTHER]
    assert len(results) in (2, 3)
    for total in totals:
        text = json.dumps(total.json_arg("blocks"))
        assert "(3 voters)" in text and "2 communities" in text


def test_a_leader_cannot_aim_a_poll_at_another_community(session, community, as_user, engine):
    other = new_community(session, team="T0STANDIN", channel=OTHER, name="Informatics", leader="U9")
    session.commit()
    body = submit(as_user("U1", CHANNEL), other.id)
    assert body["response_action"] == "errors"
    assert "Only the community's leaders and staff" in json.dumps(body["errors"])
    body = submit(as_user("U1", CHANNEL), community.id, targets=[other.id])
    assert body["response_action"] == "errors"
    assert polls(engine) == []


# ---- voting ----------------------------------------------------------------------------------
@pytest.fixture
def poll(community, as_user, engine, slack):
    ask(as_user("U1", CHANNEL))
    slack.reset()
    [p] = polls(engine)
    return p


def test_fifty_members_voting_at_once_count_fifty(poll, as_user, engine, slack):
    opts = options(engine, poll.id)
    users = [as_user(f"UV{i:03d}") for i in range(50)]
    barrier = threading.Barrier(50)
    errors = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            vote(users[i], poll.id, opts[i % 3].id)
        except AssertionError as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert counts(engine, poll.id) == {"Pizza": 17, "Tacos": 17, "Salad": 16}
    users[0].settle()
    # coalesced: far fewer message updates than votes, and the last shows all 50
    updates = slack.calls_to("chat.update")
    assert 1 <= len(updates) < 25
    assert "50 voters" in json.dumps(updates[-1].json_arg("blocks"))


def test_ten_clicks_at_once_by_one_member_count_one(poll, as_user, engine):
    opt = options(engine, poll.id)[1]
    ben = [as_user("U2") for _ in range(10)]
    barrier = threading.Barrier(10)

    def go(user) -> None:
        barrier.wait()
        vote(user, poll.id, opt.id)

    threads = [threading.Thread(target=go, args=(u,)) for u in ben]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts(engine, poll.id) == {"Pizza": 0, "Tacos": 1, "Salad": 0}
    with session_scope(engine) as s:
        assert len(s.exec(select(PollVote)).all()) == 1


def test_a_vote_delivered_twice_counts_once_and_answers_once(poll, as_user, engine, slack):
    opt = options(engine, poll.id)[0]
    ben = as_user("U2")
    payload = click_payload(ben, pb.VOTE_ACTION, f"{poll.id}:{opt.id}", name="vote")
    assert ben.interact(payload).status_code == 200
    ben.settle()
    answers = len(slack.calls_to("response_url"))
    assert ben.interact(payload).status_code == 200  # Slack's retry of the same click
    ben.settle()
    assert counts(engine, poll.id)["Pizza"] == 1
    assert len(slack.calls_to("response_url")) == answers


def test_a_click_delivered_at_once_by_several_workers_is_counted_and_answered_once(
    poll, as_user, engine, slack
):
    pizza, tacos, _ = options(engine, poll.id)
    ben = as_user("U2")
    vote(ben, poll.id, pizza.id)
    ben.settle()
    slack.reset()
    with session_scope(engine) as s:
        version = s.get(Poll, poll.id).version
    payload = click_payload(ben, pb.VOTE_ACTION, f"{poll.id}:{tacos.id}", name="vote")
    barrier = threading.Barrier(6)

    def go() -> None:
        barrier.wait()
        assert ben.interact(payload).status_code == 200

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ben.settle()
    assert counts(engine, poll.id) == {"Pizza": 0, "Tacos": 1, "Salad": 0}
    assert len(slack.calls_to("response_url")) == 1
    # a click that changed nothing ("already") is remembered too: its retry says nothing
    again = click_payload(ben, pb.VOTE_ACTION, f"{poll.id}:{tacos.id}", name="vote")
    for _ in range(3):
        assert ben.interact(again).status_code == 200
    ben.settle()
    assert len(slack.calls_to("response_url")) == 2
    assert "Your vote is in: *Tacos*" in last_answer(slack)
    with session_scope(engine) as s:
        assert s.get(Poll, poll.id).version == version + 1  # the one change, not the retries
        kinds = s.exec(select(HandledRequest.kind)).all()
        assert kinds == ["command"]  # the /cop poll that asked it; no vote click kept there


def test_a_multiple_choice_limit_holds_under_concurrent_clicks(community, as_user, engine):
    ana = as_user("U1", CHANNEL)
    submit(ana, community.id, options="A\nB\nC\nD", choice="multiple", limit="2")
    ana.settle()
    [p] = polls(engine)
    opts = options(engine, p.id)
    clicks = [(as_user("U2"), o) for o in opts for _ in range(3)]
    barrier = threading.Barrier(len(clicks))

    def go(user, option) -> None:
        barrier.wait()
        vote(user, p.id, option.id)

    threads = [threading.Thread(target=go, args=c) for c in clicks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts(engine, p.id).values()) == 2


def test_a_voter_sees_their_choice_and_can_change_it(poll, as_user, engine, slack):
    ben = as_user("U2")
    pizza, tacos, _ = options(engine, poll.id)
    vote(ben, poll.id, pizza.id)
    ben.settle()
    assert "Your vote is in: *Pizza*" in last_answer(slack)
    vote(ben, poll.id, tacos.id)
    ben.settle()
    assert "*Tacos*" in last_answer(slack)
    assert counts(engine, poll.id) == {"Pizza": 0, "Tacos": 1, "Salad": 0}
    click(ben, f"{pb.WITHDRAW_ACTION}-{tacos.id}", f"{poll.id}:{tacos.id}")
    ben.settle()
    assert counts(engine, poll.id) == {"Pizza": 0, "Tacos": 0, "Salad": 0}
    assert "no vote" in last_answer(slack)


def test_guests_outside_the_community_vote_once_like_anyone(poll, as_user, engine):
    guest = as_user("UGUEST1")
    opt = options(engine, poll.id)[2]
    vote(guest, poll.id, opt.id)
    vote(guest, poll.id, opt.id)
    assert counts(engine, poll.id)["Salad"] == 1


def test_malformed_and_unknown_buttons_get_a_message(poll, as_user, slack, engine):
    ben = as_user("U2")
    for value in ("abc", "1:2:3", "99999:1", f"{poll.id}:99999", ""):
        response = click(ben, pb.VOTE_ACTION, value)
        assert response.status_code == 200
        ben.settle()
        assert (
            "vote copbot knows" in last_answer(slack)
            or "no longer exists" in last_answer(slack)
            or "not part of this poll" in last_answer(slack)
        )
    click(ben, pb.CLOSE_ACTION, "'; drop")
    ben.settle()
    assert "not a poll copbot knows" in last_answer(slack)
    assert sum(counts(engine, poll.id).values()) == 0


# ---- closing ---------------------------------------------------------------------------------
def test_close_freezes_the_message_posts_results_and_refuses_later_votes(
    poll, as_user, engine, slack
):
    ben, ana = as_user("U2"), as_user("U1", CHANNEL)
    pizza = options(engine, poll.id)[0]
    vote(ben, poll.id, pizza.id)
    click(ben, pb.CLOSE_ACTION, str(poll.id))
    ben.settle()
    assert "Only the one who asked" in last_answer(slack)
    assert polls(engine)[0].state == "open"
    click(ana, pb.CLOSE_ACTION, str(poll.id))
    ana.settle()
    assert polls(engine)[0].state == "closed"
    [results] = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert results.args["thread_ts"] == poll.message_ts
    assert "Pizza" in json.dumps(results.json_arg("blocks"))
    final = slack.calls_to("chat.update")[-1].json_arg("blocks")
    assert not any(b.get("accessory") for b in final)
    assert "closed" in json.dumps(final)
    vote(as_user("U3"), poll.id, pizza.id)
    ana.settle()
    assert "This poll closed" in last_answer(slack)
    assert counts(engine, poll.id)["Pizza"] == 1
    click(ana, pb.CLOSE_ACTION, str(poll.id))
    ana.settle()
    assert "closed already" in last_answer(slack)
    assert len([c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]) == 1


def test_scheduled_close_goes_out_once_with_racing_passes_and_a_restart(
    community, as_user, engine, slack, settings, deps
):
    ana = as_user("U1", CHANNEL)
    closes = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    submit(ana, community.id, closes=closes)
    ana.settle()
    [p] = polls(engine)
    vote(as_user("U2"), p.id, options(engine, p.id)[0].id)
    ana.settle()
    slack.reset()
    client = make_web_client(settings)
    later = datetime.fromtimestamp(closes, UTC) + timedelta(seconds=1)
    assert flows.run_due(deps, client, later - timedelta(minutes=1)) == []
    barrier = threading.Barrier(4)
    lines: list[str] = []

    def one_pass() -> None:
        barrier.wait()
        lines.extend(flows.run_due(deps, client, later))

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # a restart: a new process, a new pass
    assert flows.run_due(Deps(settings=settings, engine=engine), client, later) == []
    results = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(results) == 1
    assert lines == [f"the results of poll {p.id}"]
    vote(as_user("U3"), p.id, options(engine, p.id)[0].id)
    assert counts(engine, p.id)["April"] == 1


def _due_poll(community, as_user, engine) -> tuple[Poll, datetime]:
    """A poll with one vote, closing in five minutes; (the poll, a moment after it closes)."""
    ana = as_user("U1", CHANNEL)
    closes = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    submit(ana, community.id, closes=closes)
    ana.settle()
    [p] = polls(engine)
    vote(as_user("U2"), p.id, options(engine, p.id)[0].id)
    ana.settle()
    return p, datetime.fromtimestamp(closes, UTC) + timedelta(seconds=1)


def _thread_posts(slack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]


def test_scheduler_passes_close_a_poll_once_and_only_the_lease_holder_acts(
    community, as_user, engine, slack, settings
):
    p, later = _due_poll(community, as_user, engine)
    client = make_web_client(settings)
    wall = utcnow()
    held = tick(Deps(settings=settings, engine=engine), client, later, "w-1", clock=lambda: wall)
    assert held.owner  # a one-off pass: it closed the poll and gave the lease up
    assert held.sent == [f"the results of poll {p.id}"] and polls(engine)[0].state == "closed"
    # a holder keeps the lease: another worker's pass does nothing meanwhile
    with session_scope(engine) as s:
        s.execute(sa_update(Poll).values(state="open", results_state="none", closed_at=None))
    tick(Deps(settings=settings, engine=engine), client, later - timedelta(hours=1), "w-2",
         clock=lambda: wall, hold=True)  # fmt: skip
    skipped = tick(Deps(settings=settings, engine=engine), client, later, "w-3", clock=lambda: wall)
    assert not skipped.owner and skipped.sent == [] and polls(engine)[0].state == "open"
    # the lease lapses; four workers race, then a restart: the results go out once more
    lapsed = wall + lease_ttl(settings) + timedelta(seconds=1)
    barrier, passes = threading.Barrier(4), []

    def one_pass(worker: str) -> None:
        deps = Deps(settings=settings, engine=engine)
        barrier.wait()
        passes.append(tick(deps, client, later, worker, clock=lambda: lapsed))

    threads = [threading.Thread(target=one_pass, args=(f"r-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = tick(Deps(settings=settings, engine=engine), client, later, "r-9", clock=lambda: lapsed)
    assert again.sent == []
    assert sum(len(r.sent) for r in passes) == 1
    assert len(_thread_posts(slack)) == 2  # once before the reopening, once after


def test_a_failing_poll_step_is_logged_and_the_next_pass_closes_the_poll(
    community, as_user, engine, slack, settings, monkeypatch, caplog
):
    p, later = _due_poll(community, as_user, engine)
    client = make_web_client(settings)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(closing, "close_due", broken)
    result = tick(Deps(settings=settings, engine=engine), client, later, "w-1")
    assert result.owner and result.sent == []
    assert "the polls step failed" in caplog.text
    monkeypatch.undo()
    result = tick(Deps(settings=settings, engine=engine), client, later, "w-1")
    assert result.sent == [f"the results of poll {p.id}"]
    assert len(_thread_posts(slack)) == 1


def test_results_rate_limited_in_a_pass_go_out_in_the_next(
    community, as_user, engine, slack, settings
):
    p, later = _due_poll(community, as_user, engine)
    client = make_web_client(settings)
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=1)
    assert tick(Deps(settings=settings, engine=engine), client, later, "w-1").sent == []
    assert polls(engine)[0].results_state == "pending"
    assert len(_thread_posts(slack)) == 1  # the one answered 429
    result = tick(Deps(settings=settings, engine=engine), client, later, "w-1")
    assert result.sent == [f"the results of poll {p.id}"]
    assert polls(engine)[0].results_state == "posted"
    refused, results = _thread_posts(slack)
    assert "April" in json.dumps(results.json_arg("blocks"))
    assert tick(Deps(settings=settings, engine=engine), client, later, "w-1").sent == []


# ---- named and anonymous ---------------------------------------------------------------------
def test_named_polls_show_votes_and_anonymous_ones_never(community, as_user, engine, slack):
    ana = as_user("U1", CHANNEL)
    submit(ana, community.id, settings=[], view_id="VNAMED")
    ana.settle()
    [named] = polls(engine)
    vote(as_user("U2"), named.id, options(engine, named.id)[1].id)
    ana.settle()
    click(as_user("U3"), pb.SHOW_VOTES_ACTION, str(named.id))
    ana.settle()
    assert "<@U2>" in last_answer(slack)
    submit(ana, community.id, view_id="VANON")
    ana.settle()
    anon = polls(engine)[1]
    click(as_user("U3"), pb.SHOW_VOTES_ACTION, str(anon.id))
    ana.settle()
    assert "anonymous" in last_answer(slack)


def test_anonymous_voters_appear_nowhere(
    community, as_user, engine, slack, caplog, db_url, monkeypatch, capsys, settings
):
    caplog.set_level("DEBUG")
    ana = as_user("U1", CHANNEL)
    submit(ana, community.id, options="A\nB", view_id="VANON2")
    ana.settle()
    [p] = polls(engine)
    voters = [f"UANON{i:03d}" for i in range(12)]
    opts = options(engine, p.id)
    clicks = []
    for i, uid in enumerate(voters):
        clicks.append(click_payload(as_user(uid), pb.VOTE_ACTION, f"{p.id}:{opts[i % 2].id}"))
        assert as_user(uid).interact(clicks[-1]).status_code == 200
    click(ana, pb.CLOSE_ACTION, str(p.id))
    ana.settle()
    assert counts(engine, p.id) == {"A": 6, "B": 6}
    recorded = json.dumps([c.args for c in slack.calls])
    logged = caplog.text
    with engine.connect() as conn:  # every table the app has, as a reader sees it
        rows = [
            json.dumps([str(v) for v in row])
            for table in SQLModel.metadata.sorted_tables
            for row in conn.execute(sa_select(table)).all()
        ]
        kinds = list(conn.execute(sa_select(HandledRequest.kind)).scalars())
    # the replay layer keeps no vote click: only the Close click (and the form) are there
    assert all(replay.identity(payload) is None for payload in clicks)
    assert kinds.count("block_actions") == 1
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "polls", "--format", "json"]) == 0
    exported = capsys.readouterr().out
    assert json.loads(exported)[0]["options"] == [
        {"option": "A", "votes": 6},
        {"option": "B", "votes": 6},
    ]
    assert main(["export", "polls"]) == 0
    exported += capsys.readouterr().out
    for uid in voters:
        assert uid not in recorded
        assert uid not in logged
        assert uid not in exported
        assert not any(uid in row for row in rows)


def test_export_gives_counts_per_community_and_named_voters(
    community, as_user, engine, db_url, monkeypatch, capsys
):
    ana = as_user("U1", CHANNEL)
    submit(ana, community.id, settings=[], view_id="VEXPORT")
    ana.settle()
    [p] = polls(engine)
    april, may, _ = options(engine, p.id)
    vote(as_user("U2"), p.id, april.id)
    vote(as_user("U3"), p.id, april.id)
    vote(as_user("U4"), p.id, may.id)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "polls", "--since", "2000-01-01"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["community"], r["option"], r["votes"], r["voters"]) for r in rows] == [
        ("Survivorship", "April", "2", "U2 U3"),
        ("Survivorship", "May", "1", "U4"),
        ("Survivorship", "June", "0", ""),
    ]
    assert main(["export", "polls", "--since", "2999-01-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["export", "polls", "--since", "soon"]) == 1
    assert "not a date" in capsys.readouterr().err


def test_typographic_quotes_work_in_the_one_line_form(community, as_user, engine):
    ask(as_user("U1", CHANNEL), "“Lunch on Friday?” “Pizza” “Tacos”")
    [p] = polls(engine)
    assert p.question == "Lunch on Friday?"
    assert [o.label for o in options(engine, p.id)] == ["Pizza", "Tacos"]


def test_hidden_results_show_only_when_the_poll_closes(community, as_user, engine, slack):
    ana = as_user("U1", CHANNEL)
    submit(ana, community.id, settings=["hidden"], view_id="VHIDDEN")
    ana.settle()
    [p] = polls(engine)
    april = options(engine, p.id)[0]
    vote(as_user("U2"), p.id, april.id)
    ana.settle()
    shown = json.dumps(slack.calls_to("chat.update")[-1].json_arg("blocks"))
    assert "1 voter" in shown and "results show when the poll closes" in shown
    assert "(100%)" not in shown
    assert "(100%)" not in last_answer(slack)
    click(as_user("U3"), pb.SHOW_VOTES_ACTION, str(p.id))
    ana.settle()
    assert "show when the poll closes" in last_answer(slack)
    click(ana, pb.CLOSE_ACTION, str(p.id))
    ana.settle()
    assert "1 (100%)" in json.dumps(slack.calls_to("chat.update")[-1].json_arg("blocks"))


def test_members_add_options_when_the_poll_allows_it(community, as_user, engine, slack):
    ana, ben = as_user("U1", CHANNEL), as_user("U2")
    submit(ana, community.id, settings=["add"], view_id="VADD")
    ana.settle()
    [p] = polls(engine)
    click(ben, pb.ADD_OPTION_ACTION, str(p.id))
    ben.settle()
    view = slack.wait_for("views.open")[-1].json_arg("view")
    meta = view["private_metadata"]

    def add(label: str) -> dict:
        response = ben.interact(
            payloads.view_submission_payload(
                pb.ADD_OPTION_CALLBACK,
                {pb.ADD_OPTION: {"value": payloads.input_value("plain_text_input", label)}},
                user_id="U2",
                private_metadata=meta,
            )
        )
        assert response.status_code == 200
        return response.json() if response.content else {}

    assert add("July") == {}
    assert "already" in add(" JULY ")["errors"][pb.ADD_OPTION]
    ben.settle()
    labels = [o.label for o in options(engine, p.id)]
    assert labels == ["April", "May", "June", "July"]
    assert "July" in json.dumps(slack.calls_to("chat.update")[-1].json_arg("blocks"))
    vote(ben, p.id, options(engine, p.id)[3].id)
    assert counts(engine, p.id)["July"] == 1
    for i in range(6):
        add(f"Month {i}")
    assert len(options(engine, p.id)) == 10
    assert "10 options already" in add("One too many")["errors"][pb.ADD_OPTION]
    assert len(options(engine, p.id)) == 10


def test_a_message_left_behind_by_a_dead_worker_is_caught_up_by_the_scheduler(
    poll, as_user, engine, slack, deps, settings
):
    from sqlalchemy import update

    vote(as_user("U2"), poll.id, options(engine, poll.id)[0].id)
    as_user("U2").settle()
    now = datetime.now(UTC)
    with session_scope(engine) as s:  # a worker claimed the update and died
        s.execute(
            update(Poll)
            .where(Poll.id == poll.id)
            .values(version=Poll.version + 1, refresh_claimed_at=now - timedelta(seconds=5))
        )
    slack.reset()
    client = make_web_client(settings)
    flows.run_due(deps, client, now)
    assert slack.calls_to("chat.update") == []  # the claim is still fresh
    flows.run_due(deps, client, now + closing.REFRESH_LEASE)
    assert len(slack.calls_to("chat.update")) == 1
    [p] = polls(engine)
    assert p.shown_version == p.version and p.refresh_claimed_at is None


def test_a_poll_at_every_limit_fits_slack_and_shows_text_as_typed(community, as_user, slack):
    ana = as_user("U1", CHANNEL)
    question = ("Is <!channel> & <@U2> ok? " * 12)[: rules.MAX_QUESTION]
    labels = [(f"{i} <!here> & <b> " * 8)[: rules.MAX_OPTION] for i in range(rules.MAX_OPTIONS)]
    body = submit(
        ana,
        community.id,
        question=question,
        options="\n".join(labels),
        choice="multiple",
        limit="10",
        settings=["add"],
        view_id="VLIMITS",
    )
    assert body == {}
    ana.settle()
    [post] = slack.calls_to("chat.postMessage")
    shown = post.args["text"] + json.dumps(post.json_arg("blocks"))
    assert "<!channel>" not in shown and "<!here>" not in shown and "<@U2>" not in shown
    assert "&lt;!channel&gt;" in shown
    # the stand-in checks every payload against Block Kit's limits (slack fixture)


# ---- every id checked against its own poll's community and channel --------------------------
@pytest.fixture
def elsewhere(session, as_user, engine, slack):
    """A named poll in another community's channel (OTHER), where members add options, with
    a vote by that community's member U8."""
    other = new_community(session, team="T0STANDIN", channel=OTHER, name="Informatics", leader="U9")
    svc.join(session, other, "U8")
    session.commit()
    leader = as_user("U9", OTHER)
    assert submit(leader, other.id, settings=["add"], view_id="VOTHER") == {}
    leader.settle()
    [p] = [p for p in polls(engine) if p.community_id == other.id]
    vote(as_user("U8"), p.id, options(engine, p.id)[0].id)
    leader.settle()
    slack.reset()
    return p


def in_channel(payload: dict, channel: str) -> dict:
    payload["channel"] = {"id": channel}
    payload["container"]["channel_id"] = channel
    return payload


def test_show_votes_names_no_one_to_someone_outside_the_poll_s_channel_and_community(
    community, elsewhere, as_user, slack
):
    ben = as_user("U2")  # a member of Survivorship only, clicking in Survivorship's channel
    click(ben, pb.SHOW_VOTES_ACTION, str(elsewhere.id))
    ben.settle()
    answer = last_answer(slack)
    assert "not one you can see" in answer and "<@U8>" not in answer
    # in the poll's own channel anyone sees the votes (as its message shows them), and so
    # do its community's members anywhere, and staff
    guest = as_user("UGUEST1")
    guest.interact(in_channel(click_payload(guest, pb.SHOW_VOTES_ACTION, str(elsewhere.id)), OTHER))
    guest.settle()
    assert "<@U8>" in last_answer(slack)
    for uid in ("U8", STAFF):
        click(as_user(uid), pb.SHOW_VOTES_ACTION, str(elsewhere.id))
        ben.settle()
        assert "<@U8>" in last_answer(slack)


def test_a_forged_add_option_naming_another_channel_s_poll_is_refused(
    community, elsewhere, as_user, slack, engine
):
    ben = as_user("U2")
    before = [o.label for o in options(engine, elsewhere.id)]
    click(ben, pb.ADD_OPTION_ACTION, str(elsewhere.id))
    ben.settle()
    assert "not one you can see" in last_answer(slack)
    assert slack.calls_to("views.open") == []

    def add(user, meta: dict, label: str) -> dict:
        response = user.interact(
            payloads.view_submission_payload(
                pb.ADD_OPTION_CALLBACK,
                {pb.ADD_OPTION: {"value": payloads.input_value("plain_text_input", label)}},
                user_id=user.user_id,
                private_metadata=json.dumps(meta),
            )
        )
        assert response.status_code == 200
        return response.json() if response.content else {}

    for meta in ({"poll": elsewhere.id}, {"poll": elsewhere.id, "tag": "0" * 32}):
        refused = add(ben, meta, "Injected")
        assert "not one you can see" in refused["errors"][pb.ADD_OPTION]
    assert [o.label for o in options(engine, elsewhere.id)] == before
    # a guest in the poll's own channel gets the form, and it is taken
    guest = as_user("UGUEST1", OTHER)
    guest.interact(in_channel(click_payload(guest, pb.ADD_OPTION_ACTION, str(elsewhere.id)), OTHER))
    guest.settle()
    meta = json.loads(slack.wait_for("views.open")[-1].json_arg("view")["private_metadata"])
    assert add(guest, meta, "From a guest") == {}
    assert add(ben, meta, "Someone else's form")["errors"]  # the form is the guest's alone
    assert [o.label for o in options(engine, elsewhere.id)] == [*before, "From a guest"]


@pytest.mark.parametrize(
    "typed, other",
    [("Yes", "Ye\u200bs"), ("Yes", "Ｙｅｓ"), ("No", "No\u2060"), ("Oui", "\u202eOui\u202c")],
)
def test_lookalike_options_are_one_option(community, as_user, engine, typed, other):
    ana = as_user("U1", CHANNEL)
    body = ana.reply(f'poll "Which?" "{typed}" "{other}"')
    assert "twice" in body["text"]
    body = submit(ana, community.id, options=f"{typed}\n{other}\nMaybe")
    assert "twice" in body["errors"][rules.OPTIONS]
    assert polls(engine) == []


def test_options_are_stored_and_shown_normalised(community, as_user, engine, slack):
    ana, ben = as_user("U1", CHANNEL), as_user("U2")
    submit(ana, community.id, options="Ｍａｙ\nJu\u200bne\n\u202eApril", settings=["add"])
    ana.settle()
    [p] = polls(engine)
    assert [o.label for o in options(engine, p.id)] == ["May", "June", "April"]
    shown = json.dumps(slack.calls_to("chat.postMessage")[-1].json_arg("blocks"))
    assert "*May*" in shown and "\\u200b" not in shown and "\\u202e" not in shown
    click(ben, pb.ADD_OPTION_ACTION, str(p.id))
    ben.settle()
    meta = slack.wait_for("views.open")[-1].json_arg("view")["private_metadata"]

    def add(label: str) -> dict:
        response = ben.interact(
            payloads.view_submission_payload(
                pb.ADD_OPTION_CALLBACK,
                {pb.ADD_OPTION: {"value": payloads.input_value("plain_text_input", label)}},
                user_id="U2",
                private_metadata=meta,
            )
        )
        return response.json() if response.content else {}

    assert "“June” is an option already" in add("Ｊｕｎｅ")["errors"][pb.ADD_OPTION]
    assert add("Ju\u2060ly") == {}
    assert [o.label for o in options(engine, p.id)] == ["May", "June", "April", "July"]


def test_close_asks_first_as_cancel_call_does(poll, as_user, slack, engine):
    vote(as_user("U2"), poll.id, options(engine, poll.id)[0].id)
    as_user("U2").settle()
    blocks = slack.calls_to("chat.update")[-1].json_arg("blocks")
    [close] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == pb.CLOSE_ACTION]  # fmt: skip
    confirm = close["confirm"]
    assert confirm["title"]["text"] == "Close this poll?" and confirm["style"] == "danger"
    assert "no more votes" in confirm["text"]["text"]
    assert "who voted is forgotten" in confirm["text"]["text"]
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == (
        "Close the poll",
        "Keep it open",
    )


# ---- a poll asked in several communities --------------------------------------------------
def _group(session, community, as_user, engine, view_id: str):
    other = new_community(session, team="T0STANDIN", channel=OTHER, name="Informatics", leader="U9")
    session.commit()
    boss = as_user(STAFF, CHANNEL)
    body = submit(
        boss,
        community.id,
        targets=[community.id, other.id],
        settings=["anonymous", "hidden"],
        view_id=view_id,
    )
    assert body == {}
    boss.settle()
    a, b = polls(engine)
    assert (a.community_id, b.community_id) == (community.id, other.id)
    vote(as_user("U5"), a.id, options(engine, a.id)[0].id)
    for uid in ("U6", "U7", "U8"):
        vote(as_user(uid, OTHER), b.id, options(engine, b.id)[1].id)
    boss.settle()
    return boss, a, b


def test_a_group_poll_with_hidden_results_shows_nothing_of_a_community_still_open(
    session, community, as_user, engine, slack
):
    boss, a, b = _group(session, community, as_user, engine, "VGROUPHIDDEN")
    click(boss, pb.CLOSE_ACTION, str(a.id))
    boss.settle()
    [first] = _thread_posts(slack)
    shown = ack_text(first.args)
    assert "*Informatics*: still open" in shown and "*Survivorship*: 1 voter" in shown
    assert "In total" not in shown and "3 voters" not in shown and "4 voters" not in shown
    assert "once each has closed" in shown
    click(boss, pb.CLOSE_ACTION, str(b.id))
    boss.settle()
    posts = _thread_posts(slack)
    in_b = [p for p in posts if p.args["channel"] == OTHER]
    in_a = [p for p in posts if p.args["channel"] == CHANNEL]
    assert len(in_b) == 1 and len(in_a) == 2
    for post in (in_b[0], in_a[1]):
        text = ack_text(post.args)
        assert "*In total* (4 voters)" in text and "*May*: 3" in text and "*April*: 1" in text
    assert "All 2 communities have closed" in ack_text(in_a[1].args)
    click(boss, pb.CLOSE_ACTION, str(b.id))
    boss.settle()
    assert len(_thread_posts(slack)) == 3


def test_a_group_closing_everywhere_at_once_posts_each_thread_s_total_once(
    session, community, as_user, engine, slack
):
    boss, a, b = _group(session, community, as_user, engine, "VGROUPRACE")
    barrier = threading.Barrier(4)

    def close(poll_id: int) -> None:
        barrier.wait()
        click(boss, pb.CLOSE_ACTION, str(poll_id))

    threads = [threading.Thread(target=close, args=(p,)) for p in (a.id, b.id, a.id, b.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    boss.settle()
    totals = [p.args["channel"] for p in _thread_posts(slack) if "In total" in ack_text(p.args)]
    assert sorted(totals) == [CHANNEL, OTHER]
