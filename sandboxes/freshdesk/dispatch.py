"""How the Freshdesk sandbox answers one request: faults, auth, credits, routing, paging.

``Dispatch.handle(method, path, query, headers, body) -> (status, headers, body)`` is the
one entry point both adapters call. Per request, in order: an injected fault (dropped,
timeout, 429, 5xx, slow), Basic auth with the API key, the rate limits, then the route
table (405 with ``Allow`` for a known path and another method, 404 without a body for an
unknown one). POST/PUT bodies must be JSON objects; every successful write is logged as a
``Write`` and runs the ``after_write`` hooks. Lists page with ``per_page``/``page`` and a
``Link`` header echoing the query unescaped, as the real API does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from ..faults import DroppedConnection, FaultInjection
from .limits import RateLimits
from .records import Call, Json, Response, StoredTicket, Write
from .shapes import (
    PAGE_CAP_MESSAGE,
    RATE_LIMITED_BODY,
    SERVER_ERROR_BODIES,
    UNAUTHORIZED,
    ApiError,
    validation,
)
from .state import SandboxState


class Dispatch(SandboxState, RateLimits, FaultInjection):
    """The request handler of a sandbox account; route handlers live in the ``routes_*``
    mixins and are found by name in ``_ROUTES``."""

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        """Answer one request: ``(status, headers, body)``.

        Raises ``DroppedConnection`` / ``SandboxTimeout`` when a fault asks the adapter to
        drop the connection or time the client out.
        """
        method = method.upper()
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self._request_no += 1
            request_id = f"sbx-{self._request_no:08d}"
        fault = self._fault_before(method, path, None, lambda: self._log(method, path, query, 0, 0))
        if fault is not None:
            kind, value = fault
            if kind == "429":
                self._log(method, path, query, 429, 0)
                return (
                    429,
                    {"Retry-After": str(value), "X-Request-Id": request_id},
                    RATE_LIMITED_BODY,
                )
            self._log(method, path, query, value, 0)
            body_out = SERVER_ERROR_BODIES.get(value, b"Server error")
            ctype = "application/json" if body_out.startswith(b"{") else "text/html"
            return value, {"Content-Type": ctype, "X-Request-Id": request_id}, body_out
        if not self._authorized(lowered.get("authorization", "")):
            self._log(method, path, query, 401, 0)
            return self._json(401, UNAUTHORIZED, {"X-Request-Id": request_id})
        with self._lock:
            credits = self._credits(method, path, query)
            limited = self._consume(method, path, credits)
            if limited is not None:
                self._log(method, path, query, 429, 0)
                return (
                    429,
                    {"Retry-After": str(limited), "X-Request-Id": request_id},
                    RATE_LIMITED_BODY,
                )
            rate_headers = {
                "X-RateLimit-Total": str(self.plan.per_minute),
                "X-RateLimit-Remaining": str(max(0, self.plan.per_minute - self._used["total"])),
                "X-RateLimit-Used-CurrentRequest": str(credits),
                "X-Request-Id": request_id,
            }
            try:
                status, payload, extra, write = self._route(method, path, query, lowered, body)
            except ApiError as exc:
                status, payload, extra, write = exc.status, exc.body, exc.headers, None
            self._log(method, path, query, status, credits)
            if write is not None:
                self.writes.append(write)
                hooks = [f for f in self.faults if f.after_write and f.matches(method, path)]
                drop = self._take_after_write(method, path)
            else:
                hooks, drop = [], False
        for faults in hooks:
            assert faults.after_write is not None
            faults.after_write(write)  # type: ignore[arg-type]
        if drop:
            raise DroppedConnection(path)
        return self._json(status, payload, {**rate_headers, **extra})

    def _log(
        self, method: str, path: str, query: Mapping[str, list[str]], status: int, credits: int
    ) -> None:
        with self._lock:
            self.calls.append(Call(method, path, dict(query), status, credits))

    @staticmethod
    def _json(status: int, payload: Any, headers: dict[str, str]) -> Response:
        if payload is None:
            return status, headers, b""
        out = {"Content-Type": "application/json; charset=utf-8", **headers}
        return status, out, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user = base64.b64decode(header[6:], validate=True).decode("utf-8").split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.api_key

    # ------------------------------------------------------------------ routing

    _ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
        ("GET", re.compile(r"/api/v2/tickets"), "_list_tickets"),
        ("POST", re.compile(r"/api/v2/tickets"), "_create_ticket"),
        ("PUT", re.compile(r"/api/v2/tickets/merge"), "_merge"),
        ("GET", re.compile(r"/api/v2/tickets/(\d+)"), "_view_ticket"),
        ("PUT", re.compile(r"/api/v2/tickets/(\d+)"), "_update_ticket"),
        ("GET", re.compile(r"/api/v2/tickets/(\d+)/conversations"), "_list_conversations"),
        ("POST", re.compile(r"/api/v2/tickets/(\d+)/notes"), "_create_note"),
        ("GET", re.compile(r"/api/v2/tickets/(\d+)/associated_tickets"), "_associated"),
        ("GET", re.compile(r"/api/v2/ticket_fields"), "_ticket_fields"),
        ("GET", re.compile(r"/api/v2/groups"), "_groups"),
        ("GET", re.compile(r"/api/v2/admin/groups"), "_admin_groups"),
        ("GET", re.compile(r"/api/v2/agents/me"), "_me"),
        ("GET", re.compile(r"/api/v2/agents"), "_agents"),
        ("GET", re.compile(r"/api/v2/contacts/(\d+)"), "_view_contact"),
        ("GET", re.compile(r"/api/v2/companies/(\d+)"), "_view_company"),
        ("GET", re.compile(r"/api/v2/contact_fields"), "_contact_fields"),
        ("GET", re.compile(r"/api/v2/company_fields"), "_company_fields"),
    )

    def _route(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[int, Any, dict[str, str], Write | None]:
        allowed: list[str] = []
        for verb, pattern, name in self._ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if verb != method:
                allowed.append(verb)
                continue
            handler = getattr(self, name)
            args = [int(g) for g in match.groups()]
            if method in ("POST", "PUT"):
                data = self._body(headers, body)
                status, payload, extra = handler(*args, data)
                ticket_id = args[0] if args else (payload or {}).get("id") or data.get("primary_id")
                return status, payload, extra, Write(method, path, ticket_id, data, self.now())
            status, payload, extra = handler(*args, query)
            return status, payload, extra, None
        if allowed:
            # Server code api/app/controllers/api_application_controller.rb
            # (Ramesh-Veeriaperumal/freshconsult) ``render_405_error``: a base error with
            # code method_not_allowed and an ``Allow`` header; docs "Errors": 405.
            raise ApiError(
                405,
                {
                    "code": "method_not_allowed",
                    "message": f"{', '.join(allowed)} method is allowed. {method} method is not "
                    "allowed for this resource",
                },
                {"Allow": ", ".join(allowed)},
            )
        # Same file, ``log_and_render_404``: ``head 404``, no body (docs "Errors": 404).
        raise ApiError(404, None)

    @staticmethod
    def _body(headers: Mapping[str, str], body: bytes) -> Json:
        # Docs "Errors": 415 for a content type other than JSON, ``invalid_json`` for a body
        # that does not parse (shared/reference/freshdesk.md, server-code facts).
        if "application/json" not in headers.get("content-type", ""):
            raise ApiError(
                415,
                {
                    "code": "invalid_content_type",
                    "message": "Content-Type header should have application/json",
                },
            )
        try:
            data = json.loads(body or b"")
        except ValueError:
            raise ApiError(
                400, {"code": "invalid_json", "message": "Request body has invalid json format"}
            ) from None
        if not isinstance(data, dict):
            raise ApiError(
                400, {"code": "invalid_json", "message": "Request body has invalid json format"}
            )
        return data

    # ------------------------------------------------------------------ pagination

    @staticmethod
    def _int_param(query: Mapping[str, list[str]], name: str, default: int) -> int:
        raw = query.get(name, [str(default)])[-1]
        if not raw.isdigit() or int(raw) < 1:
            raise validation(name, "It should be a/an Positive Integer", "datatype_mismatch")
        return int(raw)

    def _page(
        self, items: list[Any], query: Mapping[str, list[str]], path: str, *, cap: int | None = None
    ) -> tuple[list[Any], dict[str, str]]:
        per_page = self._int_param(query, "per_page", 30)
        if per_page > self.per_page_max:
            raise validation(
                "per_page",
                f"It should be a/an Positive Integer less than or equal to {self.per_page_max}",
                "invalid_value",
            )
        page = self._int_param(query, "page", 1)
        if cap is not None and page > cap:
            raise validation("page", PAGE_CAP_MESSAGE.replace("300", str(cap)), "invalid_value")
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        headers: dict[str, str] = {}
        if len(items) > start + per_page:
            params = {k: v[-1] for k, v in query.items() if k != "page"}
            params["page"] = str(page + 1)
            # The real Link echoes query values unescaped (a "+" offset then breaks page 2).
            text = "&".join(f"{k}={v}" for k, v in params.items())
            headers["Link"] = f'<{self.base_url}{path}?{text}>; rel="next"'
        return chunk, headers

    def _get(self, ticket_id: int, *, include_hidden: bool = True) -> StoredTicket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or (not include_hidden and (ticket.spam or ticket.deleted)):
            raise ApiError(404, None)
        return ticket
