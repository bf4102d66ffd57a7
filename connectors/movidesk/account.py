"""The names a Movidesk account holds, for ``check`` (``MovideskConnector.account_names``).

What the public API v1 lists, and what it does not
--------------------------------------------------
* Teams and agents (kinds "group" and "owner"): the directory's ``GET /persons`` pages
  (KB 189 "API do Movidesk - Pessoas"; agents carry ``teams``, jonasandre/movidesk-cli
  ``internal/movidesk/persons/types.go``). Owners are every label ``Directory.agent_id``
  resolves (name, e-mail, user name, person id); groups every team some agent belongs to,
  which is what ``Directory.team`` resolves. No documented endpoint lists teams.
* Request types (kind "type"): a service level (``serviceFirstLevel``,
  ``serviceSecondLevel``, ``serviceThirdLevel``) is checked against ``GET /services``
  (KB 7440 "API do Movidesk - Serviços": methods GET/POST/PATCH/DELETE, layout ``id``,
  ``name``, ``parentServiceId``, ``isActive``, ``categories``...). A GET without ``id``
  answers a JSON array of services (epmallmann/MovideskApiClient
  ``Movidesk.Api.Client.Tests/ApiServiceTest.cs`` ``GetAllTest``, with OData ``$top`` and
  ``$select``); jonasandre/movidesk-cli ``internal/movidesk/paginate.go`` pages it with
  ``$top``/``$skip``, as done here. A service without ``parentServiceId`` is a first
  level; its children are second levels, theirs third. Disabled services (``isActive``
  false) are listed too: they exist, and older tickets carry them. With a service level
  below it as ``subcategory_field`` the types are also the paths "First > Second".
  Categories (the default ``request_type_field``) are NOT checked: no documented endpoint
  lists them (the Tickets API page, KB 256, only says a category must exist and fit the
  ticket's type and service; a service lists the categories it allows only when
  ``allowAllCategories`` is false, so services cannot stand in for the list). A custom
  field as the type field is not checked either (below).
* Statuses (kind "status") are NOT checked: no documented endpoint lists statuses or
  their justifications (KB 256 says a status must exist and fit the ticket type; no
  public client found lists them; a ``GET /ticketStatus`` some client reportedly calls was
  not found in any public source).
* Fields (kind "field"): the built-in fields the connector puts in ``Ticket.fields``
  (``normalize.PLAIN_FIELDS`` and ``normalize.DERIVED_FIELDS``) are checked; custom field
  ids (numbers) are NOT: no documented endpoint lists custom field definitions
  (jonasandre/movidesk-cli keeps a local catalogue of them for that reason; its
  ``/ticketCustomFieldValue/*`` calls only edit a list field's options). A value that is
  neither a built-in field nor a number names nothing the connector can read, and is a
  problem.

Only the agents' ``GET /persons`` pages (100 agents a page, then cached like routing's)
and, for a service-level type field, the services pages are read: a few calls of the
10-a-minute budget.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sync.account import AccountNames

from .._http import HttpClient
from .api import HELPDESK, rows, shape_error
from .directory import Directory
from .normalize import CATEGORY_NAMES, DERIVED_FIELDS, PLAIN_FIELDS

BUILT_IN_FIELDS: tuple[str, ...] = (*PLAIN_FIELDS, *DERIVED_FIELDS)
"""Field names the connector reads from a ticket besides custom field ids."""
SERVICE_LEVELS: Mapping[str, int] = {
    "serviceFirstLevel": 1,
    "serviceSecondLevel": 2,
    "serviceThirdLevel": 3,
}
"""Ticket fields holding a service name, by their level in the services tree."""
SERVICE_SELECT = "id,name,parentServiceId"
PAGE = 100

NO_STATUSES = "Movidesk's API documents no list of statuses"
NO_CATEGORIES = "Movidesk's API documents no list of ticket categories"
NO_CUSTOM_FIELDS = (
    "custom field ids (Movidesk's API documents no list of custom fields; built-in "
    "fields are checked)"
)


def is_custom_field_id(name: str) -> bool:
    """Whether a field name is a custom field id (Movidesk's ``customFieldId`` is a number)."""
    return name.strip().isdigit()


class MovideskAccountNames(AccountNames):
    """``AccountNames`` where a custom field id is not checked but built-in fields are.

    ``AccountNames`` lists or leaves out a whole kind; Movidesk lists its built-in ticket
    fields (they are the connector's own) but not its custom fields, so a custom field id
    answers None ("not checked", noted with the reason in ``unchecked["field"]``).
    """

    def has(self, kind: str, name: str) -> bool | None:
        if kind == "field" and is_custom_field_id(name):
            return None
        return super().has(kind, name)


def list_services(http: HttpClient) -> list[dict[str, Any]]:
    """Every service: ``GET /services`` pages of ``$top`` 100 (``$skip``, ordered by id)."""
    found: list[dict[str, Any]] = []
    skip = 0
    while True:
        params = {"$select": SERVICE_SELECT, "$orderby": "id", "$top": PAGE, "$skip": skip}
        page = rows(http.get("/services", params=params), "GET /services")
        for service in page:
            if service.get("id") is None or not isinstance(service.get("name"), str):
                raise shape_error("GET /services", "services with an id and a name", service)
        found.extend(page)
        if len(page) < PAGE:
            return found
        skip += PAGE


def service_levels(services: Sequence[Mapping[str, Any]]) -> dict[Any, tuple[int, list[str]]]:
    """Service id -> (level, names from the first level down to it)."""
    by_id = {s["id"]: s for s in services}
    out: dict[Any, tuple[int, list[str]]] = {}

    def chain(service: Mapping[str, Any]) -> list[str]:
        names = [str(service["name"])]
        seen = {service["id"]}
        parent = service.get("parentServiceId")
        while parent and parent in by_id and parent not in seen:
            seen.add(parent)
            names.insert(0, str(by_id[parent]["name"]))
            parent = by_id[parent].get("parentServiceId")
        return names

    for service in services:
        names = chain(service)
        out[service["id"]] = (len(names), names)
    return out


def _service_types(
    services: Sequence[Mapping[str, Any]], level: int, sub_level: int | None
) -> Iterator[str]:
    """The names at ``level`` and, with a deeper ``sub_level``, the paths "Main > Sub"."""
    for depth, names in service_levels(services).values():
        if depth == level:
            yield names[-1]
        elif sub_level is not None and sub_level > level and depth == sub_level:
            yield f"{names[level - 1]} > {names[-1]}"


def account_names(
    directory: Directory, request_type_field: str, subcategory_field: str | None
) -> AccountNames:
    """What ``check`` compares the mappings and configuration with."""
    known: dict[str, list[str]] = {
        "group": directory.team_names(),
        "owner": directory.agent_labels(),
        "field": list(BUILT_IN_FIELDS),
    }
    unchecked: dict[str, str] = {"status": NO_STATUSES, "field": NO_CUSTOM_FIELDS}
    subtypes: list[str] | None = None
    free_subtypes = False
    level = SERVICE_LEVELS.get(request_type_field)
    if level is None:
        unchecked["type"] = _why_types_unlisted(request_type_field)
        return MovideskAccountNames(HELPDESK, known=known, unchecked=unchecked, task_owners=False)
    sub_level = SERVICE_LEVELS.get(subcategory_field or "")
    services = list_services(directory.http)
    known["type"] = list(_service_types(services, level, sub_level))
    if sub_level is not None and sub_level <= level:  # not below the type: a list apart
        subtypes = [
            names[-1] for depth, names in service_levels(services).values() if depth == sub_level
        ]
    elif subcategory_field and sub_level is None:
        free_subtypes = True  # a category or custom field below a service: not listed
    return MovideskAccountNames(
        HELPDESK,
        known=known,
        unchecked=unchecked,
        subtypes=subtypes,
        free_subtypes=free_subtypes,
        task_owners=False,
    )


def _why_types_unlisted(request_type_field: str) -> str:
    if request_type_field in CATEGORY_NAMES:
        return f"{NO_CATEGORIES} (request_type_field '{request_type_field}')"
    if is_custom_field_id(request_type_field):
        return (
            f"the request type field '{request_type_field}' is a custom field; Movidesk's "
            "API documents no list of custom fields or their choices"
        )
    return (
        f"Movidesk's API documents no list of the values of the request type field "
        f"'{request_type_field}'"
    )


__all__ = [
    "BUILT_IN_FIELDS",
    "NO_CATEGORIES",
    "NO_CUSTOM_FIELDS",
    "NO_STATUSES",
    "SERVICE_LEVELS",
    "MovideskAccountNames",
    "account_names",
    "is_custom_field_id",
    "list_services",
    "service_levels",
]
