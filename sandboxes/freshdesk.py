"""A stateful fake of the Freshdesk API v2 subset helpdesk-sync uses, following the contract.

Theory of operation
-------------------
``FreshdeskSandbox`` holds one account's state (tickets, conversations, groups, agents,
contacts, companies, ticket/contact/company fields with custom statuses) behind a lock, and
answers every request through one pure-ish handler::

    handle(method, path, query, headers, body) -> (status, headers, body)

Two thin adapters put it on the wire: ``install(rsps)`` registers ``responses`` callbacks
(unit tests, no sockets) and ``serve()`` runs a ``ThreadingHTTPServer`` on loopback (the
``demo`` command and subprocess crash tests; ``python -m sandboxes.freshdesk``).

Behaviour follows ``shared/reference/freshdesk.md``: inclusive ``updated_since``, the
300-page cap and its exact 400 body, ``Link: <...>; rel="next"`` echoing query values
unescaped, the 30-day default window, credits and per-minute windows with
``X-RateLimit-*`` headers and 429 + ``Retry-After``, status ids valid per account, notes
bumping ``updated_at``, ``parent_id`` only on create, merge → 204. ``shuffle_ties`` makes
the order among tickets sharing one ``updated_at`` random per request (the real order is
not guaranteed), so clients are tested against it. ``Faults`` inject 429 bursts, 5xx
bursts, timeouts, slow answers, dropped connections and a hook right after a write.

Every response shape carries a comment naming its source: a section of the API docs
(developers.freshdesk.com/api, full copy in ktsaou/freshdesk_mcp FRESHDESK_API_DOCS.txt),
a real payload (pbrane/freshdesk-api-client) or Freshdesk's own server code
(Ramesh-Veeriaperumal/freshconsult). ``setup_sac_account`` / ``add_sac_ticket`` seed the
account the SAC SOP runs on (labelled custom fields, customers with companies, HTML notes
with attachments, child tickets).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html as htmllib
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
# Page 301 -> 400 with this message: airbytehq/airbyte source-freshdesk
# unit_tests/integration/test_tickets.py (the body in shared/reference/freshdesk.md).
PAGE_CAP_MESSAGE = (
    "You cannot access tickets beyond the 300th page. Please provide a smaller page number."
)
# Non-400 error bodies carry ``code`` and ``message`` and no ``field`` (docs "Errors": error
# response fields; code ``invalid_credentials``); the 401 message as users report it in
# sjkingo/python-freshdesk issue #74.
UNAUTHORIZED = {
    "code": "invalid_credentials",
    "message": "You have to be logged in to perform this action.",
}
ACCESS_DENIED = {
    "code": "access_denied",
    "message": "You are not authorized to perform this action.",
}
RATE_LIMITED_BODY = b"Rate limit exceeded"
"""429 body: unverified (shared/reference/freshdesk.md), so opaque text; ``Retry-After`` in
seconds is documented (docs "Rate Limit"), and the server code may omit ``X-RateLimit-*``."""
# 5xx: 500 as the server's JSON error, gateway errors as a proxy's HTML page (opaque text).
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

    def __init__(
        self, status: int, body: Json | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _validation(field_name: str | None, message: str, code: str, status: int = 400) -> _ApiError:
    # Docs "Errors": ``{"description": "Validation failed", "errors": [{"field", "message",
    # "code"}]}``, ``field`` on 400s only; the codes of the docs' error-code table.
    item: Json = {"message": message, "code": code}
    if field_name:
        item = {"field": field_name, **item}
    return _ApiError(status, {"description": "Validation failed", "errors": [item]})


def _strip_html(html: str) -> str:
    """``body_text`` / ``description_text``: the HTML as plain text, every entity decoded
    (docs "List All Conversations": ``body_text`` is the plain-text body)."""
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", html, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return htmllib.unescape(text).replace("\xa0", " ").strip()


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
        self.companies: dict[int, Json] = {}
        self.contact_fields: dict[str, _CustomField] = {}
        """Custom contact fields by API name (no ``cf_`` prefix: docs "View a Contact")."""
        self.company_fields: dict[str, _CustomField] = {}
        """Custom company fields by API name (no ``cf_`` prefix: docs "View a Company")."""
        self.statuses: dict[int, tuple[str, str]] = dict(DEFAULT_STATUSES)
        for status_id, label in (status_labels or {}).items():
            self.statuses[status_id] = (label, self.statuses.get(status_id, (label, label))[1])
        self.custom_fields: dict[str, _CustomField] = {}
        self.ticket_types: list[str] = list(DEFAULT_TYPES)
        self._lock = threading.RLock()
        self._rng = random.Random(seed)  # noqa: S311 - test data, not security
        self._ids = {
            "ticket": 0,
            "conversation": 1000,
            "group": 100,
            "agent": 500,
            "contact": 900,
            "company": 700,
        }
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
            # Shape of docs "List All Groups" (GET /api/v2/groups): no agent_ids in the
            # list (only "View a Group" has them); auto_ticket_assign is a number (0/1).
            self.groups[group_id] = {
                "id": group_id,
                "name": name,
                "description": None,
                "business_hour_id": None,
                "escalate_to": None,
                "unassigned_for": "30m",
                "auto_ticket_assign": 0,
                "created_at": stamp,
                "updated_at": stamp,
            }
            return group_id

    def add_agent(self, name: str, email: str) -> int:
        """An agent (what ``responder_id`` takes); returns its id."""
        with self._lock:
            agent_id = self._next("agent")
            stamp = fmt(self.now())
            # Shape of docs "List All Agents" (GET /api/v2/agents); "Currently
            # Authenticated Agent" adds group_ids, role_ids, skill_ids (see ``_me``).
            self.agents[agent_id] = {
                "available": True,
                "occasional": False,
                "signature": None,
                "id": agent_id,
                "ticket_scope": 1,
                "created_at": stamp,
                "updated_at": stamp,
                "available_since": None,
                "type": "support_agent",
                "contact": {
                    "active": True,
                    "email": email,
                    "job_title": None,
                    "language": "pt-BR",
                    "last_login_at": None,
                    "mobile": None,
                    "name": name,
                    "phone": None,
                    "time_zone": "Brasilia",
                    "created_at": stamp,
                    "updated_at": stamp,
                },
                "focus_mode": True,
            }
            return agent_id

    def add_contact(
        self,
        name: str,
        email: str | None,
        *,
        phone: str | None = None,
        mobile: str | None = None,
        company_id: int | None = None,
        custom_fields: Mapping[str, Any] | None = None,
    ) -> int:
        """A requester (contact); returns its id. Unknown custom fields are created."""
        with self._lock:
            contact_id = self._next("contact")
            stamp = fmt(self.now())
            for key in custom_fields or {}:
                self.contact_fields.setdefault(key, _CustomField(key, key, "custom_text"))
            values: Json = {key: None for key in self.contact_fields}
            values.update(custom_fields or {})
            # Shape of docs "View a Contact" (GET /api/v2/contacts/[id]).
            self.contacts[contact_id] = {
                "active": True,
                "address": None,
                "company_id": company_id,
                "view_all_tickets": False,
                "description": None,
                "email": email,
                "id": contact_id,
                "job_title": None,
                "language": "pt-BR",
                "mobile": mobile,
                "name": name,
                "phone": phone,
                "time_zone": "Brasilia",
                "twitter_id": None,
                "other_emails": [],
                "other_companies": [],
                "created_at": stamp,
                "updated_at": stamp,
                "custom_fields": values,
                "tags": [],
            }
            return contact_id

    def add_company(
        self,
        name: str,
        *,
        custom_fields: Mapping[str, Any] | None = None,
        domains: Sequence[str] = (),
    ) -> int:
        """A company (what a contact belongs to); returns its id. Unknown fields are created."""
        with self._lock:
            company_id = self._next("company")
            stamp = fmt(self.now())
            for key in custom_fields or {}:
                self.company_fields.setdefault(key, _CustomField(key, key, "custom_text"))
            values: Json = {key: None for key in self.company_fields}
            values.update(custom_fields or {})
            # Shape of docs "View a Company" (GET /api/v2/companies/[id]).
            self.companies[company_id] = {
                "id": company_id,
                "name": name,
                "description": None,
                "domains": list(domains),
                "note": None,
                "custom_fields": values,
                "created_at": stamp,
                "updated_at": stamp,
                "health_score": None,
                "account_tier": None,
                "renewal_date": None,
                "industry": None,
            }
            return company_id

    def add_contact_field(self, name: str, label: str, *, type: str = "custom_text") -> str:
        """A custom contact field (API name without ``cf_``, as Freshdesk names them)."""
        with self._lock:
            self.contact_fields[name] = _CustomField(name, label, type)
            for contact in self.contacts.values():
                contact["custom_fields"].setdefault(name, None)
            return name

    def add_company_field(self, name: str, label: str, *, type: str = "custom_text") -> str:
        """A custom company field (API name without ``cf_``, as Freshdesk names them)."""
        with self._lock:
            self.company_fields[name] = _CustomField(name, label, type)
            for company in self.companies.values():
                company["custom_fields"].setdefault(name, None)
            return name

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
        parent_id: int | None = None,
        company_id: int | None = None,
    ) -> int:
        """A ticket as if created earlier; returns its id (custom fields need not exist).

        ``parent_id`` makes it a child of that ticket (as ``POST /tickets`` with
        ``parent_id`` does); ``company_id`` defaults to the requester's company.
        """
        with self._lock:
            requester = requester_id or self.default_requester
            if company_id is None:
                company_id = (self.contacts.get(requester) or {}).get("company_id")
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
                requester_id=requester,
                company_id=company_id,
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
            if parent_id is not None:
                self.tickets[ticket_id].parent_id = parent_id
                self.tickets[parent_id].children.append(ticket_id)
            return ticket_id

    def set_fields(
        self,
        ticket_id: int,
        *,
        custom_fields: Mapping[str, Any] | None = None,
        type: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """An agent edits the ticket's fields in the UI: values change, ``updated_at`` moves."""
        with self._lock:
            ticket = self.tickets[ticket_id]
            for name in custom_fields or {}:
                self.custom_fields.setdefault(name, _CustomField(name, name, "custom_text"))
            ticket.custom_fields.update(custom_fields or {})
            if type is not None:
                ticket.type = type
            moment = (at or self.now()).astimezone(UTC).replace(microsecond=0)
            ticket.updated_at = max(ticket.updated_at, moment)

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
        # Shape of docs "View a Ticket" / conversations ``attachments[]`` and the server's
        # api/app/views/tickets/show.json.api (Ramesh-Veeriaperumal/freshconsult): ``size``.
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
        # Shape of docs "List All Conversations of a Ticket" and the real payload in
        # pbrane/freshdesk-api-client src/main/resources/freshdesk/documents/tac-case-notes/
        # tacCase99Conversations.json (from_email null, bcc_emails null on a note).
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
            "from_email": None,
            "to_emails": [],
            "cc_emails": [],
            "bcc_emails": None,
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
                    RATE_LIMITED_BODY,
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
            except _ApiError as exc:
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
        # Docs "List All Tickets": each include +2 credits; "View a Ticket": +1 each.
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
            raise _ApiError(
                405,
                {
                    "code": "method_not_allowed",
                    "message": f"{', '.join(allowed)} method is allowed. {method} method is not "
                    "allowed for this resource",
                },
                {"Allow": ", ".join(allowed)},
            )
        # Same file, ``log_and_render_404``: ``head 404``, no body (docs "Errors": 404).
        raise _ApiError(404, None)

    @staticmethod
    def _body(headers: Mapping[str, str], body: bytes) -> Json:
        # Docs "Errors": 415 for a content type other than JSON, ``invalid_json`` for a body
        # that does not parse (shared/reference/freshdesk.md, server-code facts).
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
        # Docs "List All Tickets": a JSON array of rows; embeds ``requester`` (email, id,
        # mobile, name, phone), ``stats``, ``description``, each +2 credits.
        out = []
        for ticket in chunk:
            data = self._ticket_json(ticket, view=False)
            if "description" in includes:
                data["description"] = ticket.description
                data["description_text"] = _strip_html(ticket.description)
            if "requester" in includes:
                data["requester"] = self._requester_embed(ticket.requester_id)
            if "stats" in includes:
                data["stats"] = {"resolved_at": None, "closed_at": None, "first_responded_at": None}
            out.append(data)
        return 200, out, headers

    def _requester_embed(self, contact_id: int) -> Json:
        """``include=requester``: docs ("Will return the requester's email, id, mobile, name,
        and phone") and the server's api/app/views/tickets/_show_requester.json.jbuilder
        (``{}`` when there is none)."""
        contact = self.contacts.get(contact_id)
        if contact is None:
            return {}
        return {key: contact[key] for key in ("email", "id", "mobile", "name", "phone")}

    def _ticket_json(self, ticket: _Ticket, *, view: bool) -> Json:
        # A list row (docs "List All Tickets"; the columns of a real list export in
        # community-tech-alliance/dbt-cta freshdesk/models/1_cta_base/_incremental/
        # tickets.sql: tags, association_type, associated_tickets_count, nr_due_by, ... ) or
        # a view (docs "View a Ticket" / "View a Ticket with Association"; real payload
        # pbrane/freshdesk-api-client .../documents/tickets/ticket-102-child-molex-sandbox.json).
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
            "nr_due_by": None,
            "nr_escalated": False,
        }
        if view:
            data["ticket_bcc_emails"] = []
            data["description"] = ticket.description
            data["description_text"] = _strip_html(ticket.description)
            data["attachments"] = [dict(a) for a in ticket.attachments]
            data["source_additional_info"] = None
            # Docs "View a Ticket with Association": ``associated_tickets_list`` is a list of
            # ticket ids, the children of a parent (1) or the parent of a child (2); the
            # server's show.json.api adds it only to associated tickets.
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
        # Docs "View a Ticket": embeds, +1 credit each (conversations: two calls, at most
        # ten, oldest first); ``company`` is the company's id and name only (server
        # api/app/views/tickets/_show_company.json.jbuilder, ``{}`` when there is none).
        if "conversations" in includes:
            data["conversations"] = [dict(c) for c in self.conversations.get(ticket_id, [])[:10]]
        if "requester" in includes:
            data["requester"] = self._requester_embed(ticket.requester_id)
        if "company" in includes:
            company = self.companies.get(ticket.company_id or 0)
            data["company"] = {"id": company["id"], "name": company["name"]} if company else {}
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
        # Docs "List All Conversations of a Ticket": a JSON array, paginated with Link.
        chunk, headers = self._page(items, query, f"/api/v2/tickets/{ticket_id}/conversations")
        return 200, [dict(c) for c in chunk], headers

    def _associated(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        """Docs "Get Associated Tickets": an OBJECT ``{"tickets": [...]}`` of ticket summaries
        (no description). The server code (Ramesh-Veeriaperumal/freshconsult
        api/app/controllers/ember/tickets/associates_controller.rb ``associated_tickets``)
        answers 404 unless the ticket is a tracker or a parent."""
        ticket = self._get(ticket_id)
        if not ticket.children:
            raise _ApiError(404, None)
        summaries = []
        for child_id in ticket.children:
            child = self.tickets[child_id]
            summaries.append(
                {
                    "id": child.id,
                    "group_id": child.group_id,
                    "priority": child.priority,
                    "requester_id": child.requester_id,
                    "responder_id": child.responder_id,
                    "source": child.source,
                    "company_id": child.company_id,
                    "status": child.status,
                    "subject": child.subject,
                    "product_id": None,
                    "type": child.type,
                    "due_by": fmt(child.due_by),
                    "fr_due_by": fmt(child.fr_due_by),
                    "is_escalated": False,
                    "created_at": fmt(child.created_at),
                    "updated_at": fmt(child.updated_at),
                }
            )
        return 200, {"tickets": summaries}, {}

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
        # Docs "Update a Ticket": 200 with the updated ticket (view shape).
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
        # Docs "Create a Ticket" / "Create a Child Ticket": 201, ``Location``, the ticket in
        # the view shape (a child shows association_type 2, associated_tickets_list [parent]).
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
        # Docs "Create a Note" response (and the real one in pbrane/freshdesk-api-client
        # .../documents/tac-case-notes/tacCase99note.json): no ``source``, ``notified_to``.
        answer = {
            "body_text": note["body_text"],
            "body": note["body"],
            "id": note["id"],
            "incoming": note["incoming"],
            "private": note["private"],
            "user_id": note["user_id"],
            "support_email": None,
            "ticket_id": ticket_id,
            "notified_to": list(data.get("notify_emails") or []),
            "attachments": [],
            "created_at": note["created_at"],
            "updated_at": note["updated_at"],
        }
        return 201, answer, location

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
        # Docs "Merge Tickets": ``HTTP Status: 204 No Content``.
        return 204, None, {}

    # ------------------------------------------------------------------ lookups

    def _ticket_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Ticket Fields" (GET /api/v2/ticket_fields[?type=]): a JSON array,
        not paginated; ``label`` is what agents see; status ``choices`` map ids to [agent
        label, customer label]; custom fields carry their ``cf_...`` names."""
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

        requester = default(1, "requester", "Search a requester", "default_requester")
        requester.update({"portal_cc": False, "portal_cc_to": "company"})
        fields = [
            requester,
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
        # Docs "List All Groups" (GET /api/v2/groups): an array, paginated like every list.
        chunk, headers = self._page(list(self.groups.values()), query, "/api/v2/groups")
        return 200, chunk, headers

    def _admin_groups(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Groups" of the new groups UI (GET /api/v2/admin/groups)."""
        rows = [
            {
                "id": g["id"],
                "name": g["name"],
                "description": g["description"],
                "escalate_to": g["escalate_to"],
                "unassigned_for": g["unassigned_for"],
                "agent_ids": [],
                "created_at": g["created_at"],
                "updated_at": g["updated_at"],
                "allow_agents_to_change_availability": False,
                "business_calendar_id": None,
                "type": "support_agent_group",
                "automatic_agent_assignment": {"enabled": False},
            }
            for g in self.groups.values()
        ]
        chunk, headers = self._page(rows, query, "/api/v2/admin/groups")
        return 200, chunk, headers

    def _agents(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        agents = list(self.agents.values())
        if "email" in query:
            agents = [a for a in agents if a["contact"]["email"] == query["email"][-1]]
        chunk, headers = self._page(agents, query, "/api/v2/agents")
        return 200, chunk, headers

    def _me(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        # Docs "Currently Authenticated Agent": the agent with group_ids, role_ids, skill_ids.
        me = {k: v for k, v in self.agents[self.me].items() if k != "focus_mode"}
        me.update({"group_ids": [], "role_ids": [1], "skill_ids": []})
        return 200, me, {}

    def _view_contact(
        self, contact_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        # Docs "View a Contact": custom fields by their API names, without ``cf_``.
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise _ApiError(404, None)
        return 200, dict(contact), {}

    def _view_company(
        self, company_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        # Docs "View a Company": name, domains, custom_fields (names without ``cf_``).
        company = self.companies.get(company_id)
        if company is None:
            raise _ApiError(404, None)
        return 200, dict(company), {}

    def _party_fields(
        self, defaults: Sequence[tuple[str, str, str]], custom: Mapping[str, _CustomField]
    ) -> list[Json]:
        stamp = fmt(self.now())
        out: list[Json] = []
        specs = [(n, lb, t, True) for n, lb, t in defaults]
        specs += [(f.name, f.label, f.type, False) for f in custom.values()]
        for position, (name, label, ftype, is_default) in enumerate(specs, start=1):
            out.append(
                {
                    "id": position,
                    "name": name,
                    "label": label,
                    "position": position,
                    "required_for_agents": name == "name",
                    "agents_can_edit": True,
                    "displayed_for_agents": True,
                    "quick_add_for_agent": False,
                    "unique": False,
                    "type": ftype,
                    "default": is_default,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        return out

    def _contact_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Contact Fields" (GET /api/v2/contact_fields): an array; custom
        fields are named without ``cf_`` (the sample's ``custom_company_name``)."""
        defaults = (
            ("name", "Full name", "default_name"),
            ("job_title", "Title", "default_job_title"),
            ("email", "Email", "default_email"),
            ("phone", "Work phone", "default_phone"),
            ("mobile", "Mobile phone", "default_mobile"),
            ("company_name", "Company", "default_company_name"),
            ("address", "Address", "default_address"),
            ("time_zone", "Time zone", "default_time_zone"),
            ("language", "Language", "default_language"),
            ("description", "About", "default_description"),
        )
        fields = self._party_fields(defaults, self.contact_fields)
        for item in fields:
            item.update(
                {
                    "editable_in_signup": False,
                    "customers_can_edit": True,
                    "label_for_customers": item["label"],
                    "required_for_customers": False,
                    "displayed_for_customers": True,
                }
            )
        return 200, fields, {}

    def _company_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Company Fields" (GET /api/v2/company_fields): an array."""
        defaults = (
            ("name", "Company Name", "default_name"),
            ("description", "Description", "default_description"),
            ("note", "Notes", "default_note"),
            ("domains", "Domains for this company", "default_domains"),
            ("health_score", "Health score", "default_health_score"),
            ("account_tier", "Account tier", "default_account_tier"),
            ("renewal_date", "Renewal date", "default_renewal_date"),
            ("industry", "Industry", "default_industry"),
        )
        return 200, self._party_fields(defaults, self.company_fields), {}

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


@dataclass(frozen=True, slots=True)
class SacAccount:
    """Ids of a sandbox account set up for the SAC SOP (``setup_sac_account``)."""

    groups: Mapping[str, int]
    agent: int
    contacts: Mapping[str, int]
    """Customer key (``demo_data.SAC_CUSTOMERS``) -> contact id."""
    companies: Mapping[str, int]
    """Customer key -> company id (customers with a company only)."""

    @property
    def sac_group(self) -> int:
        return self.groups["SAC"]


@dataclass(frozen=True, slots=True)
class SacNote:
    """A private note as an agent writes it: HTML (entities and all) and its attachments."""

    body: str
    attachments: tuple[tuple[str, str], ...] = ()
    private: bool = True


def setup_sac_account(sandbox: FreshdeskSandbox) -> SacAccount:
    """The SAC account set up the usual way: groups, an agent, the ticket form's custom
    fields with their labels (``demo_data.SAC_TICKET_FIELDS``), the categories also as
    ticket types, a company field ``cnpj`` and the customers of ``demo_data.SAC_CUSTOMERS``."""
    from sandboxes.demo_data import SAC_CATEGORIES, SAC_CUSTOMERS, SAC_GROUPS, SAC_TICKET_FIELDS

    groups = {name: sandbox.add_group(name) for name in SAC_GROUPS}
    agent = sandbox.add_agent("Ana Souza", "ana.souza@example.com")
    for spec in SAC_TICKET_FIELDS:
        sandbox.add_custom_field(spec.name, spec.label, type=spec.type, choices=spec.choices)
    sandbox.ticket_types.extend(c for c in SAC_CATEGORIES if c not in sandbox.ticket_types)
    sandbox.add_company_field("cnpj", "CNPJ")
    contacts: dict[str, int] = {}
    companies: dict[str, int] = {}
    for customer in SAC_CUSTOMERS:
        company_id = None
        if customer.company:
            company_id = sandbox.add_company(
                customer.company, custom_fields={"cnpj": customer.cnpj}
            )
            companies[customer.key] = company_id
        contacts[customer.key] = sandbox.add_contact(
            customer.name, customer.email, phone=customer.phone, company_id=company_id
        )
    return SacAccount(groups, agent, contacts, companies)


def add_sac_ticket(
    sandbox: FreshdeskSandbox,
    account: SacAccount,
    *,
    subject: str,
    category: str | None,
    subcategory: str | None = None,
    category_in: str = "cf_categoria",
    fields: Mapping[str, Any] | None = None,
    notes: Sequence[SacNote] = (),
    customer: str | None = None,
    at: datetime | None = None,
    description: str = "",
    attachments: Iterable[tuple[str, str]] = (),
    parent_id: int | None = None,
) -> int:
    """A SAC ticket as agents leave it: the category in ``type`` (``category_in="type"``) or
    in the custom field ``cf_categoria``, the subcategory in ``cf_subcategoria``, SOP data
    in ``fields`` (``cf_cnpj``, ``cf_numero_do_pedido``, ...), then the agent's private notes
    (HTML) with their attachments, all written at ``at`` (the ticket created 5 minutes
    earlier). ``customer`` picks the requester (a ``SAC_CUSTOMERS`` key)."""
    at = (at or sandbox.now()).astimezone(UTC).replace(microsecond=0)
    custom: dict[str, Any] = {"cf_subcategoria": subcategory, **(fields or {})}
    ticket_type = None
    if category_in == "type":
        ticket_type = category
    else:
        custom[category_in] = category
    ticket_id = sandbox.add_ticket(
        subject,
        group_id=account.sac_group,
        responder_id=account.agent,
        requester_id=account.contacts[customer] if customer else None,
        custom_fields=custom,
        type=ticket_type,
        created_at=at - timedelta(minutes=5),
        updated_at=at,
        description=description,
        attachments=attachments,
        parent_id=parent_id,
    )
    for note in notes:
        sandbox.add_note(
            ticket_id,
            note.body,
            private=note.private,
            created_at=at,
            attachments=note.attachments,
            user_id=account.agent,
        )
    return ticket_id


def seed_demo(sandbox: FreshdeskSandbox) -> None:
    """A small SAC-like account: groups, agents, category fields and a few tickets."""
    from sandboxes.demo_data import SAC_GROUPS

    for name in SAC_GROUPS:
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
    """``python -m sandboxes.freshdesk --port N [--seed demo]``: serve until killed."""
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
    "SacAccount",
    "SacNote",
    "SandboxTimeout",
    "Write",
    "add_sac_ticket",
    "fmt",
    "seed_demo",
    "setup_sac_account",
]
