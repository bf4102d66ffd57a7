"""Freshdesk API v2 connector: list changed tickets, load them, apply effects, find them again.

Theory of operation
-------------------
* Listing (``changed_since``): ``GET /api/v2/tickets?updated_since=<since>Z&order_by=
  updated_at&order_type=asc&per_page=100``, following ``Link: rel="next"`` as given with
  ``updated_since`` fixed for the whole window. Freshdesk serves at most 300 pages, so when
  the next page would pass the cap a new window starts at the last ``updated_at`` seen
  (inclusive: those boundary tickets come again, the engine de-duplicates by (id, version)).
  With a plan's tickets-list sub-limit configured (Growth: 20 per minute), a window is that
  many pages: the list is read in bursts the limit allows, between the loads it feeds.
  A window that is one single second from start to cap cannot be sliced further: that is a
  ``FatalError``, never a silent skip (tap-freshdesk's +1 s bookmark loses tickets there).
* Ties: the order among tickets sharing one ``updated_at`` is not guaranteed, so a tie that
  straddles a page boundary can show one ticket twice and another never. The rows of one
  second still occupy a fixed range of positions (the sort by ``updated_at`` is reliable),
  so the connector counts the rows of each second against the distinct ids it saw and, when
  some are missing, re-reads the pages of that second until all are seen (bounded; then a
  ``FatalError``). With a server that keeps ties stable this costs nothing.
* Loading (``load``): one read call per ticket. By default ``GET /tickets/{id}?include=
  conversations`` (2 credits): the ticket as it is now, with its own attachments (those of
  the customer's first e-mail, which the list does not carry) and the first 10
  conversations; only a ticket with 10 or more conversations costs a second call for all
  pages of ``/conversations``. With ``ticket_attachments=False`` the list row carried by
  the ref (a compact snapshot) replaces the ticket GET and ``/conversations`` is the one call (1
  credit, but the ticket's own attachments are not seen). Either way the backfill reads
  about 1.01 calls per ticket: one per ticket plus one list page per 100.
* What agents see: the list asks ``include=requester`` (+2 credits a page of 100, docs "List
  All Tickets"), so every ref carries the requester's name, e-mail and phones; the ticket's
  company (``company_id``) is read once per company and cached (``GET /companies/{id}``:
  name and the CPF/CNPJ in a custom field of ``document_fields``). ``include=company`` is
  not used: it gives only id and name (docs "View a Ticket") and costs a credit on every
  view. A requester's own contact is read (cached) only when the account's contacts have a
  document field (``GET /contact_fields``, once). ``Ticket.field_labels`` comes with the
  statuses from one ``GET /ticket_fields``; attachments of a conversation carry its id.
* Response shapes follow the API docs; a response in another shape is a ``FatalError``
  naming the call and the shape expected (never an ``AttributeError`` deep inside).
* Rate limits: ``RateBudget`` follows the account-wide ``X-RateLimit-*`` headers; the
  endpoint sub-limits no header reports (tickets list, create, update) are paced by
  ``SubLimits`` from the configured plan, so a steady run never meets a 429.
* Names (groups, agents, statuses, priorities) resolve through cached lookups refreshed once
  on a miss; an unknown name is a ``FatalError`` listing the known ones.
* Writes (``apply``): all field effects of one decision go in ONE ``PUT /tickets/{id}``
  (Route, SetStatus, SetPriority, MarkCritical = priority Urgent + tag ``critico``, Resolve,
  and the optional task due-date field). All notes and tasks of one decision go in ONE
  private note: the note texts in order, then each task, then a footer with every effect's
  marker. Notes, tasks and tickets carry their markers ``hs-ref:<key>`` in a visible footer
  paragraph: Freshdesk sanitises note HTML (comments, hidden styles may go), a visible text
  line survives both in ``body`` and ``body_text``. Freshdesk has no task API: a task is
  the line "Tarefa de acompanhamento: ..." of that note and, when ``task_due_field`` names a
  custom date field, that field in the combined PUT.
* Exactly once: PUTs of absolute values are retried on ambiguous failures; POSTs (notes,
  tickets) and merges are not, because a retried POST whose first answer was lost would
  write twice. The engine journals the effect as ``sent`` and, on the next pass, calls
  ``find_applied`` which looks for the marker (notes, tasks, child and new tickets) or
  compares the ticket's state (field updates, merge) before anything is written again. A
  child ticket is looked for through the parent's view (``associated_tickets_list``) and
  each child's description; ``GET /associated_tickets`` (an object ``{"tickets": [...]}``,
  404 on a ticket that is not a parent) only feeds the timers' ``child_answered``.
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from sync.actions import (
    Action,
    AddNote,
    CreateChildTicket,
    CreateTask,
    CreateTicket,
    MarkCritical,
    Merge,
    Resolve,
    Route,
    SetPriority,
    SetStatus,
)
from sync.effects import marker
from sync.masking import mask_value
from sync.model import Attachment, Comment, Context, Party, Ticket
from sync.textnorm import fold

from ._http import HttpClient, RateBudget, SubLimits
from .base import (
    ConnectorError,
    Effect,
    FatalError,
    Loaded,
    Receipt,
    TicketRef,
)

log = logging.getLogger("helpdesk_sync.connectors.freshdesk")

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
STATUS_OPEN, STATUS_RESOLVED, STATUS_CLOSED = 2, 4, 5
PRIORITY_LOW, PRIORITY_URGENT = 1, 4
CRITICAL_TAG = "critico"
"""Tag MarkCritical adds (with priority Urgent): Freshdesk has no critical-case checkbox."""
EMBEDDED_CONVERSATIONS = 10
"""``include=conversations`` returns at most this many, oldest first."""
DEFAULT_STATUS_NAMES: Mapping[str, int] = {
    "open": 2,
    "pending": 3,
    "resolved": 4,
    "closed": 5,
    "aberto": 2,
    "pendente": 3,
    "resolvido": 4,
    "fechado": 5,
}
PRIORITY_NAMES: Mapping[str, int] = {
    "low": 1,
    "medium": 2,
    "high": 3,
    "urgent": 4,
    "baixa": 1,
    "media": 2,
    "alta": 3,
    "urgente": 4,
}
PRIORITY_LABELS: Mapping[int, str] = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
FIELD_ACTIONS = (Route, SetStatus, SetPriority, MarkCritical, Resolve)
REQUESTER_CACHE = 5000
"""Requester ids of recently loaded tickets (child tickets are created for them)."""
SNAPSHOT_KEYS = (
    "id",
    "subject",
    "type",
    "status",
    "priority",
    "tags",
    "custom_fields",
    "group_id",
    "responder_id",
    "requester_id",
    "company_id",
    "association_type",
    "created_at",
    "updated_at",
)
"""What ``load`` reads from a list row: a window of 30,000 refs carries only these (and the
slim ``requester`` of ``include=requester``)."""
REQUESTER_KEYS = ("id", "name", "email", "phone", "mobile")
"""``include=requester`` embeds exactly these (docs "List All Tickets" / "View a Ticket")."""
DEFAULT_DOCUMENT_FIELDS = ("cf_cnpj", "cf_cpf", "cf_cpf_cnpj", "cf_documento")
"""Contact/company custom fields that may hold the CPF/CNPJ, in order of preference.
Freshdesk names contact and company custom fields without the ``cf_`` prefix of ticket
fields (docs "View a Contact", "View a Company"), so each name matches with or without it."""
PARTY_CACHE = 5000
"""Contacts and companies kept (least recently used out)."""
PARTY_TTL = 600.0
"""Seconds a contact or company read is reused: an agent who fills in a company's CNPJ
sees it on the ticket's next decision after at most this long."""
LABEL_FIELDS = {"ticket_type": "type", "priority": "priority"}
"""Default ticket fields whose values ``Ticket.fields`` carries, by their ticket-field name."""
PLAN_SUB_LIMITS: Mapping[str, Mapping[str, int]] = {
    "trial": {},
    "growth": {"tickets_list": 20, "ticket_create": 80, "ticket_update": 80},
    "pro": {"tickets_list": 100, "ticket_create": 160, "ticket_update": 160},
    "enterprise": {"tickets_list": 200, "ticket_create": 280, "ticket_update": 280},
    "purchased_1000": {"tickets_list": 300, "ticket_create": 400, "ticket_update": 400},
    "purchased_2000": {"tickets_list": 400, "ticket_create": 800, "ticket_update": 800},
}
"""Per-minute endpoint sub-limits by plan (no response header reports them)."""
SUB_LIMIT_BUCKETS = ("tickets_list", "ticket_create", "ticket_update")


def sub_limit_bucket(method: str, path: str) -> str | None:
    """The sub-limit a call counts against: list and create on ``/tickets``, update by id."""
    path = path.rstrip("/")
    if path == "/api/v2/tickets":
        return {"GET": "tickets_list", "POST": "ticket_create"}.get(method)
    if method == "PUT" and path.startswith("/api/v2/tickets/") and path[16:].isdigit():
        return "ticket_update"
    return None


def plan_sub_limits(plan: str | None, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """The sub-limits of a plan with explicit overrides; ``ValueError`` names a bad key."""
    if plan is not None and plan not in PLAN_SUB_LIMITS:
        raise ValueError(f"unknown Freshdesk plan '{plan}'; known: {', '.join(PLAN_SUB_LIMITS)}")
    limits = dict(PLAN_SUB_LIMITS.get(plan or "", {}))
    for key, value in (overrides or {}).items():
        if key not in SUB_LIMIT_BUCKETS:
            raise ValueError(f"unknown sub-limit '{key}'; known: {', '.join(SUB_LIMIT_BUCKETS)}")
        if value < 1:
            raise ValueError(f"sub-limit '{key}' must be at least 1")
        limits[key] = value
    return limits


def _utc(moment: datetime) -> str:
    """UTC with ``Z``, truncated to the second (never ``+00:00``: the Link header breaks it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def text_to_html(text: str) -> str:
    """Plain text as note HTML: escaped (it may quote customers), newlines as ``<br>``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<div>" + "<br>".join(html.escape(line) for line in lines) + "</div>"


class _ApiKeyAuth(requests.auth.HTTPBasicAuth):
    """Basic auth with the API key as user; its repr never shows the key."""

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key, "X")

    def __repr__(self) -> str:
        return "_ApiKeyAuth(***)"


@dataclass(slots=True)
class _Lookup:
    """Names <-> ids of one kind, loaded lazily and reloaded once on a miss."""

    kind: str
    loader: Callable[[], list[tuple[int, list[str]]]]
    names: dict[int, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    loaded: bool = False
    missed: set[int | str] = field(default_factory=set)
    """Keys already reloaded for once: an unknown id must not cost a call per ticket."""

    def load(self) -> None:
        self.names.clear()
        self.ids.clear()
        for item_id, labels in self.loader():
            self.names[item_id] = labels[0]
            for label in labels:
                if label:
                    self.ids.setdefault(fold(label), item_id)
        self.loaded = True

    def name(self, item_id: int | None) -> str | None:
        """The display name of an id (reloading once when unknown), None for no id."""
        if item_id is None:
            return None
        if not self.loaded or (item_id not in self.names and item_id not in self.missed):
            self.load()
            if item_id not in self.names:
                self.missed.add(item_id)
        return self.names.get(item_id)

    def peek(self, item_id: int | None) -> str | None:
        """The name of an id without reloading on a miss (comment authors: customers too)."""
        if item_id is None:
            return None
        if not self.loaded:
            self.load()
        return self.names.get(item_id)

    def id(self, name: str, fallback: Mapping[str, int] | None = None) -> int | None:
        """The id of a name, case/accent-insensitively (reloading once when unknown)."""
        key = fold(name)
        if not self.loaded:
            self.load()
        if key not in self.ids:
            if fallback and key in fallback:
                return fallback[key]
            if key not in self.missed:
                self.load()
                if key not in self.ids:
                    self.missed.add(key)
        return self.ids.get(key)

    def known(self) -> str:
        return ", ".join(sorted(self.names.values(), key=fold)) or "none"


class _PartyCache:
    """Contacts or companies by id for ``ttl`` seconds, at most ``size`` (LRU)."""

    def __init__(self, size: int, ttl: float, clock: Callable[[], float]) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._items: OrderedDict[int, tuple[float, dict[str, Any] | None]] = OrderedDict()

    def get(
        self, item_id: int, loader: Callable[[int], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        now = self.clock()
        hit = self._items.get(item_id)
        if hit is not None and now - hit[0] < self.ttl:
            self._items.move_to_end(item_id)
            return hit[1]
        value = loader(item_id)
        self._items[item_id] = (now, value)
        self._items.move_to_end(item_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


@dataclass(slots=True)
class _Tie:
    """The rows of one ``updated_at`` second while a window is scanned."""

    stamp: str | None = None
    ids: set[str] = field(default_factory=set)
    count: int = 0
    """Rows of this second in the current window (its fixed position range)."""
    pages: set[int] = field(default_factory=set)

    def start(self, stamp: str) -> None:
        self.stamp, self.ids, self.count, self.pages = stamp, set(), 0, set()

    def new_window(self) -> None:
        self.count, self.pages = 0, set()


class FreshdeskConnector:
    """``connectors.base.Connector`` for one Freshdesk account (API v2)."""

    kind = "freshdesk"

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
        marker_footer: str = "— helpdesk-sync {marker}",
        tie_rounds: int = 30,
        sub_limits: Mapping[str, int] | None = None,
        rate_window: float = 60.0,
        window_pages: int | None = None,
        document_fields: Sequence[str] = DEFAULT_DOCUMENT_FIELDS,
        party_ttl: float = PARTY_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.request_type_field = request_type_field
        self.subcategory_field = subcategory_field
        self.task_due_field = task_due_field
        self.per_page = per_page
        self.page_cap = page_cap
        self.ticket_attachments = ticket_attachments
        self.marker_footer = marker_footer
        self.tie_rounds = tie_rounds
        self.sub_limits = dict(sub_limits or {})
        self.http = http or HttpClient(
            "freshdesk", self.base_url, timeout=timeout, budget=RateBudget(window=rate_window)
        )
        if self.sub_limits and self.http.sub_limits is None:
            self.http.sub_limits = SubLimits(sub_limit_bucket, self.sub_limits, window=rate_window)
        list_limit = self.sub_limits.get("tickets_list")
        self.window_pages = min(page_cap, window_pages or list_limit or page_cap)
        """Pages read before a window's tickets are handed out: one minute of the list
        sub-limit, so listing never stalls on it; the next window starts where this ended."""
        self.http.session.auth = _ApiKeyAuth(api_key)
        self.domain = (urlsplit(self.base_url).hostname or self.base_url).removesuffix(
            ".freshdesk.com"
        )
        self.document_fields = tuple(document_fields)
        self._statuses = _Lookup("status", self._load_ticket_fields)
        """Loaded from ``GET /ticket_fields``, which also fills ``_field_labels``."""
        self._field_labels: Mapping[str, str] = MappingProxyType({})
        self._groups = _Lookup("group", self._load_groups)
        self._agents = _Lookup("agent", self._load_agents)
        self._requesters: OrderedDict[str, int] = OrderedDict()
        self._contacts = _PartyCache(PARTY_CACHE, party_ttl, monotonic)
        self._companies = _PartyCache(PARTY_CACHE, party_ttl, monotonic)
        self._contact_documents: tuple[str, ...] | None = None
        """The contact custom fields of the account that may hold a document (loaded once)."""

    def __repr__(self) -> str:
        return f"FreshdeskConnector({self.name!r}, {self.base_url!r})"

    # ------------------------------------------------------------------ check

    def check(self) -> str:
        """``GET /agents/me``: cheap proof that the key works; names the masked agent e-mail."""
        me = self.http.get("/api/v2/agents/me").json()
        email = (me.get("contact") or {}).get("email") or str(me.get("id"))
        return f"freshdesk {self.domain} as {mask_value('email', email)}"

    # ------------------------------------------------------------------ listing

    def _list_params(self, since: datetime, page: int) -> dict[str, Any]:
        # include=requester (+2 credits a page of 100, docs "List All Tickets") carries the
        # requester's name, e-mail and phones with each row: no call per requester.
        return {
            "updated_since": _utc(since),
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": self.per_page,
            "page": page,
            "include": "requester",
        }

    def _ref(self, row: Mapping[str, Any]) -> TicketRef:
        stamp = str(row["updated_at"])
        slim: dict[str, Any] = {}
        if not self.ticket_attachments:
            slim = {key: row[key] for key in SNAPSHOT_KEYS if key in row}
        requester = row.get("requester")
        if isinstance(requester, Mapping) and requester:
            slim["requester"] = {k: requester.get(k) for k in REQUESTER_KEYS if k in requester}
        snapshot = None
        if slim:
            snapshot = json.dumps(slim, separators=(",", ":"), ensure_ascii=False).encode()
        return TicketRef(id=str(row["id"]), version=stamp, stamp=_parse(stamp), snapshot=snapshot)

    def changed_since(self, since: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Tickets with ``updated_at >= since`` (and ``< until``), ascending; none skipped.

        Each window (at most ``page_cap`` pages) is read completely before its tickets are
        handed out: the engine's own writes bump ``updated_at`` and would otherwise move
        tickets of the window being paged, shifting offsets and skipping rows (reference
        quirk 3). A window is ``window_pages`` pages (one minute of the tickets-list
        sub-limit when configured, else the 300-page cap): at most 30,000 refs, each with a
        compact snapshot of its row when ``ticket_attachments`` is off. See the module
        docstring for windows (page cap) and ties (unstable order).
        """
        cursor = since.astimezone(UTC).replace(microsecond=0)
        while True:
            batch, next_cursor = self._window(cursor, until)
            yield from batch
            if next_cursor is None:
                return
            cursor = next_cursor

    def _window(
        self, cursor: datetime, until: datetime | None
    ) -> tuple[list[TicketRef], datetime | None]:
        """All refs of one listing window, and where the next window starts (None: done)."""
        tie = _Tie()
        tie.new_window()
        batch: list[TicketRef] = []
        page = 1
        response = self.http.get("/api/v2/tickets", params=self._list_params(cursor, page))
        while True:
            for row in self._rows(response, "GET /api/v2/tickets"):
                stamp = str(row["updated_at"])
                if stamp != tie.stamp:
                    batch.extend(self._finish_tie(tie, cursor))
                    if until is not None and _parse(stamp) >= until:
                        return batch, None
                    tie.start(stamp)
                tie.count += 1
                tie.pages.add(page)
                if str(row["id"]) not in tie.ids:
                    tie.ids.add(str(row["id"]))
                    batch.append(self._ref(row))
            next_url = response.links.get("next", {}).get("url")
            if next_url is None:
                batch.extend(self._finish_tie(tie, cursor))
                return batch, None
            if page + 1 > self.page_cap:
                break
            if page >= self.window_pages and tie.stamp is not None and _parse(tie.stamp) > cursor:
                break  # a full window that can be cut at its last second: hand it out
            page += 1
            response = self.http.get(next_url)
        assert tie.stamp is not None  # a full window has rows
        last = _parse(tie.stamp)
        if last <= cursor:
            raise FatalError(
                f"more than {self.page_cap * self.per_page} tickets share updated_at "
                f"{tie.stamp}: the list cannot be sliced below one second (Freshdesk's "
                f"{self.page_cap}-page cap); nothing was skipped, the pass stops here",
                helpdesk="freshdesk",
            )
        log.info(
            "window of %d pages read, next window from %s",
            page,
            tie.stamp,
            extra={"event": "freshdesk.window", "connector": self.name, "since": tie.stamp},
        )
        return batch, last

    def _finish_tie(self, tie: _Tie, cursor: datetime) -> Iterator[TicketRef]:
        """Re-read the pages of a second whose rows showed fewer distinct ids than rows."""
        if tie.stamp is None or len(tie.ids) >= tie.count or len(tie.pages) < 2:
            return
        for round_no in range(1, self.tie_rounds + 1):
            log.info(
                "tickets sharing %s: %d of %d seen, re-reading pages (round %d)",
                tie.stamp,
                len(tie.ids),
                tie.count,
                round_no,
                extra={"event": "freshdesk.tie_reread", "connector": self.name},
            )
            for page in sorted(tie.pages):
                rows = self._rows(
                    self.http.get("/api/v2/tickets", params=self._list_params(cursor, page)),
                    "GET /api/v2/tickets",
                )
                for row in rows:
                    if str(row["updated_at"]) == tie.stamp and str(row["id"]) not in tie.ids:
                        tie.ids.add(str(row["id"]))
                        yield self._ref(row)
                if len(tie.ids) >= tie.count:
                    return
        raise FatalError(
            f"{tie.count} tickets share updated_at {tie.stamp} but only {len(tie.ids)} distinct "
            f"ones were seen after {self.tie_rounds} re-reads (their order keeps changing)",
            helpdesk="freshdesk",
        )

    # ------------------------------------------------------------------ loading

    def _conversations(self, ticket_id: str) -> list[dict[str, Any]]:
        """All conversations of a ticket, oldest first (every page)."""
        out: list[dict[str, Any]] = []
        response = self.http.get(
            f"/api/v2/tickets/{ticket_id}/conversations",
            params={"per_page": 100},
            ticket_id=ticket_id,
        )
        while True:
            out.extend(self._rows(response, f"GET /api/v2/tickets/{ticket_id}/conversations"))
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return out
            response = self.http.get(next_url, ticket_id=ticket_id)

    def _ticket(
        self, ticket_id: str, *, conversations: bool = False, requester: bool = False
    ) -> dict[str, Any]:
        """``GET /tickets/{id}`` with the embeds asked for (docs "View a Ticket": +1 credit
        each, conversations two)."""
        embeds = [
            name for name, on in (("conversations", conversations), ("requester", requester)) if on
        ]
        params = {"include": ",".join(embeds)} if embeds else None
        data = self.http.get(
            f"/api/v2/tickets/{ticket_id}", params=params, ticket_id=ticket_id
        ).json()
        if not isinstance(data, dict):
            raise self._shape_error(f"GET /api/v2/tickets/{ticket_id}", "an object", data)
        return data

    @classmethod
    def _rows(cls, response: requests.Response, call: str) -> list[dict[str, Any]]:
        """A list endpoint's page: a JSON array of objects (docs: list endpoints)."""
        data = response.json()
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise cls._shape_error(call, "a list of objects", data)
        return data

    @staticmethod
    def _shape_error(call: str, expected: str, got: Any) -> FatalError:
        """A response whose shape is not the documented one: a clear error, never a body."""
        kind = type(got).__name__
        if isinstance(got, Mapping):
            kind += " with keys " + ", ".join(sorted(str(k) for k in got)[:8])
        return FatalError(
            f"unexpected answer to {call}: expected {expected} (Freshdesk API v2 docs), got {kind}",
            helpdesk="freshdesk",
        )

    def load(self, ref: TicketRef) -> Loaded:
        """The normalized ticket with every conversation; one read call for most tickets.

        The requester comes from the list row's ``include=requester`` (kept in the ref's
        snapshot); a ref without it (a timer's reload) asks the view for it instead.
        """
        snapshot: dict[str, Any] = json.loads(ref.snapshot) if ref.snapshot else {}
        if self.ticket_attachments:
            row = self._ticket(ref.id, conversations=True, requester="requester" not in snapshot)
            conversations = row.pop("conversations", None) or []
            if len(conversations) >= EMBEDDED_CONVERSATIONS:
                conversations = self._conversations(ref.id)
            if "requester" in snapshot:
                row.setdefault("requester", snapshot["requester"])
        else:
            row = snapshot if "id" in snapshot else self._ticket(ref.id, requester=True)
            conversations = self._conversations(ref.id)
        if row.get("requester_id") is not None:
            self._requesters[ref.id] = int(row["requester_id"])
            while len(self._requesters) > REQUESTER_CACHE:
                self._requesters.popitem(last=False)
        return Loaded(
            ref=ref, ticket=self._normalize(row, conversations), context=self._context(row)
        )

    def _children(self, ticket_id: str) -> list[Mapping[str, Any]]:
        """``GET /tickets/{id}/associated_tickets`` of a parent: docs "Get Associated
        Tickets" answers an object ``{"tickets": [...]}`` (summaries, no description)."""
        call = f"GET /api/v2/tickets/{ticket_id}/associated_tickets"
        data = self.http.get(
            f"/api/v2/tickets/{ticket_id}/associated_tickets", ticket_id=ticket_id
        ).json()
        tickets = data.get("tickets") if isinstance(data, Mapping) else None
        if not isinstance(tickets, list) or not all(isinstance(t, Mapping) for t in tickets):
            raise self._shape_error(call, "an object holding a 'tickets' list", data)
        return tickets

    def _context(self, row: Mapping[str, Any]) -> Context:
        """Facts for timers: ``child_answered`` on a parent ticket (one extra call).

        A child ticket (the distributor's) counts as answered once it is Resolved or Closed,
        or when its requester replied (``status`` Open after a Pending, as Freshdesk reopens
        on a reply, is not distinguishable here; resolving the child is the SOP's signal).
        Tickets without children pay nothing.
        """
        if row.get("association_type") != 1:
            return Context()
        children = self._children(str(row["id"]))
        answered = any(c.get("status") in (STATUS_RESOLVED, STATUS_CLOSED) for c in children)
        return Context(facts={"child_answered": answered, "children": len(children)})

    # ------------------------------------------------------------------ requester, company

    def _document(self, custom: Mapping[str, Any] | None) -> str | None:
        """The first non-empty document field of a contact's or company's custom fields."""
        for name in self.document_fields:
            for key in (name, name.removeprefix("cf_")):
                value = (custom or {}).get(key)
                if isinstance(value, str | int) and str(value).strip():
                    return str(value).strip()
        return None

    def _optional_get(self, path: str, ticket_id: str | None) -> Any:
        """A lookup that may be refused (no permission) or gone: None instead of an error."""
        try:
            return self.http.get(
                path,
                ticket_id=ticket_id,
                classify=lambda status, codes: FatalError if status in (403, 404) else None,
            ).json()
        except FatalError as exc:
            if exc.status not in (403, 404):
                raise
            log.warning(
                "freshdesk %s answered %s: left out of the ticket",
                path.rsplit("/", 1)[0],
                exc.status,
                extra={"event": "freshdesk.lookup_refused", "connector": self.name},
            )
            return None

    def _contact_document_names(self) -> tuple[str, ...]:
        """Which document fields the account's contacts have (``GET /contact_fields``, once).

        Only then is a requester's contact read (cached): ``include=requester`` carries
        name, e-mail and phones, never custom fields.
        """
        if self._contact_documents is None:
            wanted = {n for name in self.document_fields for n in (name, name.removeprefix("cf_"))}
            fields = self._optional_get("/api/v2/contact_fields", None) if wanted else []
            if fields is not None and not isinstance(fields, list):
                raise self._shape_error("GET /api/v2/contact_fields", "a list", fields)
            names = {str(f.get("name")) for f in fields or [] if isinstance(f, Mapping)}
            self._contact_documents = tuple(sorted(names & wanted))
        return self._contact_documents

    def _contact(self, contact_id: int, ticket_id: str) -> dict[str, Any] | None:
        def load(item_id: int) -> dict[str, Any] | None:
            data = self._optional_get(f"/api/v2/contacts/{item_id}", ticket_id)
            if data is not None and not isinstance(data, dict):
                raise self._shape_error(f"GET /api/v2/contacts/{item_id}", "an object", data)
            return data

        return self._contacts.get(contact_id, load)

    def _company(self, company_id: int, ticket_id: str) -> dict[str, Any] | None:
        def load(item_id: int) -> dict[str, Any] | None:
            data = self._optional_get(f"/api/v2/companies/{item_id}", ticket_id)
            if data is not None and not isinstance(data, dict):
                raise self._shape_error(f"GET /api/v2/companies/{item_id}", "an object", data)
            return data

        return self._companies.get(company_id, load)

    @staticmethod
    def _party(data: Mapping[str, Any], document: str | None) -> Party | None:
        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value).strip() or None if value is not None else None

        party = Party(
            name=text("name"),
            email=text("email"),
            document=document,
            phone=text("phone") or text("mobile"),
        )
        return (
            party
            if any(party.get(part) for part in ("name", "email", "document", "phone"))
            else None
        )

    def _requester(self, row: Mapping[str, Any]) -> Party | None:
        """The requester contact: the embedded one, or the contact itself (cached) when the
        account's contacts have a document field."""
        requester_id = row.get("requester_id")
        embedded = row.get("requester")
        if not isinstance(embedded, Mapping) or (
            embedded.get("id") is not None and embedded.get("id") != requester_id
        ):
            embedded = None
        if requester_id is None:
            return self._party(embedded, None) if embedded else None
        contact: Mapping[str, Any] | None = embedded
        document = None
        if self._contact_document_names() or embedded is None:
            contact = self._contact(int(requester_id), str(row["id"])) or embedded
            document = self._document((contact or {}).get("custom_fields"))
        return self._party(contact, document) if contact else None

    def _organization(self, row: Mapping[str, Any]) -> Party | None:
        """The ticket's company (the requester's): name and document, cached per company."""
        company_id = row.get("company_id")
        if company_id is None:
            return None
        company = self._company(int(company_id), str(row["id"]))
        if company is None:
            return None
        return self._party(company, self._document(company.get("custom_fields")))

    # ------------------------------------------------------------------ normalization

    def _normalize(
        self, row: Mapping[str, Any], conversations: Sequence[Mapping[str, Any]]
    ) -> Ticket:
        custom = dict(row.get("custom_fields") or {})
        fields: dict[str, Any] = {
            **custom,
            "type": row.get("type"),
            "priority": PRIORITY_LABELS.get(row.get("priority") or 0),
            "tags": list(row.get("tags") or []),
        }
        attachments = [
            Attachment(name=a["name"], content_type=a.get("content_type"))
            for a in row.get("attachments") or []
        ]
        comments = []
        for item in conversations:
            user_id = item.get("user_id")
            author = self._agents.peek(user_id) or (str(user_id) if user_id else None)
            comment_id = str(item["id"])
            comments.append(
                Comment(
                    id=comment_id,
                    body=item.get("body") or item.get("body_text") or "",
                    internal=bool(item.get("private")),
                    created_at=_parse(item["created_at"]),
                    author=author,
                )
            )
            attachments.extend(
                Attachment(
                    name=a["name"], content_type=a.get("content_type"), comment_id=comment_id
                )
                for a in item.get("attachments") or []
            )
        status_id = row.get("status")
        return Ticket(
            id=str(row["id"]),
            source="freshdesk",
            created_at=_parse(row["created_at"]),
            updated_at=_parse(row["updated_at"]),
            number=str(row["id"]),
            request_type=self._request_type(row, custom),
            subject=row.get("subject") or "",
            status=self._statuses.name(status_id) or (f"status {status_id}" if status_id else None),
            owner=self._agents.name(row.get("responder_id")),
            queue=self._groups.name(row.get("group_id")),
            fields=fields,
            comments=tuple(comments),
            attachments=tuple(attachments),
            field_labels=self._labels(),
            requester=self._requester(row),
            organization=self._organization(row),
        )

    def _request_type(self, row: Mapping[str, Any], custom: Mapping[str, Any]) -> str | None:
        def value(name: str | None) -> str | None:
            if not name:
                return None
            raw = row.get(name) if name == "type" else custom.get(name)
            return str(raw).strip() or None if raw is not None else None

        main, sub = value(self.request_type_field), value(self.subcategory_field)
        if main and sub:
            return f"{main} > {sub}"
        return main or sub

    # ------------------------------------------------------------------ names

    def _pages(self, path: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        response = self.http.get(path, params={"per_page": 100})
        while True:
            out.extend(self._rows(response, f"GET {path}"))
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return out
            response = self.http.get(next_url)

    def _load_ticket_fields(self) -> list[tuple[int, list[str]]]:
        """``GET /ticket_fields`` (docs "List All Ticket Fields": an array, not paginated):
        the status choices ``{"2": ["Open", <customer label>], ...}`` and, as a side effect,
        every field's agent label (``label_for_agents`` where present, else ``label``)."""
        fields = self.http.get("/api/v2/ticket_fields").json()
        if not isinstance(fields, list):
            raise self._shape_error("GET /api/v2/ticket_fields", "a list", fields)
        labels: dict[str, str] = {}
        statuses: list[tuple[int, list[str]]] = []
        for item in fields:
            if not isinstance(item, Mapping):
                continue
            for each in (item, *(item.get("nested_ticket_fields") or [])):
                name = str(each.get("name") or "")
                label = each.get("label_for_agents") or each.get("label")
                if name and label and (name.startswith("cf_") or not item.get("default")):
                    labels[name] = str(label)
            if item.get("name") in LABEL_FIELDS and item.get("label"):
                labels[LABEL_FIELDS[str(item["name"])]] = str(item["label"])
            if item.get("name") == "status" and isinstance(item.get("choices"), dict):
                statuses = [
                    (int(k), [str(v[0])] if v else [str(k)]) for k, v in item["choices"].items()
                ]
        self._field_labels = MappingProxyType(labels)
        return statuses

    def _labels(self) -> Mapping[str, str]:
        """Field API name -> the label agents see (loaded with the statuses, cached)."""
        if not self._statuses.loaded:
            self._statuses.load()
        return self._field_labels

    def _load_groups(self) -> list[tuple[int, list[str]]]:
        return [(int(g["id"]), [str(g["name"])]) for g in self._pages("/api/v2/groups")]

    def _load_agents(self) -> list[tuple[int, list[str]]]:
        out = []
        for agent in self._pages("/api/v2/agents"):
            contact = agent.get("contact") or {}
            labels = [str(contact.get("name") or contact.get("email") or agent["id"])]
            if contact.get("email"):
                labels.append(str(contact["email"]))
            out.append((int(agent["id"]), labels))
        return out

    def status_id(self, name: str) -> int:
        """Status name -> id: the agent label (custom statuses too), else the defaults."""
        found = self._statuses.id(name, DEFAULT_STATUS_NAMES)
        if found is None:
            raise FatalError(
                f"unknown status '{name}'; known: {self._statuses.known()}", helpdesk="freshdesk"
            )
        return found

    def group_id(self, name: str) -> int:
        """Group name -> ``group_id``."""
        found = self._groups.id(name)
        if found is None:
            raise FatalError(
                f"unknown group '{name}'; known: {self._groups.known()}", helpdesk="freshdesk"
            )
        return found

    def agent_id(self, name: str) -> int:
        """Agent name or e-mail -> ``responder_id``."""
        found = self._agents.id(name)
        if found is None:
            raise FatalError(
                f"unknown agent '{name}'; known: {self._agents.known()}", helpdesk="freshdesk"
            )
        return found

    @staticmethod
    def priority_id(name: str) -> int:
        """Priority name (English or Portuguese) or number -> 1..4."""
        key = fold(name)
        if key in PRIORITY_NAMES:
            return PRIORITY_NAMES[key]
        if key in {"1", "2", "3", "4"}:
            return int(key)
        known = "Low, Medium, High, Urgent, Baixa, Média, Alta, Urgente"
        raise FatalError(f"unknown priority '{name}'; known: {known}", helpdesk="freshdesk")

    # ------------------------------------------------------------------ writes

    def _footer(self, *keys: str) -> str:
        """The visible footer carrying the marker of every effect the text holds."""
        markers = " ".join(marker(key) for key in keys)
        return "<p>" + html.escape(self.marker_footer.format(marker=markers)) + "</p>"

    def _field_changes(self, action: Action, tags: Sequence[str]) -> dict[str, Any]:
        """The PUT body part one field action asks for (names resolved to ids)."""
        if isinstance(action, Route):
            # Freshdesk has groups and agents; a queue name is taken as a group, a team has
            # no equivalent and is ignored when a group or owner comes with it.
            group = action.group or action.queue
            if not group and not action.owner:
                raise FatalError(
                    f"cannot route to team '{action.team}': Freshdesk routes to a group or agent",
                    helpdesk="freshdesk",
                )
            body: dict[str, Any] = {}
            if group:
                body["group_id"] = self.group_id(group)
            if action.owner:
                body["responder_id"] = self.agent_id(action.owner)
            return body
        if isinstance(action, SetStatus):
            return {"status": self.status_id(action.status)}
        if isinstance(action, Resolve):
            return {"status": self.status_id(action.status) if action.status else STATUS_RESOLVED}
        if isinstance(action, SetPriority):
            return {"priority": self.priority_id(action.priority)}
        if isinstance(action, MarkCritical):
            merged = list(tags) + ([CRITICAL_TAG] if CRITICAL_TAG not in tags else [])
            return {"priority": PRIORITY_URGENT, "tags": merged}
        return {}

    def _check_names(self, action: CreateChildTicket | CreateTicket) -> None:
        """Resolve the names of a ticket to create (cached), so a bad one fails early."""
        if action.group:
            self.group_id(action.group)
        if action.owner:
            self.agent_id(action.owner)
        if isinstance(action, CreateTicket) and action.status:
            self.status_id(action.status)

    def _task_due(self, action: CreateTask) -> str:
        return action.due.astimezone(SAO_PAULO).strftime("%Y-%m-%d")

    @staticmethod
    def _task_text(action: CreateTask) -> str:
        due = action.due.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")
        lines = [f"Tarefa de acompanhamento: {action.subject} — prazo {due} (America/Sao_Paulo)"]
        if action.owner:
            lines.append(f"Responsável: {action.owner}")
        if action.description:
            lines.append(action.description)
        return "\n".join(lines)

    def _note_html(self, effects: Sequence[Effect]) -> str:
        """ONE private note for a decision's notes and tasks: the note texts in order, then
        each task, then one footer with every effect's marker (each is found by its own)."""
        notes = [e for e in effects if isinstance(e.action, AddNote)]
        tasks = [e for e in effects if isinstance(e.action, CreateTask)]
        parts = [text_to_html(e.action.text) for e in notes if isinstance(e.action, AddNote)]
        parts += [
            text_to_html(self._task_text(e.action))
            for e in tasks
            if isinstance(e.action, CreateTask)
        ]
        return "".join(parts) + self._footer(*(e.key for e in notes + tasks))

    def _plan_update(
        self, loaded: Loaded, effects: Sequence[Effect]
    ) -> tuple[dict[str, Any], set[str]]:
        """The one PUT body for every field effect (and task due field), and their keys.

        Every name the effects carry is resolved here, before anything is written.
        """
        body: dict[str, Any] = {}
        keys: set[str] = set()
        tags = list(loaded.ticket.fields.get("tags") or [])
        dues: list[str] = []
        for effect in effects:
            action = effect.action
            if isinstance(action, FIELD_ACTIONS):
                part = self._field_changes(action, tags)
                tags = part.get("tags", tags)
                body.update(part)
                keys.add(effect.key)
            elif isinstance(action, CreateTask) and self.task_due_field:
                dues.append(self._task_due(action))
            elif isinstance(action, CreateChildTicket | CreateTicket):
                self._check_names(action)
            elif isinstance(action, Merge) and not action.into.isdigit():
                raise FatalError(
                    f"cannot merge into '{action.into}': not a Freshdesk ticket id",
                    helpdesk="freshdesk",
                    ticket_id=loaded.ticket.id,
                )
        if dues and loaded.ticket.fields.get(self.task_due_field) != min(dues):
            # Several tasks share one field: it shows the earliest (most urgent) due date.
            # Already there (a restart after the PUT landed): nothing to send again.
            body["custom_fields"] = {self.task_due_field: min(dues)}
        return body, keys

    def apply(self, loaded: Loaded, effects: Sequence[Effect]) -> list[Receipt]:
        """Apply one decision's effects in order; field effects share ONE PUT.

        Names are resolved before the first write, so an unknown group fails with nothing
        written. The PUT is sent at the position of the first effect it carries.
        """
        ticket_id = loaded.ticket.id
        update, update_keys = self._plan_update(loaded, effects)
        noted = [e for e in effects if isinstance(e.action, AddNote | CreateTask)]
        order = {e.key: i for i, e in enumerate(effects)}
        done: list[Receipt] = []
        put_sent = note_sent = False
        try:
            for effect in effects:
                action = effect.action
                joins_put = effect.key in update_keys or (
                    isinstance(action, CreateTask) and "custom_fields" in update
                )
                if joins_put and not put_sent:
                    if update:
                        self.http.request(
                            "PUT",
                            f"/api/v2/tickets/{ticket_id}",
                            json=update,
                            ticket_id=ticket_id,
                            retry_writes=True,  # absolute values: sending twice changes nothing
                        )
                    put_sent = True
                    done.extend(Receipt(k, remote_id=ticket_id) for k in update_keys)
                if effect.key in update_keys:
                    continue
                if isinstance(action, AddNote | CreateTask):
                    if not note_sent:  # the decision's one note, at its first note or task
                        note_id = self._add_note(ticket_id, self._note_html(noted))
                        note_sent = True
                        done.extend(Receipt(e.key, remote_id=note_id) for e in noted)
                    continue
                remote = self._write(loaded, effect)
                done.append(Receipt(effect.key, remote_id=remote))
        except ConnectorError as exc:
            exc.receipts = sorted(done, key=lambda r: order[r.key])  # type: ignore[attr-defined]
            raise
        return sorted(done, key=lambda r: order[r.key])

    def _write(self, loaded: Loaded, effect: Effect) -> str | None:
        """One non-field effect; returns the id of what was created."""
        ticket_id = loaded.ticket.id
        action = effect.action
        if isinstance(action, AddNote | CreateTask):
            return self._add_note(ticket_id, self._note_html([effect]))
        if isinstance(action, CreateChildTicket | CreateTicket):
            return self._create_ticket(loaded, effect)
        if isinstance(action, Merge):
            body: dict[str, Any] = {
                "primary_id": int(action.into),
                "ticket_ids": [int(action.into), int(ticket_id)],
            }
            if action.note:
                body["note_in_primary"] = {
                    "body": text_to_html(action.note) + self._footer(effect.key),
                    "private": True,
                }
            self.http.request("PUT", "/api/v2/tickets/merge", json=body, ticket_id=ticket_id)
            return action.into
        raise FatalError(
            f"action '{action.kind}' is not supported", helpdesk="freshdesk", ticket_id=ticket_id
        )

    def _add_note(self, ticket_id: str, body_html: str) -> str:
        note = self.http.request(
            "POST",
            f"/api/v2/tickets/{ticket_id}/notes",
            json={"body": body_html, "private": True},
            ticket_id=ticket_id,
        ).json()
        if not isinstance(note, Mapping) or "id" not in note:  # docs "Create a Note"
            raise self._shape_error(f"POST /api/v2/tickets/{ticket_id}/notes", "a note", note)
        return str(note["id"])

    def _requester_id(self, ticket_id: str) -> int:
        if ticket_id not in self._requesters:
            self._requesters[ticket_id] = int(self._ticket(ticket_id)["requester_id"])
        return self._requesters[ticket_id]

    def _new_ticket_body(self, loaded: Loaded, effect: Effect) -> dict[str, Any]:
        action = effect.action
        assert isinstance(action, CreateChildTicket | CreateTicket)
        text = action.description
        if action.due is not None:
            due = action.due.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")
            text += f"\n\nPrazo: {due} (America/Sao_Paulo)"
        status = STATUS_OPEN
        if isinstance(action, CreateTicket) and action.status:
            status = self.status_id(action.status)
        body: dict[str, Any] = {
            "subject": action.subject,
            "description": text_to_html(text) + self._footer(effect.key),
            "status": status,  # the server demands status and priority despite documented defaults
            "priority": PRIORITY_LOW,
        }
        if action.group:
            body["group_id"] = self.group_id(action.group)
        if action.owner:
            body["responder_id"] = self.agent_id(action.owner)
        if action.requester_email:
            body["email"] = action.requester_email
        else:
            body["requester_id"] = self._requester_id(loaded.ticket.id)
        if isinstance(action, CreateChildTicket):
            body["parent_id"] = int(loaded.ticket.id)
        return body

    def _create_ticket(self, loaded: Loaded, effect: Effect) -> str:
        body = self._new_ticket_body(loaded, effect)
        # 403 on create means the parent is unknown/inaccessible: that ticket fails, the
        # credentials are fine (check() already proved them).
        created = self.http.request(
            "POST",
            "/api/v2/tickets",
            json=body,
            ticket_id=loaded.ticket.id,
            classify=lambda status, codes: FatalError if status == 403 else None,
        ).json()
        new_id = str(created["id"])
        action = effect.action
        if isinstance(action, CreateTicket) and action.internal_note:
            self._add_note(new_id, text_to_html(action.internal_note) + self._footer(effect.key))
        return new_id

    # ------------------------------------------------------------------ reconciliation

    def find_applied(self, loaded: Loaded, effect: Effect) -> Receipt | None:
        """Find an effect written before a crash: its marker, or the ticket's current state."""
        action = effect.action
        ticket_id = loaded.ticket.id
        tag = marker(effect.key)
        if isinstance(action, AddNote | CreateTask):
            for comment in loaded.ticket.comments:
                if tag in comment.body:
                    return Receipt(effect.key, remote_id=comment.id, reconciled=True)
            for item in self._conversations(ticket_id):  # fresher than what load saw
                if tag in (item.get("body") or "") or tag in (item.get("body_text") or ""):
                    return Receipt(effect.key, remote_id=str(item["id"]), reconciled=True)
            return None
        if isinstance(action, CreateChildTicket):
            return self._find_child(ticket_id, effect)
        if isinstance(action, CreateTicket):
            return self._find_created(loaded, effect)
        current = self._ticket(ticket_id)
        if isinstance(action, Merge):
            closed = current.get("status") == STATUS_CLOSED
            return Receipt(effect.key, remote_id=action.into, reconciled=True) if closed else None
        if isinstance(action, FIELD_ACTIONS):
            wanted = self._field_changes(action, list(current.get("tags") or []))
            if all(self._holds(current, name, value) for name, value in wanted.items()):
                return Receipt(effect.key, remote_id=ticket_id, reconciled=True)
        return None

    def _find_child(self, ticket_id: str, effect: Effect) -> Receipt | None:
        """A child ticket created before a crash: the parent's fresh view lists its children
        (docs "View a Ticket with Association": ``associated_tickets_list`` holds the child
        ids when ``association_type`` is 1), each child's view has its description with the
        marker. A ticket without children is not asked for ``/associated_tickets`` (the
        server answers 404 there) and costs one call."""
        parent = self._ticket(ticket_id)
        if parent.get("association_type") != 1:
            return None
        ids = parent.get("associated_tickets_list")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise self._shape_error(
                f"GET /api/v2/tickets/{ticket_id}", "associated_tickets_list as a list of ids", ids
            )
        tag = marker(effect.key)
        for child_id in ids:
            child = self._ticket(str(child_id))
            text = (child.get("description") or "") + (child.get("description_text") or "")
            if tag in text:
                return Receipt(effect.key, remote_id=str(child_id), reconciled=True)
        return None

    @staticmethod
    def _holds(current: Mapping[str, Any], name: str, value: Any) -> bool:
        if name == "tags":
            return set(value) <= set(current.get("tags") or [])
        return bool(current.get(name) == value)

    def _find_created(self, loaded: Loaded, effect: Effect) -> Receipt | None:
        """A ticket created from this one: the requester's recent tickets, by marker."""
        action = effect.action
        assert isinstance(action, CreateTicket)
        params: dict[str, Any] = {
            "updated_since": _utc(loaded.ticket.created_at - timedelta(minutes=1)),
            "order_by": "created_at",
            "order_type": "desc",
            "per_page": 100,
            "include": "description",
        }
        if action.requester_email:
            params["email"] = action.requester_email
        else:
            params["requester_id"] = self._requester_id(loaded.ticket.id)
        tag = marker(effect.key)
        response = self.http.get("/api/v2/tickets", params=params, ticket_id=loaded.ticket.id)
        for item in self._rows(response, "GET /api/v2/tickets"):
            if tag in (item.get("description") or "") or tag in (
                item.get("description_text") or ""
            ):
                return Receipt(effect.key, remote_id=str(item["id"]), reconciled=True)
        return None


__all__ = ["CRITICAL_TAG", "FreshdeskConnector", "text_to_html"]
