"""Case records as the normalized ``Ticket``: SOQL text, stamps and translation; pure.

Theory of operation
-------------------
* One SOQL brings a whole case: the Case fields (``case_select``), its internal
  CaseComments and its files' titles as child subqueries. ``case_soql`` builds it for a
  WHERE clause; the listing and ``reload`` share it, so a case reads the same however it
  was found.
* Stamps come back as ``2024-05-01T10:00:00.000+0000`` (``parse_stamp``); SOQL literals
  are unquoted whole seconds in UTC (``soql_datetime``, floored: ``>=`` a floored bound
  reads a superset). Ids go into SOQL only after ``soql_id`` checks their shape.
* ``version``: the newest of the case's ``SystemModstamp`` and its internal comments'
  ``SystemModstamp`` (a new comment may not move the case's stamp), so a new comment is a
  new version even when the case's stamp stands still.
* ``ticket``: id = Case Id, number = CaseNumber, owner (``Owner.Type`` User) or queue
  (``Owner.Type`` Queue) by name, request type from ``request_type_field`` (joined with
  the optional ``subcategory_field`` as "Type > Subcategory", as the other helpdesks
  join theirs: ``request_type``), fields = every
  scalar field of the record by API name (the ``comment_field`` among them), comments =
  internal CaseComments (author ``CreatedBy.Name``) plus the ``comment_field`` value as
  one more internal comment, attachments = file titles (``ContentDocument``), parties =
  the Contact and the Account.
* Nothing here does I/O, reads a clock or caches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sync.contract import FatalError
from sync.model import Attachment, Comment, Context, Party, Ticket

HELPDESK = "salesforce"
BASE_FIELDS: tuple[str, ...] = (
    "Id", "CaseNumber", "Subject", "Status", "Priority", "Origin", "Reason", "Type",
    "IsClosed", "IsEscalated", "OwnerId", "Owner.Name", "Owner.Type", "ParentId",
    "ContactId", "Contact.Name", "Contact.Email", "Contact.Phone", "AccountId",
    "Account.Name", "SuppliedName", "SuppliedEmail", "SuppliedPhone", "Description",
    "CreatedDate", "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
"""Standard Case fields every org has, read for every case."""
COMMENTS_SUBQUERY = (
    "(SELECT Id, CommentBody, IsPublished, CreatedDate, SystemModstamp, CreatedBy.Name "
    "FROM CaseComments WHERE IsPublished = false ORDER BY CreatedDate)"
)
FILES_SUBQUERY = (
    "(SELECT ContentDocument.Title, ContentDocument.FileExtension FROM ContentDocumentLinks)"
)
CASES_SUBQUERY = "(SELECT Id, IsClosed FROM Cases)"
"""The case's child cases (``ParentId``): the ``children``/``child_answered`` facts."""
HISTORY_SUBQUERY = (
    "(SELECT OldValue, NewValue, CreatedDate FROM Histories WHERE Field = 'Owner' "
    "ORDER BY CreatedDate)"
)
"""The case's owner changes: who escalated it to the queue it is in (``escalated_by``)."""
CHILDREN = ("CaseComments", "ContentDocumentLinks", "Cases", "Histories")
USER_PREFIX, QUEUE_PREFIX = "005", "00G"
"""Key prefixes of User and Group (queue) ids."""
ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


def case_select(extra: Iterable[str | None]) -> list[str]:
    """The Case field list: the standard ones plus the org's (no repeats, order kept)."""
    out: list[str] = []
    for name in (*BASE_FIELDS, *extra):
        if name and name not in out:
            out.append(name)
    return out


def case_soql(fields: Sequence[str], where: str, order: str = "") -> str:
    """``SELECT <fields>, <comments>, <files> FROM Case WHERE ... [ORDER BY ...]``."""
    # Field API names checked by the settings; WHERE parts built of checked ids/literals.
    subqueries = [COMMENTS_SUBQUERY, FILES_SUBQUERY, CASES_SUBQUERY, HISTORY_SUBQUERY]
    select = ", ".join([*fields, *subqueries])
    soql = f"SELECT {select} FROM Case"  # noqa: S608
    soql += f" WHERE {where}"
    return soql + (f" ORDER BY {order}" if order else "")


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal: UTC, whole seconds, floored, unquoted."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} in a SOQL filter")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_id(value: str) -> str:
    """An Id quoted for SOQL; ``FatalError`` for anything that is not an Id."""
    if not ID.match(value):
        raise FatalError(f"not a Salesforce id: {value[:40]!r}", helpdesk=HELPDESK)
    return f"'{value}'"


def soql_ids(values: Iterable[str]) -> str:
    """``('a', 'b')`` for ``IN``."""
    return "(" + ", ".join(soql_id(v) for v in values) + ")"


def parse_stamp(text: str) -> datetime:
    """``2024-05-01T10:00:00.000+0000`` (or ``Z``, or ``+00:00``) as an aware datetime."""
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError(f"stamp without time zone: {text[:40]!r}")
    return stamp.astimezone(UTC)


def children(record: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """The rows of a child subquery (``null`` when the case has none)."""
    result = record.get(name)
    if not isinstance(result, Mapping):
        return []
    return [dict(row) for row in result.get("records") or [] if isinstance(row, Mapping)]


def version(record: Mapping[str, Any]) -> str:
    """The newest stamp of the case and of its internal comments, as Salesforce wrote it."""
    stamps = [str(record["SystemModstamp"])]
    stamps += [str(c["SystemModstamp"]) for c in children(record, "CaseComments")
               if c.get("SystemModstamp")]  # fmt: skip
    return max(stamps, key=parse_stamp)


def compact(record: Mapping[str, Any]) -> bytes:
    """A record (child pages already merged) as compact JSON, ``attributes`` left out."""
    return json.dumps(_strip(record), ensure_ascii=False, separators=(",", ":")).encode()


def _strip(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _related(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = record.get(name)
    return value if isinstance(value, Mapping) else {}


def scalar_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """Every scalar field of the record by API name (no relationships, no child results)."""
    return {
        key: value
        for key, value in record.items()
        if key != "attributes" and not isinstance(value, Mapping | list)
    }


def comments(record: Mapping[str, Any], comment_field: str | None) -> tuple[Comment, ...]:
    """Internal CaseComments in creation order, then the ``comment_field`` value."""
    out = [
        Comment(
            id=str(row["Id"]),
            body=str(row.get("CommentBody") or ""),
            internal=not row.get("IsPublished"),
            created_at=parse_stamp(str(row["CreatedDate"])),
            author=_text(_related(row, "CreatedBy").get("Name")),
        )
        for row in children(record, "CaseComments")
    ]
    value = record.get(comment_field) if comment_field else None
    if isinstance(value, str) and value.strip():
        changed = record.get("LastModifiedDate") or record["SystemModstamp"]
        out.append(
            Comment(
                id=f"{record['Id']}:{comment_field}",
                body=value,
                internal=True,
                created_at=parse_stamp(str(changed)),
            )
        )
    return tuple(out)


def attachments(record: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """The case's files by title (with the extension when the title lacks it)."""
    out: list[Attachment] = []
    for row in children(record, "ContentDocumentLinks"):
        document = _related(row, "ContentDocument")
        title = _text(document.get("Title"))
        if title is None:
            continue
        extension = _text(document.get("FileExtension"))
        if extension and not title.lower().endswith("." + extension.lower()):
            title = f"{title}.{extension}"
        # Salesforce gives an extension, not a content type: the core guesses it by name.
        out.append(Attachment(name=title, content_type=None))
    return tuple(out)


def ticket(
    record: Mapping[str, Any],
    *,
    request_type_field: str = "Type",
    comment_field: str | None = None,
    subcategory_field: str | None = None,
) -> Ticket:
    """A Case record (as SOQL returned it, child pages merged) as a ``Ticket``."""
    for key in ("Id", "CreatedDate", "SystemModstamp"):
        if not record.get(key):
            raise FatalError(f"Case record without {key}", helpdesk=HELPDESK)
    owner = _related(record, "Owner")
    owner_name = _text(owner.get("Name"))
    is_queue = owner.get("Type") == "Queue"
    contact = _related(record, "Contact")
    account = _related(record, "Account")
    requester = Party(
        name=_text(contact.get("Name")) or _text(record.get("SuppliedName")),
        email=_text(contact.get("Email")) or _text(record.get("SuppliedEmail")),
        phone=_text(contact.get("Phone")) or _text(record.get("SuppliedPhone")),
    )
    organization = Party(name=_text(account.get("Name"))) if account else None
    updated = record.get("LastModifiedDate") or record["SystemModstamp"]
    return Ticket(
        id=str(record["Id"]),
        source=HELPDESK,
        created_at=parse_stamp(str(record["CreatedDate"])),
        updated_at=parse_stamp(str(updated)),
        number=_text(record.get("CaseNumber")),
        request_type=request_type(record, request_type_field, subcategory_field),
        subject=str(record.get("Subject") or ""),
        status=_text(record.get("Status")),
        owner=None if is_queue else owner_name,
        queue=owner_name if is_queue else None,
        fields=scalar_fields(record),
        comments=comments(record, comment_field),
        attachments=attachments(record),
        requester=requester,
        organization=organization,
    )


def request_type(
    record: Mapping[str, Any], request_type_field: str, subcategory_field: str | None
) -> str | None:
    """The SOP category: the request type field's value, "A > B" with a subcategory."""
    main = _text(record.get(request_type_field))
    sub = _text(record.get(subcategory_field)) if subcategory_field else None
    if main and sub:
        return f"{main} > {sub}"
    return main or sub


def context(record: Mapping[str, Any], user_name: Callable[[str], str | None]) -> Context:
    """Facts: ``children`` (child cases) and ``child_answered`` (one is closed) for timers;
    ``escalated_by``, the user who owned the case right before its latest move into a
    queue (the N2 a GSO case returns to), by ``user_name`` of the user's Id."""
    facts: dict[str, Any] = {}
    kids = children(record, "Cases")
    if kids:
        facts["children"] = len(kids)
        facts["child_answered"] = any(k.get("IsClosed") for k in kids)
    escalator = escalated_by(record)
    name = user_name(escalator) if escalator else None
    if name:
        facts["escalated_by"] = name
    return Context(facts=facts)


def escalated_by(record: Mapping[str, Any]) -> str | None:
    """The Id of the user the case left for its latest queue (owner history, id rows)."""
    found = None
    for row in children(record, "Histories"):
        old, new = _text(row.get("OldValue")), _text(row.get("NewValue"))
        if not (old and new and ID.match(old) and ID.match(new)):
            continue  # the name-valued twin of an owner change
        if new.startswith(QUEUE_PREFIX) and old.startswith(USER_PREFIX):
            found = old
    return found


__all__ = [
    "BASE_FIELDS",
    "CASES_SUBQUERY",
    "CHILDREN",
    "HISTORY_SUBQUERY",
    "attachments",
    "case_select",
    "case_soql",
    "children",
    "comments",
    "compact",
    "context",
    "escalated_by",
    "parse_stamp",
    "request_type",
    "scalar_fields",
    "soql_datetime",
    "soql_id",
    "soql_ids",
    "ticket",
    "version",
]
