"""Wire formats of the Freshdesk sandbox: timestamps, error bodies, the ticket shape.

Everything here says what Freshdesk puts on the wire, each with the source it follows
(API docs, a real payload or Freshdesk's server code): the timestamp format, the bodies
of 400/401/403/429/5xx answers, ``ApiError`` (raised by route handlers, turned into the
HTTP answer by the dispatcher) and the ticket as list rows and views show it.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

from .records import Json, StoredTicket

# Page 301 -> 400 with this message: airbytehq/airbyte source-freshdesk
# unit_tests/integration/test_tickets.py (the body in shared/reference/freshdesk.md).
PAGE_CAP_MESSAGE = (
    "You cannot access tickets beyond the 300th page. Please provide a smaller page number."
)
# Non-400 error bodies carry ``code`` and ``message`` and no ``field`` (docs "Errors": error
# response fields; code ``invalid_credentials``); the 401 message as users report it in
# sjkingo/python-freshdesk issue #74.
UNAUTHORIZED = {
    "code": "invalid_credentials",
    "message": "You have to be logged in to perform this action.",
}
ACCESS_DENIED = {
    "code": "access_denied",
    "message": "You are not authorized to perform this action.",
}
RATE_LIMITED_BODY = b"Rate limit exceeded"
"""429 body: unverified (shared/reference/freshdesk.md), so opaque text; ``Retry-After`` in
seconds is documented (docs "Rate Limit"), and the server code may omit ``X-RateLimit-*``."""
# 5xx: 500 as the server's JSON error, gateway errors as a proxy's HTML page (opaque text).
SERVER_ERROR_BODIES: Mapping[int, bytes] = {
    500: b'{"code":"internal_error","message":"We\'re sorry, but something went wrong."}',
    502: b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>",
    503: b"<html><body><h1>503 Service Unavailable</h1>Please try again later.</body></html>",
    504: b"<html><body><h1>504 Gateway Time-out</h1></body></html>",
}


def fmt(moment: datetime) -> str:
    """Freshdesk's timestamp format: UTC, second precision, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_moment(text: str) -> datetime | None:
    """A date or date-time as the API accepts it; no offset means UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ApiError(Exception):
    """Raised inside route handlers; becomes the HTTP answer."""

    def __init__(
        self, status: int, body: Json | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def validation(field_name: str | None, message: str, code: str, status: int = 400) -> ApiError:
    # Docs "Errors": ``{"description": "Validation failed", "errors": [{"field", "message",
    # "code"}]}``, ``field`` on 400s only; the codes of the docs' error-code table.
    item: Json = {"message": message, "code": code}
    if field_name:
        item = {"field": field_name, **item}
    return ApiError(status, {"description": "Validation failed", "errors": [item]})


def strip_html(html: str) -> str:
    """``body_text`` / ``description_text``: the HTML as plain text, every entity decoded
    (docs "List All Conversations": ``body_text`` is the plain-text body)."""
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", html, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return htmllib.unescape(text).replace("\xa0", " ").strip()


def ticket_json(ticket: StoredTicket, *, view: bool) -> Json:
    """A ticket as the API shows it: a list row, or the "View a Ticket" shape (``view``)."""
    # A list row (docs "List All Tickets"; the columns of a real list export in
    # community-tech-alliance/dbt-cta freshdesk/models/1_cta_base/_incremental/
    # tickets.sql: tags, association_type, associated_tickets_count, nr_due_by, ... ) or
    # a view (docs "View a Ticket" / "View a Ticket with Association"; real payload
    # pbrane/freshdesk-api-client .../documents/tickets/ticket-102-child-molex-sandbox.json).
    data: Json = {
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "ticket_cc_emails": [],
        "fr_escalated": False,
        "spam": ticket.spam,
        "email_config_id": None,
        "group_id": ticket.group_id,
        "priority": ticket.priority,
        "requester_id": ticket.requester_id,
        "responder_id": ticket.responder_id,
        "source": ticket.source,
        "company_id": ticket.company_id,
        "status": ticket.status,
        "subject": ticket.subject,
        "association_type": 2 if ticket.parent_id else (1 if ticket.children else None),
        "support_email": None,
        "to_emails": None,
        "product_id": None,
        "id": ticket.id,
        "type": ticket.type,
        "due_by": fmt(ticket.due_by),
        "fr_due_by": fmt(ticket.fr_due_by),
        "is_escalated": False,
        "custom_fields": dict(ticket.custom_fields),
        "created_at": fmt(ticket.created_at),
        "updated_at": fmt(ticket.updated_at),
        "associated_tickets_count": len(ticket.children) if ticket.children else None,
        "tags": list(ticket.tags),
        "nr_due_by": None,
        "nr_escalated": False,
    }
    if view:
        data["ticket_bcc_emails"] = []
        data["description"] = ticket.description
        data["description_text"] = strip_html(ticket.description)
        data["attachments"] = [dict(a) for a in ticket.attachments]
        data["source_additional_info"] = None
        # Docs "View a Ticket with Association": ``associated_tickets_list`` is a list of
        # ticket ids, the children of a parent (1) or the parent of a child (2); the
        # server's show.json.api adds it only to associated tickets.
        if ticket.parent_id:
            data["associated_tickets_list"] = [ticket.parent_id]
        elif ticket.children:
            data["associated_tickets_list"] = list(ticket.children)
    return data
