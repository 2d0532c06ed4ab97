"""Running copbot as a service: JSON logs with a request id, /readyz, /metrics, error
reports without personal data, refusing a database newer than the code, backups."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import sqlite3
import subprocess
import time

import pytest
import requests
from sqlalchemy import text

from bot.cli import main
from bot.deps import Background
from bot.ops import logs
from bot.ops.backup import pg_dump_command
from bot.scheduler import tick
from bot.server import make_wsgi_app
from bot.services import communities as svc
from sandbox import slack_payloads as payloads
from storage import db
from storage.db import session_scope
from tests.helpers.endpoint import SECRET, free_port, make_settings, serve, serve_command, serve_env
from tests.helpers.records import new_community

CHANNEL = "CCOMM001"


@pytest.fixture
def json_lines():
    """Every log line of the test as parsed JSON objects (root handler, JSON format)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def read() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def community(session):
    c = new_community(session, team="T0STANDIN", channel=CHANNEL, name="Survivorship", leader="U1")
    svc.join(session, c, "U2")
    session.commit()
    return c


# ---- logs -------------------------------------------------------------------------------
def test_each_request_logs_one_json_line_with_its_id_kind_outcome_and_ms(
    community, as_user, json_lines
):
    user = as_user("U1", CHANNEL)
    before = time.time()
    body = user.reply("calls")
    assert body["response_type"] == "ephemeral"
    user.settle()
    lines = [line for line in json_lines() if line["logger"] == "copbot.requests"]
    assert len(lines) == 1
    [line] = lines
    stamp, _, short = line["request_id"].partition("-")
    assert abs(int(stamp) - before) < 5 and re.fullmatch(r"[0-9a-f]{6}", short)
    assert line["kind"] == "command" and line["outcome"] == "ok" and line["level"] == "INFO"
    assert isinstance(line["ms"], int) and line["ms"] >= 0
    assert line["community"] == community.id
    assert line["time"].endswith("+00:00")


def test_two_requests_get_different_ids_and_after_ack_work_keeps_its_request_s(json_lines):
    pool = Background(2, "test-pool")
    seen = []

    def later():
        logging.getLogger("copbot.test").warning("after the ack")
        seen.append(logs.current()["request_id"])

    with logs.request_scope("action") as first:
        pool.submit(later)
    with logs.request_scope("action") as second:
        pool.submit(later)
    assert pool.wait_idle(5)
    assert first["request_id"] != second["request_id"]
    assert sorted(seen) == sorted([first["request_id"], second["request_id"]])
    lines = [line for line in json_lines() if line["logger"] == "copbot.test"]
    assert sorted(line["request_id"] for line in lines) == sorted(seen)
    assert {line["kind"] for line in lines} == {"action"}


def test_a_failing_job_is_logged_with_the_request_that_handed_it_over(json_lines):
    pool = Background(1, "test-pool")

    def broken():
        raise RuntimeError("boom")

    with logs.request_scope("view") as request:
        future = pool.submit(broken)
    assert pool.wait_idle(5)
    assert isinstance(future.exception(), RuntimeError)
    [line] = [line for line in json_lines() if line["message"] == "background work failed"]
    assert line["request_id"] == request["request_id"] and line["level"] == "ERROR"
    assert line["error"] == "RuntimeError" and "boom" in line["traceback"]


def test_tokens_and_emails_never_reach_a_line(json_lines):
    log = logging.getLogger("copbot.test")
    log.warning("token %s for %s", "xoxb-123-456-abcdef", "ada@example.org")
    log.warning("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig")
    lines = [line["message"] for line in json_lines() if line["logger"] == "copbot.test"]
    assert lines == ["token [token] for [email]", "Authorization: [token]"]
    text = logs.TextFormatter().format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "app xapp-1-A0-9 x", None, None)
    )
    assert "xapp-" not in text and "[token]" in text


def test_a_scheduler_pass_is_a_request_of_its_own(deps, settings, slack, json_lines):
    from bot.slack_client import make_web_client
    from storage.models import utcnow

    logging.getLogger("bot.scheduler").setLevel(logging.DEBUG)
    try:
        result = tick(deps, make_web_client(settings), utcnow())
    finally:
        logging.getLogger("bot.scheduler").setLevel(logging.NOTSET)
    assert result.owner
    [line] = [line for line in json_lines() if line["message"].startswith("scheduler pass")]
    assert line["kind"] == "scheduler" and re.fullmatch(r"\d+-[0-9a-f]{6}", line["request_id"])


def test_log_format_setting_is_checked():
    from bot.config import ConfigError, Settings

    assert Settings.from_mapping({"COPBOT_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="COPBOT_LOG_FORMAT"):
        Settings.from_mapping({"COPBOT_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="SENTRY_DSN") as refused:
        Settings.from_mapping({"SENTRY_DSN": "abc123@sentry"})
    assert "abc123" not in str(refused.value)


# ---- readiness ----------------------------------------------------------------------------
def test_readyz_is_200_when_the_database_answers_at_the_newest_schema(endpoint):
    answer = requests.get(f"{endpoint}/readyz", timeout=10)
    assert answer.status_code == 200 and answer.json() == {"ready": True, "database": "ok"}


def test_readyz_is_503_with_the_database_stopped_while_healthz_is_alive(slack_session):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"  # nothing listens there
    settings = make_settings(url, slack_session.url)
    gen = serve(settings)
    base = next(gen)
    try:
        answer = requests.get(f"{base}/readyz", timeout=30)
        assert answer.status_code == 503
        assert answer.json()["ready"] is False
        assert answer.json()["database"].startswith("unreachable")
        # /healthz says the process is alive (and the database, separately, is not)
        assert requests.get(f"{base}/healthz", timeout=30).json()["database"] == "unreachable"
    finally:
        gen.close()


def test_readyz_is_503_on_a_database_behind_the_code(tmp_path, slack_session):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db.upgrade(url, "0012")
    app = make_wsgi_app(make_settings(url, slack_session.url))
    status = []
    body = b"".join(
        app({"PATH_INFO": "/readyz", "REQUEST_METHOD": "GET"}, lambda s, h: status.append(s))
    )
    assert status == ["503 Service Unavailable"]
    reason = json.loads(body)["database"]
    assert "0012" in reason and "copbot db upgrade" in reason


# ---- metrics --------------------------------------------------------------------------------
def scrape(base: str) -> dict[str, float]:
    answer = requests.get(f"{base}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    values = {}
    for line in answer.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_count_a_vote_a_request_and_a_reminder(
    community, as_user, endpoint, deps, settings, slack, session, engine
):
    from bot.blocks import polls as pb
    from bot.slack_client import make_web_client
    from storage.models import Poll, PollOption
    from tests.helpers.calls import make_call, week_before
    from tests.helpers.polls import vote

    before = scrape(endpoint)
    leader = as_user("U1", CHANNEL)
    leader.reply('poll "Lunch?" "Pizza" "Tacos"')
    leader.settle()
    with session_scope(engine) as s:
        poll = s.exec(db_select(Poll)).one()
        option = s.exec(db_select(PollOption).where(PollOption.poll_id == poll.id)).first()
    vote(as_user("U2", CHANNEL), poll.id, option.id)
    leader.settle()
    call = make_call(session, community)
    result = tick(deps, make_web_client(settings), week_before(call))
    assert len(result.sent) == 1
    after = scrape(endpoint)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew("copbot_votes_total") == 1
    assert grew('copbot_reminders_total{result="sent"}') == 1
    assert grew('copbot_requests_total{kind="command",outcome="ok"}') == 1
    assert grew('copbot_requests_total{kind="action",outcome="ok"}') == 1
    assert grew('copbot_ack_seconds_count{kind="action"}') == 1
    assert grew('copbot_scheduler_passes_total{result="ran"}') == 1
    assert 'copbot_background_queue{pool="copbot-later"}' in after
    assert pb.VOTE_ACTION  # the vote went through the poll's own button


def db_select(model):
    from sqlmodel import select

    return select(model)


def test_metrics_show_after_call_jobs_by_state(endpoint, session, community):
    from storage.models import AfterCallJob

    before = scrape(endpoint).get('copbot_after_call_jobs{state="pending"}', 0)
    assert before == 0
    from tests.helpers.calls import make_call

    call = make_call(session, community)
    session.add(AfterCallJob(call_id=call.id, kind="attendance", due_at=call.start_at))
    session.commit()
    assert scrape(endpoint)['copbot_after_call_jobs{state="pending"}'] == 1


def test_slack_429s_are_counted_by_method(settings, slack):
    from bot.ops import metrics
    from bot.slack_client import make_web_client

    metrics.render()
    from prometheus_client import REGISTRY

    def value() -> float:
        return (
            REGISTRY.get_sample_value(
                "copbot_slack_rate_limited_total", {"method": "chat.postMessage"}
            )
            or 0.0
        )

    before = value()
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, times=1)
    make_web_client(settings).chat_postMessage(channel=CHANNEL, text="hello")
    assert value() - before == 1
    assert len(slack.calls_to("chat.postMessage")) == 2  # the retry went out after the 429


# ---- error reports ---------------------------------------------------------------------------
def test_unexpected_errors_reach_sentry_with_the_request_id_and_no_person(
    community, as_user, monkeypatch
):
    sentry_sdk = pytest.importorskip("sentry_sdk")
    from sentry_sdk.transport import Transport

    from bot.listeners import commands
    from bot.ops.error_reports import start_sentry

    events: list[dict] = []

    class Captured(Transport):
        def capture_envelope(self, envelope):
            for item in envelope.items:
                if item.type == "event":
                    events.append(item.payload.json)

    settings = make_settings(
        "sqlite://", "http://127.0.0.1:9/", SENTRY_DSN="https://k@o1.ingest.example/1"
    )
    start_sentry(settings, transport=Captured)
    try:

        def broken(*_a, **_k):
            raise RuntimeError("cannot list calls for ada@example.org")

        monkeypatch.setitem(commands.HANDLERS, "calls", broken)
        user = as_user("U1", CHANNEL)
        body = user.reply("calls")
        assert body["text"].startswith("Something went wrong")
        sentry_sdk.flush()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: reporting off again
    assert len(events) == 1
    [event] = events
    assert re.fullmatch(r"\d+-[0-9a-f]{6}", event["tags"]["request_id"])
    assert event["tags"]["kind"] == "command"
    for exception in event["exception"]["values"]:  # the source code around each frame
        for frame in exception["stacktrace"]["frames"]:
            assert "vars" not in frame
            for code in ("pre_context", "context_line", "post_context"):
                frame.pop(code, None)
    raw = json.dumps(event)
    assert "U1" not in raw and "ada@example.org" not in raw and "[email]" in raw
    assert "user" not in event and "request" not in event


# ---- upgrades and backups ------------------------------------------------------------------
def test_db_upgrade_refuses_a_database_newer_than_the_code(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    db.upgrade(url)
    with db.get_engine(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "0099_from_the_future" in err and "newer than this copbot" in err
    with db.get_engine(url).connect() as conn:  # nothing was changed
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "0099_from_the_future"
        )


def test_backup_of_sqlite_restores_and_serves(tmp_path, capsys, monkeypatch, slack_session):
    url = f"sqlite:///{tmp_path / 'copbot.db'}"
    db.upgrade(url)
    with session_scope(db.get_engine(url)) as s:
        new_community(s, team="T0STANDIN", channel="CBACKUP1", name="Rural Care", leader="U1")
    monkeypatch.setenv("DATABASE_URL", url)
    target = tmp_path / "backup.db"
    assert main(["db", "backup", str(target)]) == 0
    assert "backed up" in capsys.readouterr().out
    assert main(["db", "backup", str(target)]) == 1  # never overwrites
    assert "exists already" in capsys.readouterr().err

    # restore: the backup file becomes the database copbot serves from
    restored = tmp_path / "restored.db"
    restored.write_bytes(target.read_bytes())
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    settings = make_settings(f"sqlite:///{restored}", slack_session.url)
    gen = serve(settings)
    base = next(gen)
    try:
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        body = payloads.slash_command("calls", user_id="U1", channel_id="CBACKUP1")
        answer = requests.post(
            f"{base}/slack/events",
            data=body.encode(),
            headers=payloads.signed_headers(SECRET, body),
            timeout=10,
        )
        assert answer.status_code == 200
        assert "Rural Care" in answer.text  # the restored community answers its channel
    finally:
        gen.close()


def test_backup_of_postgresql_prints_the_pg_dump_command(capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://copbot:s3cret@db.internal:5433/copbot")
    assert main(["db", "backup", "/tmp/x.dump"]) == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom --file=/tmp/x.dump" in err
    assert "postgresql://copbot@db.internal:5433/copbot" in err and "s3cret" not in err
    assert pg_dump_command("postgresql+psycopg://a:b@h/d", "f") == (
        "pg_dump --format=custom --file=f postgresql://a@h/d"
    )


# ---- copbot serve with several workers -------------------------------------------------------
def test_serve_logs_json_and_adds_up_every_worker_s_metrics(db_url, slack, session, tmp_path):
    port = free_port()
    env = serve_env(db_url, slack.url, COPBOT_LOG_FORMAT="json")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        serve_command(port, 2, 2, "--no-scheduler"),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        time.sleep(1.0)  # the second worker boots
        stamps = []
        for _ in range(6):
            body = payloads.slash_command("help", user_id="U9", channel_id="CNONE")
            headers = payloads.signed_headers(SECRET, body)
            stamps.append(headers["X-Slack-Request-Timestamp"])
            answer = requests.post(
                f"{base}/slack/events", data=body.encode(), headers=headers, timeout=10
            )
            assert answer.status_code == 200
        counted = 0.0
        deadline = time.monotonic() + 10
        while counted < 6 and time.monotonic() < deadline:
            values = scrape(base)
            counted = values.get('copbot_requests_total{kind="command",outcome="ok"}', 0)
        assert counted == 6  # both workers' counts, added up
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=20)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    requests_logged = [line for line in lines if line["logger"] == "copbot.requests"]
    assert len(requests_logged) == 6
    assert {line["request_id"].split("-")[0] for line in requests_logged} <= set(stamps)
    assert len({line["request_id"] for line in requests_logged}) == 6
    assert "xoxb-serve-test" not in out
