"""Freshdesk API v2 as the other modules of the package see it: ids, stamps, shapes, reads.

Theory of operation
-------------------
* Ids the API fixes: default statuses (Open 2, Resolved 4, Closed 5), priorities (Low 1 ..
  Urgent 4), ``association_type`` 1 for a parent ticket.
* Timestamps go out as UTC with ``Z``, truncated to the second (``+00:00`` breaks the
  ``Link`` header Freshdesk builds from the query), and come back as aware UTC datetimes.
* Response shapes follow the API docs; a response in another shape is a ``FatalError``
  naming the call and the shape expected (never an ``AttributeError`` deep inside).
* The read calls several modules make (a ticket with its embeds, every conversation, every
  page of a small list, a parent's children) live here, each through the connector's one
  ``HttpClient`` (retries, rate budget, sub-limits), each checking its answer's shape.
* The API key is the Basic-auth user (password ``X``); its repr never shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from sync.contract import FatalError

from .._http import HttpClient

HELPDESK = "freshdesk"
STATUS_OPEN, STATUS_RESOLVED, STATUS_CLOSED = 2, 4, 5
PRIORITY_LOW, PRIORITY_URGENT = 1, 4
PARENT = 1
"""``association_type`` of a parent ticket (one with child tickets)."""
EMBEDDED_CONVERSATIONS = 10
"""``include=conversations`` returns at most this many, oldest first."""


def utc(moment: datetime) -> str:
    """UTC with ``Z``, truncated to the second (never ``+00:00``: the Link header breaks it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


class ApiKeyAuth(requests.auth.HTTPBasicAuth):
    """Basic auth with the API key as user; its repr never shows the key."""

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key, "X")

    def __repr__(self) -> str:
        return "_ApiKeyAuth(***)"


def shape_error(call: str, expected: str, got: Any) -> FatalError:
    """A response whose shape is not the documented one: a clear error, never a body."""
    kind = type(got).__name__
    if isinstance(got, Mapping):
        kind += " with keys " + ", ".join(sorted(str(k) for k in got)[:8])
    return FatalError(
        f"unexpected answer to {call}: expected {expected} (Freshdesk API v2 docs), got {kind}",
        helpdesk=HELPDESK,
    )


def rows(response: requests.Response, call: str) -> list[dict[str, Any]]:
    """A list endpoint's page: a JSON array of objects (docs: list endpoints)."""
    data = response.json()
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise shape_error(call, "a list of objects", data)
    return data


def get_ticket(
    http: HttpClient, ticket_id: str, *, conversations: bool = False, requester: bool = False
) -> dict[str, Any]:
    """``GET /tickets/{id}`` with the embeds asked for (docs "View a Ticket": +1 credit
    each, conversations two)."""
    embeds = [
        name for name, on in (("conversations", conversations), ("requester", requester)) if on
    ]
    params = {"include": ",".join(embeds)} if embeds else None
    data = http.get(f"/api/v2/tickets/{ticket_id}", params=params, ticket_id=ticket_id).json()
    if not isinstance(data, dict):
        raise shape_error(f"GET /api/v2/tickets/{ticket_id}", "an object", data)
    return data


def get_conversations(http: HttpClient, ticket_id: str) -> list[dict[str, Any]]:
    """All conversations of a ticket, oldest first (every page)."""
    out: list[dict[str, Any]] = []
    response = http.get(
        f"/api/v2/tickets/{ticket_id}/conversations",
        params={"per_page": 100},
        ticket_id=ticket_id,
    )
    while True:
        out.extend(rows(response, f"GET /api/v2/tickets/{ticket_id}/conversations"))
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return out
        response = http.get(next_url, ticket_id=ticket_id)


def get_pages(http: HttpClient, path: str) -> list[dict[str, Any]]:
    """Every page of a small list endpoint (groups, agents), 100 a page."""
    out: list[dict[str, Any]] = []
    response = http.get(path, params={"per_page": 100})
    while True:
        out.extend(rows(response, f"GET {path}"))
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return out
        response = http.get(next_url)


def get_children(http: HttpClient, ticket_id: str) -> list[Mapping[str, Any]]:
    """``GET /tickets/{id}/associated_tickets`` of a parent: docs "Get Associated
    Tickets" answers an object ``{"tickets": [...]}`` (summaries, no description)."""
    call = f"GET /api/v2/tickets/{ticket_id}/associated_tickets"
    data = http.get(f"/api/v2/tickets/{ticket_id}/associated_tickets", ticket_id=ticket_id).json()
    tickets = data.get("tickets") if isinstance(data, Mapping) else None
    if not isinstance(tickets, list) or not all(isinstance(t, Mapping) for t in tickets):
        raise shape_error(call, "an object holding a 'tickets' list", data)
    return tickets
