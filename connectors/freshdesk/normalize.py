"""Freshdesk rows as the normalized ``Ticket``, ``Party`` and ``Context``: pure translation.

Theory of operation
-------------------
* Input: the ticket row (the view of ``GET /tickets/{id}``, or the list row kept in the
  ref's snapshot), its conversations, and ``RowNames``: every name and party row the
  translation needs, already resolved by ``directory`` (which may call the API for them).
  Nothing here does I/O, reads a clock or caches: the same input gives the same ticket.
* ``Ticket.fields``: the row's custom fields, plus ``type``, ``priority`` (as its English
  label) and ``tags``; ``Ticket.field_labels`` are the agent labels of ``GET
  /ticket_fields``. The request type is the ``request_type_field`` (``type`` or a custom
  field), joined with the optional ``subcategory_field`` as "Categoria > Subcategoria".
* Comments are the conversations (HTML body, else the plain text; ``private`` is internal);
  their author is the agent's name when the user is an agent, else the user id.
  Attachments of a conversation carry its id; the ticket's own attachments (those of the
  customer's first e-mail) come with the view only.
* Parties: the requester (name, e-mail, phone, else mobile; the CPF/CNPJ only when the
  contact itself was read) and the company (name and document). The document is the first
  non-empty of ``document_fields`` among the contact's or company's custom fields;
  Freshdesk names those without the ``cf_`` prefix of ticket fields (docs "View a
  Contact", "View a Company"), so each name matches with or without it.
* Context: a parent ticket's children count as answered once one is Resolved or Closed
  (a requester's reply reopens a child as Open after Pending, which is not distinguishable
  here; resolving the child is the SOP's signal). Tickets without children have no facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.model import Attachment, Comment, Context, Party, Ticket

from .api import PARENT, STATUS_CLOSED, STATUS_RESOLVED, parse

PRIORITY_LABELS: Mapping[int, str] = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
DEFAULT_DOCUMENT_FIELDS = ("cf_cnpj", "cf_cpf", "cf_cpf_cnpj", "cf_documento")
"""Contact/company custom fields that may hold the CPF/CNPJ, in order of preference.
Freshdesk names contact and company custom fields without the ``cf_`` prefix of ticket
fields (docs "View a Contact", "View a Company"), so each name matches with or without it."""


@dataclass(frozen=True, slots=True)
class RowNames:
    """What translating one row needs from the account, resolved before it is translated."""

    authors: Mapping[Any, str | None] = field(default_factory=dict)
    """A conversation's ``user_id`` -> the agent's name (None: not an agent)."""
    status: str | None = None
    owner: str | None = None
    queue: str | None = None
    field_labels: Mapping[str, str] = field(default_factory=dict)
    requester: Mapping[str, Any] | None = None
    """The requester's contact: the one embedded in the row, or the contact itself."""
    requester_read: bool = False
    """True when ``requester`` was read from ``/contacts`` (its document counts)."""
    company: Mapping[str, Any] | None = None
    """The ticket's company as ``/companies/{id}`` answered it (None: none or not readable)."""


def is_parent(row: Mapping[str, Any]) -> bool:
    """A ticket with child tickets (``association_type`` 1)."""
    return row.get("association_type") == PARENT


def ticket(
    row: Mapping[str, Any],
    conversations: Sequence[Mapping[str, Any]],
    names: RowNames,
    *,
    request_type_field: str,
    subcategory_field: str | None,
    document_fields: Sequence[str],
) -> Ticket:
    """The normalized ticket of one row and its conversations."""
    custom = dict(row.get("custom_fields") or {})
    fields: dict[str, Any] = {
        **custom,
        "type": row.get("type"),
        "priority": PRIORITY_LABELS.get(row.get("priority") or 0),
        "tags": list(row.get("tags") or []),
    }
    attachments = [
        Attachment(name=a["name"], content_type=a.get("content_type"))
        for a in row.get("attachments") or []
    ]
    comments = []
    for item in conversations:
        user_id = item.get("user_id")
        author = names.authors.get(user_id) or (str(user_id) if user_id else None)
        comment_id = str(item["id"])
        comments.append(
            Comment(
                id=comment_id,
                body=item.get("body") or item.get("body_text") or "",
                internal=bool(item.get("private")),
                created_at=parse(item["created_at"]),
                author=author,
            )
        )
        attachments.extend(
            Attachment(name=a["name"], content_type=a.get("content_type"), comment_id=comment_id)
            for a in item.get("attachments") or []
        )
    status_id = row.get("status")
    return Ticket(
        id=str(row["id"]),
        source="freshdesk",
        created_at=parse(row["created_at"]),
        updated_at=parse(row["updated_at"]),
        number=str(row["id"]),
        request_type=request_type(row, custom, request_type_field, subcategory_field),
        subject=row.get("subject") or "",
        status=names.status or (f"status {status_id}" if status_id else None),
        owner=names.owner,
        queue=names.queue,
        fields=fields,
        comments=tuple(comments),
        attachments=tuple(attachments),
        field_labels=names.field_labels,
        requester=requester(names.requester, names.requester_read, document_fields),
        organization=organization(names.company, document_fields),
    )


def request_type(
    row: Mapping[str, Any],
    custom: Mapping[str, Any],
    request_type_field: str,
    subcategory_field: str | None,
) -> str | None:
    """The SOP category ("Categoria > Subcategoria" when a subcategory field is set)."""

    def value(name: str | None) -> str | None:
        if not name:
            return None
        raw = row.get(name) if name == "type" else custom.get(name)
        return str(raw).strip() or None if raw is not None else None

    main, sub = value(request_type_field), value(subcategory_field)
    if main and sub:
        return f"{main} > {sub}"
    return main or sub


def document(custom: Mapping[str, Any] | None, document_fields: Sequence[str]) -> str | None:
    """The first non-empty document field of a contact's or company's custom fields."""
    for name in document_fields:
        for key in (name, name.removeprefix("cf_")):
            value = (custom or {}).get(key)
            if isinstance(value, str | int) and str(value).strip():
                return str(value).strip()
    return None


def party(data: Mapping[str, Any], document: str | None) -> Party | None:
    """A contact or company as a ``Party``; None when it names nothing."""

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value).strip() or None if value is not None else None

    found = Party(
        name=text("name"),
        email=text("email"),
        document=document,
        phone=text("phone") or text("mobile"),
    )
    return (
        found if any(found.get(part) for part in ("name", "email", "document", "phone")) else None
    )


def requester(
    contact: Mapping[str, Any] | None, read: bool, document_fields: Sequence[str]
) -> Party | None:
    """The requester; its document only from the contact itself (``include=requester``
    carries name, e-mail and phones, never custom fields)."""
    if not contact:
        return None
    found = document(contact.get("custom_fields"), document_fields) if read else None
    return party(contact, found)


def organization(company: Mapping[str, Any] | None, document_fields: Sequence[str]) -> Party | None:
    """The ticket's company (the requester's): name and document."""
    if company is None:
        return None
    return party(company, document(company.get("custom_fields"), document_fields))


def context(children: Sequence[Mapping[str, Any]] | None) -> Context:
    """Facts for timers: ``child_answered`` on a parent ticket (None: not a parent)."""
    if children is None:
        return Context()
    answered = any(c.get("status") in (STATUS_RESOLVED, STATUS_CLOSED) for c in children)
    return Context(facts={"child_answered": answered, "children": len(children)})


__all__ = [
    "DEFAULT_DOCUMENT_FIELDS",
    "PRIORITY_LABELS",
    "RowNames",
    "context",
    "document",
    "is_parent",
    "organization",
    "party",
    "request_type",
    "requester",
    "ticket",
]
