"""Context facts of the Emissor preflight read from Movidesk: onboarding, non-payment, duplicates.

Theory of operation
-------------------
* Sources are settings (``ContextSources``), all optional. With none set nothing is read
  and no fact is added; each fact is filled only from the sources that say something
  about it, so an absent fact stays "unknown" for the decision core.
* From the ticket's own row (no call; the list row carries its custom field values):
  ``onboarding_field`` (a yes/no flag such as "Cliente em onboarding?" = Sim) gives
  ``customer_in_onboarding``; ``onboarding_ticket_field`` the onboarding ticket's number
  (``onboarding_ticket_id``); ``non_payment_field`` (yes/no) ``blocked_for_non_payment``
  (and ``customer_blocked`` when it is true); ``block_reason_field`` ``block_reason``.
  That is where the Emissor account keeps them (the agent fills them on the ticket).
* From the organizations' open tickets, read in batches and cached: ``GET /tickets``
  with ``clients/any(c: c/organization/id eq 'X' or c/organization/id eq 'Y' or c/id eq
  'Z')`` (``c/id`` when the client is itself a company) and ``baseStatus`` not
  Resolved/Closed/Canceled, ``$select`` of the few fields read, ``$expand`` of the owner,
  the clients with their organization (to tell whose each row is) and the custom field
  values, ``$orderby=id asc``, ``$top=100``, next pages by ``id gt N``. The listing
  announces each page of tickets (``expect``); the first ticket whose organization is not
  cached reads it together with up to ``BATCH - 1`` other announced organizations not
  cached yet, so a page of 100 tickets costs about ``ceil(organizations / BATCH)`` calls
  (``BATCH`` = 20 keeps the URL far under the 2,048-character query string IIS accepts by
  default). Read only when ``onboarding_category``/``onboarding_tag`` or
  ``linked_card_field`` is set:
  - an open ticket with the onboarding category or tag (not the ticket itself) means the
    customer is still in onboarding; the oldest such ticket is ``onboarding_ticket_id``
    when the ticket's own field does not name one. A ticket that is itself an onboarding
    ticket gets no onboarding facts (it would be merged into itself).
  - ``Context.open_tickets``: the other open tickets, oldest first, as ``RelatedTicket``
    (number, subject, category, owner, created date, ``has_linked_card`` = a value in
    ``linked_card_field``, ``same_subject``, ``in_attendance`` = its ``baseStatus`` is
    InAttendance or Stopped: an analyst picked it up). They are given only when
    ``linked_card_field`` is set: without it "no linked card" could not be told from
    "not known", and the decision core would merge every duplicate.
* ``same_subject``: the subjects folded (case, accents), cut into words without the short
  and function words; the same subject when one word set holds the other (at least two
  words in the smaller one) or they share at least 60% of their words. "App não abre"
  and "App não abre no celular", "Importar vendas de outubro" and "Importar vendas
  outubro" are the same subject; two different categories never are.
* The cache is a small TTL map keyed by organization (``ttl`` seconds on the injected
  monotonic clock); an entry read for the page of tickets being processed stays valid
  until the next page, so a page paced by the day limit (100 tickets, about ten minutes)
  costs one batch, not one per ``ttl``: facts may lag other people's changes by the
  longer of ``ttl`` and one page. Entries of pages before the previous one are dropped
  when a page arrives, so memory stays flat over a long backfill. Our own writes keep it
  true without a read, so the next ticket of the same customer sees the state we left:
  ``wrote`` applies a PATCH's status, owner and tags to the cached row (a new status
  makes its ``baseStatus`` unknown: a ticket we merged or paused is never taken for one
  in attendance); ``forget`` drops the entry after we open a ticket for that customer. A
  note alone changes nothing read here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.model import Context, RelatedTicket
from sync.textnorm import fold

from .._http import HttpClient
from .api import CUSTOM_FIELDS_EXPAND, parse_datetime, quote, rows, ticket_query
from .normalize import custom_fields, first_client, person_name

CONTEXT_TTL = 120.0
"""Seconds an organization's open tickets are reused (about one pass)."""
OPEN_FILTER = "baseStatus ne 'Resolved' and baseStatus ne 'Closed' and baseStatus ne 'Canceled'"
CONTEXT_SELECT = "id,subject,category,createdDate,tags,baseStatus"
ATTENDED = frozenset({"InAttendance", "Stopped"})
"""``baseStatus`` values of a ticket an analyst is handling (SOP: "em atendimento")."""
CONTEXT_EXPAND = f"owner,clients($expand=organization),{CUSTOM_FIELDS_EXPAND}"
CONTEXT_TOP = 100
BATCH = 20
"""Organizations read in one call (each adds about 50 characters to the URL)."""
DONE = frozenset({"resolved", "closed", "canceled"})
YES = frozenset({"sim", "s", "yes", "y", "true", "1", "verdadeiro"})
NO = frozenset({"nao", "n", "no", "false", "0", "falso"})
STOP_WORDS = frozenset(
    {"de", "do", "da", "dos", "das", "no", "na", "nos", "nas", "em", "um", "uma", "para",
     "pra", "com", "por", "ao", "aos", "que", "meu", "minha", "the", "and"}
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

OrgKey = tuple[str, str]
"""("organization", id) or ("client", id) when the client is itself the company."""


@dataclass(frozen=True, slots=True)
class ContextSources:
    """Where each fact is kept in the account (custom field ids, a category, a tag)."""

    onboarding_category: str | None = None
    onboarding_tag: str | None = None
    onboarding_field: str | None = None
    onboarding_ticket_field: str | None = None
    non_payment_field: str | None = None
    block_reason_field: str | None = None
    linked_card_field: str | None = None

    @classmethod
    def of(cls, values: Mapping[str, str | None] | None) -> ContextSources:
        """From the connector's ``context_sources`` (unknown keys are an error)."""
        given = {k: (str(v) if v not in (None, "") else None) for k, v in (values or {}).items()}
        unknown = sorted(set(given) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown Movidesk context sources: {', '.join(unknown)}")
        return cls(**given)

    @property
    def reads_organization(self) -> bool:
        """Whether the organization's open tickets are read at all."""
        return bool(self.onboarding_category or self.onboarding_tag or self.linked_card_field)


def yes_no(value: Any) -> bool | None:
    """A yes/no custom field value; None when it says neither."""
    if value is None:
        return None
    text = fold(str(value))
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def subject_words(subject: str) -> frozenset[str]:
    """The words that carry a subject's meaning (folded, no short or function words)."""
    return frozenset(w for w in _WORD.findall(fold(subject)) if len(w) > 1 and w not in STOP_WORDS)


def in_attendance(row: Mapping[str, Any]) -> bool | None:
    """An analyst is handling it (``baseStatus`` InAttendance or Stopped); None if unsaid."""
    base = row.get("baseStatus")
    if not isinstance(base, str) or not base:
        return None
    return base in ATTENDED


def same_subject(
    a: str, b: str, category_a: str | None = None, category_b: str | None = None
) -> bool:
    """Whether two subjects (and categories, when both are known) are the same matter."""
    if category_a and category_b and fold(category_a) != fold(category_b):
        return False
    wa, wb = subject_words(a), subject_words(b)
    if not wa or not wb:
        return False
    small, large = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if len(small) >= 2 and small <= large:
        return True
    return len(wa & wb) / len(wa | wb) >= 0.6


def org_key(row: Mapping[str, Any]) -> OrgKey | None:
    """The ticket's customer: its requester's organization, or the requester when it is a
    company; None when the ticket has no client."""
    client = first_client(row)
    if client is None:
        return None
    organization = client.get("organization")
    if isinstance(organization, Mapping) and organization.get("id"):
        return ("organization", str(organization["id"]))
    if client.get("personType") == 2 and client.get("id"):
        return ("client", str(client["id"]))
    return None


def client_keys(row: Mapping[str, Any]) -> set[OrgKey]:
    """Every customer a ticket belongs to: each client's organization, or the client
    itself when it is a company."""
    keys: set[OrgKey] = set()
    for client in row.get("clients") or []:
        if not isinstance(client, Mapping) or client.get("isDeleted"):
            continue
        organization = client.get("organization")
        if isinstance(organization, Mapping) and organization.get("id"):
            keys.add(("organization", str(organization["id"])))
        elif client.get("personType") == 2 and client.get("id"):
            keys.add(("client", str(client["id"])))
    return keys


def org_filter(*keys: OrgKey, after: int | None = None) -> str:
    """The ``$filter`` of the open tickets of ``keys`` (ids above ``after``)."""
    tests = " or ".join(
        f"{'c/organization/id' if kind == 'organization' else 'c/id'} eq {quote(ident)}"
        for kind, ident in keys
    )
    where = f"clients/any(c: {tests}) and {OPEN_FILTER}"
    return where if after is None else f"{where} and id gt {after}"


def _age_key(row: Mapping[str, Any]) -> tuple[bool, datetime, int]:
    """Oldest first; a row without a creation date last."""
    created = _created(row)
    return (created is None, created or _EPOCH, int(row.get("id") or 0))


def _is_open(row: Mapping[str, Any]) -> bool:
    base = row.get("baseStatus")
    return not (isinstance(base, str) and base.lower() in DONE)


def _created(row: Mapping[str, Any]) -> datetime | None:
    stamp = row.get("createdDate")
    if not stamp:
        return None
    try:
        return parse_datetime(str(stamp))
    except ValueError:
        return None


@dataclass(slots=True)
class _Entry:
    at: float
    rows: list[dict[str, Any]]
    page: int = 0
    """The listed page the entry was read for (valid while that page is processed)."""


@dataclass(slots=True)
class ContextReader:
    """Reads the facts of one ticket; organizations read in batches, cached for ``ttl``."""

    http: HttpClient
    sources: ContextSources
    ttl: float = CONTEXT_TTL
    monotonic: Callable[[], float] = time.monotonic
    calls: int = 0
    """Organization queries sent (for tests and the read-cost report)."""
    _cache: dict[OrgKey, _Entry] = field(default_factory=dict)
    _orgs: dict[str, OrgKey] = field(default_factory=dict)
    """Ticket id -> its organization, remembered at load (``forget`` after a write)."""
    _pending: dict[OrgKey, None] = field(default_factory=dict)
    """Organizations of listed tickets not loaded yet, oldest first (read in batches)."""
    _page: int = 0
    """Pages announced so far (``expect``)."""

    def expect(self, rows: list[dict[str, Any]]) -> None:
        """A page of listed tickets: their organizations are read together, when needed."""
        if not self.sources.reads_organization:
            return
        self._page += 1
        # Memory stays flat over a long backfill: entries of pages before the previous one
        # go (an organization listed again is read again, in that page's batch).
        old = [k for k, e in self._cache.items() if e.page < self._page - 1]
        if old:
            for key in old:
                del self._cache[key]
            self._orgs = {t: k for t, k in self._orgs.items() if k in self._cache}
        for row in rows:
            key = org_key(row)
            if key is not None:
                self._pending[key] = None

    # ------------------------------------------------------------------ facts

    def context(self, row: Mapping[str, Any], base: Context | None = None) -> Context:
        """``base`` (the row's own facts) plus the Emissor facts of this ticket."""
        base = base or Context()
        facts: dict[str, Any] = dict(base.facts)
        facts.update(self._own_facts(row))
        open_tickets = base.open_tickets
        key = org_key(row)
        if key is not None:
            self._orgs[str(row.get("id"))] = key
        if self.sources.reads_organization and key is not None:
            others = [r for r in self._open_rows(key, str(row.get("id"))) if _is_open(r)]
            self._onboarding(row, others, facts)
            if self.sources.linked_card_field:
                open_tickets = tuple(self._related(row, others))
        return Context(facts=facts, open_tickets=open_tickets)

    def _own_facts(self, row: Mapping[str, Any]) -> dict[str, Any]:
        src = self.sources
        if not (
            src.onboarding_field
            or src.onboarding_ticket_field
            or src.non_payment_field
            or src.block_reason_field
        ):
            return {}
        custom = custom_fields(row)
        facts: dict[str, Any] = {}
        if src.onboarding_field and not self._is_onboarding_ticket(row):
            flag = yes_no(custom.get(src.onboarding_field))
            if flag is not None:
                facts["customer_in_onboarding"] = flag
        if src.onboarding_ticket_field and facts.get("customer_in_onboarding") is not False:
            number = (custom.get(src.onboarding_ticket_field) or "").strip().lstrip("#")
            if number and number != str(row.get("id")):
                facts["onboarding_ticket_id"] = number
        if src.non_payment_field:
            blocked = yes_no(custom.get(src.non_payment_field))
            if blocked is not None:
                facts["blocked_for_non_payment"] = blocked
                if blocked:
                    facts["customer_blocked"] = True
        if src.block_reason_field:
            reason = (custom.get(src.block_reason_field) or "").strip()
            if reason:
                facts["block_reason"] = reason
        return facts

    def _is_onboarding_ticket(self, row: Mapping[str, Any]) -> bool:
        src = self.sources
        if src.onboarding_category and fold(str(row.get("category") or "")) == fold(
            src.onboarding_category
        ):
            return True
        tags = {fold(str(t)) for t in row.get("tags") or []}
        return bool(src.onboarding_tag and fold(src.onboarding_tag) in tags)

    def _onboarding(
        self, row: Mapping[str, Any], others: list[dict[str, Any]], facts: dict[str, Any]
    ) -> None:
        src = self.sources
        if not (src.onboarding_category or src.onboarding_tag):
            return
        if self._is_onboarding_ticket(row):
            facts.pop("customer_in_onboarding", None)
            facts.pop("onboarding_ticket_id", None)
            return
        found = [r for r in others if self._is_onboarding_ticket(r)]
        if not found:
            facts.setdefault("customer_in_onboarding", False)
            return
        found.sort(key=_age_key)
        facts["customer_in_onboarding"] = True
        facts.setdefault("onboarding_ticket_id", str(found[0]["id"]))

    def _related(self, row: Mapping[str, Any], others: list[dict[str, Any]]) -> list[RelatedTicket]:
        card_field = self.sources.linked_card_field
        assert card_field is not None
        subject = str(row.get("subject") or "")
        category = row.get("category")
        related = [
            RelatedTicket(
                id=str(r["id"]),
                number=str(r["id"]),
                subject=str(r.get("subject") or ""),
                request_type=r.get("category") or None,
                owner=person_name(r.get("owner")),
                created_at=_created(r),
                has_linked_card=bool((custom_fields(r).get(card_field) or "").strip()),
                same_subject=same_subject(
                    subject, str(r.get("subject") or ""), category, r.get("category")
                ),
                in_attendance=in_attendance(r),
            )
            for r in others
            if not self._is_onboarding_ticket(r)
        ]
        related.sort(key=lambda t: (t.created_at is None, t.created_at or _EPOCH, int(t.id)))
        return related

    # ------------------------------------------------------------------ reads and cache

    def _stale(self, key: OrgKey, now: float) -> bool:
        """Not cached, or read for an earlier page more than ``ttl`` seconds ago."""
        entry = self._cache.get(key)
        if entry is None:
            return True
        return entry.page != self._page and now - entry.at >= self.ttl

    def _open_rows(self, key: OrgKey, own_id: str) -> list[dict[str, Any]]:
        """The organization's open tickets other than ``own_id`` (cached for ``ttl``)."""
        now = self.monotonic()
        if self._stale(key, now):
            batch = [key]
            for other in list(self._pending):
                if len(batch) == BATCH:
                    break
                if other != key and self._stale(other, now):
                    batch.append(other)
            self._read(batch, now)
        self._pending.pop(key, None)
        return [r for r in self._cache[key].rows if str(r.get("id")) != own_id]

    def _read(self, keys: list[OrgKey], now: float) -> None:
        """The open tickets of ``keys``, every page, into the cache (one entry per key)."""
        found: dict[OrgKey, list[dict[str, Any]]] = {k: [] for k in keys}
        after: int | None = None
        while True:
            params = ticket_query(
                filter=org_filter(*keys, after=after),
                orderby="id asc",
                top=CONTEXT_TOP,
                select=CONTEXT_SELECT,
                expand=CONTEXT_EXPAND,
            )
            self.calls += 1
            page = rows(self.http.get("/tickets", params=params), "GET /tickets")
            for r in page:
                for k in client_keys(r) & found.keys():
                    found[k].append(r)
                    self._orgs.setdefault(str(r.get("id")), k)
            if len(page) < CONTEXT_TOP:
                break
            after = max(int(r["id"]) for r in page)
        for k, rows_of_k in found.items():
            self._cache[k] = _Entry(now, rows_of_k, self._page)
            self._pending.pop(k, None)

    def wrote(self, ticket_id: str, body: Mapping[str, Any], owner: str | None) -> None:
        """Our PATCH ``body`` to ``ticket_id``, applied to its cached row without a read.

        A new status leaves the row's ``baseStatus`` unknown (the account maps status names
        to bases: not known here), so the ticket counts as open but never as in attendance
        until it is read again; a new owner is ``owner`` (the name routed to) or unknown.
        """
        key = self._orgs.get(str(ticket_id))
        entry = self._cache.get(key) if key is not None else None
        if entry is None:
            return
        for row in entry.rows:
            if str(row.get("id")) != str(ticket_id):
                continue
            if "status" in body:
                row["status"] = body["status"]
                row.pop("baseStatus", None)
            if "owner" in body or "ownerTeam" in body:
                row["owner"] = {"businessName": owner} if owner else None
            if "tags" in body:
                row["tags"] = list(body["tags"])

    def forget(self, ticket_id: str) -> None:
        """Drop the cached tickets of ``ticket_id``'s organization (after our writes)."""
        key = self._orgs.get(str(ticket_id))
        if key is not None:
            self._cache.pop(key, None)


__all__ = [
    "BATCH",
    "CONTEXT_TTL",
    "ContextReader",
    "ContextSources",
    "client_keys",
    "in_attendance",
    "org_filter",
    "org_key",
    "same_subject",
    "subject_words",
    "yes_no",
]
