"""Movidesk public API v1 connector: list changed tickets, load them, write once, find again.

Theory of operation
-------------------
* The class composes the package: ``listing`` (keyset pages, the 90-day split),
  ``directory`` (agents, teams, clients; cached), ``normalize`` (rows to tickets, pure),
  ``writes`` (effects to requests, pure), ``limits`` (the day/night budget), ``api``
  (queries, stamps, shapes). Every call goes through one ``HttpClient`` with the token
  added to its query, retries, and the day budget paced before sending.
* Reading costs about 0.01 calls a ticket: one list call brings 100 whole tickets and
  ``load`` uses the row the ref carries (no call); only a ref without a row (a timer's
  ``reload``) reads ``GET /tickets?id=N``. ``reload`` also reads the state of child
  tickets when the parent's row does not show it (``child_answered`` feeds timers).
* Context facts of the Emissor preflight (``context``): from the row's custom fields (no
  call) and, when onboarding category/tag or the linked card field is set, ONE query of the
  organization's open tickets per organization per pass (cached; dropped after our own
  writes to a ticket of that organization). With no context setting, no extra call.
* Writes (``write_ticket``, one ticket per call: ``PerTicketWrites``): ``writes.plan``
  turns the decision into ONE PATCH (fields, owner and team, the one internal note) and a
  POST per new ticket, every name resolved and every value checked before the first call;
  this class sends them in order and answers one ``EffectResult`` per effect: ``applied``,
  or ``rejected`` with the typed error for the effects of a call that failed (the later
  ones get none: not sent). The PATCH of a task due field reads the ticket's custom field
  values first and sends the whole set (Movidesk replaces it).
* ``check`` reads the account's names through the same client (``account``): teams and
  agents from the directory, services when the request type is a service level.
* Exactly once: POSTs and PATCHes that add a note are never retried on an ambiguous
  failure; ``lookup`` reads the ticket once per decision and finds each effect by its
  marker (in the decision's note, which carries the key of every effect of the PATCH, or in
  a created ticket's actions) or by the state the ticket shows (field effects).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sync.account import AccountNames
from sync.actions import CreateChildTicket, CreateTicket, Merge, Route
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
    TicketWrites,
)
from sync.masking import mask_value

from .._http import HttpClient, RetryPolicy
from .._names import resolved
from .._notes import has_marker
from . import normalize, writes
from .account import account_names
from .api import (
    CUSTOM_FIELDS_EXPAND,
    DEFAULT_BASE_URL,
    HELPDESK,
    MovideskHttp,
    TokenAuth,
    get_ticket,
    mask_transport_logs,
    odata_datetime,
    one,
    quote,
    rows,
    shape_error,
    ticket_query,
)
from .context import CONTEXT_TTL, ContextReader, ContextSources
from .directory import PERSON_TTL, Directory
from .limits import DAY_LIMIT_PER_MINUTE, DEFAULT_DAY_WINDOW, DEFAULT_TIMEZONE, DayNightBudget
from .listing import Listing

T = TypeVar("T")
CHILD_SELECT = "id,status,baseStatus"


class _Fresh:
    """The ticket as it is now, read at most once (one lookup of one decision)."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read
        self._row: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        if self._row is None:
            self._row = self._read()
        return self._row


def _action_texts(row: Mapping[str, Any]) -> Iterator[tuple[str, str | None, str | None]]:
    for action in row.get("actions") or []:
        if isinstance(action, Mapping) and not action.get("isDeleted"):
            yield str(action.get("id")), action.get("description"), action.get("htmlDescription")


def routed_owner(effects: Sequence[Effect]) -> str | None:
    """The owner name the decision routes to (the last route naming one), if any."""
    owners = [e.action.owner for e in effects if isinstance(e.action, Route) and e.action.owner]
    return owners[-1] if owners else None


class MovideskConnector(PerTicketWrites):
    """``sync.contract.Connector`` for one Movidesk account (public API v1).

    One ticket per write (``PerTicketWrites``); the cursor is a ``DatetimeCursor`` on the
    ticket's ``lastUpdate`` (every action and field change moves it).
    """

    kind = "movidesk"
    write_batch = 1

    def __init__(
        self,
        name: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        *,
        agent_ref: str,
        rules: writes.WriteRules | None = None,
        request_type_field: str = "category",
        subcategory_field: str | None = None,
        field_labels: Mapping[str, str] | None = None,
        team_owners: Mapping[str, str] | None = None,
        page_size: int = 100,
        timeout: float | tuple[float, float] = 30.0,
        http: HttpClient | None = None,
        day_limit_per_minute: int | None = DAY_LIMIT_PER_MINUTE,
        day_window: str = DEFAULT_DAY_WINDOW,
        timezone: str = DEFAULT_TIMEZONE,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        person_ttl: float = PERSON_TTL,
        context_sources: Mapping[str, str | None] | None = None,
        context_ttl: float = CONTEXT_TTL,
        overlap: timedelta = timedelta(minutes=5),
    ) -> None:
        self.name = name
        self.cursors = DatetimeCursor(overlap)
        self.base_url = base_url.rstrip("/")
        self.rules = dataclasses.replace(
            rules or writes.WriteRules(agent_ref=agent_ref), agent_ref=agent_ref
        )
        self.request_type_field = request_type_field
        self.subcategory_field = subcategory_field
        self.field_labels = dict(field_labels or {})
        self.context_sources = dict(context_sources or {})
        """Where the Emissor context facts are kept (onboarding, non-payment, cards)."""
        sources = ContextSources.of(self.context_sources)
        mask_transport_logs()
        if http is None:
            http = MovideskHttp(
                HELPDESK,
                self.base_url,
                timeout=timeout,
                policy=RetryPolicy(),
                sleep=sleep or time.sleep,
                now=now,
            )
        self.http = http
        self.now = now or http.now
        if day_limit_per_minute is not None and http.budget is None:
            http.budget = DayNightBudget(
                day_limit_per_minute,
                day_window=day_window,
                timezone=timezone,
                now=self.now,
                sleep=sleep or http.sleep,
            )
        self.http.session.auth = TokenAuth(api_key)
        self.listing = Listing(self.http, name, page_size=page_size, now=self.now)
        self.directory = Directory(
            self.http, team_owners=team_owners, ttl=person_ttl, monotonic=monotonic
        )
        self.context = ContextReader(self.http, sources, ttl=context_ttl, monotonic=monotonic)
        self.listing.on_page = self.context.expect

    def __repr__(self) -> str:
        return f"MovideskConnector({self.name!r}, {self.base_url!r})"

    # ------------------------------------------------------------------ check, list, load

    def api_stats(self) -> dict[str, float]:
        """API calls, throttled answers, seconds waited, remaining quota (for metrics)."""
        return self.http.api_stats()

    def check(self) -> str:
        """The agent helpdesk-sync writes as (``GET /persons?id=``) and one ticket id: cheap
        proof that the token works for both APIs (401/403: ``AuthError``)."""
        try:
            me = self.directory.person(self.rules.agent_ref)
        except FatalError as exc:
            if exc.status != 404:
                raise
            raise FatalError(
                f"agent_ref '{self.rules.agent_ref}' is not a Movidesk person",
                helpdesk=HELPDESK,
                status=404,
            ) from None
        params = ticket_query(select="id", expand=None, top=1)
        rows(self.http.get("/tickets", params=params), "GET /tickets")
        who = str(me.get("businessName") or me.get("id") or "")
        host = urlsplit(self.base_url).hostname or self.base_url
        return f"movidesk {host} as {mask_value('name', who)}"

    def account_names(self) -> AccountNames:
        """The teams, agents, built-in fields and (for a service-level type field) the
        services of the account, for ``check``; statuses, categories and custom field ids
        are reported as not checked: the public API lists none of them (``account``)."""
        return account_names(self.directory, self.request_type_field, self.subcategory_field)

    def changes(
        self, cursor: Cursor | None, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[TicketRef]:
        """Tickets changed from the cursor's stamp less the overlap (never before ``since``)."""
        return self.listing.changed_since(self.cursors.start(cursor, since), until)

    def changed_since(self, since: datetime, until: datetime | None = None) -> Iterator[TicketRef]:
        """Tickets with ``lastUpdate >= since`` (and ``< until``), ascending; none skipped."""
        return self.listing.changed_since(since, until)

    def _loaded(
        self, ref: TicketRef, row: Mapping[str, Any], states: Sequence[Mapping[str, Any]] | None
    ) -> Loaded:
        ticket = normalize.ticket(
            row,
            request_type_field=self.request_type_field,
            subcategory_field=self.subcategory_field,
            field_labels=self.field_labels,
        )
        context = self.context.context(row, normalize.context(row, states))
        return Loaded(ref=ref, ticket=ticket, context=context)

    def load(self, ref: TicketRef) -> Loaded:
        """The normalized ticket; no call when the ref carries its list row."""
        row: dict[str, Any] = json.loads(ref.snapshot) if ref.snapshot else {}
        if "id" not in row or "lastUpdate" not in row:
            row = get_ticket(self.http, ref.id)
        return self._loaded(ref, row, None)

    def reload(self, ticket_id: str) -> Loaded:
        """The ticket as it is now (a due timer's check), with its children's state."""
        row = get_ticket(self.http, ticket_id)
        states: list[dict[str, Any]] = []
        for link in normalize.children(row):
            if normalize.answered(link) is None:
                try:
                    states.append(
                        get_ticket(self.http, str(link["id"]), select=CHILD_SELECT, expand=None)
                    )
                except FatalError as exc:
                    if exc.status != 404:
                        raise
        ref = TicketRef(ticket_id, version=str(row.get("lastUpdate") or ""))
        return self._loaded(ref, row, states)

    # ------------------------------------------------------------------ writes

    def _resolved(self, plan: Callable[[writes.Ids], T]) -> T:
        """Run a pure plan, resolving each name it asks for in turn (``_names.resolved``)."""
        resolvers = {
            "agent": self.directory.agent_id,
            "agent_teams": self.directory.agent_teams,
            "team": self.directory.team,
            "team_owner": self.directory.team_owner,
            "client": self.directory.client_id,
        }
        return resolved(plan, resolvers)

    def write_ticket(self, loaded: Loaded, effects: Sequence[Effect]) -> list[EffectResult]:
        """Apply one decision's effects in order: ONE PATCH and a POST per new ticket.

        Everything is planned (names resolved, values checked) before the first call, so a
        bad action fails with nothing written. When a call fails, the effects it carried
        are ``rejected`` with the error and the later ones get no result (not sent);
        ``AuthError`` is raised.
        """
        ticket = loaded.ticket
        plan = self._resolved(lambda ids: writes.plan(ticket, effects, ids, self.rules))
        if plan.posts:
            self.context.forget(ticket.id)  # a new ticket of this customer: read them again
        order = {e.key: i for i, e in enumerate(effects)}
        done: list[EffectResult] = []
        for step in plan.steps:
            if step.kind == "patch":
                assert plan.patch is not None
                carried = list(plan.patch.keys)
            else:
                assert step.effect is not None
                carried = [step.effect.key]
            try:
                if step.kind == "patch":
                    assert plan.patch is not None
                    self._patch(ticket.id, plan.patch)
                    self.context.wrote(ticket.id, plan.patch.body, routed_owner(effects))
                    done.extend(
                        EffectResult.applied(e.key, self._remote(ticket.id, e))
                        for e in effects
                        if e.key in plan.patch.keys
                    )
                else:
                    assert step.effect is not None
                    new_id = self._post(ticket.id, plan.posts[step.effect.key])
                    done.append(EffectResult.applied(step.effect.key, new_id))
            except AuthError:
                raise
            except ConnectorError as exc:
                done.extend(EffectResult.rejected(k, exc) for k in carried)
                break
        return sorted(done, key=lambda r: order[r.key])

    @staticmethod
    def _remote(ticket_id: str, effect: Effect) -> str:
        return effect.action.into if isinstance(effect.action, Merge) else ticket_id

    def _patch(self, ticket_id: str, patch: writes.Patch) -> None:
        """The decision's PATCH; custom fields read, merged and sent whole."""
        body = dict(patch.body)
        if patch.custom:
            current = get_ticket(self.http, ticket_id, select="id", expand=CUSTOM_FIELDS_EXPAND)
            values = current.get("customFieldValues") or []
            if not isinstance(values, list):
                raise shape_error(f"GET /tickets?id={ticket_id}", "customFieldValues list", values)
            merged = writes.merge_custom(values, patch.custom, ticket_id)
            if merged is not None:
                body["customFieldValues"] = merged
        if not body:
            return  # the custom field already holds the value: nothing to change
        self.http.request(
            "PATCH",
            "/tickets",
            params={"id": ticket_id},
            json=body,
            ticket_id=ticket_id,
            retry_writes=not patch.note,
        )

    def _post(self, ticket_id: str, body: Mapping[str, Any]) -> str:
        """``POST /tickets``; the answer is ``{"id": N}``."""
        response = self.http.request("POST", "/tickets", json=dict(body), ticket_id=ticket_id)
        created = one(response, "POST /tickets")
        if created.get("id") is None:
            raise shape_error("POST /tickets", 'an object {"id": N}', created)
        return str(created["id"])

    # ------------------------------------------------------------------ reconciliation

    def lookup(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        """Effects written before (a crash, a lost answer): one fresh read per ticket."""
        found: list[EffectResult] = []
        for item in batch:
            fresh = _Fresh(lambda item=item: get_ticket(self.http, item.loaded.ticket.id))
            for effect in item.effects:
                result = self._find(item.loaded, effect, fresh)
                if result is not None:
                    found.append(result)
        return found

    def find_applied(self, loaded: Loaded, effect: Effect) -> EffectResult | None:
        """Find one effect written before a crash: its marker, or the ticket's state."""
        return self._find(loaded, effect, _Fresh(lambda: get_ticket(self.http, loaded.ticket.id)))

    def _find(self, loaded: Loaded, effect: Effect, fresh: _Fresh) -> EffectResult | None:
        action = effect.action
        ticket = loaded.ticket
        if isinstance(action, CreateChildTicket):
            return self._find_child(effect, fresh())
        if isinstance(action, CreateTicket):
            return self._find_created(loaded, effect)
        remote = self._remote(ticket.id, effect)
        for comment in ticket.comments:
            if has_marker(effect.key, comment.body):
                return EffectResult.already_there(effect.key, remote)
        row = fresh()
        for _, description, html in _action_texts(row):
            if has_marker(effect.key, description, html):
                return EffectResult.already_there(effect.key, remote)
        if isinstance(action, writes.FIELD_ACTIONS):
            shown = self._resolved(lambda ids: writes.holds(action, row, ticket, ids, self.rules))
            if shown:
                return EffectResult.already_there(effect.key, ticket.id)
        return None

    def _find_child(self, effect: Effect, parent: Mapping[str, Any]) -> EffectResult | None:
        """A child ticket created before a crash: the parent's child links, newest first,
        each child's actions holding the marker."""
        for link in reversed(normalize.children(parent)):
            child = get_ticket(self.http, str(link["id"]), select="id", expand="actions")
            if any(has_marker(effect.key, d, h) for _, d, h in _action_texts(child)):
                return EffectResult.already_there(effect.key, str(link["id"]))
        return None

    def _find_created(self, loaded: Loaded, effect: Effect) -> EffectResult | None:
        """A ticket created from this one: the client's tickets created since shortly
        before this one (``clients/any(...)``: the Tickets API page's client filter), by
        the marker in their actions."""
        action = effect.action
        assert isinstance(action, CreateTicket)
        if action.requester_email:
            client = self.directory.client_id(action.requester_email)
        else:
            client = str(loaded.ticket.fields.get("client_id") or "")
            if not client:
                return None
        since = loaded.ticket.created_at.astimezone(UTC) - timedelta(minutes=1)
        where = (
            f"clients/any(c: c/id eq {quote(client)}) and createdDate ge {odata_datetime(since)}"
        )
        params = ticket_query(
            filter=where, orderby="id desc", top=100, select="id,createdDate", expand="actions"
        )
        response = self.http.get("/tickets", params=params, ticket_id=loaded.ticket.id)
        for row in rows(response, "GET /tickets"):
            if any(has_marker(effect.key, d, h) for _, d, h in _action_texts(row)):
                return EffectResult.already_there(effect.key, str(row.get("id")))
        return None


__all__ = ["MovideskConnector"]
