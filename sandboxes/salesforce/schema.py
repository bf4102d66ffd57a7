"""The org schema the Salesforce sandbox knows: objects, their fields and relationships.

Standard fields follow the object reference pages (Case, CaseComment, Task, User, Group,
QueueSobject, CaseStatus, CaseHistory, ContentDocument, ContentDocumentLink; reference
``salesforce.md`` §3–6 and its [case], [cc], [task], [cs], [qso], [cdl] links), cut to
what a Service Cloud integration reads or writes. Custom fields (``X__c``) exist only once
declared (``SalesforceSandbox.add_field``), so a write or query naming a field the org
does not have is refused as on a real org.

A ``FieldDef`` says its type (``id``, ``string``, ``textarea``, ``picklist``, ``boolean``,
``datetime``, ``date``, ``int``, ``double``, ``reference``, ``anyType``), maximum
``length`` (bytes for CaseComment.CommentBody, characters otherwise), whether the API may
set it on insert / update, and for a lookup the objects it points to and the name of the
relationship (``OwnerId`` → ``Owner``). A lookup to more than one object (``Owner``,
``What``, ``LinkedEntity``) is polymorphic: SOQL answers it as the ``Name`` object
(reference "Name object": Id, Name, Type, Username, IsActive, ...). ``CHILDREN`` lists the
child relationships a subquery may name (``CaseComments``, ``Tasks``,
``ContentDocumentLinks``, ``Histories`` on Case).

What ``describe`` answers about a field besides its type: its ``label`` (the field
reference's label for the standard Case fields, else one derived from the API name) and,
for a picklist, the values the org lists (``Picklist``: active and inactive values, and
for a dependent picklist its controlling field and the controlling values each value is
valid for). A picklist's listed values restrict writes only when ``values`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

TEXT_TYPES = frozenset({"id", "string", "textarea", "picklist", "reference", "anyType"})


@dataclass(frozen=True, slots=True)
class Picklist:
    """The values a picklist lists in ``describe`` (``picklistValues``), in order."""

    values: tuple[str, ...] = ()
    """Active values."""
    inactive: tuple[str, ...] = ()
    """Values retired in Setup: still listed (``active: false``), after the active ones."""
    controller: str | None = None
    """The controlling field of a dependent picklist (``controllerName``)."""
    valid_for: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Dependent picklist: value -> the controlling values it is valid for."""

    def entries(self) -> list[tuple[str, bool]]:
        """Every listed value with whether it is active, in describe order."""
        return [(v, True) for v in self.values] + [(v, False) for v in self.inactive]


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an object."""

    name: str
    type: str
    length: int | None = None
    createable: bool = True
    updateable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    values: tuple[str, ...] = ()
    """A restricted picklist's values (empty = not restricted here)."""
    label: str | None = None
    """The field's label (``describe``); None = derived from the API name."""
    picklist: Picklist | None = None
    """The values ``describe`` lists for a picklist (None = ``values``, if any)."""

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1


@dataclass(frozen=True, slots=True)
class ChildRelationship:
    """A child relationship a subquery names: ``Case.CaseComments`` → CaseComment.ParentId."""

    name: str
    child: str
    field: str


@dataclass(slots=True)
class ObjectDef:
    """One object: its fields by lower-cased name, its child relationships."""

    name: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    api_writable: bool = False
    """Whether the REST routes may insert, update and delete it (else seeds only)."""

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The lookup field whose relationship is ``name`` (``Owner`` → ``OwnerId``)."""
        lowered = name.lower()
        for item in self.fields.values():
            if item.relationship and item.relationship.lower() == lowered:
                return item
        return None

    def add(self, item: FieldDef) -> None:
        self.fields[item.name.lower()] = item


def _ro(name: str, type: str, **kw: object) -> FieldDef:
    return FieldDef(name, type, createable=False, updateable=False, **kw)  # type: ignore[arg-type]


def _audit(*, modified: bool = True, created: bool = True) -> list[FieldDef]:
    out = [_ro("Id", "id"), _ro("IsDeleted", "boolean"), _ro("SystemModstamp", "datetime")]
    if created:
        out += [
            _ro("CreatedDate", "datetime"),
            _ro("CreatedById", "reference", reference_to=("User",), relationship="CreatedBy"),
        ]
    if modified:
        out += [
            _ro("LastModifiedDate", "datetime"),
            _ro(
                "LastModifiedById",
                "reference",
                reference_to=("User",),
                relationship="LastModifiedBy",
            ),
        ]
    return out


OWNER = FieldDef("OwnerId", "reference", reference_to=("User", "Group"), relationship="Owner")

NAME_FIELDS: tuple[FieldDef, ...] = (
    _ro("Id", "id"),
    _ro("Name", "string"),
    _ro("Type", "picklist"),
    _ro("Username", "string"),
    _ro("Email", "string"),
    _ro("Alias", "string"),
    _ro("IsActive", "boolean"),
    _ro("FirstName", "string"),
    _ro("LastName", "string"),
)
"""The ``Name`` object: what a polymorphic relationship (``Owner.X``) can select (reference
"Name object" page; ``Type`` is ``User`` or ``Queue``)."""


def standard_objects() -> dict[str, ObjectDef]:
    """A fresh copy of the standard objects (each sandbox extends its own)."""
    specs: dict[str, tuple[bool, list[FieldDef]]] = {
        "Case": (
            True,
            [
                *_audit(),
                _ro("CaseNumber", "string", length=30),
                FieldDef("Subject", "string", length=255),
                FieldDef("Description", "textarea", length=32000),
                FieldDef("Status", "picklist", length=255),
                FieldDef("Priority", "picklist", length=255),
                FieldDef("Origin", "picklist", length=255),
                FieldDef("Reason", "picklist", length=255),
                FieldDef("Type", "picklist", length=255),
                _ro("IsClosed", "boolean"),
                _ro("ClosedDate", "datetime"),
                FieldDef("IsEscalated", "boolean"),
                FieldDef("SuppliedName", "string", length=80),
                FieldDef("SuppliedEmail", "string", length=80),
                FieldDef("SuppliedPhone", "string", length=40),
                FieldDef("ParentId", "reference", reference_to=("Case",), relationship="Parent"),
                FieldDef(
                    "ContactId", "reference", reference_to=("Contact",), relationship="Contact"
                ),
                FieldDef(
                    "AccountId", "reference", reference_to=("Account",), relationship="Account"
                ),
                OWNER,
            ],
        ),
        "Account": (False, [*_audit(), FieldDef("Name", "string", length=255)]),
        "Contact": (
            False,
            [
                *_audit(),
                FieldDef("Name", "string", length=121),
                FieldDef("Email", "string", length=80),
                FieldDef("Phone", "string", length=40),
                FieldDef(
                    "AccountId", "reference", reference_to=("Account",), relationship="Account"
                ),
            ],
        ),
        "CaseComment": (
            True,
            [
                *_audit(),
                FieldDef(
                    "ParentId",
                    "reference",
                    updateable=False,
                    reference_to=("Case",),
                    relationship="Parent",
                ),
                FieldDef("CommentBody", "textarea", length=4000),
                FieldDef("IsPublished", "boolean"),
            ],
        ),
        "Task": (
            True,
            [
                *_audit(),
                FieldDef("WhatId", "reference", reference_to=("Case",), relationship="What"),
                FieldDef("Subject", "string", length=255),
                FieldDef("ActivityDate", "date"),
                FieldDef("ReminderDateTime", "datetime"),
                FieldDef("IsReminderSet", "boolean"),
                FieldDef(
                    "Status",
                    "picklist",
                    length=40,
                    values=(
                        "Not Started",
                        "In Progress",
                        "Completed",
                        "Waiting on someone else",
                        "Deferred",
                    ),
                ),
                FieldDef("Priority", "picklist", length=40, values=("High", "Normal", "Low")),
                FieldDef("Description", "textarea", length=32000),
                _ro("IsClosed", "boolean"),
                OWNER,
            ],
        ),
        "User": (
            False,
            [
                *_audit(),
                FieldDef("Name", "string", length=121),
                FieldDef("Username", "string", length=80),
                FieldDef("Email", "string", length=128),
                FieldDef("Alias", "string", length=8),
                FieldDef("IsActive", "boolean"),
            ],
        ),
        "Group": (
            False,
            [
                *_audit(),
                FieldDef("Name", "string", length=40),
                FieldDef("DeveloperName", "string", length=80),
                FieldDef("Type", "picklist", length=40),
                FieldDef("Email", "string", length=255),
            ],
        ),
        "QueueSobject": (
            False,
            [
                *_audit(modified=False),
                FieldDef("QueueId", "reference", reference_to=("Group",), relationship="Queue"),
                FieldDef("SobjectType", "picklist", length=40),
            ],
        ),
        "CaseStatus": (
            False,
            [
                *_audit(),
                FieldDef("ApiName", "string", length=255),
                FieldDef("MasterLabel", "string", length=255),
                FieldDef("IsClosed", "boolean"),
                FieldDef("IsDefault", "boolean"),
                FieldDef("SortOrder", "int"),
            ],
        ),
        "CaseHistory": (
            False,
            [
                *_audit(modified=False),
                FieldDef("CaseId", "reference", reference_to=("Case",), relationship="Case"),
                FieldDef("Field", "picklist", length=255),
                FieldDef("DataType", "picklist", length=40),
                FieldDef("OldValue", "anyType"),
                FieldDef("NewValue", "anyType"),
            ],
        ),
        "ContentDocument": (
            False,
            [
                *_audit(),
                FieldDef("Title", "string", length=255),
                FieldDef("FileExtension", "string", length=40),
                FieldDef("ContentSize", "int"),
                OWNER,
            ],
        ),
        "ContentDocumentLink": (
            False,
            [
                *_audit(modified=False, created=False),
                FieldDef(
                    "ContentDocumentId",
                    "reference",
                    reference_to=("ContentDocument",),
                    relationship="ContentDocument",
                ),
                FieldDef(
                    "LinkedEntityId",
                    "reference",
                    reference_to=("Case", "CaseComment", "User"),
                    relationship="LinkedEntity",
                ),
                FieldDef("ShareType", "picklist", length=40),
                FieldDef("Visibility", "picklist", length=40),
            ],
        ),
    }
    objects: dict[str, ObjectDef] = {}
    for name, (writable, fields) in specs.items():
        obj = ObjectDef(name, api_writable=writable)
        for item in fields:
            obj.add(replace(item))
        objects[name] = obj
    case = objects["Case"]
    for child in (
        ChildRelationship("CaseComments", "CaseComment", "ParentId"),
        ChildRelationship("Tasks", "Task", "WhatId"),
        ChildRelationship("ContentDocumentLinks", "ContentDocumentLink", "LinkedEntityId"),
        ChildRelationship("Histories", "CaseHistory", "CaseId"),
        ChildRelationship("Cases", "Case", "ParentId"),
    ):
        case.children[child.name.lower()] = child
    objects["CaseComment"].children["contentdocumentlinks"] = ChildRelationship(
        "ContentDocumentLinks", "ContentDocumentLink", "LinkedEntityId"
    )
    return objects
