"""The names a Salesforce org holds, for ``check`` (``SalesforceConnector.account_names``).

What is read, and why each kind holds what it holds:

* ``GET sobjects/Case/describe/`` (one call). Its shape: the REST API "sObject Describe"
  resource (api-rest guide "Get Field and Other Metadata for an Object": ``{"name",
  "fields": [...], ...}``, the SOAP ``DescribeSObjectResult`` as JSON); a field's keys as
  jsforce ``src/types/common.ts`` types them (``name``, ``label``, ``type``,
  ``picklistValues``, ``dependentPicklist``, ``controllerName``, ...); a picklist value
  ``{"active", "defaultValue", "label", "validFor", "value"}`` (SOAP ``PicklistEntry``;
  ``value`` is the API name, ``PicklistValueInfo.Value``). From it:

  - "field": every Case field's API name. Labels are not names here: the connector
    selects fields by API name in SOQL and reads them by API name from the record.
  - "status": the active values of ``Status``. The value (API name) only: the writes
    send the mapping's status as the ``Status`` value and a case's status is read back
    as that value; a label that differs from it would be refused.
  - "type": the active values of ``request_type_field`` (the case carries the value, not
    the label). With ``subcategory_field`` (read as "Type > Subcategory"): a dependent
    picklist controlled by the request type field gives the exact "A > B" pairs its
    ``validFor`` bits allow (bit ``i``, byte ``i >> 3``, mask ``0x80 >> i % 8``: the
    controlling field's ``i``-th listed value, inactive ones included, as the
    ``DescribeSObjectResult`` dependent-picklist sample decodes it); an independent
    picklist gives its active values as sub-types; any other field is free text. A
    request type field that is not a picklist holds free text: types are not checked.

* Queues and users through the directory's lookups (``directory``: ``Group`` rows of
  ``Type = 'Queue'`` by name or developer name; active users by name, username, e-mail
  or Id), plus one ``SELECT QueueId, SobjectType FROM QueueSobject WHERE SobjectType IN
  ('Case', 'Task')`` (a query answer ``{totalSize, done, records}``, reference §1.3): which
  queue may own what (reference §4: a queue owns a record only with a ``QueueSobject``
  row for its object).

  - "group": the queues that may own Cases (a route sets ``Case.OwnerId`` to the queue).
  - "owner": what ``directory.owner_id`` resolves for a route's, task's or child case's
    owner (an active user, else a queue), the queues narrowed to those that may own the
    record written (a Case or a Task).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from sync.account import AccountNames
from sync.contract import FatalError

from .._names import NameLookup
from .client import HELPDESK, SalesforceClient
from .directory import Directory

CASE_DESCRIBE = "sobjects/Case/describe/"
QUEUE_OBJECTS_SOQL = (
    "SELECT QueueId, SobjectType FROM QueueSobject WHERE SobjectType IN ('Case', 'Task')"
)
OWNED = frozenset({"Case", "Task"})
"""What the connector writes an owner on: a Case (route, child case) or a Task."""


def account_names(
    client: SalesforceClient,
    directory: Directory,
    request_type_field: str,
    subcategory_field: str | None,
) -> AccountNames:
    """What ``check`` compares the mappings and configuration with."""
    fields = case_fields(client.restful(CASE_DESCRIBE))
    owns = queue_objects(directory)
    case_queues = {queue for queue, kinds in owns.items() if "Case" in kinds}
    owner_queues = {queue for queue, kinds in owns.items() if kinds & OWNED}
    known: dict[str, list[str]] = {
        "group": queue_labels(directory.queues, case_queues),
        "owner": [*directory.users.labels(), *queue_labels(directory.queues, owner_queues)],
        "field": list(fields),
    }
    unchecked: dict[str, str] = {}
    status = fields.get("Status")
    statuses = active_values(status) if status is not None else []
    if statuses:
        known["status"] = statuses
    else:
        unchecked["status"] = "the Case Status picklist lists no active values"
    types = _field(fields, request_type_field)
    subtypes: list[str] | None = None
    free_subtypes = False
    if types is None or types.get("type") != "picklist" or not active_values(types):
        unchecked["type"] = _why_not_listed(request_type_field, types)
    else:
        known["type"] = active_values(types)
        sub = _field(fields, subcategory_field)
        if subcategory_field and (sub is None or sub.get("type") != "picklist"):
            free_subtypes = True  # free text (or no such field: reported as a field)
        elif sub is not None and _controlled_by(sub, str(types.get("name"))):
            known["type"] += list(dependent_paths(types, sub))
        elif sub is not None:
            subtypes = active_values(sub)
    return AccountNames(
        HELPDESK,
        known=known,
        unchecked=unchecked,
        subtypes=subtypes,
        free_subtypes=free_subtypes,
        exact=frozenset({"status"}),  # the writes send the value as the mapping spells it
    )


def case_fields(describe: Any) -> dict[str, Mapping[str, Any]]:
    """The describe answer's fields by API name; ``FatalError`` for another shape."""
    fields = describe.get("fields") if isinstance(describe, Mapping) else None
    if not isinstance(fields, list):
        raise FatalError(
            f"GET {CASE_DESCRIBE}: expected an object with a fields list", helpdesk=HELPDESK
        )
    return {
        str(item["name"]): item
        for item in fields
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    }


def queue_objects(directory: Directory) -> dict[str, set[str]]:
    """Queue Id (15 characters) -> the objects it may own, among Case and Task."""
    owns: dict[str, set[str]] = {}
    for row in directory.reader.records(QUEUE_OBJECTS_SOQL):
        queue, kind = row.get("QueueId"), row.get("SobjectType")
        if isinstance(queue, str) and isinstance(kind, str):
            owns.setdefault(queue[:15], set()).add(kind)
    return owns


def queue_labels(queues: NameLookup[str], ids: Collection[str]) -> list[str]:
    """Every name the queue lookup accepts for the queues whose Id (15 characters) is in
    ``ids``: display names first, then the other labels (developer names), folded."""
    queues.labels()  # loaded once, as the writes load it
    names = [name for queue, name in queues.names.items() if queue[:15] in ids]
    return names + [label for label, queue in queues.ids.items() if queue[:15] in ids]


def active_values(field: Mapping[str, Any]) -> list[str]:
    """The active values (API names) of a picklist field, in describe order."""
    return [
        str(entry["value"])
        for entry in field.get("picklistValues") or ()
        if isinstance(entry, Mapping) and entry.get("active") and entry.get("value")
    ]


def dependent_paths(controller: Mapping[str, Any], dependent: Mapping[str, Any]) -> Iterator[str]:
    """The paths "A > B" for each active controlling value A and each active dependent
    value B whose ``validFor`` bit set allows A."""
    listed = [
        entry for entry in controller.get("picklistValues") or () if isinstance(entry, Mapping)
    ]
    for entry in dependent.get("picklistValues") or ():
        if not isinstance(entry, Mapping) or not entry.get("active") or not entry.get("value"):
            continue
        for index in valid_indexes(entry.get("validFor")):
            if index < len(listed) and listed[index].get("active"):
                yield f"{listed[index]['value']} > {entry['value']}"


def valid_indexes(valid_for: Any) -> list[int]:
    """The controlling value indexes a ``validFor`` base64 bit set names."""
    if not isinstance(valid_for, str) or not valid_for:
        return []
    try:
        bits = base64.b64decode(valid_for, validate=True)
    except (binascii.Error, ValueError):
        return []
    return [i for i in range(len(bits) * 8) if bits[i >> 3] & (0x80 >> (i % 8))]


def _field(fields: Mapping[str, Mapping[str, Any]], name: str | None) -> Mapping[str, Any] | None:
    """A field by API name (as SOQL takes them: any letter case)."""
    if not name:
        return None
    if name in fields:
        return fields[name]
    lowered = name.lower()
    return next((f for key, f in fields.items() if key.lower() == lowered), None)


def _controlled_by(field: Mapping[str, Any], controller: str) -> bool:
    name = field.get("controllerName")
    return bool(field.get("dependentPicklist")) and str(name).lower() == controller.lower()


def _why_not_listed(name: str, field: Mapping[str, Any] | None) -> str:
    if field is None:
        return f"the request type field '{name}' is not a Case field"
    kind = field.get("type")
    if kind != "picklist":
        return f"the request type field '{name}' is a {kind} field: its values are free text"
    return f"the request type field '{name}' lists no active values"


__all__ = [
    "CASE_DESCRIBE",
    "QUEUE_OBJECTS_SOQL",
    "account_names",
    "active_values",
    "case_fields",
    "dependent_paths",
    "queue_labels",
    "queue_objects",
    "valid_indexes",
]
