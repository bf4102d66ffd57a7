"""Movidesk ticket JSON as the normalized ``Ticket``, ``Party`` and ``Context``: pure.

Theory of operation
-------------------
* Input: one ticket row as the list (or ``GET /tickets?id=N``) returns it with the full
  ``$expand`` (``api.TICKET_EXPAND``). Nothing here does I/O, reads a clock or caches.
* Comments are the actions that are not deleted: internal ones (``type`` 1) are what the
  decision core parses; public ones (``type`` 2) come along with ``internal=False`` so their
  attachments are seen. The body is the HTML (``htmlDescription``, else ``description``),
  kept for the parser; the author the action's ``createdBy`` name. Attachments are named by
  ``fileName`` and tied to their action.
* ``Ticket.fields``: each custom field value by its ``customFieldId`` as text (the value,
  else its items' names), plus the plain fields (``category``, ``urgency``, ``status``,
  ``baseStatus``, ``justification``, ``ownerTeam``, ``tags``, service levels, ``type``,
  ``protocol``, ``origin``), ``owner_id`` and ``client_id`` (the writes need them), and
  ``cliente_empresa``/``cliente_email`` (the first client's organization and e-mail, which
  the Emissor mapping reads). Labels of custom fields come from the settings (Movidesk
  publishes no list of custom field definitions).
* The request type follows the shared settings: ``request_type_field`` (``category``, also
  spelled ``type``; a service level; or a custom field id) joined with the optional
  ``subcategory_field`` as "Categoria > Subcategoria", as Freshdesk does.
* Parties: the requester is the first client that is not deleted (name, e-mail, CPF/CNPJ,
  phone); the organization is that client's ``organization``, or the client itself when it
  is a company (``personType`` 2).
* Context: a ticket with child tickets has ``children`` and, where the row shows the
  children's state (``baseStatus``, or ``isClosed``), ``child_answered``: one of them is
  Resolved or Closed. A child entry without its state leaves ``child_answered`` unknown.
  A ticket helpdesk-sync merged (the merge fallback's internal note, "Ticket mesclado ao
  ticket N.", with the marker) has ``merged_into`` = N: it left the flow, and mappings
  leave it alone instead of judging the secondary again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sync.effects import carries_marker
from sync.model import Attachment, Comment, Context, Party, Ticket

from .api import parse_datetime

ANSWERED = frozenset({"resolved", "closed"})
"""``baseStatus`` values of a child that answered (compared in lower case)."""
PLAIN_FIELDS = (
    "protocol",
    "type",
    "origin",
    "category",
    "urgency",
    "status",
    "baseStatus",
    "justification",
    "ownerTeam",
    "serviceFirstLevel",
    "serviceSecondLevel",
    "serviceThirdLevel",
)
DERIVED_FIELDS = ("tags", "owner_id", "client_id", "cliente_empresa", "cliente_email")
"""``Ticket.fields`` keys ``ticket`` derives from the row, besides ``PLAIN_FIELDS`` and the
custom field ids: what a mapping's ``ticket_field`` or a ``fields:`` source may name."""
MERGE_NOTE = "Ticket mesclado ao ticket {into}."
"""First line of the merge fallback's internal note (``writes.merge_text``)."""
_MERGED = re.compile(r"Ticket mesclado ao ticket (\d+)\.")
CATEGORY_NAMES = frozenset({"category", "type"})
"""``request_type_field`` values that mean the ticket's category."""
SNAPSHOT_KEYS = (
    *PLAIN_FIELDS,
    "id",
    "subject",
    "createdDate",
    "lastUpdate",
    "tags",
    "owner",
    "clients",
    "customFieldValues",
    "parentTickets",
    "childrenTickets",
)
ACTION_KEYS = (
    "id",
    "type",
    "description",
    "htmlDescription",
    "createdDate",
    "createdBy",
    "isDeleted",
    "attachments",
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _slim_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """An action as a snapshot keeps it: the HTML body only (the plain copy when no HTML)."""
    slim = {key: action[key] for key in ACTION_KEYS if key in action and key != "attachments"}
    if action.get("htmlDescription"):
        slim.pop("description", None)
    slim["attachments"] = [
        {"fileName": a.get("fileName")}
        for a in action.get("attachments") or []
        if isinstance(a, Mapping)
    ]
    return slim


def compact(row: Mapping[str, Any]) -> bytes:
    """The row as ``load`` needs it, compact JSON (a ref's snapshot; never logged)."""
    slim: dict[str, Any] = {key: row[key] for key in SNAPSHOT_KEYS if key in row}
    slim["actions"] = [
        _slim_action(action)
        for action in row.get("actions") or []
        if isinstance(action, Mapping) and not action.get("isDeleted")
    ]
    return json.dumps(slim, separators=(",", ":"), ensure_ascii=False).encode()


def custom_value(item: Mapping[str, Any]) -> str | None:
    """One custom field value as text: its ``value``, else its items' names."""
    value = _text(item.get("value"))
    if value is not None:
        return value
    names = [
        _text(i.get("customFieldItem") or i.get("team") or i.get("personId") or i.get("clientId"))
        for i in item.get("items") or []
        if isinstance(i, Mapping)
    ]
    joined = ", ".join(n for n in names if n)
    return joined or None


def custom_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """Custom field values by field id (text keys); several lines are joined by "; "."""
    out: dict[str, list[str]] = {}
    for item in row.get("customFieldValues") or []:
        if not isinstance(item, Mapping) or item.get("customFieldId") is None:
            continue
        value = custom_value(item)
        if value is not None:
            out.setdefault(str(item["customFieldId"]), []).append(value)
    return {key: "; ".join(values) for key, values in out.items()}


def first_client(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ticket's requester: its first client that is not deleted."""
    for client in row.get("clients") or []:
        if isinstance(client, Mapping) and not client.get("isDeleted"):
            return client
    return None


def person_name(person: Any) -> str | None:
    """An embedded person's display name (business name, else e-mail)."""
    if not isinstance(person, Mapping):
        return None
    return _text(person.get("businessName")) or _text(person.get("email"))


def party(person: Mapping[str, Any] | None) -> Party | None:
    """A client or organization as a ``Party``; None when it names nothing."""
    if not person:
        return None
    found = Party(
        name=_text(person.get("businessName")) or _text(person.get("corporateName")),
        email=_text(person.get("email")),
        document=_text(person.get("cpfCnpj")),
        phone=_text(person.get("phone")),
    )
    return found if any(found.get(p) for p in ("name", "email", "document", "phone")) else None


def parties(row: Mapping[str, Any]) -> tuple[Party | None, Party | None]:
    """(requester, organization) of a ticket."""
    client = first_client(row)
    if client is None:
        return None, None
    organization = client.get("organization")
    if not isinstance(organization, Mapping) or not organization:
        organization = client if client.get("personType") == 2 else None
    return party(client), party(organization)


def request_type(
    row: Mapping[str, Any],
    custom: Mapping[str, str],
    request_type_field: str,
    subcategory_field: str | None,
) -> str | None:
    """The SOP category ("Categoria > Subcategoria" when a subcategory field is set)."""

    def value(name: str | None) -> str | None:
        if not name:
            return None
        if name in CATEGORY_NAMES:
            return _text(row.get("category"))
        if name in custom:
            return _text(custom[name])
        if name.isdigit():
            return None
        return _text(row.get(name))

    main, sub = value(request_type_field), value(subcategory_field)
    if main and sub:
        return f"{main} > {sub}"
    return main or sub


def comments(row: Mapping[str, Any]) -> tuple[list[Comment], list[Attachment]]:
    """The actions that are not deleted, oldest first, and their attachments."""
    out: list[Comment] = []
    attachments: list[Attachment] = []
    actions = [a for a in row.get("actions") or [] if isinstance(a, Mapping)]
    for action in actions:
        if action.get("isDeleted") or action.get("id") is None:
            continue
        action_id = str(action["id"])
        stamp = action.get("createdDate") or row.get("createdDate")
        out.append(
            Comment(
                id=action_id,
                body=action.get("htmlDescription") or action.get("description") or "",
                internal=action.get("type") == 1,
                created_at=parse_datetime(str(stamp)),
                author=person_name(action.get("createdBy")),
            )
        )
        attachments.extend(
            Attachment(name=str(a["fileName"]), comment_id=action_id)
            for a in action.get("attachments") or []
            if isinstance(a, Mapping) and a.get("fileName")
        )
    out.sort(key=lambda c: c.created_at)
    return out, attachments


def ticket(
    row: Mapping[str, Any],
    *,
    request_type_field: str = "category",
    subcategory_field: str | None = None,
    field_labels: Mapping[str, str] | None = None,
) -> Ticket:
    """The normalized ticket of one row."""
    custom = custom_fields(row)
    requester, organization = parties(row)
    client = first_client(row)
    owner = row.get("owner") if isinstance(row.get("owner"), Mapping) else None
    fields: dict[str, Any] = {**custom}
    fields.update({name: row.get(name) for name in PLAIN_FIELDS if name in row})
    fields["tags"] = [str(t) for t in row.get("tags") or []]
    fields["owner_id"] = _text(owner.get("id")) if owner else None
    fields["client_id"] = _text(client.get("id")) if client else None
    fields["cliente_empresa"] = organization.name if organization else None
    fields["cliente_email"] = requester.email if requester else None
    found, attachments = comments(row)
    return Ticket(
        id=str(row["id"]),
        source="movidesk",
        created_at=parse_datetime(str(row.get("createdDate") or row["lastUpdate"])),
        updated_at=parse_datetime(str(row["lastUpdate"])),
        number=str(row["id"]),
        request_type=request_type(row, custom, request_type_field, subcategory_field),
        subject=row.get("subject") or "",
        status=_text(row.get("status")),
        owner=person_name(owner),
        queue=_text(row.get("ownerTeam")),
        fields=fields,
        comments=tuple(found),
        attachments=tuple(attachments),
        field_labels=dict(field_labels or {}),
        requester=requester,
        organization=organization,
    )


def children(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The ticket's child links that are not deleted."""
    return [
        c
        for c in row.get("childrenTickets") or []
        if isinstance(c, Mapping) and c.get("id") is not None and not c.get("isDeleted")
    ]


def answered(child: Mapping[str, Any]) -> bool | None:
    """Whether a child ticket answered (Resolved/Closed); None when the entry does not say."""
    base = child.get("baseStatus")
    if isinstance(base, str) and base:
        return base.lower() in ANSWERED
    if isinstance(child.get("isClosed"), bool):
        return bool(child["isClosed"])
    return None


def context(row: Mapping[str, Any], states: Sequence[Mapping[str, Any]] | None = None) -> Context:
    """Facts for timers: ``children`` and, when known, ``child_answered``.

    ``states``: the children as read on their own (``id`` and ``baseStatus``), when the
    connector read them; else the row's child links are all there is.
    """
    merged = merged_into(row)
    links = children(row)
    if not links:
        return Context(facts={"merged_into": merged} if merged else {})
    by_id = {str(s.get("id")): s for s in states or []}
    known = [answered({**c, **by_id.get(str(c["id"]), {})}) for c in links]
    facts: dict[str, Any] = {"children": len(links)}
    if merged:
        facts["merged_into"] = merged
    if any(k is True for k in known):
        facts["child_answered"] = True
    elif all(k is False for k in known):
        facts["child_answered"] = False
    return Context(facts=facts)


def merged_into(row: Mapping[str, Any]) -> str | None:
    """The principal named by our latest merge note on this ticket, if it has one."""
    found = None
    for action in row.get("actions") or []:
        if not isinstance(action, Mapping) or action.get("isDeleted") or action.get("type") != 1:
            continue
        text = str(action.get("htmlDescription") or action.get("description") or "")
        match = _MERGED.search(text)
        if match and carries_marker(text):
            found = match.group(1)
    return found


__all__ = [
    "ANSWERED",
    "DERIVED_FIELDS",
    "MERGE_NOTE",
    "PLAIN_FIELDS",
    "SNAPSHOT_KEYS",
    "answered",
    "children",
    "comments",
    "compact",
    "context",
    "custom_fields",
    "custom_value",
    "first_client",
    "merged_into",
    "parties",
    "party",
    "person_name",
    "request_type",
    "ticket",
]
