"""What a hostile or unlucky workspace tried against the service side, held: statement
values never reach an error's text, metrics never fail a request, a database that
accepts and never answers fails readiness in seconds, votes are checked against the
poll's own community, a poll opened before keys were checked cannot take a second vote
under a new key, ids are ASCII digits an id column can hold, error reports name no
response_url, upgrades refuse a database with broken references before changing it,
and a closed anonymous poll's voters are not left in SQLite's files."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.blocks import polls as pb
from bot.ops import logs, metrics
from bot.ops.error_reports import scrub
from bot.services import communities as svc
from bot.services import poll_voting as voting
from bot.services import polls as rules
from bot.services.ids import MAX_ID, object_id, whole_number
from storage import db
from storage.db import session_scope
from storage.models import Community, Poll, PollVote
from tests.helpers.endpoint import make_settings, serve
from tests.helpers.polls import click_payload
from tests.helpers.records import new_community
from tests.helpers.slack import ack_text

CHANNEL = "CCOMM001"


@pytest.fixture
def community(session):
    c = new_community(session, team="T0STANDIN", channel=CHANNEL, name="Survivorship", leader="U1")
    svc.join(session, c, "U2")
    session.commit()
    return c


def anonymous_poll(engine, community_id: int, key: bytes | None) -> tuple[int, list[int]]:
    draft = rules.PollDraft(
        question="Is your tumour board working?",
        options=("Yes", "No"),
        multiple=False,
        max_choices=None,
        anonymous=True,
        live_results=False,
        members_add_options=False,
        closes_at=None,
    )
    with session_scope(engine) as s:
        [poll] = rules.create(s, [s.get(Community, community_id)], draft, "U1", key=key)
        b = voting.ballot(s, poll.id)
        return poll.id, sorted(b.labels)


# ---- values never in an error's text --------------------------------------------------------
def test_a_failing_statement_s_error_names_no_value(engine, session, community):
    secret = "My tumour board is failing, ask Dr Smith"
    with pytest.raises(IntegrityError) as failed, session_scope(engine) as s:
        s.add(Community(**{**community.model_dump(exclude={"id"}), "mission": secret}))
    assert "[SQL parameters hidden" in str(failed.value)
    record = logging.LogRecord(
        "copbot", logging.ERROR, __file__, 1, "failed", None, (IntegrityError, failed.value, None)
    )
    for formatter in (logs.TextFormatter(), logs.JsonFormatter()):
        line = formatter.format(record)
        assert "IntegrityError" in line  # the error is there, named
        assert secret not in line and "CCOMM001" not in line  # its values are not


# ---- metrics never fail what they measure -----------------------------------------------------
def test_a_broken_metrics_store_fails_no_request_and_no_vote(
    community, as_user, engine, monkeypatch, caplog
):
    def broken():
        raise FileNotFoundError("/gone/counter_1.db")

    monkeypatch.setattr(metrics, "_m", broken)
    monkeypatch.setattr(metrics, "_failed_once", False)
    user = as_user("U1", CHANNEL)
    assert "calls" in ack_text(user.reply("help"))  # answered, not 400
    poll_id, options = anonymous_poll(engine, community.id, None)
    answer = user.interact(click_payload(user, pb.VOTE_ACTION, f"{poll_id}:{options[0]}"))
    assert answer.status_code == 200
    user.settle()
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 1  # the vote counted
    warned = [r for r in caplog.records if r.getMessage().startswith("metrics not recorded")]
    assert len(warned) == 1  # said once, not on every request


# ---- a database that never answers ------------------------------------------------------------
@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_readyz_answers_503_in_seconds_when_the_database_never_answers(
    silent_server, slack_session
):
    url = f"postgresql://postgres@127.0.0.1:{silent_server}/silent"
    gen = serve(make_settings(url, slack_session.url))
    base = next(gen)
    try:
        started = time.monotonic()
        answer = requests.get(f"{base}/readyz", timeout=60)
        waited = time.monotonic() - started
        assert answer.status_code == 503 and answer.json()["ready"] is False
        assert answer.json()["database"].startswith("unreachable")
        # bounded by the connect timeout (5 s), not by the client giving up at 60 s
        assert waited < 60, waited
    finally:
        gen.close()
        db.dispose_engines()


# ---- votes checked against the poll's own community --------------------------------------------
def test_a_vote_from_another_workspace_s_dm_is_refused_and_not_counted(
    community, as_user, engine, slack
):
    poll_id, options = anonymous_poll(engine, community.id, None)
    outsider = as_user("UOUTSIDER", "DSOMEDM")
    payload = click_payload(outsider, pb.VOTE_ACTION, f"{poll_id}:{options[0]}")
    payload["team"] = {"id": "TOTHERORG"}
    payload["channel"] = {"id": "DSOMEDM"}
    payload["container"]["channel_id"] = "DSOMEDM"
    assert outsider.interact(payload).status_code == 200
    outsider.settle()
    answers = [ack_text(c.args) for c in slack.calls_to("response_url")]
    assert any("not one you can see from here" in a for a in answers), answers
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 0
    # the same click from the poll's own channel counts: the refusal was about where
    member = as_user("U2", CHANNEL)
    member.interact(click_payload(member, pb.VOTE_ACTION, f"{poll_id}:{options[0]}"))
    member.settle()
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 1


# ---- a poll opened before key checks ------------------------------------------------------------
def test_a_poll_without_a_key_check_is_pinned_to_its_next_vote_s_key(engine, session, community):
    poll_id, options = anonymous_poll(engine, community.id, b"key A")
    with session_scope(engine) as s:  # as migration 0014 leaves a poll open at the upgrade
        s.execute(text("UPDATE poll SET key_check = NULL WHERE id = :p"), {"p": poll_id})
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        b = voting.ballot(s, poll_id)
        assert voting.vote(s, b, options[0], "U2", b"key A", now).outcome == "added"
    with session_scope(engine) as s:
        assert s.get(Poll, poll_id).key_check == rules.key_check(b"key A")
        b = voting.ballot(s, poll_id)
        with pytest.raises(rules.CopError, match="secret key"):
            voting.vote(s, b, options[1], "U2", b"key B", now)  # not a second vote
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 1


# ---- ids --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        ("12", 12),
        (" 7 ", 7),
        ("²", None),
        ("٣", None),
        ("0", None),
        ("-3", None),
        ("1e3", None),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),  # past PostgreSQL's INTEGER: names nothing
        ("9" * 40, None),
        (None, None),
        (["1"], None),
    ],
)
def test_an_id_is_ascii_digits_an_id_column_holds(value, expected):
    assert object_id(value) == expected


def test_whole_numbers_are_ascii_digits_only():
    assert whole_number("2027", max_digits=4) == 2027
    assert whole_number("²²²²", max_digits=4) is None
    assert whole_number("12345", max_digits=4) is None


@pytest.mark.parametrize("text_", ["evidence remove ²", "year ²²²²", "evidence remove 2147483648"])
def test_odd_digits_typed_get_a_clear_answer_not_an_apology(community, as_user, text_):
    body = as_user("U1", CHANNEL).reply(text_)
    assert not body["text"].startswith("Something went wrong"), body["text"]


# ---- error reports ----------------------------------------------------------------------
def test_error_reports_keep_a_breadcrumb_s_host_not_its_path():
    hook = "https://hooks.slack.com/actions/T0001/1234/Xq9secretpart"
    event = {
        "breadcrumbs": {
            "values": [{"type": "http", "data": {"url": hook, "method": "POST", "http.query": "a"}}]
        }
    }
    [crumb] = scrub(event)["breadcrumbs"]["values"]
    assert crumb["data"] == {"url": "https://hooks.slack.com/…", "method": "POST"}


# ---- upgrades ------------------------------------------------------------------------------------
def test_an_upgrade_refuses_broken_references_before_changing_anything(tmp_path):
    url = f"sqlite:///{tmp_path / 'orphans.db'}"
    db.upgrade(url, "0013")
    engine = db.get_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        conn.execute(
            text("INSERT INTO poll_vote (poll_id, option_id, voter) VALUES (999, 999, 'x')")
        )
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()
    with pytest.raises(Exception, match="nothing was changed"):
        db.upgrade(url)
    assert db.schema_status(url)[0] == "0013"


# ---- forgetting on disk -----------------------------------------------------------------
def test_a_closed_anonymous_poll_leaves_no_voter_key_in_sqlite_s_files(
    tmp_path, slack_session, monkeypatch
):
    from bot.deps import Deps
    from bot.flows import polls as flows
    from bot.services import poll_closing as closing

    path = tmp_path / "copbot.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.get_engine(url)
    with session_scope(engine) as s:
        c = new_community(s, team="T0STANDIN", channel=CHANNEL, name="Tumour boards")
        community_id = c.id
    key = b"the server's secret"
    poll_id, options = anonymous_poll(engine, community_id, key)
    now = datetime.now(UTC)
    voters = []
    for user in ("U2", "U3", "U4"):
        with session_scope(engine) as s:
            b = voting.ballot(s, poll_id)
            assert voting.vote(s, b, options[0], user, key, now).outcome == "added"
            voters.append(voting.voter_of(b.poll, user, key))
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT voter FROM poll_vote")).all()]
    assert sorted(stored) == sorted(voters)  # what is searched for was there, in this form
    with session_scope(engine) as s:
        assert closing.close(s, poll_id, now)
    flows.forget_on_disk(Deps(settings=make_settings(url, slack_session.url), engine=engine))
    files = [p for p in tmp_path.iterdir() if p.name.startswith("copbot.db")]
    assert path in files
    for f in files:
        data = f.read_bytes()
        for voter in voters:
            assert voter.encode() not in data, f.name
    with session_scope(engine) as s:
        assert rules.tally(s, poll_id).voters == 3  # the counts were kept
        assert s.exec(db_select(PollVote)).all() == []
    db.dispose_engines()


def db_select(model):
    from sqlmodel import select

    return select(model)
