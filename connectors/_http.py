"""HTTP plumbing shared by the connectors: timeouts, retries, rate budget, error mapping.

Theory of operation
-------------------
* ``HttpClient.request`` is the only way a connector talks to a helpdesk. Every call has a
  (connect, read) timeout and the ``helpdesk-sync/<version>`` User-Agent.
* Retries (tenacity): 429, 5xx, timeouts and connection errors back off exponentially with
  jitter (``Retry-After`` wins when the server sends it, clamped to a maximum), up to
  ``RetryPolicy.attempts`` attempts and ``RetryPolicy.max_total_wait`` seconds of sleeping.
  A 429 does not use up an attempt: a storm of them is waited out, each ``Retry-After``
  honoured, until ``max_total_wait`` (300 s by default) or ``throttled_attempts``.
  Other 4xx are never retried: the same request would fail the same way.
* Writes are special. A POST that timed out (or got a 502 from a proxy) may have been
  processed by the helpdesk even though no answer came back; sending it again would create a
  second note or ticket, because no helpdesk API here offers an idempotency key. So POST/PUT
  are retried on ambiguous failures only when the caller passes ``retry_writes=True``, which
  a connector does for writes that are idempotent by nature (a PUT of absolute field
  values). Two failures are unambiguous and always retried: a 429 (the server refused the
  call before doing anything) and a connect timeout (the request never left). Anything else
  surfaces as ``RetriableError``; the engine then finds the write again by its key marker
  (``Connector.find_applied``) before writing it a second time.
* ``RateBudget`` reads the rate headers of every response and, before each call, sleeps
  until the window resets when the remaining quota is at or below a reserve, so a steady
  run produces no 429 at all. ``SubLimits`` paces the per-endpoint quotas no header
  reports (configured per plan), with a sliding log of send times per endpoint.
* Errors map through one status table to the connector error tree, carrying helpdesk,
  ticket id, status, ``X-Request-Id`` and the API's own message. Never the request body,
  never credentials, never comment text; URLs appear as method + path, without query.

Why this module is long: it is the whole HTTP policy of every connector (timeouts,
retries, which writes may be repeated, the rate budget, sub-limit pacing, status-to-error
mapping), and its parts only make sense together inside ``HttpClient.request``'s one loop:
pace, send, read the rate headers, classify, wait. The theory of operation above spans all
of them; split, each module would hold part of one policy, and the write-safety rules
would no longer sit next to the code that enforces them.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception

from sync.contract import AuthError, ConnectorError, FatalError, RetriableError

log = logging.getLogger("helpdesk_sync.http")

try:
    _VERSION = metadata.version("helpdesk-sync")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    _VERSION = "0.1.0"

USER_AGENT = f"helpdesk-sync/{_VERSION}"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_MESSAGE = 500
"""API messages are cut here so an error line stays one readable line."""

Sleep = Callable[[float], None]
Clock = Callable[[], float]
Jitter = Callable[[float], float]


def default_jitter(delay: float) -> float:
    """Extra seconds added to a backoff delay, up to half of it (spreads retry storms)."""
    return random.uniform(0.0, delay / 2)  # noqa: S311 - jitter, not security


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one call is retried before the error goes to the engine."""

    attempts: int = 5
    """Total attempts, the first included, counting failures other than 429."""
    throttled_attempts: int = 60
    """429 answers one call may get before it gives up: a storm of them is waited out
    (each ``Retry-After`` honoured), bounded by this and ``max_total_wait``."""
    backoff_base: float = 1.0
    """First backoff delay in seconds; doubles per attempt."""
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    """``Retry-After`` values above this are clamped to it."""
    max_total_wait: float = 300.0
    """Seconds of sleeping across all retries of one call; past it the call gives up."""


# ---------------------------------------------------------------------------------------
# rate budget
# ---------------------------------------------------------------------------------------


class RateBudget:
    """Paces calls by the helpdesk's rate headers so steady state never meets a 429.

    The quota is a fixed window (Freshdesk: per minute, account-wide). The budget does not
    know where the server's window starts, so it takes the start of the first call it sees
    in a window; that is never earlier than the server's start, hence waiting until
    ``start + window`` never resumes too early. A remaining count that goes up also means
    the server opened a new window.
    """

    def __init__(
        self,
        *,
        window: float = 60.0,
        reserve: int = 2,
        total_header: str = "X-RateLimit-Total",
        remaining_header: str = "X-RateLimit-Remaining",
        cost_header: str = "X-RateLimit-Used-CurrentRequest",
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.window = window
        self.reserve = reserve
        self.total_header = total_header
        self.remaining_header = remaining_header
        self.cost_header = cost_header
        self.clock = clock
        self.sleep = sleep
        self.total: int | None = None
        self.remaining: int | None = None
        self.last_cost: int | None = None
        self.window_start: float | None = None
        self.waited = 0.0
        """Seconds slept by the budget so far (for progress output and tests)."""
        self._call_started: float | None = None
        self._lock = threading.Lock()

    def before_call(self) -> float:
        """Sleep until the window resets when the quota is at the reserve; return the wait."""
        with self._lock:
            now = self.clock()
            self._call_started = now
            if self.remaining is None or self.window_start is None:
                return 0.0
            reset = self.window_start + self.window
            if now >= reset:
                self._forget()
                return 0.0
            if self.remaining > self.reserve:
                return 0.0
            wait = reset - now
            left = self.remaining
            self._forget()
            self.waited += wait
        log.info(
            "rate budget: %d credit(s) left, waiting %.1fs for the window to reset",
            left,
            wait,
            extra={"event": "http.rate_wait", "delay": round(wait, 3)},
        )
        self.sleep(wait)
        with self._lock:
            self._call_started = self.clock()
        return wait

    def after_response(self, headers: Mapping[str, str]) -> None:
        """Record the quota the server reports; headers may be absent (e.g. on a 429)."""
        remaining = _int_header(headers, self.remaining_header)
        if remaining is None:
            return
        with self._lock:
            now = self.clock()
            started = self._call_started if self._call_started is not None else now
            if (
                self.window_start is None
                or now >= self.window_start + self.window
                or (self.remaining is not None and remaining > self.remaining)
            ):
                self.window_start = started
            self.remaining = remaining
            self.total = _int_header(headers, self.total_header) or self.total
            self.last_cost = _int_header(headers, self.cost_header)

    def _forget(self) -> None:
        self.remaining = None
        self.window_start = None


class CallLimiter:
    """At most ``limit`` calls in any ``window`` seconds: a sliding log of send times.

    For per-endpoint quotas the helpdesk does not report in headers (Freshdesk's
    tickets-list, create and update sub-limits). The server counts calls per fixed window by
    arrival; calls spaced by a sliding window of send times, widened by ``margin`` for the
    time a request takes to arrive, never put more than ``limit`` in one server window.
    """

    def __init__(
        self,
        limit: int,
        *,
        window: float = 60.0,
        margin: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.margin = window / 50 if margin is None else margin
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait (sleeping) until one more call fits, count it, return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                span = self.window + self.margin
                while self._sent and self._sent[0] <= now - span:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    self.waited += waited
                    return waited
                wait = self._sent[0] + span - now
            self.sleep(wait)
            waited += wait


class SubLimits:
    """Named ``CallLimiter``s and the rule that files a call under one of them."""

    def __init__(
        self,
        bucket: Callable[[str, str], str | None],
        limits: Mapping[str, int],
        *,
        window: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.bucket = bucket
        self.limiters = {
            name: CallLimiter(limit, window=window, clock=clock, sleep=sleep)
            for name, limit in limits.items()
        }

    def before_call(self, method: str, path: str) -> float:
        """Pace a call of ``method`` on ``path`` (URL path, no query) by its bucket's limit."""
        name = self.bucket(method, path)
        limiter = self.limiters.get(name) if name else None
        if limiter is None:
            return 0.0
        waited = limiter.acquire()
        if waited:
            log.debug(
                "sub-limit %s: waited %.2fs",
                name,
                waited,
                extra={"event": "http.sublimit_wait", "bucket": name, "delay": round(waited, 3)},
            )
        return waited

    @property
    def waited(self) -> float:
        return sum(limiter.waited for limiter in self.limiters.values())


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------

STATUS_ERRORS: Mapping[int, type[ConnectorError]] = {
    401: AuthError,
    403: AuthError,
    408: RetriableError,
    429: RetriableError,
}
"""Status -> error class; 5xx are retriable and any other 4xx fatal (see ``error_class``)."""

Classifier = Callable[[int, tuple[str, ...]], type[ConnectorError] | None]
"""Per-connector override: (status, API error codes) -> class, or None for the table."""


def error_class(status: int) -> type[ConnectorError]:
    """The default class for a status: the table, then 5xx retriable, else fatal."""
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return RetriableError if status >= 500 else FatalError


def api_error(response: requests.Response) -> tuple[str, tuple[str, ...]]:
    """The API's own message and error codes from a JSON error body (never the raw body).

    Understands Freshdesk (``description`` + ``errors[].field/message/code`` or
    ``code``/``message``), Salesforce (a list of ``message``/``errorCode``), plain
    ``message``/``error`` objects and a body that is one JSON string (Movidesk's
    ``"Customers is required"``). Non-JSON bodies (HTML error pages, the opaque 429 text)
    give the HTTP reason phrase only: they are not known to be free of ticket data.
    """
    reason = response.reason or "error"
    try:
        data = response.json()
    except ValueError:
        return reason, ()
    codes: list[str] = []
    parts: list[str] = []
    items: list[Any] = []
    if isinstance(data, dict):
        head = data.get("description") or data.get("message") or data.get("error")
        if isinstance(head, str):
            parts.append(head)
        if isinstance(data.get("code"), str):
            codes.append(data["code"])
        if isinstance(data.get("errors"), list):
            items = data["errors"]
    elif isinstance(data, list):
        items = data
    elif isinstance(data, str) and data.strip():
        parts.append(data.strip())
    details: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        code = item.get("code") or item.get("errorCode")
        message = item.get("message")
        field = item.get("field") or ", ".join(item.get("fields") or [])
        text = f"{field}: {message}" if field and message else str(message or field or "")
        if code:
            codes.append(str(code))
            text = f"{text} ({code})" if text else str(code)
        if text:
            details.append(text)
    if details:
        parts.append("; ".join(details))
    message = ": ".join(parts) if parts else reason
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return message, tuple(codes)


def parse_retry_after(value: str | None, now: Callable[[], datetime]) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date; None when absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


class _RetryableStatus(Exception):
    """A response whose status may succeed on retry (internal to the retry loop)."""

    def __init__(self, response: requests.Response, retry_after: float | None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.retry_after = retry_after


def _where(method: str, url: str) -> str:
    """``METHOD /path`` — no scheme, host or query string (queries may carry PII)."""
    return f"{method} {urlsplit(url).path}"


# ---------------------------------------------------------------------------------------
# client
# ---------------------------------------------------------------------------------------


class HttpClient:
    """A ``requests.Session`` with timeouts, retries, a rate budget and error mapping."""

    @staticmethod
    def redact(message: str) -> str:
        """An API error message as it may be shown: subclasses hide their secrets in it."""
        return message

    def __init__(
        self,
        helpdesk: str,
        base_url: str,
        *,
        auth: requests.auth.AuthBase | None = None,
        timeout: float | tuple[float, float] = (10.0, 30.0),
        policy: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        sub_limits: SubLimits | None = None,
        sleep: Sleep = time.sleep,
        jitter: Jitter = default_jitter,
        now: Callable[[], datetime] | None = None,
        classify: Classifier | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.helpdesk = helpdesk
        self.base_url = base_url.rstrip("/")
        self.timeout = (
            (min(timeout, 10.0), timeout) if isinstance(timeout, int | float) else timeout
        )
        self.policy = policy or RetryPolicy()
        self.budget = budget
        self.sub_limits = sub_limits
        self.sleep = sleep
        self.jitter = jitter
        self.now = now or (lambda: datetime.now(UTC))
        self.classify = classify
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if auth is not None:
            self.session.auth = auth
        self.calls = 0
        """HTTP requests sent, retries included."""
        self.throttled = 0
        """Answers that said "not now": 429s (and a helpdesk's lockout, see subclasses)."""
        self.retry_waited = 0.0
        """Seconds slept before retries (Retry-After and backoff), for the metrics."""
        self._origin = urlsplit(self.base_url)[:2]

    def __repr__(self) -> str:
        return f"HttpClient({self.helpdesk!r}, {self.base_url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def url(self, path: str) -> str:
        """An absolute URL on this helpdesk; refuses another origin (credentials go along)."""
        url = urljoin(self.base_url + "/", path.lstrip("/")) if "://" not in path else path
        if urlsplit(url)[:2] != self._origin:
            raise FatalError(
                f"refusing to follow a URL to another host: {urlsplit(url).netloc}",
                helpdesk=self.helpdesk,
            )
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        ticket_id: str | None = None,
        retry_writes: bool = False,
        classify: Classifier | None = None,
    ) -> requests.Response:
        """Send one call with retries; a 2xx response, else a ``ConnectorError``.

        ``retry_writes`` declares a POST/PUT safe to send twice (see the module docstring);
        ``classify`` overrides the error class for this call (e.g. a 403 about a parent
        ticket is that ticket's problem, not the credentials').
        """
        method = method.upper()
        url = self.url(path)
        may_repeat = method in SAFE_METHODS or retry_writes

        def retriable(exc: BaseException) -> bool:
            if isinstance(exc, _RetryableStatus):
                return exc.response.status_code == 429 or may_repeat
            if isinstance(exc, requests.exceptions.ConnectTimeout):
                return True
            if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
                return may_repeat
            return False

        failed = {"throttled": 0, "other": 0}

        def stop(state: RetryCallState) -> bool:
            # A 429 means "not now", not "broken": it does not use up the attempts.
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _RetryableStatus) and exc.response.status_code == 429:
                failed["throttled"] += 1
                if failed["throttled"] >= self.policy.throttled_attempts:
                    return True
            else:
                failed["other"] += 1
                if failed["other"] >= self.policy.attempts:
                    return True
            return self._stop_total_wait(state)

        retrying = Retrying(
            retry=retry_if_exception(retriable),
            wait=self._wait,
            stop=stop,
            sleep=self.sleep,
            before_sleep=lambda state: self._before_retry(state, method, url),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._send(method, url, params, json)
        except _RetryableStatus as exc:
            raise self._status_error(
                exc.response, method, url, ticket_id, exc.retry_after, classify
            ) from None
        except requests.exceptions.Timeout:
            raise RetriableError(
                f"timeout ({_where(method, url)})", helpdesk=self.helpdesk, ticket_id=ticket_id
            ) from None
        except requests.exceptions.RequestException as exc:
            # The exception text of requests names the full URL; keep only its kind.
            raise RetriableError(
                f"connection failed: {type(exc).__name__} ({_where(method, url)})",
                helpdesk=self.helpdesk,
                ticket_id=ticket_id,
            ) from None
        if response.status_code >= 400:
            raise self._status_error(response, method, url, ticket_id, None, classify)
        return response

    def get(self, path: str, **kw: Any) -> requests.Response:
        """``request("GET", ...)``."""
        return self.request("GET", path, **kw)

    # ------------------------------------------------------------------ internals

    def _send(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: Any
    ) -> requests.Response:
        if self.sub_limits is not None:
            self.sub_limits.before_call(method, urlsplit(url).path)
        if self.budget is not None:
            self.budget.before_call()
        self.calls += 1
        response = self.session.request(method, url, params=params, json=body, timeout=self.timeout)
        if self.budget is not None:
            self.budget.after_response(response.headers)
        status = response.status_code
        if status == 429:
            self.throttled += 1
        if status == 429 or status >= 500 or status == 408:
            raise _RetryableStatus(
                response, parse_retry_after(response.headers.get("Retry-After"), self.now)
            )
        return response

    def _before_retry(self, state: RetryCallState, method: str, url: str) -> None:
        self.retry_waited += state.upcoming_sleep or 0.0
        self._log_retry(state, method, url)

    def api_stats(self) -> dict[str, float]:
        """Calls, throttled answers, seconds waited (rate budget and retries) and the
        remaining quota the helpdesk last reported (absent when it reports none)."""
        stats: dict[str, float] = {
            "calls": self.calls,
            "throttled": self.throttled,
            "waited_seconds": self.retry_waited,
        }
        for limiter in (self.budget, self.sub_limits):
            waited = getattr(limiter, "waited", None)
            if isinstance(waited, int | float):
                stats["waited_seconds"] += waited
        remaining = getattr(self.budget, "remaining", None)
        if isinstance(remaining, int | float):
            stats["remaining"] = remaining
        return stats

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self.policy.max_retry_after)
        delay = min(
            self.policy.max_backoff, self.policy.backoff_base * 2 ** (state.attempt_number - 1)
        )
        return delay + self.jitter(delay)

    def _stop_total_wait(self, state: RetryCallState) -> bool:
        return state.idle_for + (state.upcoming_sleep or 0.0) > self.policy.max_total_wait

    def _log_retry(self, state: RetryCallState, method: str, url: str) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus):
            why = str(exc.response.status_code)
        else:
            why = type(exc).__name__
        log.warning(
            "retrying %s after %s (attempt %d of %d) in %.1fs",
            _where(method, url),
            why,
            state.attempt_number + 1,
            self.policy.attempts,
            state.upcoming_sleep,
            extra={
                "event": "http.retry",
                "helpdesk": self.helpdesk,
                "attempt": state.attempt_number + 1,
                "delay": round(state.upcoming_sleep, 3),
                "reason": why,
            },
        )

    def _status_error(
        self,
        response: requests.Response,
        method: str,
        url: str,
        ticket_id: str | None,
        retry_after: float | None,
        classify: Classifier | None,
    ) -> ConnectorError:
        status = response.status_code
        message, codes = api_error(response)
        message = self.redact(message)
        cls = None
        for rule in (classify, self.classify):
            cls = cls or (rule(status, codes) if rule else None)
        cls = cls or error_class(status)
        text = f"{status} {message} ({_where(method, url)})"
        kw: dict[str, Any] = {
            "helpdesk": self.helpdesk,
            "ticket_id": ticket_id,
            "status": status,
            "request_id": response.headers.get("X-Request-Id"),
        }
        if cls is RetriableError:
            return RetriableError(text, retry_after=retry_after, **kw)
        return cls(text, **kw)


__all__ = [
    "STATUS_ERRORS",
    "USER_AGENT",
    "CallLimiter",
    "HttpClient",
    "RateBudget",
    "RetryPolicy",
    "SubLimits",
    "api_error",
    "default_jitter",
    "error_class",
    "parse_retry_after",
]
