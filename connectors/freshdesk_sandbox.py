"""A stateful fake of the Freshdesk API v2 subset helpdesk-sync uses, following the contract.

Theory of operation
-------------------
``FreshdeskSandbox`` holds one account's state (tickets, conversations, groups, agents,
contacts, ticket fields with custom statuses) behind a lock, and answers every request
through one pure-ish handler::

    handle(method, path, query, headers, body) -> (status, headers, body)

Two thin adapters put it on the wire: ``install(rsps)`` registers ``responses`` callbacks
(unit tests, no sockets) and ``serve()`` runs a ``ThreadingHTTPServer`` on loopback (the
``demo`` command and subprocess crash tests; ``python -m connectors.freshdesk_sandbox``).

Behaviour follows ``shared/reference/freshdesk.md``: inclusive ``updated_since``, the
300-page cap and its exact 400 body, ``Link: <...>; rel="next"`` echoing query values
unescaped, the 30-day default window, credits and per-minute windows with
``X-RateLimit-*`` headers and 429 + ``Retry-After``, status ids valid per account, notes
bumping ``updated_at``, ``parent_id`` only on create, merge → 204. ``shuffle_ties`` makes
the order among tickets sharing one ``updated_at`` random per request (the real order is
not guaranteed), so clients are tested against it. ``Faults`` inject 429 bursts, 5xx
bursts, timeouts, slow answers, dropped connections and a hook right after a write.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Json = dict[str, Any]
Response = tuple[int, dict[str, str], bytes]

DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_BASE_URL = "https://sandbox.freshdesk.com"
DEFAULT_STATUSES: dict[int, tuple[str, str]] = {
    2: ("Open", "Being Processed"),
    3: ("Pending", "Awaiting your Reply"),
    4: ("Resolved", "This ticket has been Resolved"),
    5: ("Closed", "This ticket has been Closed"),
}
PRIORITIES = {"Low": 1, "Medium": 2, "High": 3, "Urgent": 4}
DEFAULT_TYPES = ("Question", "Incident", "Problem", "Feature Request", "Refund")
PAGE_CAP_MESSAGE = (
    "You cannot access tickets beyond the 300th page. Please provide a smaller page number."
)
UNAUTHORIZED = {
    "code": "invalid_credentials",
    "message": "You have to be logged in to perform this action.",
}
ACCESS_DENIED = {
    "code": "access_denied",
    "message": "You are not authorized to perform this action.",
}
SERVER_ERROR_BODIES: Mapping[int, bytes] = {
    500: b'{"code":"internal_error","message":"We\'re sorry, but something went wrong."}',
    502: b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>",
    503: b"<html><body><h1>503 Service Unavailable</h1>Please try again later.</body></html>",
    504: b"<html><body><h1>504 Gateway Time-out</h1></body></html>",
}


def fmt(moment: datetime) -> str:
    """Freshdesk's timestamp format: UTC, second precision, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_moment(text: str) -> datetime | None:
    """A date or date-time as the API accepts it; no offset means UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class DroppedConnection(Exception):
    """The handler asks its adapter to close the connection without any response."""


class SandboxTimeout(Exception):
    """The handler asks its adapter to time the client out."""


@dataclass(frozen=True, slots=True)
class RatePlan:
    """Per-minute limits of a Freshdesk plan (reference table); None = no sub-limit."""

    name: str
    per_minute: int
    tickets_list: int | None = None
    ticket_create: int | None = None
    ticket_update: int | None = None


PLANS: Mapping[str, RatePlan] = {
    "trial": RatePlan("trial", 50),
    "growth": RatePlan("growth", 200, 20, 80, 80),
    "pro": RatePlan("pro", 400, 100, 160, 160),
    "enterprise": RatePlan("enterprise", 700, 200, 280, 280),
    "unlimited": RatePlan("unlimited", 10**9),
}


@dataclass(frozen=True, slots=True)
class Write:
    """One successful write as the sandbox received it."""

    method: str
    path: str
    ticket_id: int | None
    """The ticket written: the path's id, the created ticket's id, or a merge's primary."""
    body: Any
    at: datetime


@dataclass(frozen=True, slots=True)
class Call:
    """One request the sandbox answered (or refused)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    status: int
    credits: int


@dataclass(slots=True)
class Faults:
    """Failures to inject; counts are consumed by the matching requests.

    ``path``/``method`` restrict the faults to matching requests (``path`` is a regex
    searched in the URL path). Per request the order is: dropped, timeouts, rate_limited,
    server_errors, slow; after a successful write: ``after_write`` then
    ``dropped_after_write`` (the write happened, the answer is lost).
    """

    rate_limited: int = 0
    retry_after: int = 2
    server_errors: int = 0
    server_error_status: int = 503
    timeouts: int = 0
    dropped: int = 0
    dropped_after_write: int = 0
    slow: int = 0
    delay: float = 0.0
    path: str | None = None
    method: str | None = None
    after_write: Callable[[Write], None] | None = None

    def matches(self, method: str, path: str) -> bool:
        """True when this set applies to the request."""
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, path) is not None


@dataclass(slots=True)
class _Ticket:
    id: int
    subject: str
    description: str
    status: int
    priority: int
    source: int
    type: str | None
    group_id: int | None
    responder_id: int | None
    requester_id: int
    company_id: int | None
    custom_fields: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    due_by: datetime
    fr_due_by: datetime
    attachments: list[Json] = field(default_factory=list)
    spam: bool = False
    deleted: bool = False
    parent_id: int | None = None
    children: list[int] = field(default_factory=list)
    merged_into: int | None = None


@dataclass(frozen=True, slots=True)
class _CustomField:
    name: str
    label: str
    type: str
    choices: tuple[str, ...] = ()


class _ApiError(Exception):
    """Raised inside route handlers; becomes the HTTP answer."""

    def __init__(self, status: int, body: Json | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _validation(field_name: str | None, message: str, code: str, status: int = 400) -> _ApiError:
    item: Json = {"message": message, "code": code}
    if field_name:
        item = {"field": field_name, **item}
    return _ApiError(status, {"description": "Validation failed", "errors": [item]})


def _strip_html(html: str) -> str:
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", html, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#x27;", "'")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&").strip()


class FreshdeskSandbox:
    """One fake Freshdesk account; every public method is thread-safe."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        clock: Callable[[], datetime] | None = None,
        plan: RatePlan | str = "unlimited",
        per_page_max: int = 100,
        page_cap: int = 300,
        shuffle_ties: bool = False,
        seed: int = 0,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        base_url: str = DEFAULT_BASE_URL,
        status_labels: Mapping[int, str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.time_scale = time_scale
        self.clock = clock or self._scaled_clock(time_scale)
        self.plan = PLANS[plan] if isinstance(plan, str) else plan
        self.per_page_max = per_page_max
        self.page_cap = page_cap
        self.shuffle_ties = shuffle_ties
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self.faults: list[Faults] = []
        self.writes: list[Write] = []
        self.calls: list[Call] = []
        self.tickets: dict[int, _Ticket] = {}
        self.conversations: dict[int, list[Json]] = {}
        self.groups: dict[int, Json] = {}
        self.agents: dict[int, Json] = {}
        self.contacts: dict[int, Json] = {}
        self.statuses: dict[int, tuple[str, str]] = dict(DEFAULT_STATUSES)
        for status_id, label in (status_labels or {}).items():
            self.statuses[status_id] = (label, self.statuses.get(status_id, (label, label))[1])
        self.custom_fields: dict[str, _CustomField] = {}
        self.ticket_types: list[str] = list(DEFAULT_TYPES)
        self._lock = threading.RLock()
        self._rng = random.Random(seed)  # noqa: S311 - test data, not security
        self._ids = {"ticket": 0, "conversation": 1000, "group": 100, "agent": 500, "contact": 900}
        self._attachment_id = 5000
        self._request_no = 0
        self._window: int | None = None
        self._used: dict[str, int] = {}
        self.me = self.add_agent("Sandbox Admin", "admin@sandbox.example")
        self.default_requester = self.add_contact("Cliente Exemplo", "cliente@example.com")

    @staticmethod
    def _scaled_clock(scale: float) -> Callable[[], datetime]:
        start_wall = datetime.now(UTC)
        start_mono = time.monotonic()
        if scale == 1:
            return lambda: datetime.now(UTC)
        return lambda: start_wall + timedelta(seconds=(time.monotonic() - start_mono) * scale)

    def now(self) -> datetime:
        """The sandbox time, truncated to seconds like every Freshdesk timestamp."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    # ------------------------------------------------------------------ seeding

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def add_group(self, name: str) -> int:
        """A group (what tickets are routed to); returns its id."""
        with self._lock:
            group_id = self._next("group")
            stamp = fmt(self.now())
            self.groups[group_id] = {
                "id": group_id,
                "name": name,
                "description": None,
                "escalate_to": None,
                "unassigned_for": None,
                "business_hour_id": None,
                "group_type": "support_agent_group",
                "agent_ids": [],
                "auto_ticket_assign": False,
                "created_at": stamp,
                "updated_at": stamp,
            }
            return group_id

    def add_agent(self, name: str, email: str) -> int:
        """An agent (what ``responder_id`` takes); returns its id."""
        with self._lock:
            agent_id = self._next("agent")
            stamp = fmt(self.now())
            self.agents[agent_id] = {
                "id": agent_id,
                "available": True,
                "occasional": False,
                "signature": None,
                "ticket_scope": 1,
                "group_ids": [],
                "role_ids": [],
                "type": "support_agent",
                "created_at": stamp,
                "updated_at": stamp,
                "contact": {
                    "active": True,
                    "email": email,
                    "job_title": None,
                    "language": "pt-BR",
                    "mobile": None,
                    "name": name,
                    "phone": None,
                    "time_zone": "Brasilia",
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            }
            return agent_id

    def add_contact(self, name: str, email: str) -> int:
        """A requester; returns its id."""
        with self._lock:
            contact_id = self._next("contact")
            self.contacts[contact_id] = {
                "id": contact_id,
                "name": name,
                "email": email,
                "mobile": None,
                "phone": None,
            }
            return contact_id

    def add_custom_status(self, name: str, customer_label: str | None = None) -> int:
        """A custom status (ids from 6 up); returns its id."""
        with self._lock:
            status_id = max(self.statuses) + 1
            self.statuses[status_id] = (name, customer_label or name)
            return status_id

    def add_custom_field(
        self,
        name: str,
        label: str | None = None,
        *,
        type: str = "custom_text",
        choices: Sequence[str] = (),
    ) -> str:
        """A custom ticket field (``cf_...``; ``type`` custom_text|custom_dropdown|custom_date)."""
        with self._lock:
            self.custom_fields[name] = _CustomField(name, label or name, type, tuple(choices))
            for ticket in self.tickets.values():
                ticket.custom_fields.setdefault(name, None)
            return name

    def add_ticket(
        self,
        subject: str,
        *,
        status: int = 2,
        priority: int = 1,
        group_id: int | None = None,
        responder_id: int | None = None,
        requester_id: int | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        type: str | None = None,
        tags: Iterable[str] = (),
        description: str = "",
        attachments: Iterable[tuple[str, str] | Json] = (),
        spam: bool = False,
        deleted: bool = False,
    ) -> int:
        """A ticket as if created earlier; returns its id (custom fields need not exist)."""
        with self._lock:
            ticket_id = self._next("ticket")
            created = (created_at or self.now()).astimezone(UTC).replace(microsecond=0)
            updated = (updated_at or created).astimezone(UTC).replace(microsecond=0)
            values = {name: None for name in self.custom_fields}
            for name in custom_fields or {}:
                if name not in self.custom_fields:
                    self.custom_fields[name] = _CustomField(name, name, "custom_text")
            values.update(custom_fields or {})
            self.tickets[ticket_id] = _Ticket(
                id=ticket_id,
                subject=subject,
                description=description,
                status=status,
                priority=priority,
                source=2,
                type=type,
                group_id=group_id,
                responder_id=responder_id,
                requester_id=requester_id or self.default_requester,
                company_id=None,
                custom_fields=values,
                tags=list(tags),
                created_at=created,
                updated_at=updated,
                due_by=created + timedelta(days=3),
                fr_due_by=created + timedelta(days=1),
                attachments=[self._attachment(a, created) for a in attachments],
                spam=spam,
                deleted=deleted,
            )
            self.conversations[ticket_id] = []
            return ticket_id

    def add_note(
        self,
        ticket_id: int,
        body: str,
        *,
        private: bool = True,
        created_at: datetime | None = None,
        attachments: Iterable[tuple[str, str] | Json] = (),
        user_id: int | None = None,
        incoming: bool = False,
        source: int = 2,
        bump: bool = True,
    ) -> int:
        """A conversation entry (a note by default, ``source=0`` for a reply); returns its id.

        Like the API, the ticket's ``updated_at`` moves to the note's time (``bump``).
        """
        with self._lock:
            at = (created_at or self.now()).astimezone(UTC).replace(microsecond=0)
            note = self._conversation(
                ticket_id, body, private, at, attachments, user_id, incoming, source
            )
            if bump:
                self.tickets[ticket_id].updated_at = max(self.tickets[ticket_id].updated_at, at)
            return int(note["id"])

    def touch(self, ticket_id: int, updated_at: datetime) -> None:
        """Set a ticket's ``updated_at`` (tests that need many tickets in one second)."""
        with self._lock:
            self.tickets[ticket_id].updated_at = updated_at.astimezone(UTC).replace(microsecond=0)

    def inject(self, faults: Faults) -> Faults:
        """Activate a set of faults (consumed by count); returns it for inspection."""
        with self._lock:
            self.faults.append(faults)
            return faults

    def _attachment(self, spec: tuple[str, str] | Json, at: datetime) -> Json:
        self._attachment_id += 1
        if isinstance(spec, tuple):
            spec = {"name": spec[0], "content_type": spec[1]}
        return {
            "id": self._attachment_id,
            "name": spec["name"],
            "content_type": spec.get("content_type", "application/octet-stream"),
            "size": spec.get("size", 1024),
            "attachment_url": f"https://sandbox-attachments.example/{self._attachment_id}",
            "created_at": fmt(at),
            "updated_at": fmt(at),
        }

    def _conversation(
        self,
        ticket_id: int,
        body: str,
        private: bool,
        at: datetime,
        attachments: Iterable[tuple[str, str] | Json],
        user_id: int | None,
        incoming: bool,
        source: int,
    ) -> Json:
        note = {
            "id": self._next("conversation"),
            "body": body,
            "body_text": _strip_html(body),
            "incoming": incoming,
            "private": private,
            "user_id": user_id or self.me,
            "support_email": None,
            "source": source,
            "ticket_id": ticket_id,
            "to_emails": [],
            "attachments": [self._attachment(a, at) for a in attachments],
            "created_at": fmt(at),
            "updated_at": fmt(at),
            "last_edited_at": None,
            "last_edited_user_id": None,
        }
        self.conversations.setdefault(ticket_id, []).append(note)
        return note

    # ------------------------------------------------------------------ handler

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
            fault = self._take_fault(method, path)
        if fault == "dropped":
            self._log(method, path, query, 0, 0)
            raise DroppedConnection(path)
        if fault == "timeout":
            self._log(method, path, query, 0, 0)
            raise SandboxTimeout(path)
        if isinstance(fault, tuple):
            kind, value = fault
            if kind == "slow":
                self.sleep(value)
            elif kind == "429":
                self._log(method, path, query, 429, 0)
                return (
                    429,
                    {"Retry-After": str(value), "X-Request-Id": request_id},
                    b"Rate limit exceeded",
                )
            else:
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
                    b"Rate limit exceeded",
                )
            rate_headers = {
                "X-RateLimit-Total": str(self.plan.per_minute),
                "X-RateLimit-Remaining": str(max(0, self.plan.per_minute - self._used["total"])),
                "X-RateLimit-Used-CurrentRequest": str(credits),
                "X-Request-Id": request_id,
            }
            try:
                status, payload, extra, write = self._route(method, path, query, lowered, body)
            except _ApiError as exc:
                status, payload, extra, write = exc.status, exc.body, {}, None
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

    def _take_fault(self, method: str, path: str) -> str | tuple[str, Any] | None:
        for faults in self.faults:
            if not faults.matches(method, path):
                continue
            if faults.dropped > 0:
                faults.dropped -= 1
                return "dropped"
            if faults.timeouts > 0:
                faults.timeouts -= 1
                return "timeout"
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                return ("429", faults.retry_after)
            if faults.server_errors > 0:
                faults.server_errors -= 1
                return ("5xx", faults.server_error_status)
            if faults.slow > 0:
                faults.slow -= 1
                return ("slow", faults.delay)
        return None

    def _take_after_write(self, method: str, path: str) -> bool:
        for faults in self.faults:
            if faults.dropped_after_write > 0 and faults.matches(method, path):
                faults.dropped_after_write -= 1
                return True
        return False

    # ------------------------------------------------------------------ rate limits

    def _credits(self, method: str, path: str, query: Mapping[str, list[str]]) -> int:
        includes = [v for raw in query.get("include", []) for v in raw.split(",") if v]
        if method == "GET" and path == "/api/v2/tickets":
            return 1 + 2 * len(includes)
        if method == "GET" and re.fullmatch(r"/api/v2/tickets/\d+", path):
            return 1 + len(includes)
        return 1

    def _bucket(self, method: str, path: str) -> str | None:
        if path == "/api/v2/tickets":
            return {"GET": "tickets_list", "POST": "ticket_create"}.get(method)
        if method == "PUT" and re.fullmatch(r"/api/v2/tickets/\d+", path):
            return "ticket_update"
        return None

    def _consume(self, method: str, path: str, credits: int) -> int | None:
        """Charge a call to the minute window; the Retry-After seconds when over a limit."""
        now = self.clock().astimezone(UTC)
        window = math.floor(now.timestamp() / 60)
        if window != self._window:
            self._window = window
            self._used = {"total": 0}
        left = 60 - (now.timestamp() - window * 60)
        retry_after = max(1, math.ceil(left / self.time_scale))
        if self._used["total"] + credits > self.plan.per_minute:
            return retry_after
        bucket = self._bucket(method, path)
        limit = getattr(self.plan, bucket) if bucket else None
        if bucket and limit is not None and self._used.get(bucket, 0) + 1 > limit:
            return retry_after
        self._used["total"] += credits
        if bucket:
            self._used[bucket] = self._used.get(bucket, 0) + 1
        return None

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
        ("GET", re.compile(r"/api/v2/agents/me"), "_me"),
        ("GET", re.compile(r"/api/v2/agents"), "_agents"),
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
            raise _ApiError(
                405,
                {
                    "code": "method_not_allowed",
                    "message": f"{', '.join(allowed)} method is allowed. {method} method is not "
                    "allowed for this resource",
                },
            )
        raise _ApiError(404, None)

    @staticmethod
    def _body(headers: Mapping[str, str], body: bytes) -> Json:
        if "application/json" not in headers.get("content-type", ""):
            raise _ApiError(
                415,
                {
                    "code": "invalid_content_type",
                    "message": "Content-Type header should have application/json",
                },
            )
        try:
            data = json.loads(body or b"")
        except ValueError:
            raise _ApiError(
                400, {"code": "invalid_json", "message": "Request body has invalid json format"}
            ) from None
        if not isinstance(data, dict):
            raise _ApiError(
                400, {"code": "invalid_json", "message": "Request body has invalid json format"}
            )
        return data

    # ------------------------------------------------------------------ pagination

    @staticmethod
    def _int_param(query: Mapping[str, list[str]], name: str, default: int) -> int:
        raw = query.get(name, [str(default)])[-1]
        if not raw.isdigit() or int(raw) < 1:
            raise _validation(name, "It should be a/an Positive Integer", "datatype_mismatch")
        return int(raw)

    def _page(
        self, items: list[Any], query: Mapping[str, list[str]], path: str, *, cap: int | None = None
    ) -> tuple[list[Any], dict[str, str]]:
        per_page = self._int_param(query, "per_page", 30)
        if per_page > self.per_page_max:
            raise _validation(
                "per_page",
                f"It should be a/an Positive Integer less than or equal to {self.per_page_max}",
                "invalid_value",
            )
        page = self._int_param(query, "page", 1)
        if cap is not None and page > cap:
            raise _validation("page", PAGE_CAP_MESSAGE.replace("300", str(cap)), "invalid_value")
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

    # ------------------------------------------------------------------ tickets

    def _visible(self, ticket: _Ticket, query: Mapping[str, list[str]]) -> bool:
        wanted = query.get("filter", [""])[-1]
        if wanted == "spam":
            return ticket.spam and not ticket.deleted
        if wanted == "deleted":
            return ticket.deleted
        if ticket.spam or ticket.deleted:
            return False
        if wanted == "new_and_my_open":
            return ticket.status == 2 and ticket.responder_id in (None, self.me)
        return wanted != "watching"

    def _list_tickets(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        one = {k: v[-1] for k, v in query.items()}
        order_by = one.get("order_by", "created_at")
        if order_by not in ("created_at", "due_by", "updated_at", "status", "priority"):
            raise _validation(
                "order_by",
                "It should be one of these values: 'created_at,due_by,updated_at,status'",
                "invalid_value",
            )
        order_type = one.get("order_type", "desc")
        if order_type not in ("asc", "desc"):
            raise _validation(
                "order_type", "It should be one of these values: 'asc,desc'", "invalid_value"
            )
        includes = [v for v in one.get("include", "").split(",") if v]
        for item in includes:
            if item not in ("description", "requester", "stats"):
                raise _validation(
                    "include",
                    "It should be one of these values: 'requester,stats,description'",
                    "invalid_value",
                )
        filters = (
            "filter",
            "requester_id",
            "email",
            "company_id",
            "updated_since",
            "unique_external_id",
        )
        since: datetime | None = None
        if "updated_since" in one:
            since = _parse_moment(one["updated_since"])
            if since is None:
                raise _validation(
                    "updated_since", "It should be in the 'valid date time' format", "invalid_date"
                )
        rows = [t for t in self.tickets.values() if self._visible(t, query)]
        if since is not None:
            rows = [t for t in rows if t.updated_at >= since]
        if not any(name in one for name in filters):
            # Server code: created since the start of today minus one calendar month.
            today = self.now().date()
            month_ago = (today.replace(day=1) - timedelta(days=1)).replace(
                day=min(today.day, (today.replace(day=1) - timedelta(days=1)).day)
            )
            floor = datetime.combine(month_ago, datetime.min.time(), UTC)
            rows = [t for t in rows if t.created_at >= floor]
        if "requester_id" in one:
            rows = [t for t in rows if str(t.requester_id) == one["requester_id"]]
        if "email" in one:
            ids = {c["id"] for c in self.contacts.values() if c["email"] == one["email"]}
            rows = [t for t in rows if t.requester_id in ids]
        if "company_id" in one:
            rows = [t for t in rows if str(t.company_id) == one["company_id"]]
        ties = {t.id: (self._rng.random() if self.shuffle_ties else t.id) for t in rows}
        rows.sort(key=lambda t: (getattr(t, order_by), ties[t.id]), reverse=order_type == "desc")
        chunk, headers = self._page(rows, query, "/api/v2/tickets", cap=self.page_cap)
        out = []
        for ticket in chunk:
            data = self._ticket_json(ticket, view=False)
            if "description" in includes:
                data["description"] = ticket.description
                data["description_text"] = _strip_html(ticket.description)
            if "requester" in includes:
                data["requester"] = self.contacts.get(ticket.requester_id)
            if "stats" in includes:
                data["stats"] = {"resolved_at": None, "closed_at": None, "first_responded_at": None}
            out.append(data)
        return 200, out, headers

    def _ticket_json(self, ticket: _Ticket, *, view: bool) -> Json:
        data: Json = {
            "cc_emails": [],
            "fwd_emails": [],
            "reply_cc_emails": [],
            "ticket_cc_emails": [],
            "fr_escalated": False,
            "spam": ticket.spam,
            "email_config_id": None,
            "group_id": ticket.group_id,
            "priority": ticket.priority,
            "requester_id": ticket.requester_id,
            "responder_id": ticket.responder_id,
            "source": ticket.source,
            "company_id": ticket.company_id,
            "status": ticket.status,
            "subject": ticket.subject,
            "association_type": 2 if ticket.parent_id else (1 if ticket.children else None),
            "support_email": None,
            "to_emails": None,
            "product_id": None,
            "id": ticket.id,
            "type": ticket.type,
            "due_by": fmt(ticket.due_by),
            "fr_due_by": fmt(ticket.fr_due_by),
            "is_escalated": False,
            "custom_fields": dict(ticket.custom_fields),
            "created_at": fmt(ticket.created_at),
            "updated_at": fmt(ticket.updated_at),
            "associated_tickets_count": len(ticket.children) if ticket.children else None,
            "tags": list(ticket.tags),
        }
        if view:
            data["description"] = ticket.description
            data["description_text"] = _strip_html(ticket.description)
            data["attachments"] = [dict(a) for a in ticket.attachments]
            data["source_additional_info"] = None
            if ticket.parent_id:
                data["associated_tickets_list"] = [ticket.parent_id]
            elif ticket.children:
                data["associated_tickets_list"] = list(ticket.children)
        return data

    def _get(self, ticket_id: int, *, include_hidden: bool = True) -> _Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or (not include_hidden and (ticket.spam or ticket.deleted)):
            raise _ApiError(404, None)
        return ticket

    def _view_ticket(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        data = self._ticket_json(ticket, view=True)
        includes = [v for raw in query.get("include", []) for v in raw.split(",") if v]
        for item in includes:
            if item not in ("conversations", "requester", "company", "stats"):
                raise _validation(
                    "include",
                    "It should be one of these values: 'conversations,requester,company,stats'",
                    "invalid_value",
                )
        if "conversations" in includes:
            data["conversations"] = [dict(c) for c in self.conversations.get(ticket_id, [])[:10]]
        if "requester" in includes:
            data["requester"] = self.contacts.get(ticket.requester_id)
        if "stats" in includes:
            data["stats"] = {"resolved_at": None, "closed_at": None, "first_responded_at": None}
        return 200, data, {}

    def _list_conversations(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        self._get(ticket_id)
        items = sorted(
            self.conversations.get(ticket_id, []), key=lambda c: (c["created_at"], c["id"])
        )
        chunk, headers = self._page(items, query, f"/api/v2/tickets/{ticket_id}/conversations")
        return 200, [dict(c) for c in chunk], headers

    def _associated(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        related = ticket.children or ([ticket.parent_id] if ticket.parent_id else [])
        return 200, [self._ticket_json(self.tickets[i], view=True) for i in related], {}

    # ------------------------------------------------------------------ writes

    def _check_fields(self, data: Json, allowed: Iterable[str]) -> None:
        unknown = [k for k in data if k not in allowed]
        if unknown:
            raise _validation(unknown[0], "Unexpected/invalid field in request", "invalid_field")
        for name in ("tags", "custom_fields", "cc_emails", "attachments"):
            if name in data and data[name] is None:
                kind = "key/value pair" if name == "custom_fields" else "Array"
                raise _validation(
                    name, f"Value set is of type Null.It should be a/an {kind}", "datatype_mismatch"
                )
        if "status" in data and data["status"] not in self.statuses:
            valid = ",".join(str(s) for s in sorted(self.statuses))
            raise _validation(
                "status", f"It should be one of these values: '{valid}'", "invalid_value"
            )
        if "priority" in data and data["priority"] not in (1, 2, 3, 4):
            raise _validation(
                "priority", "It should be one of these values: '1,2,3,4'", "invalid_value"
            )
        if data.get("group_id") is not None and data["group_id"] not in self.groups:
            raise _validation(
                "group_id", "There is no group matching the given group_id", "invalid_value"
            )
        if data.get("responder_id") is not None and data["responder_id"] not in self.agents:
            raise _validation(
                "responder_id", "There is no agent matching the given responder_id", "invalid_value"
            )
        if data.get("type") is not None and data["type"] not in self.ticket_types:
            valid = ",".join(self.ticket_types)
            raise _validation(
                "type", f"It should be one of these values: '{valid}'", "invalid_value"
            )
        if "tags" in data and not (
            isinstance(data["tags"], list) and all(isinstance(t, str) for t in data["tags"])
        ):
            raise _validation("tags", "It should be a/an Array", "datatype_mismatch")
        if "custom_fields" in data:
            values = data["custom_fields"]
            if not isinstance(values, dict):
                raise _validation(
                    "custom_fields", "It should be a/an key/value pair", "datatype_mismatch"
                )
            for name, value in values.items():
                spec = self.custom_fields.get(name)
                if spec is None:
                    raise _validation(name, "Unexpected/invalid field in request", "invalid_field")
                if spec.type == "custom_date" and value is not None:
                    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                        raise _validation(
                            name, "It should be in the 'valid date' format", "invalid_date"
                        )
                if (
                    spec.type == "custom_dropdown"
                    and value is not None
                    and value not in spec.choices
                ):
                    valid = ",".join(spec.choices)
                    raise _validation(
                        name, f"It should be one of these values: '{valid}'", "invalid_value"
                    )

    _UPDATABLE = (
        "status",
        "priority",
        "group_id",
        "responder_id",
        "type",
        "tags",
        "custom_fields",
        "subject",
        "description",
        "due_by",
        "fr_due_by",
        "company_id",
        "source",
    )

    def _update_ticket(self, ticket_id: int, data: Json) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        if ticket.spam or ticket.deleted:
            raise _ApiError(
                405, {"code": "method_not_allowed", "message": "Ticket is spam or deleted"}
            )
        if not data:
            raise _ApiError(
                400,
                {
                    "description": "Validation failed",
                    "errors": [
                        {"message": "Mandatory attributes missing", "code": "missing_params"}
                    ],
                },
            )
        if "parent_id" in data:  # the server code refuses it on update: create children instead
            raise _validation("parent_id", "Unexpected/invalid field in request", "invalid_field")
        self._check_fields(data, self._UPDATABLE)
        if data.get("status") in (4, 5) and any(
            self.tickets[c].status not in (4, 5) for c in ticket.children
        ):
            raise _validation(
                "status",
                "The parent ticket cannot be resolved or closed until all child tickets are",
                "invalid_value",
            )
        changed = False
        for name, value in data.items():
            if name == "custom_fields":
                merged = {**ticket.custom_fields, **value}
                changed |= merged != ticket.custom_fields
                ticket.custom_fields = merged
                continue
            if name in ("due_by", "fr_due_by"):
                value = _parse_moment(str(value)) or getattr(ticket, name)
            if getattr(ticket, name) != value:
                setattr(ticket, name, list(value) if name == "tags" else value)
                changed = True
        if changed:
            ticket.updated_at = max(ticket.updated_at, self.now())
        return 200, self._ticket_json(ticket, view=True), {}

    def _create_ticket(self, data: Json) -> tuple[int, Any, dict[str, str]]:
        allowed = (
            *self._UPDATABLE,
            "parent_id",
            "requester_id",
            "email",
            "phone",
            "name",
            "cc_emails",
        )
        self._check_fields(data, allowed)
        for name in ("status", "priority"):
            if name not in data:  # the server code demands both although the docs give defaults
                valid = ",".join(
                    str(s) for s in (sorted(self.statuses) if name == "status" else (1, 2, 3, 4))
                )
                raise _validation(
                    name, f"It should be one of these values: '{valid}'", "missing_field"
                )
        if not data.get("subject"):
            raise _validation("subject", "It should be a/an String", "missing_field")
        requester = data.get("requester_id")
        if requester is not None and requester not in self.contacts:
            raise _validation(
                "requester_id",
                "There is no contact matching the given requester_id",
                "invalid_value",
            )
        if requester is None and data.get("email"):
            requester = next(
                (c["id"] for c in self.contacts.values() if c["email"] == data["email"]), None
            ) or self.add_contact(data.get("name") or data["email"], data["email"])
        if requester is None:
            raise _validation(
                "requester_id",
                "Please fill at least 1 of email, mobile, phone, twitter_id, unique_external_id, "
                "requester_id, facebook_id fields",
                "missing_field",
            )
        parent_id = data.get("parent_id")
        if parent_id is not None:
            parent = self.tickets.get(parent_id)
            if parent is None or parent.deleted or parent.spam:
                raise _ApiError(403, dict(ACCESS_DENIED))
            if parent.parent_id is not None:
                raise _validation(
                    "parent_id", "A child ticket cannot be a parent ticket", "invalid_value"
                )
        now = self.now()
        ticket_id = self.add_ticket(
            data["subject"],
            status=data["status"],
            priority=data["priority"],
            group_id=data.get("group_id"),
            responder_id=data.get("responder_id"),
            requester_id=requester,
            custom_fields=data.get("custom_fields"),
            created_at=now,
            type=data.get("type"),
            tags=data.get("tags") or (),
            description=data.get("description", ""),
        )
        ticket = self.tickets[ticket_id]
        if parent_id is not None:
            ticket.parent_id = parent_id
            self.tickets[parent_id].children.append(ticket_id)
        location = {"Location": f"{self.base_url}/api/v2/tickets/{ticket_id}"}
        return 201, self._ticket_json(ticket, view=True), location

    def _create_note(self, ticket_id: int, data: Json) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        if ticket.spam or ticket.deleted:
            raise _ApiError(
                405, {"code": "method_not_allowed", "message": "Ticket is spam or deleted"}
            )
        self._check_fields(data, ("body", "private", "incoming", "notify_emails", "user_id"))
        if not isinstance(data.get("body"), str) or not data["body"]:
            raise _validation("body", "It should be a/an String", "missing_field")
        user_id = data.get("user_id")
        if user_id is not None and user_id not in self.agents:
            raise _validation(
                "user_id", "There is no agent matching the given user_id", "invalid_value"
            )
        now = self.now()
        note = self._conversation(
            ticket_id,
            data["body"],
            bool(data.get("private", True)),
            now,
            (),
            user_id,
            bool(data.get("incoming", False)),
            2,
        )
        ticket.updated_at = now  # the server code sets updated_at to the note's time
        location = {
            "Location": f"{self.base_url}/api/v2/tickets/{ticket_id}/conversations/{note['id']}"
        }
        return 201, dict(note), location

    def _merge(self, data: Json) -> tuple[int, Any, dict[str, str]]:
        self._check_fields(
            data,
            (
                "primary_id",
                "ticket_ids",
                "note_in_primary",
                "note_in_secondary",
                "convert_recepients_to_cc",
            ),
        )
        primary_id = data.get("primary_id")
        ids = data.get("ticket_ids")
        if not isinstance(primary_id, int):
            raise _validation("primary_id", "It should be a/an Positive Integer", "missing_field")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise _validation("ticket_ids", "It should be a/an Array", "missing_field")
        primary = self._get(primary_id, include_hidden=False)
        secondaries = [self._get(i, include_hidden=False) for i in ids if i != primary_id]
        if not secondaries:
            raise _validation(
                "ticket_ids", "There should be at least one secondary ticket", "invalid_value"
            )
        for ticket in secondaries:
            if ticket.merged_into is not None:
                raise _validation(
                    "ticket_ids", f"Ticket {ticket.id} is already merged", "invalid_value"
                )
        now = self.now()
        for ticket in secondaries:
            ticket.merged_into = primary.id
            ticket.status = 5
            text = (data.get("note_in_secondary") or {}).get("body") or (
                f"This ticket is closed and merged into ticket {primary.id}"
            )
            self._conversation(ticket.id, text, True, now, (), None, False, 2)
            ticket.updated_at = now
        text = (data.get("note_in_primary") or {}).get("body") or (
            "Merged from tickets " + ", ".join(str(t.id) for t in secondaries)
        )
        self._conversation(primary.id, text, True, now, (), None, False, 2)
        primary.updated_at = now
        return 204, None, {}

    # ------------------------------------------------------------------ lookups

    def _ticket_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        stamp = fmt(self.now())

        def default(position: int, name: str, label: str, ftype: str, choices: Any = None) -> Json:
            item: Json = {
                "id": position,
                "name": name,
                "label": label,
                "label_for_customers": label,
                "description": label,
                "position": position,
                "required_for_closure": False,
                "required_for_agents": False,
                "required_for_customers": False,
                "customers_can_edit": False,
                "displayed_to_customers": True,
                "type": ftype,
                "default": True,
                "created_at": stamp,
                "updated_at": stamp,
            }
            if choices is not None:
                item["choices"] = choices
            return item

        fields = [
            default(1, "requester", "Search a requester", "default_requester"),
            default(2, "subject", "Subject", "default_subject"),
            default(3, "ticket_type", "Type", "default_ticket_type", list(self.ticket_types)),
            default(4, "source", "Source", "default_source", {"Email": 1, "Portal": 2, "Phone": 3}),
            default(
                5,
                "status",
                "Status",
                "default_status",
                {str(k): list(v) for k, v in sorted(self.statuses.items())},
            ),
            default(6, "priority", "Priority", "default_priority", dict(PRIORITIES)),
            default(
                7,
                "group",
                "Group",
                "default_group",
                {g["name"]: g["id"] for g in self.groups.values()},
            ),
            default(8, "agent", "Agent", "default_agent"),
            default(9, "description", "Description", "default_description"),
        ]
        for position, spec in enumerate(self.custom_fields.values(), start=10):
            item = default(position, spec.name, spec.label, spec.type, list(spec.choices) or None)
            item["default"] = False
            fields.append(item)
        wanted = query.get("type", [""])[-1]
        if wanted:
            fields = [f for f in fields if f["type"] == wanted]
        return 200, fields, {}

    def _groups(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        chunk, headers = self._page(list(self.groups.values()), query, "/api/v2/groups")
        return 200, chunk, headers

    def _agents(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        agents = list(self.agents.values())
        if "email" in query:
            agents = [a for a in agents if a["contact"]["email"] == query["email"][-1]]
        chunk, headers = self._page(agents, query, "/api/v2/agents")
        return 200, chunk, headers

    def _me(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        return 200, self.agents[self.me], {}

    # ------------------------------------------------------------------ adapters

    def install(self, rsps: Any, base_url: str = DEFAULT_BASE_URL) -> None:
        """Register ``responses`` callbacks for every API path under ``base_url``."""
        self.base_url = base_url.rstrip("/")
        pattern = re.compile(re.escape(self.base_url) + r"/api/v2/.*")

        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            import requests

            parts = urlsplit(request.url)
            query = parse_qs(parts.query, keep_blank_values=True)
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode("utf-8")
            try:
                return self.handle(request.method, parts.path, query, dict(request.headers), body)
            except DroppedConnection:
                raise requests.exceptions.ConnectionError(
                    "Connection aborted (sandbox fault)"
                ) from None
            except SandboxTimeout:
                raise requests.exceptions.ReadTimeout("Read timed out (sandbox fault)") from None

        for method in ("GET", "POST", "PUT", "DELETE"):
            rsps.add_callback(method, pattern, callback=callback)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        """Answer real HTTP on ``host:port`` from a daemon thread (``port=0`` picks one)."""
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle on, the client's
            # delayed ACK adds ~40 ms to every loopback call.
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(parts.query, keep_blank_values=True)
                try:
                    status, headers, payload = sandbox.handle(
                        self.command, parts.path, query, dict(self.headers.items()), body
                    )
                except DroppedConnection:
                    self.close_connection = True
                    return
                except SandboxTimeout:
                    sandbox.sleep(server.timeout_delay)
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        server = _Server((host, port), Handler)
        server.timeout_delay = 5.0
        address = server.server_address
        self.base_url = f"http://{address[0]}:{address[1]}"
        thread = threading.Thread(
            target=server.serve_forever, name="freshdesk-sandbox", daemon=True
        )
        thread.start()
        return RunningServer(self.base_url, server, thread)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    timeout_delay: float = 5.0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (killed, timed out) is normal here, not news."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass(slots=True)
class RunningServer:
    """A sandbox answering on loopback; ``stop()`` shuts it down."""

    url: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------
# seeds and entry point
# ---------------------------------------------------------------------------------------


def seed_demo(sandbox: FreshdeskSandbox) -> None:
    """A small SAC-like account: groups, agents, category fields and a few tickets."""
    for name in (
        "SAC",
        "Distribuidores",
        "Financeiro",
        "NRP",
        "KA",
        "Trademaster",
        "Cashback",
        "Yalo",
    ):
        sandbox.add_group(name)
    ana = sandbox.add_agent("Ana Souza", "ana.souza@example.com")
    sandbox.add_agent("Bruno Lima", "bruno.lima@example.com")
    sandbox.add_custom_status("Aguardando cliente")
    sandbox.add_custom_field("cf_categoria", "Categoria")
    sandbox.add_custom_field("cf_subcategoria", "Subcategoria")
    sandbox.add_custom_field("cf_prazo_tarefa", "Prazo da tarefa", type="custom_date")
    sac = next(g["id"] for g in sandbox.groups.values() if g["name"] == "SAC")
    first = sandbox.add_ticket(
        "Pedido chegou incompleto",
        group_id=sac,
        responder_id=ana,
        custom_fields={"cf_categoria": "Pedidos", "cf_subcategoria": "Ruptura do pedido"},
        description="<p>Faltaram itens no meu pedido.</p>",
    )
    sandbox.add_note(
        first, "<p>Número do pedido: 123456<br>Forma de pagamento: Pix</p>", user_id=ana
    )
    second = sandbox.add_ticket(
        "Cadastro com o distribuidor",
        group_id=sac,
        responder_id=ana,
        custom_fields={
            "cf_categoria": "Cadastro",
            "cf_subcategoria": "Cadastro com o distribuidor",
        },
    )
    sandbox.add_note(second, "<p>Status do cadastro: Sem resposta</p>", user_id=ana)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m connectors.freshdesk_sandbox --port N [--seed demo]``: serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", choices=["none", "demo"], default="none")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--plan", choices=sorted(PLANS), default="unlimited")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--shuffle-ties", action="store_true")
    args = parser.parse_args(argv)
    sandbox = FreshdeskSandbox(
        api_key=args.api_key,
        plan=args.plan,
        time_scale=args.time_scale,
        shuffle_ties=args.shuffle_ties,
    )
    if args.seed == "demo":
        seed_demo(sandbox)
    running = sandbox.serve(args.host, args.port)
    sys.stdout.write(f"{running.url}\n")
    sys.stdout.flush()
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_BASE_URL",
    "PLANS",
    "Call",
    "DroppedConnection",
    "Faults",
    "FreshdeskSandbox",
    "RatePlan",
    "RunningServer",
    "SandboxTimeout",
    "Write",
    "fmt",
    "seed_demo",
]
