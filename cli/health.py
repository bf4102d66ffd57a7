"""``run``'s health, readiness, Prometheus metrics and status page, served on a local address.

Theory of operation
-------------------
* ``Health`` is told by the service's jobs what each connector did: a pass ended
  (``pass_done`` with its ``PassResult``), failed before it ended (``pass_error``: the
  helpdesk refused the credentials, an unexpected error), or was skipped because another
  process holds the connector's lease (``skipped``: that process does the work).
* ``/healthz``: 200 while the process answers. ``/readyz``: 200 when the state store
  answers and every connector's last job is recent (within ``STALE_INTERVALS`` of its
  ``interval_seconds``) and did not end in refused credentials or an unreachable
  helpdesk; 503 otherwise, with one line per reason. Before its first job a connector
  is "starting" (not ready).
* ``/metrics``: Prometheus text (``prometheus-client``, a registry of its own).
  Counters kept in memory since the start (passes by result, tickets decided by outcome,
  ticket failures, effects reconciled after a crash); gauges read from the state store at
  each scrape with grouped counts (``Store.counts``: journal effects by kind and state,
  active dead letters, pending and overdue timers), the cursor's lag behind now (datetime
  cursors) and the time of the last pass; and each connector's API use as its
  ``api_stats()`` reports it (calls, throttled answers, seconds waited, remaining quota).
  The table of every metric is in the README.
* ``/`` (and ``/status``): the read-only status page for people (``cli.status_page``):
  per connector the last pass, cursor lag, a backlog estimate, dead letters, pending SLA
  timers and the recent decisions with their explanation, PII masked. ``Health`` keeps
  what the store does not: the last ``RECENT_DECISIONS`` ticket reports and the last
  ``RECENT_PASSES`` passes of each connector (bounded, in memory, this process's own).
* Only GET and HEAD are answered (HEAD: the headers alone); nothing served changes state.
* ``serve`` runs a WSGI server in a daemon thread (``wsgiref``, one thread per request);
  the default address is 127.0.0.1: nothing is exposed beyond the host unless configured.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from engine.reports import TicketReport
from engine.store import StoreError
from sync.contract import DatetimeCursor

log = logging.getLogger("helpdesk_sync.health")

STALE_INTERVALS = 3
"""A connector whose last job is older than this many intervals is not ready."""
NOT_READY = frozenset({"auth", "unavailable"})
"""Last results that make a connector not ready (refused credentials, helpdesk down)."""
STORE_ERRORS = (SQLAlchemyError, StoreError)
"""What a state store that does not answer raises."""
RECENT_DECISIONS = 50
"""Ticket reports the status page keeps per connector (the newest)."""
RECENT_PASSES = 20
"""Passes kept per connector for the status page's rate and backlog estimate."""
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(slots=True)
class ConnectorState:
    """The last thing a connector's jobs did."""

    interval: float
    seen_at: datetime | None = None
    """The last job: a pass, or a skip because another process owns the connector."""
    pass_at: datetime | None = None
    result: str | None = None
    """ok | failed | unavailable | auth | error | elsewhere (another process owns it)."""
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class PassSample:
    """One job's outcome, kept for the status page (rate of decisions, backlog)."""

    ended_at: datetime
    result: str
    seen: int = 0
    decided: int = 0
    failed: int = 0
    """Tickets that failed and are retried on the next pass."""
    quarantined: int = 0
    listed_all: bool = False
    """The pass listed every change up to its end: not stopped, helpdesk reachable."""


@dataclass(frozen=True, slots=True)
class RecentDecision:
    """A ticket report and when its pass ended."""

    at: datetime
    report: TicketReport


@dataclass
class Health:
    """What ``run`` reports about itself; thread-safe."""

    store: Any
    intervals: Mapping[str, float]
    connectors: Mapping[str, Any] = field(default_factory=dict)
    """Connectors by name; those with ``api_stats()`` report their API use."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.states = {name: ConnectorState(every) for name, every in self.intervals.items()}
        self._recent: dict[str, deque[RecentDecision]] = {
            name: deque(maxlen=RECENT_DECISIONS) for name in self.intervals
        }
        self._passes: dict[str, deque[PassSample]] = {
            name: deque(maxlen=RECENT_PASSES) for name in self.intervals
        }
        labels = ["connector"]
        self.passes = Counter(
            "helpdesk_sync_passes",
            "Passes by result: ok, failed (some ticket failed), unavailable, auth, error.",
            [*labels, "result"],
            registry=self.registry,
        )
        self.tickets = Counter(
            "helpdesk_sync_tickets_decided",
            "Tickets decided, by outcome (complete, incomplete, unmapped, handled_by_rule).",
            [*labels, "outcome"],
            registry=self.registry,
        )
        self.failures = Counter(
            "helpdesk_sync_ticket_failures",
            "Tickets whose processing failed in a pass (retried; quarantined at the limit).",
            labels,
            registry=self.registry,
        )
        self.reconciled = Counter(
            "helpdesk_sync_effects_reconciled",
            "Effects found already written after a crash instead of being sent again.",
            labels,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(self))

    # ------------------------------------------------------------------ what jobs report

    def pass_done(self, name: str, result: Any) -> None:
        """A pass ended (its ``PassResult``)."""
        if result.unavailable:
            kind, detail = "unavailable", str(result.unavailable)
        elif result.internal_error:
            kind, detail = "error", str(result.internal_error)
        else:
            kind, detail = ("failed" if result.failed else "ok"), None
        self.passes.labels(name, kind).inc()
        for report in result.tickets:
            self.tickets.labels(name, report.outcome).inc()
        if result.failed:
            self.failures.labels(name).inc(result.failed)
        if result.reconciled:
            self.reconciled.labels(name).inc(result.reconciled)
        now = self._set(name, kind, detail, passed=True)
        listed_all = not (result.unavailable or result.internal_error or result.stopped)
        sample = PassSample(
            now, kind, result.seen, result.decided, result.failed, result.quarantined, listed_all
        )
        with self._lock:
            self._passes[name].append(sample)
            self._recent[name].extend(
                RecentDecision(now, r) for r in result.tickets[-RECENT_DECISIONS:]
            )

    def pass_error(self, name: str, kind: str, detail: str) -> None:
        """A pass that raised: ``auth`` (credentials refused) or ``error``."""
        self.passes.labels(name, kind).inc()
        now = self._set(name, kind, detail, passed=True)
        with self._lock:
            self._passes[name].append(PassSample(now, kind))

    def skipped(self, name: str) -> None:
        """Another process holds the connector's lease: it does the work."""
        self._set(name, "elsewhere", None, passed=False)

    def _set(self, name: str, kind: str, detail: str | None, *, passed: bool) -> datetime:
        now = self.clock()
        with self._lock:
            state = self.states[name]
            state.seen_at, state.result, state.detail = now, kind, detail
            if passed:
                state.pass_at = now
        return now

    # ------------------------------------------------------------------ status page

    def state_of(self, name: str) -> ConnectorState:
        """A copy of the connector's last state."""
        with self._lock:
            return ConnectorState(**vars_of(self.states[name]))

    def recent_decisions(self, name: str) -> list[RecentDecision]:
        """The connector's newest ticket reports, newest first."""
        with self._lock:
            return list(reversed(self._recent[name]))

    def recent_passes(self, name: str) -> list[PassSample]:
        """The connector's last jobs that ran a pass, oldest first."""
        with self._lock:
            return list(self._passes[name])

    # ------------------------------------------------------------------ readiness

    def readiness(self) -> list[str]:
        """Why the service is not ready; empty when it is."""
        problems: list[str] = []
        try:
            self.store.counts("")  # one cheap query: the store answers
        except STORE_ERRORS as exc:
            problems.append(f"state store: {type(exc).__name__}")
        now = self.clock()
        with self._lock:
            states = {name: ConnectorState(**vars_of(s)) for name, s in self.states.items()}
        for name, state in states.items():
            if state.seen_at is None:
                problems.append(f"{name}: starting (no pass yet)")
                continue
            age = (now - state.seen_at).total_seconds()
            if age > STALE_INTERVALS * state.interval:
                problems.append(
                    f"{name}: last pass {age:.0f} s ago (interval {state.interval:g} s)"
                )
            if state.result in NOT_READY:
                problems.append(f"{name}: {state.result}: {state.detail}")
        return problems

    # ------------------------------------------------------------------ HTTP

    def app(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application: /healthz, /readyz, /metrics, and the status page at / and
        /status. GET and HEAD only: nothing here changes anything."""
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            start_response(
                "405 Method Not Allowed",
                [("Content-Type", "text/plain"), ("Allow", "GET, HEAD"), ("Content-Length", "9")],
            )
            return [b"GET only\n"]
        status, body, ctype, extra = self._respond(path)
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body))), *extra]
        start_response(status, headers)
        return [] if method == "HEAD" else [body]

    def _respond(self, path: str) -> tuple[str, bytes, str, list[tuple[str, str]]]:
        """Status line, body, content type and further headers of a GET of ``path``."""
        if path == "/healthz":
            return "200 OK", b"ok\n", "text/plain", []
        if path == "/readyz":
            problems = self.readiness()
            body = json.dumps({"ready": not problems, "problems": problems}).encode() + b"\n"
            status = "200 OK" if not problems else "503 Service Unavailable"
            return status, body, "application/json", []
        if path == "/metrics":
            ctype = "text/plain; version=0.0.4; charset=utf-8"
            return "200 OK", generate_latest(self.registry), ctype, []
        if path in ("/", "/status"):
            from cli.status_page import PAGE_HEADERS, render_page

            body = render_page(self).encode("utf-8")
            return "200 OK", body, "text/html; charset=utf-8", list(PAGE_HEADERS)
        return "404 Not Found", b"not found\n", "text/plain", []


def vars_of(state: ConnectorState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in ConnectorState.__dataclass_fields__}


class _StoreCollector(Collector):
    """Gauges read from the state store at each scrape."""

    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        h = self.health
        effects = GaugeMetricFamily(
            "helpdesk_sync_effects",
            "Journal effects by action kind and state (confirmed = written).",
            labels=["connector", "kind", "state"],
        )
        letters = GaugeMetricFamily(
            "helpdesk_sync_dead_letters", "Quarantined tickets (active dead letters).",
            labels=["connector"],
        )  # fmt: skip
        pending = GaugeMetricFamily(
            "helpdesk_sync_timers_pending", "SLA timers waiting for their due time.",
            labels=["connector"],
        )  # fmt: skip
        overdue = GaugeMetricFamily(
            "helpdesk_sync_timers_overdue",
            "Pending SLA timers whose due time has passed (the timer check is behind).",
            labels=["connector"],
        )
        lag = GaugeMetricFamily(
            "helpdesk_sync_cursor_lag_seconds",
            "How far the connector's cursor is behind now (datetime cursors).",
            labels=["connector"],
        )
        last = GaugeMetricFamily(
            "helpdesk_sync_last_pass_timestamp_seconds",
            "When the connector's last pass ended (Unix time).",
            labels=["connector"],
        )
        now = h.clock()
        for name, state in list(h.states.items()):
            try:
                counts = h.store.counts(name)
                cursor = h.store.get_cursor(name)
            except STORE_ERRORS:  # the store is down: /readyz says so; no gauges this time
                log.warning("metrics: state store unavailable", extra={"event": "metrics.store"})
                break
            for (kind, st), n in sorted(counts.effects.items()):
                effects.add_metric([name, kind, st], n)
            letters.add_metric([name], counts.dead_letters)
            pending.add_metric([name], counts.timers_pending)
            overdue.add_metric([name], counts.timers_overdue)
            if cursor:
                try:
                    lag.add_metric([name], (now - DatetimeCursor.decode(cursor)).total_seconds())
                except ValueError:
                    pass  # not a datetime cursor: no lag in seconds to show
            if state.pass_at is not None:
                last.add_metric([name], state.pass_at.timestamp())
        yield from (effects, letters, pending, overdue, lag, last)
        yield from _api_metrics(h.connectors)


def _api_metrics(connectors: Mapping[str, Any]) -> Iterator[Any]:
    """Each connector's API use, as its ``api_stats()`` reports it (when it has one)."""
    calls = CounterMetricFamily(
        "helpdesk_sync_api_calls", "Requests sent to the helpdesk API, retries included.",
        labels=["connector"],
    )  # fmt: skip
    throttled = CounterMetricFamily(
        "helpdesk_sync_api_throttled",
        "Answers that said not now: 429s, Movidesk's lockout, Salesforce's request limit.",
        labels=["connector"],
    )
    waited = CounterMetricFamily(
        "helpdesk_sync_api_wait_seconds",
        "Seconds spent waiting for the helpdesk's rate limits and before retries.",
        labels=["connector"],
    )
    remaining = GaugeMetricFamily(
        "helpdesk_sync_api_remaining",
        "API budget the helpdesk last reported left (per minute or per day, as it counts).",
        labels=["connector"],
    )
    for name, connector in connectors.items():
        stats = getattr(connector, "api_stats", None)
        if stats is None:
            continue
        found = stats()
        calls.add_metric([name], found.get("calls", 0))
        if "throttled" in found:
            throttled.add_metric([name], found["throttled"])
        if "waited_seconds" in found:
            waited.add_metric([name], found["waited_seconds"])
        if "remaining" in found:
            remaining.add_metric([name], found["remaining"])
    yield from (calls, throttled, waited, remaining)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds are not news."""


@dataclass
class RunningHealth:
    """The health server in its thread; ``stop()`` shuts it down."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``127.0.0.1:9464``; port 0 picks a free one)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"health_address must be HOST:PORT, got {address!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def serve(health: Health, address: str) -> RunningHealth:
    """Start the health server on ``address``; it runs until ``stop()``."""
    host, port = parse_address(address)
    server = make_server(
        host, port, health.app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="health", daemon=True)
    thread.start()
    running = RunningHealth(server, thread)
    log.info(
        "health on http://%s",
        running.address,
        extra={"event": "health.started", "address": running.address},
    )
    return running


__all__ = [
    "RECENT_DECISIONS",
    "RECENT_PASSES",
    "STALE_INTERVALS",
    "Health",
    "PassSample",
    "RecentDecision",
    "RunningHealth",
    "parse_address",
    "serve",
]
