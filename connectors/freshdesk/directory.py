"""Who and what the account names: statuses, groups, agents, field labels, parties.

Theory of operation
-------------------
* Names (groups, agents, statuses, priorities) resolve through cached lookups
  (``connectors._names.NameLookup``) refreshed once on a miss; an unknown name is a
  ``FatalError`` listing the known ones. Statuses come with every field's agent label from
  one ``GET /ticket_fields`` (``Ticket.field_labels``); custom statuses are found by their
  agent label, the default ones also by their English or Portuguese name. Groups and agents
  come from every page of ``/groups`` and ``/agents``; an agent is found by name or e-mail.
* What agents see of the requester and company: the list asks ``include=requester``, so
  every ref carries the requester's name, e-mail and phones; the ticket's company
  (``company_id``) is read once per company and cached (``GET /companies/{id}``: name and
  the CPF/CNPJ in a custom field of ``document_fields``). ``include=company`` is not used:
  it gives only id and name (docs "View a Ticket") and costs a credit on every view. A
  requester's own contact is read (cached) only when the account's contacts have a
  document field (``GET /contact_fields``, once). Contacts and companies are reused for
  ``party_ttl`` seconds; a lookup refused (403) or gone (404) is left out of the ticket
  with a warning, never a failure.
* ``resolve`` gathers everything ``normalize`` needs for one row, in the order the calls
  have always been made (authors, status, owner, group, labels, requester, company), so
  the translation itself stays pure.
* The requester id of recently loaded tickets is kept (child tickets and tickets created
  for the same customer need it); a ticket not loaded lately costs one ``GET``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from sync.contract import FatalError

from .._http import HttpClient
from .._names import NameLookup, PartyCache
from .api import HELPDESK, get_pages, get_ticket, shape_error
from .normalize import DEFAULT_DOCUMENT_FIELDS, RowNames

log = logging.getLogger("helpdesk_sync.connectors.freshdesk")

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
LABEL_FIELDS = {"ticket_type": "type", "priority": "priority"}
"""Default ticket fields whose values ``Ticket.fields`` carries, by their ticket-field name."""
REQUESTER_CACHE = 5000
"""Requester ids of recently loaded tickets (child tickets are created for them)."""
PARTY_CACHE = 5000
"""Contacts and companies kept (least recently used out)."""
PARTY_TTL = 600.0
"""Seconds a contact or company read is reused: an agent who fills in a company's CNPJ
sees it on the ticket's next decision after at most this long."""


class Directory:
    """The names and parties of one account, read through the connector's ``HttpClient``."""

    def __init__(
        self,
        http: HttpClient,
        connector: str,
        *,
        document_fields: Sequence[str] = DEFAULT_DOCUMENT_FIELDS,
        party_ttl: float = PARTY_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.connector = connector
        self.document_fields = tuple(document_fields)
        self.statuses: NameLookup[int] = NameLookup("status", self._load_ticket_fields)
        """Loaded from ``GET /ticket_fields``, which also fills ``_field_labels``."""
        self._field_labels: Mapping[str, str] = MappingProxyType({})
        self.groups: NameLookup[int] = NameLookup("group", self._load_groups)
        self.agents: NameLookup[int] = NameLookup("agent", self._load_agents)
        self._requesters: OrderedDict[str, int] = OrderedDict()
        self._contacts: PartyCache[int] = PartyCache(PARTY_CACHE, party_ttl, monotonic)
        self._companies: PartyCache[int] = PartyCache(PARTY_CACHE, party_ttl, monotonic)
        self._contact_documents: tuple[str, ...] | None = None
        """The contact custom fields of the account that may hold a document (loaded once)."""

    # ------------------------------------------------------------------ one row

    def resolve(
        self, row: Mapping[str, Any], conversations: Sequence[Mapping[str, Any]]
    ) -> RowNames:
        """Every name and party row ``normalize.ticket`` needs for this row."""
        authors = {
            item.get("user_id"): self.agents.peek(item.get("user_id"))
            for item in conversations
            if item.get("user_id") is not None
        }
        status = self.statuses.name(row.get("status"))
        owner = self.agents.name(row.get("responder_id"))
        queue = self.groups.name(row.get("group_id"))
        labels = self.labels()
        requester, requester_read = self._requester(row)
        return RowNames(
            authors=authors,
            status=status,
            owner=owner,
            queue=queue,
            field_labels=labels,
            requester=requester,
            requester_read=requester_read,
            company=self._company_of(row),
        )

    def labels(self) -> Mapping[str, str]:
        """Field API name -> the label agents see (loaded with the statuses, cached)."""
        if not self.statuses.loaded:
            self.statuses.load()
        return self._field_labels

    # ------------------------------------------------------------------ names -> ids

    def status_id(self, name: str) -> int:
        """Status name -> id: the agent label (custom statuses too), else the defaults."""
        return self.statuses.require(name, HELPDESK, DEFAULT_STATUS_NAMES)

    def group_id(self, name: str) -> int:
        """Group name -> ``group_id``."""
        return self.groups.require(name, HELPDESK)

    def agent_id(self, name: str) -> int:
        """Agent name or e-mail -> ``responder_id``."""
        return self.agents.require(name, HELPDESK)

    def remember_requester(self, ticket_id: str, requester_id: int) -> None:
        """The requester of a ticket just loaded (kept for ``REQUESTER_CACHE`` tickets)."""
        self._requesters[ticket_id] = requester_id
        while len(self._requesters) > REQUESTER_CACHE:
            self._requesters.popitem(last=False)

    def requester_id(self, ticket_id: str) -> int:
        """The requester of a ticket: remembered from its load, else its view (one GET)."""
        if ticket_id not in self._requesters:
            self._requesters[ticket_id] = int(get_ticket(self.http, ticket_id)["requester_id"])
        return self._requesters[ticket_id]

    # ------------------------------------------------------------------ loaders

    def _load_ticket_fields(self) -> list[tuple[int, list[str]]]:
        """``GET /ticket_fields`` (docs "List All Ticket Fields": an array, not paginated):
        the status choices ``{"2": ["Open", <customer label>], ...}`` and, as a side effect,
        every field's agent label (``label_for_agents`` where present, else ``label``)."""
        fields = self.http.get("/api/v2/ticket_fields").json()
        if not isinstance(fields, list):
            raise shape_error("GET /api/v2/ticket_fields", "a list", fields)
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

    def _load_groups(self) -> list[tuple[int, list[str]]]:
        return [(int(g["id"]), [str(g["name"])]) for g in get_pages(self.http, "/api/v2/groups")]

    def _load_agents(self) -> list[tuple[int, list[str]]]:
        out = []
        for agent in get_pages(self.http, "/api/v2/agents"):
            contact = agent.get("contact") or {}
            labels = [str(contact.get("name") or contact.get("email") or agent["id"])]
            if contact.get("email"):
                labels.append(str(contact["email"]))
            out.append((int(agent["id"]), labels))
        return out

    # ------------------------------------------------------------------ requester, company

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
                extra={"event": "freshdesk.lookup_refused", "connector": self.connector},
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
                raise shape_error("GET /api/v2/contact_fields", "a list", fields)
            names = {str(f.get("name")) for f in fields or [] if isinstance(f, Mapping)}
            self._contact_documents = tuple(sorted(names & wanted))
        return self._contact_documents

    def _party_row(self, kind: str, item_id: int, ticket_id: str) -> dict[str, Any] | None:
        """``GET /contacts/{id}`` or ``/companies/{id}`` (cached); None when refused/gone."""
        cache = self._contacts if kind == "contacts" else self._companies

        def load(key: int) -> dict[str, Any] | None:
            data = self._optional_get(f"/api/v2/{kind}/{key}", ticket_id)
            if data is not None and not isinstance(data, dict):
                raise shape_error(f"GET /api/v2/{kind}/{key}", "an object", data)
            return data

        return cache.get(item_id, load)

    def _requester(self, row: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, bool]:
        """The requester contact: the embedded one, or the contact itself (cached) when the
        account's contacts have a document field; and whether it is the contact itself."""
        requester_id = row.get("requester_id")
        embedded = row.get("requester")
        if not isinstance(embedded, Mapping) or (
            embedded.get("id") is not None and embedded.get("id") != requester_id
        ):
            embedded = None
        if requester_id is None:
            return embedded, False
        if self._contact_document_names() or embedded is None:
            return self._party_row("contacts", int(requester_id), str(row["id"])) or embedded, True
        return embedded, False

    def _company_of(self, row: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The ticket's company (the requester's), cached per company."""
        company_id = row.get("company_id")
        if company_id is None:
            return None
        return self._party_row("companies", int(company_id), str(row["id"]))


__all__ = ["DEFAULT_STATUS_NAMES", "PARTY_TTL", "Directory", "RowNames"]
