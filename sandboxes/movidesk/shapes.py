"""Wire formats of the Movidesk sandbox: timestamps, error bodies, tickets and persons.

Everything here says what the sandbox puts on the wire and where that comes from: the
field tables of the Tickets and Persons API pages (KB 256 and KB 189 on
atendimento.movidesk.com; the Zenvia 2025 "[Enterprise] Tickets API" page, KB 510136),
the typed shapes of public clients (``jonasandre/movidesk-cli``
``internal/movidesk/tickets/types.go``; ``fabiodalazem/MovideskSDK`` ``src/br/icondev/
entity/*.java``) or, where nothing public says it, "unverified: chosen to be the strict
case". ``ticket_json`` renders the whole ticket with every navigation property expanded;
``odata.shape`` then keeps what ``$select``/``$expand`` ask for. ``filter_row`` is the
same ticket with real datetimes, for ``$filter`` and ``$orderby``.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from .records import Json, StoredAction, StoredTicket

# 500 body: "An error has occurred" is the text KB 240544 quotes for failed heavy queries;
# the ASP.NET ``{"Message": ...}`` wrapper is unverified: chosen to be the strict case
# (an object where other errors are bare strings, so clients must treat bodies as opaque).
SERVER_ERROR = {"Message": "An error has occurred."}
SERVER_ERROR_BODIES: Mapping[int, bytes] = {
    500: json.dumps(SERVER_ERROR).encode(),
    502: b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>",
    503: b"<html><body><h1>503 Service Unavailable</h1></body></html>",
    504: b"<html><body><h1>504 Gateway Time-out</h1></body></html>",
}
# Zenvia 2025 Tickets API page: "after 3 requests with error, the code 429 - Too many failed
# requests will be returned"; the body as plain text is unverified (strict: not JSON).
LOCKED_BODY = b"Too many failed requests"
# Over 10 requests/minute: the answer is unverified (reference "Rate limits"); public clients
# handle 429 + Retry-After (jonasandre/movidesk-cli internal/movidesk/client.go).
THROTTLED_BODY = b"Too Many Requests"


def fmt(moment: datetime | None) -> str | None:
    """A timestamp as the sandbox writes it: UTC without an offset, .NET-style fraction.

    Unverified: chosen to be the strict case. Values like ``2016-11-18T14:25:07.1920886``
    circulate (reference "Dates"); fabiodalazem/MovideskSDK ``DateTimeDeserializer.java``
    parses them without an offset, as UTC. Up to 7 fraction digits, trailing zeros dropped
    (none at all on a whole second), so clients must accept every variant.
    """
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{utc.microsecond:06d}0".rstrip("0")
    return f"{text}.{fraction}" if fraction else text


class ApiError(Exception):
    """Raised inside route handlers; becomes the HTTP answer (``body`` is JSON-encoded)."""

    def __init__(self, status: int, body: object = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def bad_request(message: str) -> ApiError:
    """A 400 whose body is a bare JSON string (reference "Errors": "Body is a JSON string or
    an object with ``message``"; the texts here are unverified and meant to stay opaque)."""
    return ApiError(400, message)


def query_error(message: str) -> ApiError:
    """A 400 for a query the OData layer rejects: ``{"message": ...}`` (unverified: strict)."""
    return ApiError(400, {"message": f"The query specified in the URI is not valid. {message}"})


def server_error() -> ApiError:
    """The generic 500 some malformed writes get (reference "Writes": owner without
    ownerTeam, an action without ``id`` or ``createdBy.id``)."""
    return ApiError(500, dict(SERVER_ERROR))


def strip_html(html: str) -> str:
    """An action's HTML as plain text, entities decoded."""
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>", "\n", html, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return htmllib.unescape(text).replace("\xa0", " ").strip()


def person_summary(person: Json | None) -> Json | None:
    """A person embedded in a ticket (owner, createdBy, changedBy, attachment.createdBy).

    Shape of ``Person`` in jonasandre/movidesk-cli internal/movidesk/tickets/types.go:
    id, businessName, email, phone, personType, profileType.
    """
    if person is None:
        return None
    return {
        "id": person["id"],
        "personType": person["personType"],
        "profileType": person["profileType"],
        "businessName": person["businessName"],
        "email": default_of(person.get("emails", []), "email"),
        "phone": default_of(person.get("contacts", []), "contact"),
    }


def default_of(items: list[Json], key: str) -> str | None:
    """The default entry's value (``isDefault``), else the first one's."""
    for item in items:
        if item.get("isDefault"):
            return str(item[key])
    return str(items[0][key]) if items else None


def organization_of(person: Json, persons: Mapping[str, Json]) -> Json | None:
    """The company a client belongs to: its first relationship to a company person."""
    for relation in person.get("relationships", []):
        company = persons.get(relation["id"])
        if company is not None and company["personType"] == 2:
            return company
    return None


def client_json(person: Json, persons: Mapping[str, Json]) -> Json:
    """A ``clients[]`` entry: the person plus ``isDeleted`` and ``organization``.

    Shape of ``Client`` in jonasandre/movidesk-cli internal/movidesk/tickets/types.go and
    the layout's clients table (reference "Ticket JSON").
    """
    data = person_summary(person) or {}
    data["isDeleted"] = False
    data["organization"] = person_summary(organization_of(person, persons))
    return data


def action_json(action: StoredAction, persons: Mapping[str, Json]) -> Json:
    """An ``actions[]`` entry.

    Fields of ``Action`` in jonasandre/movidesk-cli internal/movidesk/tickets/types.go and
    the layout: ``description`` (plain text) and the read-only ``htmlDescription``;
    ``attachments[]`` as fabiodalazem/MovideskSDK MoviTicketActionAttachment.java (fileName,
    path, createdBy as a person, createdDate).
    """
    return {
        "id": action.id,
        "type": action.type,
        "origin": action.origin,
        "description": strip_html(action.html),
        "htmlDescription": action.html,
        "status": action.status,
        "justification": action.justification,
        "createdDate": fmt(action.created_at),
        "createdBy": person_summary(persons.get(action.created_by or "")),
        "isDeleted": action.is_deleted,
        "tags": list(action.tags),
        "timeAppointments": [],
        "expenses": [],
        "attachments": [
            {
                "fileName": a["fileName"],
                "path": a["path"],
                "createdBy": person_summary(persons.get(a["createdBy"] or "")),
                "createdDate": fmt(a["createdDate"]),
                "isDeleted": False,
            }
            for a in action.attachments
        ],
    }


def history_json(entry: Json, persons: Mapping[str, Json]) -> Json:
    """An ``ownerHistories[]`` / ``statusHistories[]`` entry (types.go ``OwnerHistory`` /
    ``StatusHistory``): person ids become embedded persons, dates formatted."""
    data: Json = {}
    for key, value in entry.items():
        if key in ("owner", "changedBy"):
            data[key] = person_summary(persons.get(value or ""))
        elif isinstance(value, datetime):
            data[key] = fmt(value)
        else:
            data[key] = value
    return data


def ticket_json(
    ticket: StoredTicket,
    persons: Mapping[str, Json],
    tickets: Mapping[int, StoredTicket],
    *,
    include_deleted: bool = False,
) -> Json:
    """The whole ticket, every navigation property expanded.

    Field list of the layout (KB 256 / Zenvia 2025 page, reference "Ticket JSON") and
    ``Ticket`` in jonasandre/movidesk-cli internal/movidesk/tickets/tickets.go; ``id`` and
    ``parentTickets[].id`` as integers like types.go (the layout says string(10)).
    """
    actions = [a for a in ticket.actions if include_deleted or not a.is_deleted]
    visible = [a for a in ticket.actions if not a.is_deleted]
    first, second, third = ticket.service_levels

    def relative(other_id: int) -> Json:
        other = tickets.get(other_id)
        # Layout: parentTickets[]/childrenTickets[] are {id, subject, isDeleted}.
        return {
            "id": other_id,
            "subject": other.subject if other else None,
            "isDeleted": other.is_deleted if other else True,
        }

    return {
        "id": ticket.id,
        "protocol": ticket.protocol,
        "type": ticket.type,
        "subject": ticket.subject,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "status": ticket.status,
        "baseStatus": ticket.base_status,
        "justification": ticket.justification,
        "origin": ticket.origin,
        "createdDate": fmt(ticket.created_at),
        "isDeleted": ticket.is_deleted,
        "originEmailAccount": None,
        "owner": person_summary(persons.get(ticket.owner or "")),
        "ownerTeam": ticket.owner_team,
        "createdBy": person_summary(persons.get(ticket.created_by or "")),
        "serviceFull": [level for level in ticket.service_levels if level],
        "serviceFirstLevelId": ticket.service_first_level_id,
        "serviceFirstLevel": first,
        "serviceSecondLevel": second,
        "serviceThirdLevel": third,
        "contactForm": None,
        "tags": list(ticket.tags),
        "cc": ticket.cc,
        "resolvedIn": fmt(ticket.resolved_in),
        "reopenedIn": fmt(ticket.reopened_in),
        "closedIn": fmt(ticket.closed_in),
        "lastActionDate": fmt(max((a.created_at for a in visible), default=None)),
        "actionCount": len(visible),
        "lastUpdate": fmt(ticket.last_update),
        "lifetimeWorkingTime": None,
        "stoppedTime": None,
        "stoppedTimeWorkingTime": None,
        "resolvedInFirstCall": False,
        "chatWidget": None,
        "chatGroup": None,
        "chatTalkTime": None,
        "chatWaitingTime": None,
        "sequence": None,
        "slaAgreement": None,
        "slaAgreementRule": None,
        "slaSolutionTime": None,
        "slaResponseTime": None,
        "slaSolutionChangedByUser": False,
        "slaSolutionChangedBy": None,
        "slaSolutionDate": None,
        "slaSolutionDateIsPaused": False,
        "slaResponseDate": None,
        "slaRealResponseDate": None,
        "jiraIssueKey": None,
        "redmineIssueId": None,
        "clients": [client_json(persons[c], persons) for c in ticket.clients if c in persons],
        "actions": [action_json(a, persons) for a in actions],
        "parentTickets": [relative(p) for p in ticket.parents],
        "childrenTickets": [relative(c) for c in ticket.children],
        "ownerHistories": [history_json(h, persons) for h in ticket.owner_history],
        "statusHistories": [history_json(h, persons) for h in ticket.status_history],
        "customFieldValues": [
            {**v, "items": [dict(i) for i in v.get("items") or []]} for v in ticket.custom_fields
        ],
        "assets": [],
        "satisfactionSurveyResponses": [],
    }


def filter_row(ticket: StoredTicket, persons: Mapping[str, Json]) -> Json:
    """The ticket as ``$filter``/``$orderby`` see it: real datetimes, persons by id."""

    def who(person_id: str | None) -> Json | None:
        person = persons.get(person_id or "")
        return (
            None if person is None else {"id": person["id"], "businessName": person["businessName"]}
        )

    clients = []
    for client_id in ticket.clients:
        person = persons.get(client_id)
        if person is None:
            continue
        company = organization_of(person, persons)
        clients.append(
            {
                "id": person["id"],
                "businessName": person["businessName"],
                "email": default_of(person.get("emails", []), "email"),
                "personType": person["personType"],
                "profileType": person["profileType"],
                "organization": None
                if company is None
                else {"id": company["id"], "businessName": company["businessName"]},
            }
        )
    visible = [a for a in ticket.actions if not a.is_deleted]
    return {
        "id": ticket.id,
        "protocol": ticket.protocol,
        "type": ticket.type,
        "subject": ticket.subject,
        "category": ticket.category,
        "urgency": ticket.urgency,
        "status": ticket.status,
        "baseStatus": ticket.base_status,
        "justification": ticket.justification,
        "origin": ticket.origin,
        "ownerTeam": ticket.owner_team,
        "createdDate": ticket.created_at,
        "lastUpdate": ticket.last_update,
        "lastActionDate": max((a.created_at for a in visible), default=None),
        "resolvedIn": ticket.resolved_in,
        "closedIn": ticket.closed_in,
        "actionCount": len(visible),
        "owner": who(ticket.owner),
        "createdBy": who(ticket.created_by),
        "tags": list(ticket.tags),
        "clients": clients,
        "customFieldValues": [dict(v) for v in ticket.custom_fields],
        "parentTickets": [{"id": p} for p in ticket.parents],
        "childrenTickets": [{"id": c} for c in ticket.children],
    }


def person_json(person: Json) -> Json:
    """A person as ``GET /persons`` answers: the stored record, dates formatted, no password.

    Field list of KB 189 (Persons API layout) and fabiodalazem/MovideskSDK MoviPerson.java
    (emails, contacts, relationships, teams, customFieldValues as lists).
    """
    return {
        key: fmt(value) if isinstance(value, datetime) else value
        for key, value in person.items()
        if key != "password"
    }
