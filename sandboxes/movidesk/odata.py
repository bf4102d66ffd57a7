"""``$select``, ``$expand``, ``$orderby``, ``$top`` and ``$skip`` of the Movidesk sandbox.

The entity model (which names are scalar properties, which are navigation properties and
what they point to) follows the layout tables (KB 256 / Zenvia 2025 page; KB 189 for
persons; KB 7440 for services) and the typed shapes of jonasandre/movidesk-cli
``internal/movidesk/tickets/types.go``. ``parse_projection`` reads ``$select=a,b`` and
``$expand=x($select=...;$expand=...)`` (``;`` separates nested options, as in the KB
240544 examples; ``a/b`` in ``$expand`` means ``a($expand=b)``, as in the OData guide in
jonasandre/movidesk-cli); ``shape`` keeps only the selected scalars and the expanded
navigation properties of an entity rendered by ``shapes``.
Unknown names are a 400 with an opaque message (unverified: chosen to be the strict case).

Paging: ``$top`` is clamped to 100 ("The maximum return quantity on a ticket list GET
will be 100 tickets per page", Zenvia 2025 Tickets API page, KB 510136; the older KB
240544 says 1000 by default) and defaults to 100; ``$skip`` is supported (KB 240544
mentions it, and recommends keyset paging on ``id`` instead). Default order: ``id``
ascending (KB 240544: "são ordenados por id").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .odata_filter import FilterSchema
from .records import Json
from .shapes import query_error

MAX_TOP = 100


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity type: its scalar properties and its navigation properties (name →
    target entity)."""

    name: str
    scalars: frozenset[str]
    navigations: Mapping[str, str] = field(default_factory=dict)


def _entity(name: str, scalars: str, **navigations: str) -> Entity:
    return Entity(name, frozenset(scalars.split()), navigations)


ENTITIES: Mapping[str, Entity] = {
    e.name: e
    for e in (
        _entity(
            "Ticket",
            "id protocol type subject category urgency status baseStatus justification origin "
            "createdDate isDeleted originEmailAccount ownerTeam serviceFull "
            "serviceFirstLevelId serviceFirstLevel serviceSecondLevel serviceThirdLevel "
            "contactForm tags cc resolvedIn reopenedIn closedIn lastActionDate actionCount "
            "lastUpdate lifetimeWorkingTime stoppedTime stoppedTimeWorkingTime "
            "resolvedInFirstCall chatWidget chatGroup chatTalkTime chatWaitingTime sequence "
            "slaAgreement slaAgreementRule slaSolutionTime slaResponseTime "
            "slaSolutionChangedByUser slaSolutionDate slaSolutionDateIsPaused slaResponseDate "
            "slaRealResponseDate jiraIssueKey redmineIssueId",
            owner="Person",
            createdBy="Person",
            slaSolutionChangedBy="Person",
            clients="Client",
            actions="Action",
            parentTickets="Relative",
            childrenTickets="Relative",
            ownerHistories="OwnerHistory",
            statusHistories="StatusHistory",
            customFieldValues="CustomFieldValue",
            assets="Asset",
            satisfactionSurveyResponses="SurveyResponse",
        ),
        _entity("Person", "id personType profileType businessName email phone"),
        _entity(
            "Client",
            "id personType profileType businessName email phone isDeleted",
            organization="Person",
        ),
        _entity(
            "Action",
            "id type origin description htmlDescription status justification createdDate "
            "isDeleted tags",
            createdBy="Person",
            attachments="Attachment",
            timeAppointments="TimeAppointment",
            expenses="Expense",
        ),
        _entity("Attachment", "fileName path createdDate isDeleted", createdBy="Person"),
        _entity(
            "TimeAppointment",
            "id activity date periodStart periodEnd workTime workTypeName isDeleted createdDate",
            accountable="Person",
            createdBy="Person",
        ),
        _entity(
            "Expense",
            "id type serviceReport date value isDeleted createdDate",
            createdBy="Person",
        ),
        _entity("Relative", "id subject isDeleted"),
        _entity(
            "OwnerHistory",
            "ownerTeam changedDate permanencyTimeFullTime permanencyTimeWorkingTime",
            owner="Person",
            changedBy="Person",
        ),
        _entity(
            "StatusHistory",
            "status justification changedDate permanencyTimeFullTime permanencyTimeWorkingTime",
            changedBy="Person",
        ),
        _entity(
            "CustomFieldValue",
            "customFieldId customFieldRuleId line value",
            items="CustomFieldItem",
        ),
        _entity(
            "CustomFieldItem", "personId clientId team customFieldItem storageFileGuid fileName"
        ),
        _entity("Asset", "id name label serialNumber isDeleted"),
        _entity("SurveyResponse", "id questionId responseDate value"),
        _entity(
            "PersonRecord",
            "id codeReferenceAdditional isActive personType profileType accessProfile "
            "corporateName businessName businessBranch cpfCnpj userName role bossId bossName "
            "classification cultureId timeZoneId authenticateOn createdDate createdBy "
            "changedDate changedBy observations teams",
            addresses="PersonAddress",
            contacts="PersonContact",
            emails="PersonEmail",
            relationships="Relationship",
            customFieldValues="CustomFieldValue",
        ),
        _entity(
            "PersonAddress",
            "addressType country postalCode state district city street number complement "
            "reference isDefault",
        ),
        _entity("PersonContact", "contactType contact isDefault"),
        # KB 7440 layout; ``categories`` is an array of names, selected like a scalar.
        _entity(
            "Service",
            "id name description parentServiceId serviceForTicketType isVisible "
            "allowSelection allowFinishTicket isActive automationMacro defaultCategory "
            "defaultUrgency allowAllCategories categories",
        ),
        _entity("PersonEmail", "emailType email isDefault"),
        _entity(
            "Relationship",
            "id name slaAgreement forceChildrenToHaveSomeAgreement allowAllServices "
            "includeInParents loadChildOrganizations",
        ),
    )
}


@dataclass(slots=True)
class Projection:
    """What to keep of an entity: ``select`` (None = every scalar) and the expanded
    navigation properties with their own projections. ``everything`` keeps the whole
    rendered entity (a ticket read by ``id`` with neither option)."""

    select: set[str] | None = None
    expand: dict[str, Projection] = field(default_factory=dict)
    everything: bool = False


EVERYTHING = Projection(everything=True)


def split_top(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside parentheses."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise query_error(f"Unbalanced parentheses in '{text}'.")
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise query_error(f"Unbalanced parentheses in '{text}'.")
    parts.append(current)
    return [p.strip() for p in parts]


def parse_projection(entity: Entity, select: str | None, expand: str | None) -> Projection:
    """``$select``/``$expand`` of one entity → a ``Projection``; 400 on unknown names."""
    projection = Projection()
    if select is not None:
        projection.select = set()
        for name in split_top(select, ","):
            if name == "*":
                projection.select = None
                break
            if name not in entity.scalars and name not in entity.navigations:
                raise query_error(
                    f"Could not find a property named '{name}' on type '{entity.name}'."
                )
            projection.select.add(name)
    if expand is not None:
        for item in split_top(expand, ","):
            _add_expand(entity, projection, item)
    return projection


def _add_expand(entity: Entity, projection: Projection, item: str) -> None:
    name, _, rest = item.partition("(")
    name = name.strip()
    if "/" in name:  # a/b == a($expand=b)
        head, _, tail = name.partition("/")
        item = f"{head}($expand={tail}{'(' + rest if rest else ''})"
        name, _, rest = item.partition("(")
    if name not in entity.navigations:
        raise query_error(
            f"Could not find a navigation property named '{name}' on type '{entity.name}'."
        )
    target = ENTITIES[entity.navigations[name]]
    select: str | None = None
    expand: str | None = None
    if rest:
        if not rest.endswith(")"):
            raise query_error(f"Unbalanced parentheses in '{item}'.")
        for option in split_top(rest[:-1], ";"):
            key, _, value = option.partition("=")
            if key.strip() == "$select":
                select = value
            elif key.strip() == "$expand":
                expand = value
            else:
                raise query_error(f"Query option '{key.strip()}' is not allowed in $expand.")
    nested = parse_projection(target, select, expand)
    existing = projection.expand.get(name)
    if existing is None:
        projection.expand[name] = nested
        return
    # The same navigation expanded twice (KB 240544 style): union of both projections.
    if existing.select is None or nested.select is None:
        existing.select = None
    else:
        existing.select |= nested.select
    existing.expand.update(nested.expand)


def shape(data: Any, entity: Entity, projection: Projection) -> Any:
    """Keep what ``projection`` asks for of one rendered entity (or a list of them)."""
    if projection.everything or data is None:
        return data
    if isinstance(data, list):
        return [shape(item, entity, projection) for item in data]
    out: Json = {}
    for key, value in data.items():
        if key in entity.navigations:
            nested = projection.expand.get(key)
            if nested is not None:
                out[key] = shape(value, ENTITIES[entity.navigations[key]], nested)
        elif projection.select is None or key in projection.select:
            out[key] = value
    return out


def parse_orderby(text: str | None, schema: FilterSchema) -> list[tuple[str, bool]]:
    """``$orderby=a desc, b`` → ``[("a", True), ("b", False)]``; default ``id`` ascending."""
    if text is None:
        return [("id", False)]
    keys: list[tuple[str, bool]] = []
    for part in split_top(text, ","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise query_error(f"Syntax error in $orderby '{text}'.")
        if words[0] not in schema.scalars:
            raise query_error(
                f"Could not find a property named '{words[0]}' on type '{schema.entity}'."
            )
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return keys


def order_rows(
    rows: Sequence[Json],
    keys: Sequence[tuple[str, bool]],
    tiebreak: Callable[[Json], Any],
) -> list[Json]:
    """Sort by each key (nulls first ascending, last descending), ties by ``tiebreak``."""
    ordered = sorted(rows, key=tiebreak)
    for name, descending in reversed(keys):
        segments = name.split("/")

        def value(row: Json, segments: list[str] = segments) -> Any:
            for segment in segments:
                row = row.get(segment) if isinstance(row, dict) else None
            return row

        present = [r for r in ordered if value(r) is not None]
        absent = [r for r in ordered if value(r) is None]
        present.sort(key=value, reverse=descending)
        ordered = present + absent if descending else absent + present
    return ordered


def page_bounds(query: Mapping[str, list[str]]) -> tuple[int, int]:
    """``($skip, $top)``: non-negative integers, ``$top`` clamped to ``MAX_TOP``."""

    def number(name: str, default: int) -> int:
        raw = query.get(name, [str(default)])[-1].strip()
        if not raw.isdigit():
            raise query_error(f"Invalid value '{raw}' for {name}.")
        return int(raw)

    return number("$skip", 0), min(number("$top", MAX_TOP), MAX_TOP)
