"""The names a Freshdesk account holds, for ``check`` (``Connector.account_names``).

One ``GET /api/v2/ticket_fields`` (docs "List All Ticket Fields": a JSON array, not
paginated) gives the statuses (``status.choices``: id -> [agent label, customer label]),
the custom fields (``cf_...`` names and their labels) and the choices of the request type
field: the default ``ticket_type`` field's ``choices`` is a list of names; a custom
dropdown's too; a dependent field (``nested_field``) has nested ``choices``
(``{"A": {"B": ["C"]}}``) whose paths are "A > B > C". Groups and agents come from the
directory's lookups (every page of ``/groups`` and ``/agents``): names and e-mails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sync.account import AccountNames

from .api import HELPDESK, shape_error
from .directory import DEFAULT_STATUS_NAMES, Directory

ROW_FIELDS = ("type", "priority", "tags")
"""Ticket fields read from the row itself (``normalize.ticket``), besides custom fields."""


def account_names(
    directory: Directory, request_type_field: str, subcategory_field: str | None
) -> AccountNames:
    """What ``check`` compares the mappings and configuration with."""
    fields = directory.http.get("/api/v2/ticket_fields").json()
    if not isinstance(fields, list):
        raise shape_error("GET /api/v2/ticket_fields", "a list", fields)
    by_name = {str(f.get("name")): f for f in fields if isinstance(f, Mapping)}
    statuses: list[str] = list(DEFAULT_STATUS_NAMES)
    choices = (by_name.get("status") or {}).get("choices")
    if isinstance(choices, Mapping):
        # the agent label, as the writes resolve a status (``Directory.status_id``)
        statuses += [str(labels[0]) if labels else str(k) for k, labels in choices.items()]
    field_names = list(ROW_FIELDS)
    for item in by_name.values():
        for each in (item, *(item.get("nested_ticket_fields") or ())):
            name = str(each.get("name") or "")
            if name.startswith("cf_") or (name and not item.get("default")):
                field_names.append(name)
    known: dict[str, list[str]] = {
        "group": directory.groups.labels(),
        "owner": directory.agents.labels(),
        "status": statuses,
        "field": field_names,
    }
    unchecked: dict[str, str] = {}
    type_field = by_name.get("ticket_type" if request_type_field == "type" else request_type_field)
    subtypes, free_subtypes = None, False
    if type_field is not None and type_field.get("choices"):
        known["type"] = list(_paths(type_field["choices"]))
        if subcategory_field and not _nested_in(type_field, subcategory_field):
            sub_choices = (by_name.get(subcategory_field) or {}).get("choices")
            subtypes = list(_paths(sub_choices)) if sub_choices else None
            free_subtypes = not sub_choices
    else:
        unchecked["type"] = f"the request type field '{request_type_field}' has no choices"
    return AccountNames(
        HELPDESK,
        known=known,
        unchecked=unchecked,
        subtypes=subtypes,
        free_subtypes=free_subtypes,
    )


def _paths(choices: Any, prefix: str = "") -> Iterator[str]:
    """Every choice of a dropdown, and every path of a dependent field's nested choices."""
    if isinstance(choices, Mapping):
        for name, below in choices.items():
            path = f"{prefix} > {name}" if prefix else str(name)
            yield path
            yield from _paths(below, path)
    elif isinstance(choices, list):
        for name in choices:
            yield f"{prefix} > {name}" if prefix else str(name)


def _nested_in(field: Mapping[str, Any], name: str) -> bool:
    """Whether ``name`` is a level of the dependent field ``field``."""
    return any(level.get("name") == name for level in field.get("nested_ticket_fields") or ())


__all__ = ["account_names"]
