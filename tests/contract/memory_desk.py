"""An in-memory helpdesk for the contract tests of ``memory_connector`` (no HTTP).

``MemoryDesk`` keeps tickets (category, subcategory, group, status, owner, fields, comments
with their attachments, parent and children) and one change sequence: every mutation bumps
it and stamps the changed ticket with it, so a listing can resume after a sequence number
instead of a time. Its methods are the desk's API, answered in JSON-like dicts with ISO
8601 stamps, and each one is named REST-style so the shared tests' fault and crash
patterns apply:

* ``list_tickets``  ``GET /api/v2/tickets``           changed tickets, by sequence
* ``get_ticket``    ``GET /api/v2/tickets/{id}``      one ticket with comments and children
* ``find_records``  ``GET /api/v2/records``           records by external id, in one query
* ``composite``     ``POST /api/v2/composite``        a batch of sub-requests, each one of
  ``PUT /api/v2/tickets/{id}`` (fields), ``POST /api/v2/tickets/{id}/notes`` (a note or a
  task) and ``POST /api/v2/tickets`` (a child or new ticket), answered per sub-request
  like Salesforce's composite API with ``allOrNone=false``.

Every write leaves a ``Record`` carrying the external ids (effect keys) the caller gave it,
the way Salesforce finds records again by external id rather than by text in a body.

Faults (``fail``) are consumed by matching operations — reads and each sub-request, never
the batch envelope: ``429`` (retry after 7 s), ``5xx`` (503), ``timeout``, and ``drop``: a
read's connection is refused; a write is applied and the whole batch's answer is lost. A
429, 503 or timeout on one sub-request fails that record only; the others are applied.
Hooks (``after_write``) run right after a matching sub-request is applied (a crash).
Not thread-safe: one test drives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = dict[str, Any]
STATUSES = ("Open", "Pending", "Resolved", "Closed")
API_USER = "helpdesk-sync"
"""The author of what the API writes (notes, a new ticket's note)."""
TICKET_FIELDS = ("group", "owner", "status")
"""Update keys that are ticket attributes; any other key is a custom field."""

TICKET_PATH = re.compile(r"/api/v2/tickets/(\d+)")
NOTES_PATH = re.compile(r"/api/v2/tickets/(\d+)/notes")


class DeskError(Exception):
    """An error answer: ``status`` None when no answer came (timeout, lost connection)."""

    def __init__(self, status: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class DeskComment:
    """A comment on a ticket; agents' notes are internal."""

    id: int
    body: str
    author: str | None
    created_at: datetime
    internal: bool = True
    attachments: tuple[tuple[str, str], ...] = ()
    """(file name, content type) pairs."""


@dataclass
class DeskTicket:
    """A ticket; ``seq`` is the change sequence of its last change."""

    id: int
    subject: str
    category: str | None
    subcategory: str | None
    group: str | None
    owner: str | None
    created_at: datetime
    updated_at: datetime
    seq: int = 0
    status: str = "Open"
    description: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    comments: list[DeskComment] = field(default_factory=list)
    parent: int | None = None
    children: list[int] = field(default_factory=list)


@dataclass
class SubRequest:
    """One record of a composite batch; ``external_ids`` are the effects it carries."""

    method: str
    path: str
    body: Row
    external_ids: list[str]


@dataclass(frozen=True)
class Record:
    """What one applied sub-request left in the desk, found again by its external ids."""

    id: str
    """What the write made (the note, the ticket), or the updated ticket."""
    method: str
    path: str
    ticket_id: int
    """The ticket written: the updated one, the one noted, or the one created."""
    body: Row
    external_ids: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    """One API operation as the desk saw it: ``status`` None when it got no answer."""

    method: str
    path: str
    status: int | None


@dataclass
class Fault:
    """A fault injected into the next ``left`` matching operations."""

    kind: str
    """``429``, ``5xx``, ``timeout`` or ``drop``."""
    left: int
    path: str | None = None
    """A regex searched in the operation's path; None: every operation."""
    method: str | None = None
    retry_after: float = 7.0

    def matches(self, method: str, path: str) -> bool:
        if self.left <= 0 or (self.method and self.method != method):
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class Hook:
    """Runs right after each applied sub-request matching ``method`` and ``path`` (a regex)."""

    method: str
    path: str
    run: Callable[[Record], None]


class MemoryDesk:
    """A stateful fake helpdesk; the clock stamps every change."""

    def __init__(self, clock: Callable[[], datetime], groups: Sequence[str] = ()) -> None:
        self.clock = clock
        self.groups = set(groups)
        self.tickets: dict[int, DeskTicket] = {}
        self.seq = 0
        self.records: list[Record] = []
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.hooks: list[Hook] = []
        self._ids = 0

    # ------------------------------------------------------------------ seeding (tests)

    def add_ticket(
        self,
        subject: str,
        *,
        category: str | None = None,
        subcategory: str | None = None,
        group: str | None = None,
        owner: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        parent: int | None = None,
        description: str = "",
        status: str = "Open",
        fields: dict[str, Any] | None = None,
    ) -> int:
        now = self.clock()
        ticket = DeskTicket(
            self._next_id(),
            subject,
            category,
            subcategory,
            group,
            owner,
            created_at or now,
            updated_at or now,
            status=status,
            description=description,
            fields=dict(fields or {}),
            parent=parent,
        )
        self.tickets[ticket.id] = ticket
        self._changed(ticket, ticket.updated_at)
        if parent is not None:
            self.tickets[parent].children.append(ticket.id)
            self._changed(self.tickets[parent], ticket.updated_at)
        return ticket.id

    def add_comment(
        self,
        ticket_id: int,
        body: str,
        *,
        author: str | None,
        created_at: datetime | None = None,
        attachments: tuple[tuple[str, str], ...] = (),
    ) -> int:
        at = created_at or self.clock()
        comment = DeskComment(self._next_id(), body, author, at, attachments=attachments)
        ticket = self.tickets[ticket_id]
        ticket.comments.append(comment)
        self._changed(ticket, max(at, ticket.updated_at))
        return comment.id

    def set_status(self, ticket_id: int, status: str) -> None:
        self._changed(self.tickets[ticket_id], self.clock(), status=status)

    def touch(self, ticket_id: int, stamp: datetime) -> None:
        """Set a ticket's change stamp (a change all the same: it gets a new sequence)."""
        self._changed(self.tickets[ticket_id], stamp)

    def fail(
        self,
        kind: str,
        count: int,
        path: str | None = None,
        *,
        method: str | None = None,
        retry_after: float = 7.0,
    ) -> None:
        if kind not in ("429", "5xx", "timeout", "drop"):
            raise ValueError(f"unknown fault kind {kind!r}")
        self.faults.append(Fault(kind, count, path, method, retry_after))

    def clear_faults(self) -> None:
        self.faults.clear()

    def after_write(self, method: str, path: str, run: Callable[[Record], None]) -> None:
        """Run ``run`` right after each applied sub-request matching ``method`` and ``path``."""
        self.hooks.append(Hook(method, path, run))

    # ------------------------------------------------------------------ the API

    def list_tickets(
        self,
        *,
        after: int,
        up_to: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> Row:
        """``GET /api/v2/tickets``: tickets whose sequence is in (after, up_to], changed in
        [since, until), by sequence. ``last_seq`` is ``up_to`` or the desk's sequence now."""
        self._serve("GET", "/api/v2/tickets")
        last = self.seq if up_to is None else up_to
        found = sorted(
            (
                t
                for t in self.tickets.values()
                if after < t.seq <= last
                and (since is None or t.updated_at >= since)
                and (until is None or t.updated_at < until)
            ),
            key=lambda t: t.seq,
        )
        rows = [
            {"id": t.id, "seq": t.seq, "updated_at": t.updated_at.isoformat()}
            for t in found[:limit]
        ]
        return {"tickets": rows, "last_seq": last, "has_more": len(found) > limit}

    def get_ticket(self, ticket_id: int) -> Row:
        """``GET /api/v2/tickets/{id}``: the ticket, its comments and its children's status."""
        self._serve("GET", f"/api/v2/tickets/{ticket_id}")
        ticket = self._ticket(ticket_id)
        return {
            "id": ticket.id,
            "seq": ticket.seq,
            "subject": ticket.subject,
            "category": ticket.category,
            "subcategory": ticket.subcategory,
            "group": ticket.group,
            "owner": ticket.owner,
            "status": ticket.status,
            "fields": dict(ticket.fields),
            "created_at": ticket.created_at.isoformat(),
            "updated_at": ticket.updated_at.isoformat(),
            "parent_id": ticket.parent,
            "comments": [
                {
                    "id": c.id,
                    "body": c.body,
                    "author": c.author,
                    "internal": c.internal,
                    "created_at": c.created_at.isoformat(),
                    "attachments": [{"name": n, "content_type": t} for n, t in c.attachments],
                }
                for c in ticket.comments
            ],
            "children": [{"id": c, "status": self.tickets[c].status} for c in ticket.children],
        }

    def find_records(self, external_ids: Sequence[str]) -> list[Row]:
        """``GET /api/v2/records``: every record carrying one of ``external_ids``."""
        self._serve("GET", "/api/v2/records")
        wanted = set(external_ids)
        return [
            {"id": r.id, "external_ids": list(r.external_ids)}
            for r in self.records
            if wanted.intersection(r.external_ids)
        ]

    def composite(self, requests: Sequence[SubRequest]) -> list[Row]:
        """``POST /api/v2/composite`` (``allOrNone=false``): one answer per sub-request,
        ``{"status", "id"}`` or ``{"status", "error", "retry_after"}``. Raises
        ``DeskError`` when a dropped sub-request lost the whole answer (all were applied)."""
        envelope = len(self.calls)
        self.calls.append(Call("POST", "/api/v2/composite", 200))
        answers: list[Row] = []
        lost = False
        for sub in requests:
            try:
                dropped = self._serve(sub.method, sub.path, write=True)
                record = self._apply(sub)
            except DeskError as exc:
                self.calls.append(Call(sub.method, sub.path, exc.status))
                answers.append(
                    {"status": exc.status, "error": exc.message, "retry_after": exc.retry_after}
                )
                continue
            status = 201 if sub.method == "POST" else 200
            self.calls.append(Call(sub.method, sub.path, None if dropped else status))
            answers.append({"status": status, "id": record.id})
            lost = lost or dropped
            for hook in self.hooks:
                if hook.method == sub.method and re.search(hook.path, sub.path):
                    hook.run(record)
        if lost:
            self.calls[envelope] = Call("POST", "/api/v2/composite", None)
            raise DeskError(None, "connection reset: the batch's answer was lost")
        return answers

    # ------------------------------------------------------------------ inside

    def _serve(self, method: str, path: str, *, write: bool = False) -> bool:
        """Apply the first fault matching one operation (a read is logged here, a write by
        ``composite``). True: a write whose answer is to be lost (``drop``)."""
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        if fault is not None:
            fault.left -= 1
            if fault.kind == "drop" and write:
                return True
        error = _fault_error(fault, method, path) if fault is not None else None
        if not write:
            self.calls.append(Call(method, path, error.status if error else 200))
        if error is not None:
            raise error
        return False

    def _apply(self, sub: SubRequest) -> Record:
        """Apply one sub-request or raise ``DeskError`` (4xx) with nothing changed."""
        body, now = sub.body, self.clock()
        if sub.method == "PUT" and (match := TICKET_PATH.fullmatch(sub.path)):
            ticket = self._ticket(int(match[1]))
            self._check(body.get("group"), body.get("status"))
            changes = {k: v for k, v in body.items() if k in TICKET_FIELDS}
            ticket.fields.update({k: v for k, v in body.items() if k not in TICKET_FIELDS})
            self._changed(ticket, now, **changes)
            made = ticket.id
        elif sub.method == "POST" and (match := NOTES_PATH.fullmatch(sub.path)):
            ticket = self._ticket(int(match[1]))
            made = self.add_comment(ticket.id, body["text"], author=API_USER, created_at=now)
        elif sub.method == "POST" and sub.path == "/api/v2/tickets":
            parent = body.get("parent_id")
            if parent is not None:
                self._ticket(parent)
            self._check(body.get("group"), body.get("status"))
            ticket = self._ticket(
                self.add_ticket(
                    body["subject"],
                    group=body.get("group"),
                    owner=body.get("owner"),
                    parent=parent,
                    description=body.get("description", ""),
                    status=body.get("status") or "Open",
                    fields={k: body[k] for k in ("requester_email", "due") if body.get(k)},
                )
            )
            if body.get("note"):
                self.add_comment(ticket.id, body["note"], author=API_USER)
            made = ticket.id
        else:
            raise DeskError(404, f"no such operation: {sub.method} {sub.path}")
        record = Record(
            str(made),
            sub.method,
            sub.path,
            ticket.id,
            dict(body),
            tuple(sub.external_ids),
        )
        self.records.append(record)
        return record

    def _check(self, group: str | None, status: str | None) -> None:
        if group is not None and group not in self.groups:
            raise DeskError(400, f"unknown group '{group}'")
        if status is not None and status not in STATUSES:
            raise DeskError(400, f"unknown status '{status}'; known: {', '.join(STATUSES)}")

    def _ticket(self, ticket_id: int) -> DeskTicket:
        if ticket_id not in self.tickets:
            raise DeskError(404, f"ticket {ticket_id} not found")
        return self.tickets[ticket_id]

    def _changed(self, ticket: DeskTicket, at: datetime, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(ticket, name, value)
        self.seq += 1
        ticket.seq = self.seq
        ticket.updated_at = at

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids


def _fault_error(fault: Fault, method: str, path: str) -> DeskError:
    """The error answer of an injected fault (a read's ``drop``: the connection refused)."""
    if fault.kind == "429":
        return DeskError(429, "429 Too Many Requests", retry_after=fault.retry_after)
    if fault.kind == "5xx":
        return DeskError(503, "503 Service Unavailable")
    if fault.kind == "timeout":
        return DeskError(None, f"timed out: {method} {path}")
    return DeskError(None, f"connection refused: {method} {path}")


__all__ = ["STATUSES", "Call", "DeskError", "MemoryDesk", "Record", "SubRequest"]
