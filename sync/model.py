"""The normalized ticket every connector produces and the decision core consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment (conversation entry) on a ticket."""

    id: str
    body: str
    """Plain text or HTML, exactly as the helpdesk returned it."""
    internal: bool
    created_at: datetime
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment's metadata; contents are never downloaded."""

    name: str
    content_type: str | None = None
    comment_id: str | None = None
    """The comment (note) it is attached to; None for the ticket's own attachments."""


@dataclass(frozen=True, slots=True)
class Party:
    """The requester or the organization as the helpdesk holds it (any part may be unknown).

    Freshdesk: the requester contact and its company; Movidesk: ``clients[]`` and their
    ``organization``; Salesforce: the case's Contact and Account.
    """

    name: str | None = None
    email: str | None = None
    document: str | None = None
    """CPF or CNPJ as stored (formatted or bare)."""
    phone: str | None = None

    def get(self, part: str) -> str | None:
        """One part by name (``name``, ``email``, ``document``, ``phone``)."""
        value = getattr(self, part, None) if part in PARTY_PARTS else None
        return value if isinstance(value, str) and value.strip() else None


PARTY_PARTS = ("name", "email", "document", "phone")


@dataclass(frozen=True, slots=True)
class Ticket:
    """A helpdesk ticket/case in the shape shared by all connectors."""

    id: str
    source: str
    """Which helpdesk kind the ticket came from (freshdesk, movidesk, salesforce, ...)."""
    created_at: datetime
    updated_at: datetime
    number: str | None = None
    request_type: str | None = None
    subject: str = ""
    status: str | None = None
    owner: str | None = None
    queue: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Helpdesk fields by their API name (``cf_cnpj``, ``Order_Number__c``, a Movidesk
    custom field id), values as the helpdesk returned them."""
    comments: tuple[Comment, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    field_labels: Mapping[str, str] = field(default_factory=dict)
    """API name -> the label agents see for it ("cf_numero_do_pedido" -> "Número do pedido")."""
    requester: Party | None = None
    organization: Party | None = None

    @property
    def display_number(self) -> str:
        """The number agents see (falls back to the id)."""
        return self.number or self.id


@dataclass(frozen=True, slots=True)
class Context:
    """Facts beyond the ticket that some rules need, gathered by connectors.

    ``facts`` holds flags and values (``customer_in_onboarding``, ``blocked_for_non_payment``,
    ``onboarding_ticket_id``, ...); ``open_tickets`` the customer's other open tickets.
    """

    facts: Mapping[str, Any] = field(default_factory=dict)
    open_tickets: tuple[RelatedTicket, ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedTicket:
    """Another open ticket of the same customer, as far as the rules need it."""

    id: str
    number: str | None = None
    subject: str = ""
    request_type: str | None = None
    owner: str | None = None
    created_at: datetime | None = None
    has_linked_card: bool = False
    same_subject: bool = False
    in_attendance: bool | None = None
    """An analyst is handling it (picked up, not new and not closed); None when unknown."""
