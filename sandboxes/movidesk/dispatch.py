"""How the Movidesk sandbox answers one request: faults, locks, budget, token, routing.

``Dispatch.handle(method, path, query, headers, body) -> (status, headers, body)`` is the
one entry point both adapters call. Per request, in order: an injected fault (dropped,
timeout, 429, 5xx, slow); the tickets-API lock (429 "Too many failed requests" with
``retry-after``); the per-minute budget (429 with ``Retry-After``); the ``?token=``
(reference "Base, auth": every call carries ``?token=<key>``; 401 otherwise, body
unverified); then the route table (405 for a known path and another method, 404 for an
unknown one). Every answer on a ``/tickets`` path feeds the failure lock (``limits``).
Bodies of writes must be JSON objects; every successful write is logged as a ``Write``
and runs the ``after_write`` hooks. Everything but the hooks runs under the account lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..faults import DroppedConnection, FaultInjection
from .limits import RateLimits
from .records import Call, Json, Response, StoredTicket, Write
from .shapes import LOCKED_BODY, SERVER_ERROR_BODIES, THROTTLED_BODY, ApiError, bad_request
from .state import SandboxState

Query = Mapping[str, list[str]]
Answer = tuple[int, Any, Write | None]


class Dispatch(SandboxState, RateLimits, FaultInjection):
    """The request handler of a sandbox account; route handlers live in the ``routes_*``
    mixins and are found by name in ``_ROUTES``."""

    _ROUTES: tuple[tuple[str, str, str], ...] = (
        ("GET", "/tickets", "_get_tickets"),
        ("POST", "/tickets", "_create_ticket"),
        ("PATCH", "/tickets", "_update_ticket"),
        ("GET", "/tickets/past", "_list_past"),
        ("GET", "/tickets/htmldescription", "_html_description"),
        ("GET", "/persons", "_get_persons"),
        ("GET", "/services", "_get_services"),
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
        with self._lock:
            self._request_no += 1
        fault = self._fault_before(method, path, query, lambda: self._log(method, path, query, 0))
        if fault is not None:
            kind, value = fault
            if kind == "429":
                self._log(method, path, query, 429)
                return 429, {"Retry-After": str(value)}, THROTTLED_BODY
            with self._lock:
                self._finish(method, path, query, value)
            body_out = SERVER_ERROR_BODIES.get(value, b"Server error")
            ctype = "application/json" if body_out.startswith(b"{") else "text/html"
            return value, {"Content-Type": ctype}, body_out
        with self._lock:
            moment = self.now()
            wait = self._lock_wait(moment) if self._tickets_api(path) else None
            if wait is not None:
                self._log(method, path, query, 429)
                return 429, {"retry-after": str(wait)}, LOCKED_BODY
            wait = self._budget_wait(moment)
            if wait is not None:
                self._log(method, path, query, 429)
                return 429, {"Retry-After": str(wait)}, THROTTLED_BODY
            try:
                if query.get("token", [""])[-1] != self.token:
                    raise ApiError(401, "Token inválido")
                status, payload, write = self._route(method, path, query, headers, body)
            except ApiError as exc:
                status, payload, write = exc.status, exc.body, None
            self._finish(method, path, query, status)
            if write is not None:
                self.writes.append(write)
                hooks = [f for f in self.faults if f.after_write and f.matches(method, path, query)]
                drop = self._take_after_write(method, path, query)
            else:
                hooks, drop = [], False
        for faults in hooks:
            assert faults.after_write is not None
            assert write is not None
            faults.after_write(write)
        if drop:
            raise DroppedConnection(path)
        return self._json(status, payload)

    def _tickets_api(self, path: str) -> bool:
        return path.startswith(self.api_prefix + "/tickets")

    def _finish(self, method: str, path: str, query: Query, status: int) -> None:
        if self._tickets_api(path):
            self._count_outcome(status, self.now())
        self._log(method, path, query, status)

    def _log(self, method: str, path: str, query: Query, status: int) -> None:
        with self._lock:
            self.calls.append(Call(method, path, dict(query), status, self.now()))

    @staticmethod
    def _json(status: int, payload: Any) -> Response:
        if payload is None:
            return status, {}, b""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return status, headers, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    # ------------------------------------------------------------------ routing

    def _route(
        self, method: str, path: str, query: Query, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        prefix = self.api_prefix
        if not path.startswith(prefix + "/"):
            raise ApiError(404)
        relative = path[len(prefix) :].rstrip("/") or "/"
        allowed = [verb for verb, route, _ in self._ROUTES if route == relative]
        for verb, route, name in self._ROUTES:
            if route != relative or verb != method:
                continue
            handler = getattr(self, name)
            if method in ("POST", "PATCH"):
                data = self._body(headers, body)
                status, payload, ticket_id = handler(query, data)
                write = Write(method, path, dict(query), data, ticket_id, self.now())
                return status, payload, write
            status, payload = handler(query)
            return status, payload, None
        if allowed:
            # 405 for another verb on a known resource: unverified, ASP.NET Web API's default.
            message = f"The requested resource does not support http method '{method}'."
            raise ApiError(405, {"Message": message})
        raise ApiError(404)

    @staticmethod
    def _body(headers: Mapping[str, str], body: bytes) -> Json:
        # A body that is not a JSON object: 400 (unverified; the API documents JSON bodies).
        lowered = {k.lower(): v for k, v in headers.items()}
        if "application/json" not in lowered.get("content-type", ""):
            raise ApiError(415, {"Message": "The request entity's media type is not supported."})
        try:
            data = json.loads(body or b"")
        except ValueError:
            raise bad_request("O corpo da requisição não é um JSON válido.") from None
        if not isinstance(data, dict):
            raise bad_request("O corpo da requisição não é um JSON válido.")
        return data

    # ------------------------------------------------------------------ lookups

    def _ticket_param(self, query: Query) -> StoredTicket:
        raw = query.get("id", [""])[-1]
        if not raw.isdigit():
            raise bad_request("O parâmetro id é obrigatório.")
        ticket = self.tickets.get(int(raw))
        if ticket is None:
            # 404 for an unknown id (reference "Errors"); the body is unverified.
            raise ApiError(404, "Ticket não encontrado.")
        return ticket
