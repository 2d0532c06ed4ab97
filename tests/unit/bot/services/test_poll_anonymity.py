"""Anonymous polls, read by whoever runs copbot: holding the database AND the app's secret,
nothing ties a person to a choice once the poll has closed; while it is open, exactly
the voters' keys (one per voter) and the remembered clicks (which name no one) are there.
Counts, results, exports and health are the same before and after the close."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from bot.blocks import poll_results
from bot.blocks import polls as pb
from bot.cli import export as health_cli
from bot.cli import main
from bot.flows import polls as flows
from bot.services import communities as svc
from bot.services import poll_closing as closing
from bot.services import poll_voting as voting
from bot.services import polls as rules
from bot.slack_client import make_web_client
from storage.db import session_scope
from storage.models import Community, HandledRequest, Poll, PollClick, PollOption, PollVote
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CCOMM001"
MEMBERS = ["U1", "U2", "U3", "U4", "U5", "U6", "U7"]  # U1 leads; U7 never votes
GUESTS = ["UGUEST1"]  # votes without being a member
PEOPLE = MEMBERS + GUESTS
# tables that name people by design (who is in which community), not what they chose
PEOPLE_TABLES = {"person", "membership", "community"}


@pytest.fixture
def community(session):
    c = new_community(session, team="T0STANDIN", channel=CHANNEL, name="Tumour boards")
    for uid in MEMBERS[1:]:
        svc.join(session, c, uid)
    session.commit()
    return c


def click_payload(user_id: str, action_id: str, value: str, response_url: str) -> dict:
    return {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user_id},
        "api_app_id": "A0COPBOT",
        "trigger_id": f"99.{uuid.uuid4().hex}.trigger",
        "response_url": response_url,
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "channel": {"id": CHANNEL},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "block_id": "b",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def everything(engine) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every column of every row of every table."""
    out = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa_select(table)).mappings():
                out += [(table.name, col, str(value)) for col, value in row.items()]
    return out


def snapshot(engine, poll_id: int, db_url: str, monkeypatch, capsys, settings) -> dict:
    """What the poll shows everywhere: tally, results, export (CSV and JSON), health."""
    with session_scope(engine) as s:
        t = rules.tally(s, poll_id)
        group = rules.group_tallies(s, t.poll)
        tally = ({o.label: t.counts[o.id] for o in t.options}, t.voters)
        results = poll_results.results_message(group, t)["blocks"][1]
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "polls", "--format", "json"]) == 0
    [exported] = json.loads(capsys.readouterr().out)
    assert main(["export", "polls"]) == 0
    csv_rows = [line.split(",")[-4:] for line in capsys.readouterr().out.splitlines()[1:]]
    health = [(r.name, r.active_90_days) for r in health_cli.health_rows(settings)]
    return {
        "tally": tally,
        "results": results,
        "export": (exported["options"], exported["voters_in_poll"]),
        "csv": csv_rows,
        "health": health,
    }


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "open"])
def test_holding_the_database_and_the_secret_nothing_ties_a_voter_once_closed(
    closed, community, as_user, engine, slack, settings, db_url, monkeypatch, capsys, caplog
):
    caplog.set_level("DEBUG")
    leader = as_user("U1", CHANNEL)
    from sandbox import slack_payloads as payloads

    values = {
        rules.QUESTION: {"value": payloads.input_value("plain_text_input", "Is yours working?")},
        rules.OPTIONS: {"value": payloads.input_value("plain_text_input", "Yes\nNo\nUnsure")},
        rules.CHOICE: {"value": payloads.input_value("radio_buttons", "single")},
        rules.SETTINGS: {"value": payloads.input_value("checkboxes", ["anonymous"])},
    }
    response = leader.interact(
        payloads.view_submission_payload(
            pb.CREATE_CALLBACK,
            values,
            user_id="U1",
            private_metadata=json.dumps({"community": community.id}),
            view_id="VTUMOUR",
        )
    )
    assert response.status_code == 200
    leader.settle()
    with session_scope(engine) as s:
        poll = s.exec(select(Poll)).one()
        opts = list(s.exec(select(PollOption).order_by(PollOption.position)).all())
    yes, no, unsure = (o.id for o in opts)
    url = slack.response_url("vote")
    clicks: list[dict] = []

    def send(uid: str, action_id: str, option_id: int, twice: bool = False) -> None:
        payload = click_payload(uid, action_id, f"{poll.id}:{option_id}", url)
        clicks.append(payload)
        for _ in range(2 if twice else 1):
            assert as_user(uid, CHANNEL).interact(payload).status_code == 200
        leader.settle()

    send("U2", pb.VOTE_ACTION, yes, twice=True)  # Slack delivers it twice
    send("U3", pb.VOTE_ACTION, yes)
    send("U4", pb.VOTE_ACTION, no)
    send("U5", pb.VOTE_ACTION, yes)
    send("U5", pb.VOTE_ACTION, unsure)  # changed their mind
    send("U6", pb.VOTE_ACTION, no)
    send("U6", f"{pb.WITHDRAW_ACTION}-{no}", no)  # and took it back
    send("U6", pb.VOTE_ACTION, no)
    send("U1", pb.VOTE_ACTION, unsure)
    send("UGUEST1", pb.VOTE_ACTION, yes)
    voted = {"U1", "U2", "U3", "U4", "U5", "U6", "UGUEST1"}
    before = snapshot(engine, poll.id, db_url, monkeypatch, capsys, settings)
    assert before["tally"] == ({"Yes": 3, "No": 2, "Unsure": 2}, 7)

    if closed:
        click = click_payload("U1", pb.CLOSE_ACTION, str(poll.id), url)
        assert leader.interact(click).status_code == 200
        leader.settle()
        with session_scope(engine) as s:
            assert s.get(Poll, poll.id).state == "closed"
        after = snapshot(engine, poll.id, db_url, monkeypatch, capsys, settings)
        assert after == before  # the same figures everywhere
        posted = [c for c in slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
        assert "7 voters" in ack_text(posted[-1].args)

    # every key anyone holding the secret could recompute for a person and a choice
    key = settings.voter_key
    candidates: dict[str, str] = {}
    for uid in PEOPLE:
        candidates[voting.voter_of(poll, uid, key)] = f"voter key of {uid}"
        for oid in (yes, no, unsure):
            for text in (f"{poll.id}:{uid}:{oid}", f"{uid}|{poll.id}:{oid}", f"{uid}:{oid}"):
                candidates[hmac.new(key, text.encode(), "sha256").hexdigest()] = f"{uid} {oid}"
                candidates[hashlib.sha256(text.encode()).hexdigest()] = f"{uid} {oid}"
            # the replay key a click would get were it kept as other clicks are (the user,
            # the button and its value, the container and the click's time)
            for payload in clicks:
                action = payload["actions"][0]
                for action_id in (pb.VOTE_ACTION, f"{pb.WITHDRAW_ACTION}-{oid}"):
                    digest = hashlib.sha256(b"{}").hexdigest()
                    unique = f"{uid}|{action_id}|b|{poll.id}:{oid}|{digest}|1.1|"
                    unique += action["action_ts"]
                    keyed = hmac.new(key, f"block_actions|{unique}".encode(), "sha256")
                    candidates[keyed.hexdigest()] = f"replay key {uid} {oid}"
    click_keys = {
        voting.click_key(poll.id, p["trigger_id"], p["actions"][0]["action_ts"], key)
        for p in clicks
    }
    stored = everything(engine)
    found = [(t, c, candidates[v]) for t, c, v in stored if v in candidates]
    logged = caplog.text
    in_logs = [who for k, who in candidates.items() if k in logged]
    # no person is named next to the poll anywhere but where people are named by design
    named = [
        (t, c, v)
        for t, c, v in stored
        if t not in PEOPLE_TABLES and any(uid in v for uid in voted - {"U1"})
    ]
    assert named == []
    assert in_logs == []
    for uid in voted - {"U1"}:  # U1 asked the poll: its request lines name them
        assert uid not in logged
    # vote rows carry no id and no time; remembered clicks name neither voter nor choice
    assert {c.name for c in PollVote.__table__.columns} == {"poll_id", "voter", "option_id"}
    assert {c.name for c in PollClick.__table__.columns} == {"click_key", "poll_id"}
    with session_scope(engine) as s:
        handled = s.exec(select(HandledRequest.kind)).all()
    assert handled.count("block_actions") == (1 if closed else 0)  # the Close click alone

    if closed:
        assert found == []
        assert [v for _, _, v in stored if v in click_keys] == []
        with session_scope(engine) as s:
            assert s.exec(select(PollVote)).all() == []
            assert s.exec(select(PollClick)).all() == []
    else:
        # what is linkable while the poll is open, to someone holding both the database and
        # the secret: each voter's key, one per voter, in poll_vote.voter, and nothing else
        assert sorted(found) == sorted(
            ("poll_vote", "voter", f"voter key of {uid}") for uid in voted
        )
        # the remembered clicks are there (one per counted click) and name no one
        assert {v for t, _, v in stored if t == "poll_click" and v in click_keys} == click_keys


def test_a_scheduled_close_forgets_the_voters_in_its_own_transaction(
    community, as_user, engine, slack, settings, deps
):
    with session_scope(engine) as s:
        draft, _ = rules.validate(
            rules.PollForm("When?", ["Now", "Later"], closes_at=datetime.now(UTC) + timedelta(1)),
            datetime.now(UTC),
        )
        [poll] = rules.create(s, [s.get(Community, community.id)], draft, "U1", key=b"k" * 32)
        poll_id = poll.id
    with session_scope(engine) as s:
        b = voting.ballot(s, poll_id)
    now = datetime.now(UTC)
    for i, uid in enumerate(["U2", "U3", "U4"]):
        with session_scope(engine) as s:
            option = list(b.labels)[i % 2]
            result = voting.vote(s, b, option, uid, b"k" * 32, now, click=f"c{i}")
            assert result.outcome == "added"
    # the close fails after its UPDATE: nothing is forgotten, nothing is closed
    later = now + timedelta(days=2)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        assert closing.close_due(s, later) == 1
        raise RuntimeError("the pass died before committing")
    with session_scope(engine) as s:
        assert len(s.exec(select(PollVote)).all()) == 3
        assert s.get(Poll, poll_id).state == "open"
    lines = flows.run_due(deps, make_web_client(settings), later)
    assert lines == [f"the results of poll {poll_id}"]
    with session_scope(engine) as s:
        assert s.exec(select(PollVote)).all() == [] and s.exec(select(PollClick)).all() == []
        t = rules.tally(s, poll_id)
        assert ([t.counts[o.id] for o in t.options], t.voters) == ([2, 1], 3)
        assert t.poll.closed_at == t.poll.closes_at


def test_a_community_that_goes_takes_its_polls_votes_and_clicks(community, engine):
    with session_scope(engine) as s:
        draft, _ = rules.validate(rules.PollForm("When?", ["Now", "Later"]), datetime.now(UTC))
        [poll] = rules.create(s, [s.get(Community, community.id)], draft, "U1", key=b"k" * 32)
        poll_id = poll.id
    with session_scope(engine) as s:
        b = voting.ballot(s, poll_id)
    with session_scope(engine) as s:
        option = next(iter(b.labels))
        assert voting.vote(s, b, option, "U2", b"k" * 32, datetime.now(UTC), "c").outcome == "added"
        assert s.exec(select(PollClick)).all()
    with session_scope(engine) as s:
        s.execute(sa_delete(Community).where(Community.id == community.id))
    with session_scope(engine) as s:
        assert s.exec(select(PollVote)).all() == []
        assert s.exec(select(PollClick)).all() == []
        assert s.exec(select(Poll)).all() == []


def test_a_changed_secret_key_is_refused_not_a_second_vote(community, engine):
    old, new = b"o" * 32, b"n" * 32
    with session_scope(engine) as s:
        draft, _ = rules.validate(rules.PollForm("When?", ["Now", "Later"]), datetime.now(UTC))
        [poll] = rules.create(s, [s.get(Community, community.id)], draft, "U1", key=old)
        poll_id = poll.id
    with session_scope(engine) as s:
        b = voting.ballot(s, poll_id)
    now = datetime.now(UTC)
    first, second = list(b.labels)
    with session_scope(engine) as s:
        assert voting.vote(s, b, first, "U2", old, now).outcome == "added"
    with pytest.raises(rules.CopError, match="COPBOT_SECRET_KEY"), session_scope(engine) as s:
        voting.vote(s, b, second, "U2", new, now)
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 1
        assert voting.vote(s, b, second, "U2", old, now).outcome == "added"  # the key back
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 1


def test_the_upgrade_forgets_the_voters_of_anonymous_polls_closed_before_it(tmp_path):
    """Polls closed before this version keep their counts; the anonymous ones lose their
    voter keys, and remembered clicks of the old kind (keyed by user and button) go."""
    from sqlalchemy import text

    from storage import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0013")
    engine = db.get_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO community (id, team_id, slack_channel_id, name, name_key, mission,"
                " description, purpose_areas, created_by, created_at, calendar_token)"
                " VALUES (1, 'T1', 'C1', 'Old', 'old', '', '', '', 'U1', :now, 'tok')"
            ),
            {"now": now},
        )
        for pid, anonymous, state in ((1, True, "closed"), (2, False, "closed"), (3, True, "open")):
            conn.execute(
                text(
                    "INSERT INTO poll (id, community_id, group_key, question, multiple,"
                    " anonymous, live_results, members_add_options, state, results_state,"
                    " version, shown_version, created_by, created_at) VALUES (:id, 1, :g,"
                    " 'Q?', false, :anon, true, false, :state, 'posted', 0, 0, 'U1', :now)"
                ),
                {"id": pid, "g": f"g{pid}", "anon": anonymous, "state": state, "now": now},
            )
            for position, label in enumerate(("A", "B")):
                conn.execute(
                    text(
                        "INSERT INTO poll_option (id, poll_id, position, label, label_key)"
                        " VALUES (:id, :p, :pos, :l, :k)"
                    ),
                    {"id": pid * 10 + position, "p": pid, "pos": position, "l": label, "k": label},
                )
            for voter, position in (("v1", 0), ("v2", 0), ("v3", 1)):
                conn.execute(
                    text("INSERT INTO poll_vote (poll_id, option_id, voter) VALUES (:p, :o, :v)"),
                    {"p": pid, "o": pid * 10 + position, "v": f"{voter}-{pid}"},
                )
        conn.execute(
            text(
                "INSERT INTO handled_request (request_key, kind, received_at)"
                " VALUES ('k1', 'block_actions', :now), ('k2', 'view_submission', :now)"
            ),
            {"now": now},
        )
    db.upgrade(url)
    with session_scope(engine) as s:
        for pid, anonymous, state in ((1, True, "closed"), (2, False, "closed"), (3, True, "open")):
            t = rules.tally(s, pid, with_voters=True)
            assert ([t.counts[o.id] for o in t.options], t.voters) == ([2, 1], 3), pid
            left = s.exec(select(PollVote.voter).where(PollVote.poll_id == pid)).all()
            assert len(left) == (0 if anonymous and state == "closed" else 3), pid
        assert s.exec(select(HandledRequest.request_key)).all() == ["k2"]
    db.dispose_engines()


def test_vote_rows_keep_no_order_of_voting_on_sqlite(community, engine, db_url):
    """SQLite stores vote rows in their key's order (WITHOUT ROWID): read back without an
    ORDER BY, they come in the order of the voters' keys, not the order of voting."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps rows in the order written until the close (README)")
    with session_scope(engine) as s:
        draft, _ = rules.validate(rules.PollForm("When?", ["Now", "Later"]), datetime.now(UTC))
        [poll] = rules.create(s, [s.get(Community, community.id)], draft, "U1", key=b"k" * 32)
        poll_id = poll.id
    with session_scope(engine) as s:
        b = voting.ballot(s, poll_id)
    voters = [f"U{i:03d}" for i in range(30)]
    for uid in voters:
        with session_scope(engine) as s:
            voting.vote(s, b, next(iter(b.labels)), uid, b"k" * 32, datetime.now(UTC))
    keys = [voting.voter_of(b.poll, uid, b"k" * 32) for uid in voters]
    with engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT voter FROM poll_vote")]
        (sql,) = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'poll_vote'"
        ).one()
    assert "WITHOUT ROWID" in sql
    assert stored == sorted(keys) and stored != keys
