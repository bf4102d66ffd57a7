"""A connector for ``MemoryDesk``: the template for a connector on contract v2.

How to write a connector (``sync.contract``), step by step, as this one does:

1. **Cursor.** Choose what a listing resumes from and encode it as text. Here it is the
   desk's change sequence (``"seq:42"``); a helpdesk that lists by a change stamp uses
   ``DatetimeCursor``. The engine only stores it: every ``TicketRef`` carries the cursor
   that resumes right after it, and ``version`` tells one state of a ticket from the next.
2. **Listing.** ``changes`` pages through what changed after the cursor (none: since
   ``since``), within ``[since, until)``, in the order the cursor grows. Repeats are fine,
   a skipped ticket is not. Bound the pass: list only what changed before it started
   (``last_seq`` of the first page), or the pass chases the echoes of its own writes.
3. **Loading.** ``load``/``reload`` translate the helpdesk's row into ``Ticket`` (request
   type "Category > Subcategory", internal comments with author and attachments, queue =
   group, status by name) and ``Context`` (facts for timers: ``child_answered``).
4. **Writing.** ``write`` takes up to ``write_batch`` tickets and sends ONE request: all
   field effects of a ticket merged into one update, one record per note or task, one per
   ticket to create. Each record carries its effects' keys as external ids, and each note
   or ticket also carries ``marker(key)`` in its text (the decision core skips comments
   that carry one: they are our own). Every per-record answer becomes an ``EffectResult``
   (``applied``, or ``rejected`` with the typed error); an action the helpdesk cannot take
   is ``rejected`` with a reason, never dropped. Writes are never retried: a retried
   write whose answer was lost writes twice. Raise instead; the engine looks it up later.
5. **Lookup.** ``lookup`` asks for every effect key of the batch in one query and answers
   ``already_there`` for each one found.
6. **Errors.** Map each helpdesk error to the contract's tree: 401/403 ``AuthError``, 429,
   5xx and no answer ``RetriableError`` (with ``retry_after``), any other ``FatalError``.
   Reads are retried here, honouring ``retry_after`` (else exponential backoff), within a
   total wait; past it the error goes to the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from connectors._notes import DEFAULT_MARKER_FOOTER, footer_text
from sync.actions import (
    Action,
    AddNote,
    CreateChildTicket,
    CreateTask,
    CreateTicket,
    MarkCritical,
    Resolve,
    Route,
    SetPriority,
    SetStatus,
)
from sync.contract import (
    AuthError,
    ConnectorError,
    Cursor,
    EffectResult,
    FatalError,
    Loaded,
    RetriableError,
    TicketRef,
    TicketWrites,
)
from sync.model import Attachment, Comment, Context, Ticket

from .memory_desk import DeskError, MemoryDesk, Row, SubRequest

P = ParamSpec("P")
T = TypeVar("T")
CLOSED = ("Resolved", "Closed")


def encode(seq: int) -> Cursor:
    return f"seq:{seq}"


def decode(cursor: Cursor) -> int:
    kind, _, number = cursor.partition(":")
    if kind != "seq" or not number.isdigit():
        raise ValueError(f"not a memory desk cursor: {cursor[:40]!r}")
    return int(number)


def field_changes(action: Action) -> Row | None:
    """The ticket fields a field action sets; None for any other action."""
    if isinstance(action, Route) and (action.group or action.queue or action.owner):
        changes = {"group": action.group or action.queue, "owner": action.owner}
        return {name: value for name, value in changes.items() if value}
    if isinstance(action, SetStatus | Resolve):
        return {"status": action.status or "Resolved"}
    if isinstance(action, SetPriority):
        return {"priority": action.priority}
    if isinstance(action, MarkCritical):
        return {"critical": True}
    return None


class MemoryConnector:
    """Contract v2 over ``MemoryDesk``: sequence cursor, batched writes, external ids."""

    kind = "memory"
    write_batch = 3
    page_size = 100
    attempts = 5
    """Tries of one read, the first included (429s, which say when to retry, do not count)."""
    backoff = 0.5
    """Seconds before the first retry without ``retry_after``; doubles each time."""
    max_total_wait = 300.0
    """Seconds one read may spend waiting to retry, like ``RetryPolicy.max_total_wait``."""

    def __init__(
        self, name: str, desk: MemoryDesk, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.name = name
        self.desk = desk
        self.sleep = sleep

    def check(self) -> str:
        self._read(None, self.desk.list_tickets, after=0, limit=1)
        return f"memory desk '{self.name}': reachable"

    # ------------------------------------------------------------------ reading

    def changes(
        self, cursor: Cursor | None, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[TicketRef]:
        """Pages of tickets by sequence, up to the desk's sequence when the listing began."""
        if cursor is None and since is None:
            raise ValueError("a listing needs a cursor or a start time")
        after, last = (0 if cursor is None else decode(cursor)), None
        while True:
            page = self._read(
                None,
                self.desk.list_tickets,
                after=after,
                up_to=last,
                since=since,
                until=until,
                limit=self.page_size,
            )
            last = page["last_seq"]
            for row in page["tickets"]:
                yield TicketRef(str(row["id"]), str(row["seq"]), encode(row["seq"]))
            if not page["has_more"]:
                return
            after = page["tickets"][-1]["seq"]

    def load(self, ref: TicketRef) -> Loaded:
        return self._loaded(self._read(ref.id, self.desk.get_ticket, int(ref.id)), ref)

    def reload(self, ticket_id: str) -> Loaded:
        return self._loaded(self._read(ticket_id, self.desk.get_ticket, int(ticket_id)))

    def _loaded(self, row: Row, ref: TicketRef | None = None) -> Loaded:
        ref = ref or TicketRef(str(row["id"]), str(row["seq"]), encode(row["seq"]))
        parts = [part for part in (row["category"], row["subcategory"]) if part]
        comments = [
            Comment(str(c["id"]), c["body"], c["internal"], stamp(c["created_at"]), c["author"])
            for c in row["comments"]
        ]
        attachments = [
            Attachment(a["name"], a["content_type"], str(c["id"]))
            for c in row["comments"]
            for a in c["attachments"]
        ]
        ticket = Ticket(
            id=ref.id,
            source=self.kind,
            created_at=stamp(row["created_at"]),
            updated_at=stamp(row["updated_at"]),
            number=ref.id,
            request_type=" > ".join(parts) or None,
            subject=row["subject"],
            status=row["status"],
            owner=row["owner"],
            queue=row["group"],
            fields=row["fields"],
            comments=tuple(comments),
            attachments=tuple(attachments),
        )
        context, children = Context(), row["children"]
        if children:  # what the timers ask of a parent: has a child ticket been answered?
            answered = any(child["status"] in CLOSED for child in children)
            context = Context({"child_answered": answered, "children": len(children)})
        return Loaded(ref, ticket, context)

    # ------------------------------------------------------------------ writing

    def write(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """ONE composite request for the batch; one result per effect."""
        requests: list[SubRequest] = []
        results: list[EffectResult] = []
        for item in batch:
            planned, refused = self._records(item)
            requests += planned
            results += refused
        if not requests:
            return results
        try:
            answers = self.desk.composite(requests)
        except DeskError as exc:  # no answer: any record may have landed, so never retried
            raise self._error(exc, None) from exc
        ticket_of = {effect.key: item.loaded.ref.id for item in batch for effect in item.effects}
        for request, answer in zip(requests, answers, strict=True):
            keys = request.external_ids
            if answer["status"] in (200, 201):
                results += [EffectResult.applied(key, answer["id"]) for key in keys]
            else:
                refusal = DeskError(answer["status"], answer["error"], answer["retry_after"])
                error = self._error(refusal, ticket_of[keys[0]])
                results += [EffectResult.rejected(key, error) for key in keys]
        return results

    def _records(self, item: TicketWrites) -> tuple[list[SubRequest], list[EffectResult]]:
        """One ticket's records, in its effects' order, and the effects no record can carry."""
        ticket = item.loaded.ref.id
        update = SubRequest("PUT", f"/api/v2/tickets/{ticket}", {}, [])
        records: list[SubRequest] = []
        refused: list[EffectResult] = []
        for effect in item.effects:
            action, key = effect.action, effect.key
            tag = footer_text(DEFAULT_MARKER_FOOTER, key)
            if (changes := field_changes(action)) is not None:
                if not update.external_ids:  # sent where the first field effect stands
                    records.append(update)
                update.body.update(changes)
                update.external_ids.append(key)
            elif isinstance(action, AddNote | CreateTask):
                body = {"text": f"{note_text(action)}\n{tag}", "kind": action.kind}
                records.append(SubRequest("POST", f"/api/v2/tickets/{ticket}/notes", body, [key]))
            elif isinstance(action, CreateChildTicket | CreateTicket):
                body = {
                    "subject": action.subject,
                    "description": f"{action.description}\n{tag}",
                    "group": action.group,
                    "owner": action.owner,
                    "requester_email": action.requester_email,
                    "due": action.due.isoformat() if action.due else None,
                }
                if isinstance(action, CreateChildTicket):
                    body["parent_id"] = int(ticket)
                else:
                    note = action.internal_note
                    body.update(status=action.status, note=note and f"{note}\n{tag}")
                records.append(SubRequest("POST", "/api/v2/tickets", body, [key]))
            else:
                reason = f"the memory desk cannot write '{action.kind}' actions"
                refused.append(EffectResult.rejected(key, reason))
        return records, refused

    def lookup(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """Every effect key of the batch in ONE query by external id."""
        wanted = {effect.key for item in batch for effect in item.effects}
        if not wanted:
            return []
        records = self._read(None, self.desk.find_records, sorted(wanted))
        return [
            EffectResult.already_there(key, record["id"])
            for record in records
            for key in record["external_ids"]
            if key in wanted
        ]

    # ------------------------------------------------------------------ errors and retries

    def _read(
        self, ticket_id: str | None, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """One read, retried on ``RetriableError`` within ``attempts`` and the total wait."""
        waited, failures = 0.0, 0
        while True:
            try:
                return call(*args, **kwargs)
            except DeskError as exc:
                error = self._error(exc, ticket_id)
                if not isinstance(error, RetriableError):
                    raise error from exc
                if error.retry_after is None:
                    failures += 1
                delay = error.retry_after or self.backoff * 2 ** (failures - 1)
                if failures >= self.attempts or waited + delay > self.max_total_wait:
                    raise error from exc
            self.sleep(delay)
            waited += delay

    def _error(self, exc: DeskError, ticket_id: str | None) -> ConnectorError:
        """The contract's error for a desk answer."""
        kw: dict[str, Any] = {"helpdesk": self.kind, "ticket_id": ticket_id, "status": exc.status}
        if exc.status in (401, 403):
            return AuthError(exc.message, **kw)
        if exc.status is None or exc.status == 429 or exc.status >= 500:
            return RetriableError(exc.message, retry_after=exc.retry_after, **kw)
        return FatalError(exc.message, **kw)


def note_text(action: AddNote | CreateTask) -> str:
    """A note's text, or a task as the note line agents read."""
    if isinstance(action, AddNote):
        return action.text
    lines = [f"Tarefa: {action.subject} — prazo {action.due.isoformat(timespec='minutes')}"]
    if action.owner:
        lines.append(f"Responsável: {action.owner}")
    if action.description:
        lines.append(action.description)
    return "\n".join(lines)


def stamp(text: str) -> datetime:
    """An ISO 8601 stamp of the desk (always with its time zone)."""
    return datetime.fromisoformat(text)


__all__ = ["MemoryConnector", "decode", "encode"]
