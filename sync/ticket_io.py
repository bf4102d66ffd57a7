"""Read a ticket in the normalized JSON form (``explain`` input, sandbox fixtures).

Pydantic validates the untrusted document at the edge; the core only sees dataclasses.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, Problem
from .model import Attachment, Comment, Context, Party, RelatedTicket, Ticket
from .yaml_lines import LocatedDocumentError, load_json, validation_problems


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentDoc(_Doc):
    id: str
    body: str
    internal: bool = True
    author: str | None = None
    created_at: AwareDatetime


class AttachmentDoc(_Doc):
    name: str
    content_type: str | None = None
    comment_id: str | None = None


class PartyDoc(_Doc):
    name: str | None = None
    email: str | None = None
    document: str | None = None
    phone: str | None = None

    def to_party(self) -> Party:
        return Party(self.name, self.email, self.document, self.phone)


class RelatedTicketDoc(_Doc):
    id: str
    number: str | None = None
    subject: str = ""
    request_type: str | None = None
    owner: str | None = None
    created_at: AwareDatetime | None = None
    has_linked_card: bool = False
    same_subject: bool = False
    in_attendance: bool | None = None


class ContextDoc(_Doc):
    model_config = ConfigDict(extra="allow")

    open_tickets: list[RelatedTicketDoc] = Field(default_factory=list)


class TicketDoc(_Doc):
    id: str = Field(min_length=1)
    number: str | None = None
    source: str = "unknown"
    request_type: str | None = None
    subject: str = ""
    status: str | None = None
    owner: str | None = None
    queue: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    fields: dict[str, Any] = Field(default_factory=dict)
    comments: list[CommentDoc] = Field(default_factory=list)
    attachments: list[AttachmentDoc] = Field(default_factory=list)
    field_labels: dict[str, str] = Field(default_factory=dict)
    requester: PartyDoc | None = None
    organization: PartyDoc | None = None
    context: ContextDoc | None = None

    def to_ticket(self) -> Ticket:
        """The core's frozen ticket."""
        return Ticket(
            id=self.id,
            number=self.number,
            source=self.source,
            request_type=self.request_type,
            subject=self.subject,
            status=self.status,
            owner=self.owner,
            queue=self.queue,
            created_at=self.created_at,
            updated_at=self.updated_at,
            fields=dict(self.fields),
            comments=tuple(
                Comment(c.id, c.body, c.internal, c.created_at, c.author) for c in self.comments
            ),
            attachments=tuple(
                Attachment(a.name, a.content_type, a.comment_id) for a in self.attachments
            ),
            field_labels=dict(self.field_labels),
            requester=self.requester.to_party() if self.requester else None,
            organization=self.organization.to_party() if self.organization else None,
        )

    def to_context(self) -> Context:
        """The context facts the document carries (empty when absent)."""
        if self.context is None:
            return Context()
        facts = dict(self.context.model_extra or {})
        related = tuple(
            RelatedTicket(
                id=t.id,
                number=t.number,
                subject=t.subject,
                request_type=t.request_type,
                owner=t.owner,
                created_at=t.created_at,
                has_linked_card=t.has_linked_card,
                same_subject=t.same_subject,
                in_attendance=t.in_attendance,
            )
            for t in self.context.open_tickets
        )
        return Context(facts=facts, open_tickets=related)


def parse_ticket_document(text: str, filename: str) -> tuple[Ticket, Context]:
    """Parse one normalized ticket JSON document; ``InputError`` names file, line, field."""
    try:
        data, lines = load_json(text, filename)
    except LocatedDocumentError as exc:
        raise InputError([exc.problem]) from exc
    if not isinstance(data, dict):
        raise InputError([Problem(filename, 1, "", "a ticket must be a JSON object")])
    try:
        doc = TicketDoc.model_validate(data)
    except ValidationError as exc:
        located = validation_problems(exc, filename, lines, noun="field")
        raise InputError([problem for _, problem in located]) from exc
    return doc.to_ticket(), doc.to_context()
