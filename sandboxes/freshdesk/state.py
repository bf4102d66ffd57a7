"""The account the Freshdesk sandbox holds, and how tests and the demo seed it.

``SandboxState`` owns one account's data (tickets, conversations, groups, agents,
contacts, companies, ticket/contact/company fields, statuses and types), its clock, the
id counters and the lock every public method takes. Its ``add_*`` methods seed the
account as if agents had worked in it earlier; route handlers (``routes_read``,
``routes_write``, ``routes_lookup``) read and change the same data. Stored conversations
and attachments are kept in the shape the API returns them (sources cited at each).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..faults import Faults
from .limits import PLANS, RatePlan
from .records import Call, CustomField, Json, StoredTicket, Write
from .shapes import fmt, strip_html

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


class SandboxState:
    """One fake Freshdesk account's data and seeding methods; every public one is thread-safe."""

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
        self.tickets: dict[int, StoredTicket] = {}
        self.conversations: dict[int, list[Json]] = {}
        self.groups: dict[int, Json] = {}
        self.agents: dict[int, Json] = {}
        self.contacts: dict[int, Json] = {}
        self.companies: dict[int, Json] = {}
        self.contact_fields: dict[str, CustomField] = {}
        """Custom contact fields by API name (no ``cf_`` prefix: docs "View a Contact")."""
        self.company_fields: dict[str, CustomField] = {}
        """Custom company fields by API name (no ``cf_`` prefix: docs "View a Company")."""
        self.statuses: dict[int, tuple[str, str]] = dict(DEFAULT_STATUSES)
        for status_id, label in (status_labels or {}).items():
            self.statuses[status_id] = (label, self.statuses.get(status_id, (label, label))[1])
        self.custom_fields: dict[str, CustomField] = {}
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
                self.contact_fields.setdefault(key, CustomField(key, key, "custom_text"))
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
                self.company_fields.setdefault(key, CustomField(key, key, "custom_text"))
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
            self.contact_fields[name] = CustomField(name, label, type)
            for contact in self.contacts.values():
                contact["custom_fields"].setdefault(name, None)
            return name

    def add_company_field(self, name: str, label: str, *, type: str = "custom_text") -> str:
        """A custom company field (API name without ``cf_``, as Freshdesk names them)."""
        with self._lock:
            self.company_fields[name] = CustomField(name, label, type)
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
            self.custom_fields[name] = CustomField(name, label or name, type, tuple(choices))
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
                    self.custom_fields[name] = CustomField(name, name, "custom_text")
            values.update(custom_fields or {})
            self.tickets[ticket_id] = StoredTicket(
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
                self.custom_fields.setdefault(name, CustomField(name, name, "custom_text"))
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
            "body_text": strip_html(body),
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
