"""How the Salesforce sandbox answers one request: faults, session, daily limit, routing.

``Dispatch.handle(method, path, query, headers, body) -> (status, headers, body)`` is the
one entry point both adapters call. Per request, in order:

1. an injected fault (``..faults``): dropped connection, timeout, 5xx (503 answers an HTML
   page, 500 ``UNKNOWN_EXCEPTION`` [ref §7]), slow; ``rate_limited`` becomes 403
   ``REQUEST_LIMIT_EXCEEDED`` "ConcurrentPerOrgLongTxn Limit exceeded." because Salesforce
   does not answer 429 [ref §8] (``retry_after`` is ignored: no ``Retry-After`` [ref §8]);
2. ``POST /services/oauth2/token`` (no session needed, not counted);
3. the session: ``Authorization: Bearer <id>`` (or ``OAuth <id>``) of a session the org
   knows, else 401 ``[{"message": "Session expired or invalid", "errorCode":
   "INVALID_SESSION_ID"}]`` [ref §1.4, §7];
4. the daily allocation: once ``api_used`` reached ``daily_limit``, 403 ``[{"message":
   "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]``; otherwise the
   call counts one (a query-locator page too: UNVERIFIED [ref §8], the strict case), even
   when the route then refuses it;
5. the route table under ``/services/data/v59.0/`` (``_ROUTES``): 404 ``NOT_FOUND`` for an
   unknown path, 405 ``METHOD_NOT_ALLOWED`` for another verb on a known one.

Every answer past the session check carries ``Sforce-Limit-Info: api-usage=<used>/<max>``
[ref §1.5, li]. Every request is logged as a ``Call``; every record a successful write
changed as a ``Write``, after which ``after_write`` hooks run and ``dropped_after_write``
may drop the answer. Everything but the hooks runs under the org lock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..faults import DroppedConnection, FaultInjection
from .query import QueryEngine
from .records import Call, Json, Response
from .shapes import (
    CONCURRENCY_EXCEEDED,
    DATA_PREFIX,
    LIMIT_EXCEEDED,
    SERVER_ERROR_BODIES,
    SESSION_INVALID,
    ApiError,
    bad,
    error,
    not_found,
)
from .writes import WriteContext, WriteEngine

Query = Mapping[str, list[str]]
OAUTH_PATH = "/services/oauth2/token"
SOAP_LOGIN_PATH = re.compile(r"/services/Soap/u/[\d.]+/?")
"""The partner SOAP API's endpoint, where simple-salesforce sends the password login."""
_LOGGED_HEADERS = ("sforce-auto-assign", "sforce-query-options", "content-type")


@dataclass(frozen=True, slots=True)
class Request:
    """One request (or composite subrequest) as route handlers see it."""

    method: str
    path: str
    """The full URL path (``/services/data/v59.0/...``)."""
    query: Query
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes | Any
    """Raw bytes from the wire, or an already-decoded JSON value (subrequests)."""
    user_id: str

    @property
    def auto_assign(self) -> bool:
        """False when ``Sforce-Auto-Assign: FALSE`` (any case) was sent [ref §4]."""
        return self.headers.get("sforce-auto-assign", "TRUE").strip().lower() != "false"

    def context(self, method: str | None = None) -> WriteContext:
        return WriteContext(method or self.method, self.path, self.user_id, self.auto_assign)

    def json(self) -> Any:
        if not isinstance(self.body, bytes | bytearray):
            return self.body
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            # [api] JSON_PARSER_ERROR for a body that is not JSON; the text is unverified.
            raise bad("JSON_PARSER_ERROR", "Unexpected character in request body") from None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


class Dispatch(QueryEngine, WriteEngine, FaultInjection):
    """The request handler of a sandbox org; route handlers live in the ``routes_*`` mixins
    and are found by name in ``_ROUTES``."""

    _ROUTES: tuple[tuple[str, str, str], ...] = (
        ("GET", r"query", "_query"),
        ("GET", r"queryAll", "_query_all"),
        ("GET", r"(?:query|queryAll)/(?P<locator>01g[A-Za-z0-9]{12}-\d+)", "_query_more"),
        ("GET", r"limits", "_limits"),
        ("POST", r"sobjects/(?P<sobject>\w+)", "_create"),
        ("GET", r"sobjects/(?P<sobject>\w+)/describe", "_describe"),
        ("GET", r"sobjects/(?P<sobject>\w+)/(?P<record_id>[^/]+)", "_get_record"),
        ("PATCH", r"sobjects/(?P<sobject>\w+)/(?P<record_id>[^/]+)", "_update"),
        ("DELETE", r"sobjects/(?P<sobject>\w+)/(?P<record_id>[^/]+)", "_delete"),
        ("POST", r"composite/sobjects", "_collection_create"),
        ("PATCH", r"composite/sobjects", "_collection_update"),
        ("DELETE", r"composite/sobjects", "_collection_delete"),
        ("POST", r"composite", "_composite"),
    )

    def handle(
        self,
        method: str,
        path: str,
        query: Query,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        """Answer one request: ``(status, headers, body)``.

        Raises ``DroppedConnection`` / ``SandboxTimeout`` when a fault asks the adapter to
        drop the connection or time the client out.
        """
        method = method.upper()
        lowered = {k.lower(): v for k, v in headers.items()}
        fault = self._fault_before(
            method, path, query, lambda: self._log(method, path, query, lowered, 0)
        )
        if fault is not None:
            kind, value = fault
            if kind == "429":  # Salesforce sends no 429: its limit answer is a 403
                self._log(method, path, query, lowered, 403)
                return self._json(403, CONCURRENCY_EXCEEDED, {})
            self._log(method, path, query, lowered, value)
            ctype, payload = SERVER_ERROR_BODIES.get(
                value, ("text/html", b"<html><body>Server Error</body></html>")
            )
            return value, {"Content-Type": ctype}, payload
        if method == "POST" and SOAP_LOGIN_PATH.fullmatch(path):
            with self._lock:
                status, xml = self._soap_login(body)
                self._log(method, path, query, lowered, status)
            return status, {"Content-Type": "text/xml;charset=UTF-8"}, xml
        with self._lock:
            before = len(self.writes)
            status, payload, extra = self._answer(method, path, query, lowered, body)
            self._log(method, path, query, lowered, status)
            written = self.writes[before:] if len(self.writes) > before else []
            hooks = [f for f in self.faults if f.after_write and f.matches(method, path, query)]
            drop = bool(written) and self._take_after_write(method, path, query)
        for faults in hooks:
            assert faults.after_write is not None
            for write in written:
                faults.after_write(write)
        if drop:
            raise DroppedConnection(path)
        return self._json(status, payload, extra)

    def _answer(
        self, method: str, path: str, query: Query, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if path.rstrip("/") == OAUTH_PATH:
            try:
                status, payload = self._oauth_token(method, headers, body)
            except ApiError as exc:
                status, payload = exc.status, exc.body
            return status, payload, {}
        user_id = self._session_user(headers)
        if user_id is None:
            return 401, SESSION_INVALID, {}
        if self.api_used >= self.daily_limit:
            return 403, LIMIT_EXCEEDED, self._limit_header()
        self.api_used += 1
        request = Request(method, path, query, headers, body, user_id)
        try:
            status, payload = self.route(request)
        except ApiError as exc:
            status, payload = exc.status, exc.body
        return status, payload, self._limit_header()

    def _session_user(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            return None
        return self.sessions.get(token.strip())

    def _limit_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.daily_limit}"}

    def route(self, request: Request) -> tuple[int, Any]:
        """Find and run the handler of a request (``ApiError`` for refusals)."""
        if not request.path.startswith(DATA_PREFIX + "/"):
            raise not_found()
        relative = request.path[len(DATA_PREFIX) + 1 :].rstrip("/")
        allowed: list[str] = []
        for verb, pattern, name in self._ROUTES:
            match = re.fullmatch(pattern, relative)
            if match is None:
                continue
            if verb != request.method:
                allowed.append(verb)
                continue
            handler = getattr(self, name)
            result: tuple[int, Any] = handler(request, **match.groupdict())
            return result
        if allowed:
            # [err]: 405 with the verbs the resource accepts.
            raise error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(allowed)}",
            )
        raise not_found()

    def _oauth_token(
        self, method: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Json]:
        raise not_found()

    def _soap_login(self, body: bytes) -> tuple[int, bytes]:
        return 404, b""

    def _log(
        self, method: str, path: str, query: Query, headers: Mapping[str, str], status: int
    ) -> None:
        kept = {name: headers[name] for name in _LOGGED_HEADERS if name in headers}
        with self._lock:
            self.calls.append(Call(method, path, dict(query), status, self.now(), kept))

    @staticmethod
    def _json(status: int, payload: Any, extra: Mapping[str, str]) -> Response:
        headers = dict(extra)
        if payload is None or status == 204:
            return status, headers, b""
        headers["Content-Type"] = "application/json;charset=UTF-8"
        return status, headers, json.dumps(payload, ensure_ascii=False).encode("utf-8")
