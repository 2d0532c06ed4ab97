"""Prometheus metrics, served by `copbot serve` at `GET /metrics`.

Every process records into `prometheus-client`'s metrics; under gunicorn's workers
`copbot serve` points `PROMETHEUS_MULTIPROC_DIR` at a directory of its own before any
worker starts, so `/metrics` adds up every worker (the client's multiprocess mode).
prometheus-client is imported on first use, after that variable is set: a process
records nothing until something happens, and importing this module costs nothing.

The recorders below are the only way copbot touches the metrics; each is one call at
the place the thing happens. No label carries a person, a poll or any text.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from typing import Any

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)
PASS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

log = logging.getLogger(__name__)

_lock = threading.Lock()
_metrics: dict[str, Any] | None = None


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def _build() -> dict[str, Any]:
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "requests": Counter(
            "copbot_requests", "Slack requests answered, by kind and outcome", ["kind", "outcome"]
        ),
        "ack": Histogram(
            "copbot_ack_seconds",
            "Time from a Slack request's arrival to its answer",
            ["kind"],
            buckets=ACK_BUCKETS,
        ),
        "queue": Gauge(
            "copbot_background_queue",
            "Work handed to a background pool and not yet finished",
            ["pool"],
            multiprocess_mode="livesum",
        ),
        "passes": Counter("copbot_scheduler_passes", "Scheduler passes, by result", ["result"]),
        "pass_seconds": Histogram(
            "copbot_scheduler_pass_seconds", "Duration of scheduler passes", buckets=PASS_BUCKETS
        ),
        "reminders": Counter("copbot_reminders", "Reminders and nudges, by result", ["result"]),
        "copies": Counter(
            "copbot_announcement_copies", "Announcement copies posted, by result", ["result"]
        ),
        "votes": Counter("copbot_votes", "Votes recorded in polls (cast or changed)"),
        "slack_429": Counter(
            "copbot_slack_rate_limited", "Slack Web API answers of HTTP 429, by method", ["method"]
        ),
        "zoom_errors": Counter(
            "copbot_zoom_errors",
            "Zoom API errors, by HTTP status and Zoom code",
            ["status", "code"],
        ),
        "lease": Gauge(
            "copbot_scheduler_lease_held",
            "1 while this process holds the scheduler's lease",
            multiprocess_mode="liveall",
        ),
    }


def _m() -> dict[str, Any]:
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = _build()
    return _metrics


# ---- recorders ------------------------------------------------------------------------
_failed_once = False


def _safe(record: Callable[..., None]) -> Callable[..., None]:
    """A recorder that never fails what it measures: a metrics error (a missing
    multiprocess directory, a full disk) is logged once and the request, vote or pass
    goes on."""

    @functools.wraps(record)
    def safe(*args: Any, **kwargs: Any) -> None:
        global _failed_once
        try:
            record(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - metrics are never worth a failed request
            if not _failed_once:
                _failed_once = True
                log.warning("metrics not recorded: %s: %s", type(e).__name__, e)

    return safe


@_safe
def request_done(kind: str, outcome: str, seconds: float) -> None:
    m = _m()
    m["requests"].labels(kind, outcome).inc()
    m["ack"].labels(kind).observe(seconds)


@_safe
def queue_depth(pool: str, depth: int) -> None:
    _m()["queue"].labels(pool).set(depth)


@_safe
def scheduler_pass(result: str, seconds: float | None = None) -> None:
    m = _m()
    m["passes"].labels(result).inc()
    if seconds is not None:
        m["pass_seconds"].observe(seconds)


@_safe
def reminders(result: str, count: int = 1) -> None:
    if count:
        _m()["reminders"].labels(result).inc(count)


@_safe
def announcement_copy(result: str) -> None:
    _m()["copies"].labels(result).inc()


@_safe
def vote() -> None:
    _m()["votes"].inc()


@_safe
def slack_rate_limited(method: str) -> None:
    _m()["slack_429"].labels(method or "unknown").inc()


@_safe
def zoom_error(status: int, code: int | None) -> None:
    _m()["zoom_errors"].labels(str(status), str(code) if code is not None else "").inc()


@_safe
def lease_held(held: bool) -> None:
    _m()["lease"].set(1 if held else 0)


# ---- the scrape -----------------------------------------------------------------------
def render(extra: Iterable[Callable[[], Iterable[Any]]] = ()) -> bytes:
    """The Prometheus text of every metric (all workers' in multiprocess mode), plus the
    families `extra` collectors yield at scrape time (e.g. after-call jobs by state)."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    _m()
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if extra:
        scrape = CollectorRegistry()
        for collect in extra:
            scrape.register(_Collector(collect))
        body += generate_latest(scrape)
    return body


class _Collector:
    def __init__(self, collect: Callable[[], Iterable[Any]]):
        self._collect = collect

    def collect(self) -> Iterable[Any]:
        return self._collect()


def gauge_family(name: str, documentation: str, label: str, values: dict[str, float]) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def prepare_multiprocess_dir(path: str | None = None) -> str:
    """Before gunicorn forks: an empty directory for the workers' metric files, as
    prometheus-client asks (an earlier run's files would be added in). `path` is
    PROMETHEUS_MULTIPROC_DIR if set, else a new temporary directory, removed at exit."""
    import atexit
    import tempfile

    if path is None:
        path = tempfile.mkdtemp(prefix="copbot-metrics-")
        atexit.register(shutil.rmtree, path, True)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit: a dead worker's live gauges stop counting."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)
