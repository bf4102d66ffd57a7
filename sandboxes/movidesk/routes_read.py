"""Read routes of the Movidesk sandbox: tickets (one, a list, the past), HTML, persons,
services.

``GET /tickets?id=N`` (or ``?protocol=P``) answers one ticket as an object whatever its
age (reference "Endpoints" [obs]; jonasandre/movidesk-cli ``tickets.go`` ``GetByID``);
with neither ``$select`` nor ``$expand`` it is the whole ticket, navigation properties
included (the OData guide of jonasandre/movidesk-cli: "tickets_get returns the full
payload").
``GET /tickets?$select=...`` lists tickets whose ``lastUpdate`` is less than 90 days old,
``GET /tickets/past`` the others ("The route /tickets brings the tickets with the update
date (lastupdate) less than 90 days. Tickets that have an older update date must be
searched for on the route /tickets/past", Zenvia 2025 page). On lists ``$select`` is
mandatory (reference [obs]; its absence is a 400, unverified body). Deleted actions show
only with ``includeDeletedItems=true`` (reference, ``includeDeletedItems``).
``GET /services`` lists the services (KB 7440 "API do Movidesk - Serviços", methods GET/
POST/PATCH/DELETE; a GET without ``id`` answers an array: epmallmann/MovideskApiClient
``ApiServiceTest.cs`` ``GetAllTest``; OData ``$select``/``$top`` on it: the same file,
``GetODataSelectTest``/``GetODataTop1Test``); ``?id=N`` answers one service, 404 when
unknown (``DeleteTest`` there expects NotFound for a deleted id).
The API documents no list of statuses, categories, teams or custom field definitions;
the sandbox serves none either.
"""

from __future__ import annotations

from datetime import timedelta

from .dispatch import Dispatch, Query
from .odata import ENTITIES, EVERYTHING, order_rows, page_bounds, parse_orderby, parse_projection
from .odata import shape as project
from .odata_filter import PERSON_FILTER, SERVICE_FILTER, TICKET_FILTER, compile_filter
from .records import Json, StoredTicket
from .shapes import ApiError, filter_row, person_json, query_error, ticket_json

PAST_AFTER = timedelta(days=90)
_LIST_OPTIONS = frozenset({"$select", "$expand", "$filter", "$orderby", "$top", "$skip"})
_ONE_OPTIONS = frozenset({"$select", "$expand"})


class ReadRoutes(Dispatch):
    """``GET`` handlers (a mixin of the sandbox)."""

    def _options(self, query: Query, allowed: frozenset[str]) -> dict[str, str]:
        options = {k: v[-1] for k, v in query.items() if k.startswith("$")}
        for name in options:
            if name not in allowed:
                raise query_error(f"Query option '{name}' is not supported.")
        return options

    def _render(self, ticket: StoredTicket, query: Query) -> Json:
        deleted = query.get("includeDeletedItems", ["false"])[-1].lower() == "true"
        return ticket_json(ticket, self.persons, self.tickets, include_deleted=deleted)

    def _get_tickets(self, query: Query) -> tuple[int, object]:
        if "id" in query or "protocol" in query:
            return 200, self._one_ticket(query)
        return 200, self._list(query, past=False)

    def _list_past(self, query: Query) -> tuple[int, object]:
        return 200, self._list(query, past=True)

    def _one_ticket(self, query: Query) -> Json:
        options = self._options(query, _ONE_OPTIONS)
        if "id" in query:
            ticket = self._ticket_param(query)
        else:
            wanted = query["protocol"][-1]
            found = [t for t in self.tickets.values() if t.protocol and t.protocol == wanted]
            if not found:
                raise ApiError(404, "Ticket não encontrado.")
            ticket = found[0]
        if not options:
            return self._render(ticket, query)
        projection = parse_projection(
            ENTITIES["Ticket"], options.get("$select"), options.get("$expand")
        )
        shaped: Json = project(self._render(ticket, query), ENTITIES["Ticket"], projection)
        return shaped

    def _list(self, query: Query, *, past: bool) -> list[Json]:
        options = self._options(query, _LIST_OPTIONS)
        if "$select" not in options:
            raise query_error("The $select query option is required.")
        entity = ENTITIES["Ticket"]
        projection = parse_projection(entity, options["$select"], options.get("$expand"))
        keep = compile_filter(options["$filter"], TICKET_FILTER) if "$filter" in options else None
        keys = parse_orderby(options.get("$orderby"), TICKET_FILTER)
        skip, top = page_bounds(query)
        cutoff = self.now() - PAST_AFTER
        rows: list[Json] = []
        for ticket in self.tickets.values():
            if (ticket.last_update <= cutoff) != past:
                continue
            row = filter_row(ticket, self.persons)
            if keep is None or keep(row):
                rows.append(row)
        tiebreak = (lambda r: self._rng.random()) if self.shuffle_ties else (lambda r: r["id"])
        chosen = order_rows(rows, keys, tiebreak)[skip : skip + top]
        return [
            project(self._render(self.tickets[row["id"]], query), entity, projection)
            for row in chosen
        ]

    def _html_description(self, query: Query) -> tuple[int, object]:
        # GET /tickets/htmldescription?id=N[&actionId=M] (reference "Endpoints" [obs]); shape
        # {id, description} of ``HTMLBody`` in jonasandre/movidesk-cli tickets.go.
        ticket = self._ticket_param(query)
        raw = query.get("actionId", [""])[-1]
        if raw:
            actions = [a for a in ticket.actions if str(a.id) == raw]
        else:
            actions = ticket.actions[:1]
        if not actions:
            raise ApiError(404, "Ação não encontrada.")
        return 200, {"id": ticket.id, "description": actions[0].html}

    def _get_persons(self, query: Query) -> tuple[int, object]:
        # GET /persons?id=X → one person; otherwise a list (KB 189: GET /persons). $select is
        # not required here (no source says it is); $top is clamped like tickets
        # (unverified: strict).
        entity = ENTITIES["PersonRecord"]
        if "id" in query:
            options = self._options(query, _ONE_OPTIONS)
            person = self.persons.get(query["id"][-1])
            if person is None:
                raise ApiError(404, "Pessoa não encontrada.")
            rendered = person_json(person)
            if not options:
                return 200, rendered
            projection = parse_projection(entity, options.get("$select"), options.get("$expand"))
            return 200, project(rendered, entity, projection)
        options = self._options(query, _LIST_OPTIONS)
        projection = (
            parse_projection(entity, options.get("$select"), options.get("$expand"))
            if "$select" in options or "$expand" in options
            else EVERYTHING
        )
        keep = compile_filter(options["$filter"], PERSON_FILTER) if "$filter" in options else None
        keys = parse_orderby(options.get("$orderby"), PERSON_FILTER)
        skip, top = page_bounds(query)
        rows = [p for p in self.persons.values() if keep is None or keep(p)]
        chosen = order_rows(rows, keys, lambda r: r["id"])[skip : skip + top]
        return 200, [project(person_json(p), entity, projection) for p in chosen]

    def _get_services(self, query: Query) -> tuple[int, object]:
        # GET /services?id=N → one service (404 unknown, body unverified: strict); otherwise
        # the list, ordered by id, $top clamped like tickets (KB 7440 states no page size:
        # unverified, strict). $select is not required (GetAllTest sends no option).
        entity = ENTITIES["Service"]
        if "id" in query:
            options = self._options(query, _ONE_OPTIONS)
            raw = query["id"][-1]
            service = self.services.get(int(raw)) if raw.isdigit() else None
            if service is None:
                raise ApiError(404, "Serviço não encontrado.")
            projection = parse_projection(entity, options.get("$select"), options.get("$expand"))
            return 200, project(dict(service), entity, projection)
        options = self._options(query, _LIST_OPTIONS)
        projection = parse_projection(entity, options.get("$select"), options.get("$expand"))
        keep = compile_filter(options["$filter"], SERVICE_FILTER) if "$filter" in options else None
        keys = parse_orderby(options.get("$orderby"), SERVICE_FILTER)
        skip, top = page_bounds(query)
        rows = [s for s in self.services.values() if keep is None or keep(s)]
        chosen = order_rows(rows, keys, lambda r: r["id"])[skip : skip + top]
        return 200, [project(dict(s), entity, projection) for s in chosen]
