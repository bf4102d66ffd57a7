"""Freshdesk API v2 connector: list changed tickets, load them, apply effects, find them again.

Theory of operation
-------------------
* The class composes the package: ``listing`` (windows, ties), ``directory`` (names and
  parties, cached), ``normalize`` (rows to tickets, pure), ``writes`` (effects to requests,
  pure), ``limits`` (plan sub-limits), ``api`` (ids, shapes, the read calls). Every call
  goes through one ``HttpClient`` (retries, ``RateBudget`` on the ``X-RateLimit-*``
  headers, ``SubLimits`` from the plan), so a steady run never meets a 429.
* Loading (``load``): one read call per ticket. By default ``GET /tickets/{id}?include=
  conversations`` (2 credits): the ticket as it is now, with its own attachments (those of
  the customer's first e-mail, which the list does not carry) and the first 10
  conversations; only a ticket with 10 or more conversations costs a second call for all
  pages of ``/conversations``. With ``ticket_attachments=False`` the list row carried by
  the ref (a compact snapshot) replaces the ticket GET and ``/conversations`` is the one call (1
  credit, but the ticket's own attachments are not seen). Either way the backfill reads
  about 1.01 calls per ticket: one per ticket plus one list page per 100. The requester
  comes from the list row's ``include=requester`` (kept in the ref's snapshot); a ref
  without it (a timer's reload) asks the view for it instead. A parent ticket costs one
  more call for its children (``GET /associated_tickets``), which only feeds the timers'
  ``child_answered``.
* Writes (``write_ticket``, one ticket per call: ``PerTicketWrites``): ``writes`` plans the
  calls (one PUT for every field effect, one note for every note and task, one call for
  each other effect) with every name resolved before the first write, so an unknown group
  fails with nothing written; this class sends them in order and returns one
  ``EffectResult`` per effect: ``applied``, or ``rejected`` with the API's message for the
  effects of a call that failed (the later ones get none: not sent).
* Exactly once: PUTs of absolute values are retried on ambiguous failures; POSTs (notes,
  tickets) and merges are not, because a retried POST whose first answer was lost would
  write twice. The engine journals the effect as ``sent`` and, on the next pass, looks it
  up (``lookup`` → ``find_applied``), which looks for the marker (notes, tasks, child and
  new tickets) or compares the ticket's state (field updates, merge) before anything is
  written again. A child ticket is looked for through the parent's view
  (``associated_tickets_list``) and each child's description; a ticket created for the
  same customer among the requester's tickets created since shortly before this one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from sync.account import AccountNames
from sync.actions import AddNote, CreateChildTicket, CreateTask, CreateTicket, Merge
from sync.contract import (
    AuthError,
    ConnectorError,
    Cursor,
    DatetimeCursor,
    Effect,
    EffectResult,
    FatalError,
    Loaded,
    PerTicketWrites,
    TicketRef,
)
from sync.masking import mask_value

from .._http import HttpClient, RateBudget, SubLimits
from .._names import resolved
from .._notes import DEFAULT_MARKER_FOOTER, has_marker
from . import normalize, writes
from .account import account_names
from .api import (
    EMBEDDED_CONVERSATIONS,
    HELPDESK,
    STATUS_CLOSED,
    ApiKeyAuth,
    get_children,
    get_conversations,
    get_ticket,
    rows,
    shape_error,
    utc,
)
from .directory import PARTY_TTL, Directory
from .limits import sub_limit_bucket
from .listing import Listing
from .normalize import DEFAULT_DOCUMENT_FIELDS

T = TypeVar("T")


class FreshdeskConnector(PerTicketWrites):
    """``sync.contract.Connector`` for one Freshdesk account (API v2).

    One ticket per write (``PerTicketWrites``); the cursor is a ``DatetimeCursor`` on the
    ticket's ``updated_at`` (every note, reply and field change moves it).
    """

    kind = "freshdesk"
    write_batch = 1

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str,
        *,
        request_type_field: str = "type",
        subcategory_field: str | None = None,
        task_due_field: str | None = None,
        per_page: int = 100,
        page_cap: int = 300,
        timeout: float | tuple[float, float] = 30.0,
        http: HttpClient | None = None,
        ticket_attachments: bool = True,
        marker_footer: str = DEFAULT_MARKER_FOOTER,
        tie_rounds: int = 30,
        sub_limits: Mapping[str, int] | None = None,
        rate_window: float = 60.0,
        window_pages: int | None = None,
        document_fields: Sequence[str] = DEFAULT_DOCUMENT_FIELDS,
        party_ttl: float = PARTY_TTL,
        monotonic: Callable[[], float] = time.monotonic,
        overlap: timedelta = timedelta(minutes=5),
    ) -> None:
        self.name = name
        self.cursors = DatetimeCursor(overlap)
        self.base_url = base_url.rstrip("/")
        self.request_type_field = request_type_field
        self.subcategory_field = subcategory_field
        self.task_due_field = task_due_field
        self.ticket_attachments = ticket_attachments
        self.marker_footer = marker_footer
        self.sub_limits = dict(sub_limits or {})
        self.http = http or HttpClient(
            HELPDESK, self.base_url, timeout=timeout, budget=RateBudget(window=rate_window)
        )
        if self.sub_limits and self.http.sub_limits is None:
            self.http.sub_limits = SubLimits(sub_limit_bucket, self.sub_limits, window=rate_window)
        list_limit = self.sub_limits.get("tickets_list")
        self.listing = Listing(
            self.http,
            name,
            per_page=per_page,
            page_cap=page_cap,
            # One minute of the list sub-limit, so listing never stalls on it; the next
            # window starts where this one ended.
            window_pages=min(page_cap, window_pages or list_limit or page_cap),
            tie_rounds=tie_rounds,
            keep_rows=not ticket_attachments,
        )
        self.http.session.auth = ApiKeyAuth(api_key)
        self.domain = (urlsplit(self.base_url).hostname or self.base_url).removesuffix(
            ".freshdesk.com"
        )
        self.directory = Directory(
            self.http,
            name,
            document_fields=document_fields,
            party_ttl=party_ttl,
            monotonic=monotonic,
        )

    def __repr__(self) -> str:
        return f"FreshdeskConnector({self.name!r}, {self.base_url!r})"

    @property
    def window_pages(self) -> int:
        """Pages read before a window's tickets are handed out (see ``listing``)."""
        return self.listing.window_pages

    @property
    def per_page(self) -> int:
        return self.listing.per_page

    @property
    def page_cap(self) -> int:
        return self.listing.page_cap

    @property
    def tie_rounds(self) -> int:
        return self.listing.tie_rounds

    @property
    def document_fields(self) -> tuple[str, ...]:
        return self.directory.document_fields

    # ------------------------------------------------------------------ check, list, load

    def api_stats(self) -> dict[str, float]:
        """API calls, throttled answers, seconds waited, remaining quota (for metrics)."""
        return self.http.api_stats()

    def check(self) -> str:
        """``GET /agents/me``: cheap proof that the key works; names the masked agent e-mail."""
        me = self.http.get("/api/v2/agents/me").json()
        email = (me.get("contact") or {}).get("email") or str(me.get("id"))
        return f"freshdesk {self.domain} as {mask_value('email', email)}"

    def account_names(self) -> AccountNames:
        """The statuses, groups, agents, fields and request types of the account, for
        ``check`` (one ``GET /ticket_fields`` plus the directory's group and agent pages)."""
        return account_names(self.directory, self.request_type_field, self.subcategory_field)

    def changes(
        self, cursor: Cursor | None, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[TicketRef]:
        """``changed_since`` from the cursor's stamp less the overlap (never before ``since``)."""
        return self.changed_since(self.cursors.start(cursor, since), until)

    def changed_since(self, since: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Tickets with ``updated_at >= since`` (and ``< until``), ascending; none skipped.

        Each window (at most ``page_cap`` pages) is read completely before its tickets are
        handed out: the engine's own writes bump ``updated_at`` and would otherwise move
        tickets of the window being paged, shifting offsets and skipping rows (reference
        quirk 3). A window is ``window_pages`` pages (one minute of the tickets-list
        sub-limit when configured, else the 300-page cap): at most 30,000 refs, each with a
        compact snapshot of its row when ``ticket_attachments`` is off. See ``listing`` for
        windows (page cap) and ties (unstable order).
        """
        return self.listing.changed_since(since, until)

    def load(self, ref: TicketRef) -> Loaded:
        """The normalized ticket with every conversation; one read call for most tickets.

        The requester comes from the list row's ``include=requester`` (kept in the ref's
        snapshot); a ref without it (a timer's reload) asks the view for it instead.
        """
        snapshot: dict[str, Any] = json.loads(ref.snapshot) if ref.snapshot else {}
        if self.ticket_attachments:
            row = get_ticket(
                self.http, ref.id, conversations=True, requester="requester" not in snapshot
            )
            conversations = row.pop("conversations", None) or []
            if len(conversations) >= EMBEDDED_CONVERSATIONS:
                conversations = get_conversations(self.http, ref.id)
            if "requester" in snapshot:
                row.setdefault("requester", snapshot["requester"])
        else:
            row = snapshot if "id" in snapshot else get_ticket(self.http, ref.id, requester=True)
            conversations = get_conversations(self.http, ref.id)
        if row.get("requester_id") is not None:
            self.directory.remember_requester(ref.id, int(row["requester_id"]))
        ticket = normalize.ticket(
            row,
            conversations,
            self.directory.resolve(row, conversations),
            request_type_field=self.request_type_field,
            subcategory_field=self.subcategory_field,
            document_fields=self.directory.document_fields,
        )
        children = get_children(self.http, str(row["id"])) if normalize.is_parent(row) else None
        return Loaded(ref=ref, ticket=ticket, context=normalize.context(children))

    def reload(self, ticket_id: str) -> Loaded:
        """The ticket as it is now (a due timer's check): no listing row to start from."""
        return self.load(TicketRef(ticket_id, version=""))

    # ------------------------------------------------------------------ names

    def status_id(self, name: str) -> int:
        """Status name -> id: the agent label (custom statuses too), else the defaults."""
        return self.directory.status_id(name)

    def group_id(self, name: str) -> int:
        """Group name -> ``group_id``."""
        return self.directory.group_id(name)

    def agent_id(self, name: str) -> int:
        """Agent name or e-mail -> ``responder_id``."""
        return self.directory.agent_id(name)

    @staticmethod
    def priority_id(name: str) -> int:
        """Priority name (English or Portuguese) or number -> 1..4."""
        return writes.priority_id(name)

    def _resolved(self, plan: Callable[[writes.Ids], T]) -> T:
        """Run a pure plan, resolving each name it asks for in turn (``_names.resolved``)."""
        resolvers = {
            "status": self.directory.status_id,
            "group": self.directory.group_id,
            "agent": self.directory.agent_id,
            "requester": self.directory.requester_id,
        }
        return resolved(plan, resolvers)

    # ------------------------------------------------------------------ writes

    def write_ticket(self, loaded: Loaded, effects: Sequence[Effect]) -> list[EffectResult]:
        """Apply one decision's effects in order; field effects share ONE PUT.

        Names are resolved before the first write, so an unknown group fails with nothing
        written. The PUT is sent at the position of the first effect it carries. When a
        call fails, the effects it carried are ``rejected`` with the reason and the later
        ones get no result (not sent); ``AuthError`` is raised.
        """
        ticket_id = loaded.ticket.id
        update = self._resolved(
            lambda ids: writes.plan_update(
                ticket_id, loaded.ticket.fields, effects, ids, self.task_due_field
            )
        )
        noted = [e for e in effects if isinstance(e.action, AddNote | CreateTask)]
        order = {e.key: i for i, e in enumerate(effects)}
        done: list[EffectResult] = []
        for step in writes.steps(effects, update):
            if step.kind == "update":
                carried = list(update.keys)
            elif step.kind == "note":
                carried = [e.key for e in noted]
            else:
                assert step.effect is not None
                carried = [step.effect.key]
            try:
                if step.kind == "update":
                    if update.body:
                        self._send(writes.update_request(ticket_id, update.body), ticket_id)
                    done.extend(EffectResult.applied(k, ticket_id) for k in carried)
                elif step.kind == "note":
                    note_id = self._add_note(ticket_id, writes.note_html(noted, self.marker_footer))
                    done.extend(EffectResult.applied(k, note_id) for k in carried)
                else:
                    assert step.effect is not None
                    remote = self._write(loaded, step.effect)
                    done.append(EffectResult.applied(step.effect.key, remote))
            except AuthError:
                raise
            except ConnectorError as exc:
                done.extend(EffectResult.rejected(k, exc) for k in carried)
                break
        return sorted(done, key=lambda r: order[r.key])

    def _send(self, request: writes.Request, ticket_id: str) -> requests.Response:
        """One planned write call."""
        return self.http.request(
            request.method,
            request.path,
            json=request.body,
            ticket_id=ticket_id,
            retry_writes=request.retry_writes,
            classify=request.classify,
        )

    def _write(self, loaded: Loaded, effect: Effect) -> str | None:
        """One effect that is neither a field change nor a note; the id of what it made."""
        ticket_id = loaded.ticket.id
        action = effect.action
        if isinstance(action, CreateChildTicket | CreateTicket):
            request = self._resolved(
                lambda ids: writes.new_ticket_request(ticket_id, effect, ids, self.marker_footer)
            )
            new_id = str(self._send(request, ticket_id).json()["id"])
            note = writes.internal_note_html(effect, self.marker_footer)
            if note is not None:
                self._add_note(new_id, note)
            return new_id
        if isinstance(action, Merge):
            self._send(writes.merge_request(ticket_id, effect, self.marker_footer), ticket_id)
            return action.into
        raise FatalError(
            f"action '{action.kind}' is not supported", helpdesk=HELPDESK, ticket_id=ticket_id
        )

    def _add_note(self, ticket_id: str, body_html: str) -> str:
        note = self._send(writes.note_request(ticket_id, body_html), ticket_id).json()
        if not isinstance(note, Mapping) or "id" not in note:  # docs "Create a Note"
            raise shape_error(f"POST /api/v2/tickets/{ticket_id}/notes", "a note", note)
        return str(note["id"])

    # ------------------------------------------------------------------ reconciliation

    def find_applied(self, loaded: Loaded, effect: Effect) -> EffectResult | None:
        """Find an effect written before a crash: its marker, or the ticket's current state."""
        action = effect.action
        ticket_id = loaded.ticket.id
        if isinstance(action, AddNote | CreateTask):
            for comment in loaded.ticket.comments:
                if has_marker(effect.key, comment.body):
                    return EffectResult.already_there(effect.key, comment.id)
            for item in get_conversations(self.http, ticket_id):  # fresher than what load saw
                if has_marker(effect.key, item.get("body"), item.get("body_text")):
                    return EffectResult.already_there(effect.key, str(item["id"]))
            return None
        if isinstance(action, CreateChildTicket):
            return self._find_child(ticket_id, effect)
        if isinstance(action, CreateTicket):
            return self._find_created(loaded, effect)
        current = get_ticket(self.http, ticket_id)
        if isinstance(action, Merge):
            closed = current.get("status") == STATUS_CLOSED
            return EffectResult.already_there(effect.key, action.into) if closed else None
        if isinstance(action, writes.FIELD_ACTIONS):
            tags = list(current.get("tags") or [])
            wanted = self._resolved(lambda ids: writes.field_changes(action, tags, ids))
            if writes.holds(current, wanted):
                return EffectResult.already_there(effect.key, ticket_id)
        return None

    def _find_child(self, ticket_id: str, effect: Effect) -> EffectResult | None:
        """A child ticket created before a crash: the parent's fresh view lists its children
        (docs "View a Ticket with Association": ``associated_tickets_list`` holds the child
        ids when ``association_type`` is 1), each child's view has its description with the
        marker. A ticket without children is not asked for ``/associated_tickets`` (the
        server answers 404 there) and costs one call."""
        parent = get_ticket(self.http, ticket_id)
        if not normalize.is_parent(parent):
            return None
        ids = parent.get("associated_tickets_list")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise shape_error(
                f"GET /api/v2/tickets/{ticket_id}", "associated_tickets_list as a list of ids", ids
            )
        for child_id in ids:
            child = get_ticket(self.http, str(child_id))
            text = (child.get("description") or "") + (child.get("description_text") or "")
            if has_marker(effect.key, text):
                return EffectResult.already_there(effect.key, str(child_id))
        return None

    def _find_created(self, loaded: Loaded, effect: Effect) -> EffectResult | None:
        """A ticket created from this one: the requester's recent tickets, by marker."""
        action = effect.action
        assert isinstance(action, CreateTicket)
        params: dict[str, Any] = {
            "updated_since": utc(loaded.ticket.created_at - timedelta(minutes=1)),
            "order_by": "created_at",
            "order_type": "desc",
            "per_page": 100,
            "include": "description",
        }
        if action.requester_email:
            params["email"] = action.requester_email
        else:
            params["requester_id"] = self.directory.requester_id(loaded.ticket.id)
        response = self.http.get("/api/v2/tickets", params=params, ticket_id=loaded.ticket.id)
        for item in rows(response, "GET /api/v2/tickets"):
            if has_marker(effect.key, item.get("description"), item.get("description_text")):
                return EffectResult.already_there(effect.key, str(item["id"]))
        return None


__all__ = ["FreshdeskConnector"]
