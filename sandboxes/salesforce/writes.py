"""How the Salesforce sandbox validates and applies one record write.

``WriteEngine.insert / update / delete`` are shared by every route that writes (single
sObject calls, sObject Collections, composite subrequests): each checks the whole record
before changing anything, so a refused write changes nothing, and raises the
``ApiError`` Salesforce answers; the single routes send its body, collections turn it
into a row with ``statusCode`` [ref §1.6]. The rules and their sources:

- Only Case, CaseComment and Task are written through the API here; other objects are
  seed-only → 400 ``INVALID_TYPE_FOR_OPERATION`` (unverified body); an unknown object →
  404 ``NOT_FOUND`` [err].
- A field the object does not have → 400 ``INVALID_FIELD`` "No such column 'X' on sobject
  of type Case" [ref §7, brief]; a read-only one (``Id``, ``IsClosed``, ``CreatedDate``,
  ``SystemModstamp``, ...) → 400 ``INVALID_FIELD_FOR_INSERT_UPDATE`` "Unable to
  create/update fields: X" [api]; ``Id`` in an insert → 400 ``INVALID_FIELD``.
- Values of the wrong JSON type, a date that is not ``YYYY-MM-DD`` (Task
  ``ActivityDate`` [ref §5]) or a datetime that is not ISO-8601 with a zone → 400
  ``JSON_PARSER_ERROR`` "Cannot deserialize instance of date from VALUE_STRING value X"
  (the text public threads quote); text over its length → 400 ``STRING_TOO_LONG``
  (CaseComment ``CommentBody``: 4,000 bytes [ref §3]).
- Case ``Status`` must be the ``ApiName`` of a ``CaseStatus``, a declared picklist one of
  its values → 400 ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`` "Status: bad value for
  restricted picklist field: X" [api]. Task Status/Priority: the usual values [ref §5].
- Lookups: a malformed id → 400 ``MALFORMED_ID``; an id of another object → 400
  ``FIELD_INTEGRITY_EXCEPTION``; an unknown record → 400 ``INVALID_CROSS_REFERENCE_KEY``
  [api]. ``OwnerId`` must be an active User or a Queue with a ``QueueSobject`` row for the
  object → 400 ``FIELD_INTEGRITY_EXCEPTION`` [ref §4, brief]; an inactive user →
  400 ``INACTIVE_OWNER_OR_USER`` [api: "operation performed with inactive user"].
- A locked record (``lock_record``), or the Case of a CaseComment being written (a
  master-detail child write locks its parent [ref §7]) → 400 ``UNABLE_TO_LOCK_ROW``
  "unable to obtain exclusive access to this record or 1 records: <id>".
- Assignment rules [ref §4, §10.5]: with ``assignment_queue`` set, every Case insert *and
  update* has its ``OwnerId`` replaced by that queue unless the request said
  ``Sforce-Auto-Assign: FALSE`` (any case).
- Every write stamps ``SystemModstamp``, ``LastModifiedDate`` and ``LastModifiedById``
  (the session's user) at the sandbox's ``now()`` (whole seconds); an update stamps even
  when no value changed. ``IsClosed``/``ClosedDate`` follow the status. An ``OwnerId``
  change (the rule's included) writes a ``CaseHistory`` row (``Field`` 'Owner',
  ``OldValue``/``NewValue`` ids, ``DataType`` 'EntityId'); so do other fields named in
  ``history_fields``. A CaseComment insert moves its Case's ``SystemModstamp`` only with
  ``comment_bumps_case``.
- Delete sets ``IsDeleted`` (``queryAll`` still sees the row) and cascades to the case's
  comments; a deleted record answers 400 ``ENTITY_IS_DELETED`` to writes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .ids import normalize, object_of
from .records import Json, Write
from .schema import FieldDef, ObjectDef
from .shapes import ApiError, bad, not_found, parse_date, parse_datetime
from .state import SandboxState

WRITABLE = ("Case", "CaseComment", "Task")
_JSON_TYPE = {
    bool: "VALUE_TRUE",
    int: "VALUE_NUMBER_INT",
    float: "VALUE_NUMBER_FLOAT",
    str: "VALUE_STRING",
    list: "START_ARRAY",
    dict: "START_OBJECT",
}
_LABELS = {"OwnerId": "Owner ID", "ParentId": "Parent ID", "WhatId": "Related To ID"}


@dataclass(frozen=True, slots=True)
class WriteContext:
    """Who writes and how: the route's method and path, the session's user, and whether
    assignment rules may run."""

    method: str
    path: str
    user_id: str
    auto_assign: bool = True


@dataclass(slots=True)
class Snapshot:
    """What a rollback restores (``allOrNone``)."""

    data: dict[str, dict[str, Json]]
    writes: int
    case_number: int


class WriteEngine(SandboxState):
    """Record writes (a mixin of the sandbox; callers hold the lock)."""

    # ------------------------------------------------------------------ transactions

    def snapshot(self) -> Snapshot:
        return Snapshot(copy.deepcopy(self.data), len(self.writes), self._case_number)

    def restore(self, snap: Snapshot) -> None:
        self.data = snap.data
        del self.writes[snap.writes :]
        self._case_number = snap.case_number

    # ------------------------------------------------------------------ operations

    def insert(self, sobject: str, body: Any, ctx: WriteContext) -> str:
        obj = self._writable(sobject)
        if not isinstance(body, dict):
            raise bad("JSON_PARSER_ERROR", "The request body must be a JSON object.")
        if any(key.lower() == "id" for key in body):
            raise bad("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        values = self._coerce(obj, body, creating=True)
        self._rules(obj, values, None, ctx)
        at = self.now()
        record_id = self._store(sobject, values, at, ctx.user_id)
        if sobject == "Case":
            self._case_number += 1
            self.data["Case"][record_id]["CaseNumber"] = f"{self._case_number:08d}"
        if sobject == "CaseComment" and self.comment_bumps_case:
            self.data["Case"][values["ParentId"]]["SystemModstamp"] = at
        self._log_write("POST", ctx, sobject, record_id, body, at)
        return record_id

    def update(self, sobject: str, raw_id: Any, body: Any, ctx: WriteContext) -> str:
        obj = self._writable(sobject)
        record = self._existing(sobject, raw_id)
        if not isinstance(body, dict):
            raise bad("JSON_PARSER_ERROR", "The request body must be a JSON object.")
        values = self._coerce(
            obj, {k: v for k, v in body.items() if k.lower() != "id"}, creating=False
        )
        self._lock_check(record)
        self._rules(obj, values, record, ctx)
        at = self.now()
        self._history(sobject, record, values, at, ctx)
        record.update(values)
        record["SystemModstamp"] = at
        record["LastModifiedDate"] = at
        record["LastModifiedById"] = ctx.user_id
        self._log_write("PATCH", ctx, sobject, record["Id"], body, at)
        return str(record["Id"])

    def delete(self, sobject: str | None, raw_id: Any, ctx: WriteContext) -> str:
        if sobject is None:
            full = normalize(raw_id)
            sobject = object_of(full) if full else None
            if sobject is None:
                raise bad("MALFORMED_ID", f"malformed id {raw_id}", [])
        self._writable(sobject)
        record = self._existing(sobject, raw_id)
        self._lock_check(record)
        at = self.now()
        doomed = [record]
        if sobject == "Case":
            doomed += [
                c
                for c in self.data["CaseComment"].values()
                if c["ParentId"] == record["Id"] and not c["IsDeleted"]
            ]
        for item in doomed:
            item["IsDeleted"] = True
            item["SystemModstamp"] = at
        self._log_write("DELETE", ctx, sobject, record["Id"], None, at)
        return str(record["Id"])

    # ------------------------------------------------------------------ checks

    def _writable(self, sobject: str) -> ObjectDef:
        obj = self.objects.get(sobject)
        if obj is None:
            raise not_found()
        if sobject not in WRITABLE:
            raise bad(
                "INVALID_TYPE_FOR_OPERATION",
                f"entity type {sobject} does not support this operation in the sandbox",
            )
        return obj

    def _existing(self, sobject: str, raw_id: Any) -> Json:
        full = normalize(raw_id)
        if full is None or object_of(full) != sobject:
            label = "Case" if sobject == "Case" else sobject
            raise bad("MALFORMED_ID", f"{label} ID: id value of incorrect type: {raw_id}", ["Id"])
        record = self.data[sobject].get(full)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise bad("ENTITY_IS_DELETED", "entity is deleted", [])
        return record

    def _lock_check(self, record: Json, parent: str | None = None) -> None:
        for record_id in (record["Id"], parent):
            if record_id is None or record_id not in self.locks:
                continue
            remaining = self.locks[record_id]
            if remaining is not None:
                if remaining <= 1:
                    del self.locks[record_id]
                else:
                    self.locks[record_id] = remaining - 1
            raise bad(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {record_id}",
                [],
            )

    def _coerce(self, obj: ObjectDef, body: Json, *, creating: bool) -> Json:
        values: Json = {}
        for key, value in body.items():
            if key == "attributes":
                continue
            spec = obj.field(key)
            if spec is None:
                raise bad(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [key]
                )
            if not (spec.createable if creating else spec.updateable):
                raise bad(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {spec.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    [spec.name],
                )
            values[spec.name] = self._convert(obj, spec, value)
        return values

    def _convert(self, obj: ObjectDef, spec: FieldDef, value: Any) -> Any:
        if value is None:
            return False if spec.type == "boolean" else None
        kind = spec.type
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _parser_error("boolean", value)
            return value
        if kind in ("int", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _parser_error(kind, value)
            return value
        if not isinstance(value, str):
            raise _parser_error("date" if kind == "date" else "string", value)
        if kind == "date":
            day = parse_date(value)
            if day is None:
                raise _parser_error("date", value)
            return day
        if kind == "datetime":
            moment = parse_datetime(value)
            if moment is None:
                raise _parser_error("datetime", value)
            return moment
        if kind == "reference":
            return self._reference(spec, value)
        size = len(value.encode("utf-8")) if spec.name == "CommentBody" else len(value)
        if spec.length is not None and size > spec.length:
            label = "Body" if spec.name == "CommentBody" else spec.name
            raise bad(
                "STRING_TOO_LONG",
                f"{label}: data value too large: {value[:40]}... (max length={spec.length})",
                [spec.name],
            )
        if kind == "picklist" and spec.values and value not in spec.values:
            raise _restricted(spec.name, value)
        if obj.name == "Case" and spec.name == "Status" and self.status_of(value) is None:
            raise _restricted("Status", value)
        return value

    def _reference(self, spec: FieldDef, value: str) -> str:
        full = normalize(value)
        label = _LABELS.get(spec.name, spec.name)
        if full is None:
            raise bad("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [spec.name])
        sobject = object_of(full)
        if sobject not in spec.reference_to:
            raise bad(
                "FIELD_INTEGRITY_EXCEPTION",
                f"{label}: id value of incorrect type: {value}",
                [spec.name],
            )
        record = self.data[sobject].get(full)
        if record is None or record["IsDeleted"]:
            raise bad(
                "INVALID_CROSS_REFERENCE_KEY",
                f"invalid cross reference id: {value}",
                [spec.name],
            )
        return full

    def _rules(self, obj: ObjectDef, values: Json, record: Json | None, ctx: WriteContext) -> None:
        """Object rules on top of field checks; ``record`` is None on insert."""
        if obj.name == "CaseComment":
            if record is None and not values.get("ParentId"):
                raise bad(
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [ParentId]",
                    ["ParentId"],
                )
            self._lock_check({"Id": None}, values.get("ParentId") or (record or {}).get("ParentId"))
            if record is None:
                values.setdefault("IsPublished", False)
        if obj.name == "Task" and record is None:
            values.setdefault("Status", "Not Started")
            values.setdefault("Priority", "Normal")
        if obj.field("OwnerId") is not None and ("OwnerId" in values or record is None):
            owner = values.get("OwnerId") or (ctx.user_id if record is None else None)
            if owner is None:
                raise bad(
                    "FIELD_INTEGRITY_EXCEPTION", "Owner ID: owner cannot be blank", ["OwnerId"]
                )
            self._check_owner(obj.name, owner)
            values["OwnerId"] = owner
        if obj.name == "Case":
            if record is None and "Status" not in values:
                values["Status"] = self.default_status()
            if self.assignment_queue and ctx.auto_assign:
                queue = self.queue_id(self.assignment_queue)
                if queue is not None:
                    values["OwnerId"] = queue
            if "Status" in values:
                status = self.status_of(values["Status"]) if values["Status"] else None
                closed = bool(status and status["IsClosed"])
                was_closed = bool(record and record["IsClosed"])
                values["IsClosed"] = closed
                if closed and not was_closed:
                    values["ClosedDate"] = self.now()
                elif not closed:
                    values["ClosedDate"] = None
        if obj.name == "Task" and "Status" in values:
            values["IsClosed"] = values["Status"] == "Completed"

    def _check_owner(self, sobject: str, owner: str) -> None:
        kind = object_of(owner)
        if kind == "User":
            user = self.data["User"][owner]
            if not user["IsActive"]:
                raise bad(
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{owner}] as owner of "
                    f"{sobject.lower()}",
                    ["OwnerId"],
                )
            return
        group = self.data["Group"].get(owner)
        allowed = (
            group is not None
            and group["Type"] == "Queue"
            and any(
                row["QueueId"] == owner and row["SobjectType"] == sobject and not row["IsDeleted"]
                for row in self.data["QueueSobject"].values()
            )
        )
        if not allowed:
            raise bad(
                "FIELD_INTEGRITY_EXCEPTION",
                f"field integrity exception: unknown (queue {owner} cannot own {sobject})",
                ["OwnerId"],
            )

    # ------------------------------------------------------------------ side effects

    def _history(
        self, sobject: str, record: Json, values: Json, at: datetime, ctx: WriteContext
    ) -> None:
        if sobject != "Case":
            return
        for name in self.history_fields:
            column = "OwnerId" if name == "Owner" else name
            if column not in values or values[column] == record.get(column):
                continue
            is_id = column.endswith("Id")
            row = {
                "CaseId": record["Id"],
                "Field": name,
                "DataType": "EntityId" if is_id else "Text",
                "OldValue": record.get(column),
                "NewValue": values[column],
            }
            self._store("CaseHistory", row, at, ctx.user_id)

    def _log_write(
        self, method: str, ctx: WriteContext, sobject: str, record_id: str, body: Any, at: datetime
    ) -> None:
        self.writes.append(Write(method, ctx.path, sobject, record_id, body, at, ctx.auto_assign))


def _parser_error(kind: str, value: Any) -> ApiError:
    token = _JSON_TYPE.get(type(value), "VALUE_STRING")
    return bad(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {token} value {value} or request may be "
        "missing a required field at [line:1, column:1]",
    )


def _restricted(name: str, value: Any) -> ApiError:
    return bad(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        f"{name}: bad value for restricted picklist field: {value}",
        [name],
    )
