"""The one way the connector talks to Salesforce: simple-salesforce behind a guarded wrapper.

Theory of operation
-------------------
* ``login`` builds a ``simple_salesforce.Salesforce`` for each auth option on a
  ``requests.Session`` the connector owns, with the configured API version. Login flows
  (password, JWT bearer, client credentials) run ``SalesforceLogin`` here and hand the
  token to the library as a direct session: the library then never refreshes on its own
  (its refresh drops caller headers such as ``Sforce-Auto-Assign`` and, on the
  ``sf.Case.*`` path, can recurse until ``RecursionError``).
* ``SalesforceClient`` sends every call. On ``SalesforceExpiredSession`` (401) it
  rebuilds the client (a new login) and resends the same call once, with the same
  headers; a second 401 is an ``AuthError``. A session given in the settings cannot be
  renewed: its rebuild resends with the same token and the 401 ends as ``AuthError``.
* Errors map to the contract: 401 ``AuthError``; 403 ``REQUEST_LIMIT_EXCEEDED`` (daily or
  concurrent limit, Salesforce's answer where others send 429) ``RetriableError``; 403
  ``API_DISABLED_FOR_ORG``/``API_CURRENTLY_DISABLED`` ``AuthError``; 400
  ``UNABLE_TO_LOCK_ROW`` (also wrapped in a flow error) and ≥500 ``RetriableError``;
  ``INVALID_QUERY_LOCATOR`` ``RetriableError`` (the pass restarts from its cursor); any
  other 4xx ``FatalError``. A message is the API's ``message`` and ``errorCode``, never
  the body (it may quote ticket data) and never the URL's query.
* Retries (tenacity, exponential backoff with jitter): a row lock and the concurrent
  request limit (``REQUEST_LIMIT_EXCEEDED`` "ConcurrentPerOrgLongTxn") are retried for
  every call (Salesforce ran nothing; the daily limit is not retried in place); a 5xx,
  timeout or connection error only for calls safe to repeat (``idempotent``: reads, and
  the PATCH of absolute field values). A POST that creates records is never resent on an
  ambiguous failure: the engine looks it up.
* ``throttled`` counts the answers that said not now (403 ``REQUEST_LIMIT_EXCEEDED``,
  daily or concurrent: Salesforce's 429), each retry's own answer included, for the
  ``helpdesk_sync_api_throttled`` metric.
* Budget: after each call the ``Sforce-Limit-Info`` header (``sf.api_usage``) gives the
  org's daily usage. At ``daily_budget_share`` of the allocation the client pauses: the
  read that saw it raises ``BudgetPaused`` (a ``RetriableError``, logged once with event
  ``salesforce.budget_paused``); a write keeps its answer (the records exist) and the
  next call raises instead, without sending. After ``pause_seconds`` one call goes out
  again to read the usage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
)
from simple_salesforce.login import SalesforceLogin
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from sync.contract import AuthError, ConnectorError, FatalError, RetriableError

from .._http import RetryPolicy, default_jitter
from .settings import AuthMode, SalesforceSettings

log = logging.getLogger("helpdesk_sync.connectors.salesforce")

T = TypeVar("T")
HELPDESK = "salesforce"
AUTO_ASSIGN: Mapping[str, str] = {"Sforce-Auto-Assign": "FALSE"}
"""Sent on every Case write: without it REST runs the active assignment rules (or the
default case owner) and overwrites the owner just set."""
LOCK_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})
LIMIT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED"})
AUTH_CODES = frozenset({"API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED", "INVALID_SESSION_ID"})
RETRY_CODES = frozenset({"INVALID_QUERY_LOCATOR", "SERVER_UNAVAILABLE"})
MAX_MESSAGE = 500


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one login needs (secrets already read from their sources)."""

    mode: AuthMode
    version: str = "59.0"
    domain: str = "login"
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    privatekey_file: str | None = None
    session_id: str | None = None
    instance_url: str | None = None

    @classmethod
    def of(cls, settings: SalesforceSettings) -> Credentials:
        return cls(
            mode=settings.auth_mode(),
            version=settings.api_version,
            domain=settings.domain,
            username=settings.username,
            password=settings.secret_value("password"),
            security_token=settings.secret_value("security_token"),
            consumer_key=settings.consumer_key,
            consumer_secret=settings.secret_value("consumer_secret"),
            privatekey_file=str(settings.privatekey_file) if settings.privatekey_file else None,
            session_id=settings.secret_value("session_id"),
            instance_url=settings.instance_url,
        )

    def __repr__(self) -> str:
        return f"Credentials({self.mode!r}, domain={self.domain!r})"


def login(creds: Credentials, session: requests.Session) -> Salesforce:
    """A client for one auth option; the library's own refresh stays off (direct session)."""
    if creds.mode == "session":
        return Salesforce(
            session_id=creds.session_id,
            instance_url=creds.instance_url,
            session=session,
            version=creds.version,
        )
    kwargs: dict[str, Any] = {"session": session, "domain": creds.domain}
    if creds.mode == "password":
        kwargs.update(
            username=creds.username,
            password=creds.password,
            security_token=creds.security_token,
            sf_version=creds.version,
        )
    elif creds.mode == "jwt":
        kwargs.update(
            username=creds.username,
            consumer_key=creds.consumer_key,
            privatekey_file=creds.privatekey_file,
        )
    else:
        kwargs.update(consumer_key=creds.consumer_key, consumer_secret=creds.consumer_secret)
    token, instance = SalesforceLogin(**kwargs)
    return Salesforce(session_id=token, instance=instance, session=session, version=creds.version)


class BudgetPaused(RetriableError):
    """The org's daily API usage reached the configured share: calls wait."""


class _Transient(Exception):
    """A failure worth retrying inside the client (carries the contract's error)."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__(str(error))
        self.error = error


def error_details(content: Any) -> tuple[str, tuple[str, ...]]:
    """The API's messages and error codes from a parsed error body (never the raw body)."""
    items = content if isinstance(content, list) else [content]
    texts: list[str] = []
    codes: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        code = item.get("errorCode") or item.get("statusCode") or item.get("error")
        message = item.get("message") or item.get("error_description")
        if code:
            codes.append(str(code))
        text = str(message or "")
        fields = item.get("fields")
        if fields and isinstance(fields, list):
            text = f"{', '.join(str(f) for f in fields)}: {text}"
        if code:
            text = f"{text} ({code})" if text else str(code)
        if text:
            texts.append(text)
    message = "; ".join(texts)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return message, tuple(codes)


def is_lock(codes: tuple[str, ...], message: str) -> bool:
    """A row lock: ``UNABLE_TO_LOCK_ROW``, also when a flow or trigger error wraps it."""
    return bool(LOCK_CODES & set(codes)) or "UNABLE_TO_LOCK_ROW" in message


def is_concurrency_limit(status: int, codes: tuple[str, ...], message: str) -> bool:
    """``REQUEST_LIMIT_EXCEEDED`` for too many long requests at once (``ConcurrentPer...``),
    not the daily allocation: the request was refused before it ran, so it is resent after
    a backoff, whatever its method."""
    return status == 403 and bool(LIMIT_CODES & set(codes)) and "concurrent" in message.lower()


def error_class(status: int, codes: tuple[str, ...], message: str) -> type[ConnectorError]:
    """The contract's error class for a Salesforce answer."""
    if status == 401:
        return AuthError
    if status == 403:
        if LIMIT_CODES & set(codes):
            return RetriableError
        return AuthError if AUTH_CODES & set(codes) else FatalError
    if is_lock(codes, message) or RETRY_CODES & set(codes) or status >= 500 or status == 408:
        return RetriableError
    return FatalError


def contract_error(
    status: int, content: Any, what: str, ticket_id: str | None = None
) -> ConnectorError:
    """A library error's status and body as the contract's typed error."""
    message, codes = error_details(content)
    cls = error_class(status, codes, message)
    text = f"{what}: {status} {message or 'no error message'}"
    return cls(text, helpdesk=HELPDESK, ticket_id=ticket_id, status=status)


class SalesforceClient:
    """Every call of the connector: rebuild on an expired session, typed errors, retries,
    the daily budget."""

    def __init__(
        self,
        factory: Callable[[], Salesforce],
        *,
        connector: str = HELPDESK,
        budget_share: float = 0.9,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        pause_seconds: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.factory = factory
        self.connector = connector
        self.budget_share = budget_share
        self.timeout = timeout
        self.policy = policy or RetryPolicy(attempts=4)
        """The shared retry settings (attempts, doubling backoff, its cap)."""
        self.attempts = self.policy.attempts
        self.pause_seconds = pause_seconds
        self._sleep = sleep
        self.monotonic = monotonic
        self._sf: Salesforce | None = None
        self.calls = 0
        """Calls sent (for tests and the read-cost report)."""
        self.rebuilds = 0
        self.throttled = 0
        """``REQUEST_LIMIT_EXCEEDED`` answers received (daily or concurrent limit)."""
        self.waited = 0.0
        """Seconds slept before retries (limits, locks, 5xx): the metrics' and the backfill
        progress's API waits."""
        self.usage: tuple[int, int] | None = None
        """The org's daily API requests (used, total) as the last answer reported them."""
        self._paused_at: float | None = None

    def sleep(self, seconds: float) -> None:
        """Wait before a retry, counted in ``waited``."""
        self.waited += seconds
        self._sleep(seconds)

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self._sf = self._build()
        return self._sf

    def _build(self) -> Salesforce:
        try:
            return self.factory()
        except SalesforceAuthenticationFailed as exc:
            raise AuthError(
                f"login failed: {exc.code or ''} {exc.auth_message or ''}".strip(),
                helpdesk=HELPDESK,
                status=exc.status,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise RetriableError(f"login failed: {type(exc).__name__}", helpdesk=HELPDESK) from None

    def rebuild(self) -> None:
        """A new client (a new login) after the session expired."""
        self._sf = self._build()
        self.rebuilds += 1
        log.info(
            "salesforce session expired: signed in again",
            extra={"event": "salesforce.session_rebuilt", "connector": self.connector},
        )

    # ------------------------------------------------------------------ calls

    def query(self, soql: str, *, page_size: int | None = None) -> dict[str, Any]:
        """``GET query/?q=`` (one page), ``Sforce-Query-Options: batchSize`` when given."""
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"} if page_size else {}
        return self.call(
            "GET query",
            lambda sf: sf.query(soql, headers=headers, timeout=self.timeout),
            idempotent=True,
        )

    def query_more(self, next_url: str, *, page_size: int | None = None) -> dict[str, Any]:
        """``GET <nextRecordsUrl>``: the next page of a query or of a nested child result."""
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"} if page_size else {}
        return self.call(
            "GET query (next page)",
            lambda sf: sf.query_more(
                next_url, identifier_is_url=True, headers=headers, timeout=self.timeout
            ),
            idempotent=True,
        )

    def restful(
        self,
        path: str,
        *,
        method: str = "GET",
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ticket_id: str | None = None,
    ) -> Any:
        """``sf.restful(path)`` (base + path); ``idempotent`` defaults to GET/PATCH."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "PATCH")
        sent = dict(headers or {})
        return self.call(
            f"{method} {path}",
            lambda sf: sf.restful(
                path, method=method, json=json, headers=dict(sent), timeout=self.timeout
            ),
            idempotent=idempotent,
            ticket_id=ticket_id,
        )

    def limits(self) -> dict[str, Any]:
        """``GET limits/``: the org's limits (``DailyApiRequests`` among them)."""
        return self.call("GET limits", lambda sf: sf.limits(timeout=self.timeout), idempotent=True)

    def call(
        self,
        what: str,
        send: Callable[[Salesforce], T],
        *,
        idempotent: bool,
        ticket_id: str | None = None,
    ) -> T:
        """One call through the guards: budget, rebuild on 401, typed errors, retries."""

        def wait(state: RetryCallState) -> float:
            return self.delay(state.attempt_number)

        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            wait=wait,
            stop=stop_after_attempt(self.attempts),
            sleep=self.sleep,
            before_sleep=lambda state: self._log_retry(what, state),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    result = self._once(what, send, idempotent, ticket_id)
        except _Transient as exc:
            raise exc.error from None
        self._after(what, write=not what.startswith("GET"))
        return result

    def delay(self, attempt: int) -> float:
        """Backoff before retry ``attempt`` + 1: doubling, capped, with up to 50% jitter
        (the shared ``RetryPolicy`` and jitter of every connector's HTTP client)."""
        base = min(self.policy.max_backoff, self.policy.backoff_base * 2 ** (attempt - 1))
        return base + default_jitter(base)

    def _once(
        self,
        what: str,
        send: Callable[[Salesforce], T],
        idempotent: bool,
        ticket_id: str | None,
    ) -> T:
        self._before(what)
        try:
            try:
                self.calls += 1
                return send(self.sf)
            except SalesforceExpiredSession:
                self.rebuild()
                self.calls += 1
                return send(self.sf)
        except SalesforceError as exc:
            error = contract_error(exc.status, exc.content, what, ticket_id)
            _, codes = error_details(exc.content)
            if exc.status == 403 and LIMIT_CODES & set(codes):
                self.throttled += 1
            lock = is_lock(codes, str(error))
            if (
                lock
                or is_concurrency_limit(exc.status, codes, str(error))
                or (isinstance(error, RetriableError) and idempotent and exc.status >= 500)
            ):
                raise _Transient(error) from None
            raise error from None
        except requests.exceptions.RequestException as exc:
            # A connect timeout never reached Salesforce: safe to resend even a POST.
            never_sent = isinstance(exc, requests.exceptions.ConnectTimeout)
            if isinstance(exc, requests.exceptions.Timeout):
                why = "timeout"
            else:
                why = f"connection failed ({type(exc).__name__})"
            error = RetriableError(f"{what}: {why}", helpdesk=HELPDESK, ticket_id=ticket_id)
            if idempotent or never_sent:
                raise _Transient(error) from None
            raise error from None

    def _log_retry(self, what: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "retrying %s (attempt %d of %d) in %.1fs: %s",
            what,
            state.attempt_number + 1,
            self.attempts,
            state.upcoming_sleep,
            exc,
            extra={
                "event": "salesforce.retry",
                "connector": self.connector,
                "attempt": state.attempt_number + 1,
                "delay": round(state.upcoming_sleep, 3),
            },
        )

    # ------------------------------------------------------------------ budget

    def _before(self, what: str) -> None:
        if self._paused_at is None:
            return
        left = self.pause_seconds - (self.monotonic() - self._paused_at)
        if left > 0:
            raise self._paused(what, left)
        self._paused_at = None  # one call goes out and reads the usage again

    def _after(self, what: str, *, write: bool) -> None:
        found = self.sf.api_usage.get("api-usage") if self._sf is not None else None
        if found is None:
            return
        used, total = int(found[0]), int(found[1])
        self.note_usage(used, total)
        if self._paused_at is not None and not write:
            raise self._paused(what, self.pause_seconds)

    def note_usage(self, used: int, total: int) -> None:
        """Record the org's daily usage; pause at the configured share."""
        self.usage = (used, total)
        if total <= 0 or used / total < self.budget_share:
            return
        if self._paused_at is None:
            log.warning(
                "salesforce daily API budget reached: %d of %d requests used (pause at %d%%)",
                used,
                total,
                round(self.budget_share * 100),
                extra={
                    "event": "salesforce.budget_paused",
                    "connector": self.connector,
                    "used": used,
                    "total": total,
                },
            )
        self._paused_at = self.monotonic()

    def _paused(self, what: str, left: float) -> BudgetPaused:
        used, total = self.usage or (0, 0)
        return BudgetPaused(
            f"{what}: paused: {used} of {total} daily API requests used, at or above the "
            f"configured share {self.budget_share:.0%}",
            retry_after=round(left, 1),
            helpdesk=HELPDESK,
        )


__all__ = [
    "AUTO_ASSIGN",
    "HELPDESK",
    "BudgetPaused",
    "Credentials",
    "SalesforceClient",
    "contract_error",
    "error_class",
    "error_details",
    "is_lock",
    "login",
]
