"""Read routes of the Freshdesk sandbox: list and view tickets, conversations, associations.

``GET /api/v2/tickets`` with its filters, order, ``include`` embeds, inclusive
``updated_since``, the 30-day default window and the page cap; ``GET /tickets/{id}``
with its embeds; ``/tickets/{id}/conversations``; ``/tickets/{id}/associated_tickets``.
Each answer names the API docs section (or real payload, or server code) it follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .dispatch import Dispatch
from .records import Json, StoredTicket
from .shapes import ApiError, fmt, parse_moment, strip_html, ticket_json, validation


class ReadRoutes(Dispatch):
    """``GET`` handlers for tickets and what hangs off them (a mixin of the sandbox)."""

    def _visible(self, ticket: StoredTicket, query: Mapping[str, list[str]]) -> bool:
        wanted = query.get("filter", [""])[-1]
        if wanted == "spam":
            return ticket.spam and not ticket.deleted
        if wanted == "deleted":
            return ticket.deleted
        if ticket.spam or ticket.deleted:
            return False
        if wanted == "new_and_my_open":
            return ticket.status == 2 and ticket.responder_id in (None, self.me)
        return wanted != "watching"

    def _list_tickets(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        one = {k: v[-1] for k, v in query.items()}
        order_by = one.get("order_by", "created_at")
        if order_by not in ("created_at", "due_by", "updated_at", "status", "priority"):
            raise validation(
                "order_by",
                "It should be one of these values: 'created_at,due_by,updated_at,status'",
                "invalid_value",
            )
        order_type = one.get("order_type", "desc")
        if order_type not in ("asc", "desc"):
            raise validation(
                "order_type", "It should be one of these values: 'asc,desc'", "invalid_value"
            )
        includes = [v for v in one.get("include", "").split(",") if v]
        for item in includes:
            if item not in ("description", "requester", "stats"):
                raise validation(
                    "include",
                    "It should be one of these values: 'requester,stats,description'",
                    "invalid_value",
                )
        filters = (
            "filter",
            "requester_id",
            "email",
            "company_id",
            "updated_since",
            "unique_external_id",
        )
        since: datetime | None = None
        if "updated_since" in one:
            since = parse_moment(one["updated_since"])
            if since is None:
                raise validation(
                    "updated_since", "It should be in the 'valid date time' format", "invalid_date"
                )
        rows = [t for t in self.tickets.values() if self._visible(t, query)]
        if since is not None:
            rows = [t for t in rows if t.updated_at >= since]
        if not any(name in one for name in filters):
            # Server code: created since the start of today minus one calendar month.
            today = self.now().date()
            month_ago = (today.replace(day=1) - timedelta(days=1)).replace(
                day=min(today.day, (today.replace(day=1) - timedelta(days=1)).day)
            )
            floor = datetime.combine(month_ago, datetime.min.time(), UTC)
            rows = [t for t in rows if t.created_at >= floor]
        if "requester_id" in one:
            rows = [t for t in rows if str(t.requester_id) == one["requester_id"]]
        if "email" in one:
            ids = {c["id"] for c in self.contacts.values() if c["email"] == one["email"]}
            rows = [t for t in rows if t.requester_id in ids]
        if "company_id" in one:
            rows = [t for t in rows if str(t.company_id) == one["company_id"]]
        ties = {t.id: (self._rng.random() if self.shuffle_ties else t.id) for t in rows}
        rows.sort(key=lambda t: (getattr(t, order_by), ties[t.id]), reverse=order_type == "desc")
        chunk, headers = self._page(rows, query, "/api/v2/tickets", cap=self.page_cap)
        # Docs "List All Tickets": a JSON array of rows; embeds ``requester`` (email, id,
        # mobile, name, phone), ``stats``, ``description``, each +2 credits.
        out = []
        for ticket in chunk:
            data = ticket_json(ticket, view=False)
            if "description" in includes:
                data["description"] = ticket.description
                data["description_text"] = strip_html(ticket.description)
            if "requester" in includes:
                data["requester"] = self._requester_embed(ticket.requester_id)
            if "stats" in includes:
                data["stats"] = {"resolved_at": None, "closed_at": None, "first_responded_at": None}
            out.append(data)
        return 200, out, headers

    def _requester_embed(self, contact_id: int) -> Json:
        """``include=requester``: docs ("Will return the requester's email, id, mobile, name,
        and phone") and the server's api/app/views/tickets/_show_requester.json.jbuilder
        (``{}`` when there is none)."""
        contact = self.contacts.get(contact_id)
        if contact is None:
            return {}
        return {key: contact[key] for key in ("email", "id", "mobile", "name", "phone")}

    def _view_ticket(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        data = ticket_json(ticket, view=True)
        includes = [v for raw in query.get("include", []) for v in raw.split(",") if v]
        for item in includes:
            if item not in ("conversations", "requester", "company", "stats"):
                raise validation(
                    "include",
                    "It should be one of these values: 'conversations,requester,company,stats'",
                    "invalid_value",
                )
        # Docs "View a Ticket": embeds, +1 credit each (conversations: two calls, at most
        # ten, oldest first); ``company`` is the company's id and name only (server
        # api/app/views/tickets/_show_company.json.jbuilder, ``{}`` when there is none).
        if "conversations" in includes:
            data["conversations"] = [dict(c) for c in self.conversations.get(ticket_id, [])[:10]]
        if "requester" in includes:
            data["requester"] = self._requester_embed(ticket.requester_id)
        if "company" in includes:
            company = self.companies.get(ticket.company_id or 0)
            data["company"] = {"id": company["id"], "name": company["name"]} if company else {}
        if "stats" in includes:
            data["stats"] = {"resolved_at": None, "closed_at": None, "first_responded_at": None}
        return 200, data, {}

    def _list_conversations(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        self._get(ticket_id)
        items = sorted(
            self.conversations.get(ticket_id, []), key=lambda c: (c["created_at"], c["id"])
        )
        # Docs "List All Conversations of a Ticket": a JSON array, paginated with Link.
        chunk, headers = self._page(items, query, f"/api/v2/tickets/{ticket_id}/conversations")
        return 200, [dict(c) for c in chunk], headers

    def _associated(
        self, ticket_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        """Docs "Get Associated Tickets": an OBJECT ``{"tickets": [...]}`` of ticket summaries
        (no description). The server code (Ramesh-Veeriaperumal/freshconsult
        api/app/controllers/ember/tickets/associates_controller.rb ``associated_tickets``)
        answers 404 unless the ticket is a tracker or a parent."""
        ticket = self._get(ticket_id)
        if not ticket.children:
            raise ApiError(404, None)
        summaries = []
        for child_id in ticket.children:
            child = self.tickets[child_id]
            summaries.append(
                {
                    "id": child.id,
                    "group_id": child.group_id,
                    "priority": child.priority,
                    "requester_id": child.requester_id,
                    "responder_id": child.responder_id,
                    "source": child.source,
                    "company_id": child.company_id,
                    "status": child.status,
                    "subject": child.subject,
                    "product_id": None,
                    "type": child.type,
                    "due_by": fmt(child.due_by),
                    "fr_due_by": fmt(child.fr_due_by),
                    "is_escalated": False,
                    "created_at": fmt(child.created_at),
                    "updated_at": fmt(child.updated_at),
                }
            )
        return 200, {"tickets": summaries}, {}
