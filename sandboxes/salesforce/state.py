"""The org the Salesforce sandbox holds, and how tests and seeds fill it.

``SandboxState`` owns one org's data: records by object (plain dicts keyed by field API
names), the org schema (standard objects plus declared custom fields), sessions, query
locators, record locks, the daily API counter, the clock, the call and write logs, and
the lock every public method takes. Its ``add_*`` methods seed the org as if people had
worked in it earlier: they validate little (the REST routes do) and stamp
``CreatedDate``/``SystemModstamp`` at the given moment.

Behaviour switches (constructor keywords), each documented where it applies:
``daily_limit`` (15,000, a Developer org [ref §8]), ``min_batch_size`` / ``max_batch_size``
(200 / 2,000, ``Sforce-Query-Options`` [ref §2]), ``child_page_size`` (200: where a nested
child list is cut, unverified), ``comment_bumps_case`` (False: UNVERIFIED whether a new
CaseComment moves its Case's ``SystemModstamp`` [ref §3]; the strict case for a poller is
that it does not), ``assignment_queue`` (the queue an active case assignment rule assigns
to; None = no active rule), ``history_fields`` (the Case fields with field history
tracking: ``Owner`` by default), ``cursor_ttl`` (2 days, API 56.0+ [ref §2]).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..faults import Faults
from .ids import KEY_PREFIXES, LOCATOR_PREFIX, make_id, normalize, object_of
from .records import Call, Cursor, Json, Write
from .schema import FieldDef, ObjectDef, standard_objects
from .shapes import whole_second

DEFAULT_INSTANCE = "sandbox.my.salesforce.com"
DEFAULT_BASE_URL = f"https://{DEFAULT_INSTANCE}"
DEFAULT_SESSION = "00DDp0000000001!sandbox-session"
ORG_ID = "00DDp0000000001EAA"
INTEGRATION_USER = "Integração API"
FIELD_TYPES = frozenset(
    {"string", "textarea", "picklist", "boolean", "datetime", "date", "int", "double"}
)


class SandboxState:
    """One fake Salesforce org's data and seeding methods; every public one is thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        base_url: str = DEFAULT_BASE_URL,
        session_id: str = DEFAULT_SESSION,
        daily_limit: int = 15000,
        min_batch_size: int = 200,
        max_batch_size: int = 2000,
        child_page_size: int = 200,
        comment_bumps_case: bool = False,
        assignment_queue: str | None = None,
        history_fields: Sequence[str] = ("Owner",),
        cursor_ttl: timedelta = timedelta(days=2),
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self.daily_limit = daily_limit
        self.min_batch_size = min_batch_size
        self.max_batch_size = max_batch_size
        self.child_page_size = child_page_size
        self.comment_bumps_case = comment_bumps_case
        self.assignment_queue = assignment_queue
        self.history_fields = tuple(history_fields)
        self.cursor_ttl = cursor_ttl
        self.api_used = 0
        """Calls counted against ``daily_limit`` today (``reset_daily_usage`` clears it)."""
        self.faults: list[Faults] = []
        self.calls: list[Call] = []
        self.writes: list[Write] = []
        self._child_index: dict[tuple[str, str], dict[Any, list[Json]]] = {}
        """Child records by parent, built once per query (``query.QueryEngine``)."""
        self.listed: Counter[str] = Counter()
        """Record id → how many query pages handed it out at the top level (read costs)."""
        self.objects: dict[str, ObjectDef] = standard_objects()
        self.data: dict[str, dict[str, Json]] = {name: {} for name in self.objects}
        self.sessions: dict[str, str] = {}
        """Session id → the user it belongs to."""
        self.cursors: dict[str, Cursor] = {}
        self.passwords: dict[str, str] = {}
        """Username → the password the OAuth password grant demands (none = any)."""
        self.locks: dict[str, int | None] = {}
        """Record id → how many more writes meet ``UNABLE_TO_LOCK_ROW`` (None = until
        ``unlock_record``)."""
        self._lock = threading.RLock()
        self._counters: dict[str, int] = dict.fromkeys(KEY_PREFIXES, 0)
        self._counters[LOCATOR_PREFIX] = 0
        self._case_number = 1000
        self.integration_user = self.add_user(
            INTEGRATION_USER, username="integracao@sandbox.example"
        )
        """The user the default session belongs to: author of every API write."""
        self.sessions[session_id] = self.integration_user
        self.session_id = session_id

    # ------------------------------------------------------------------ basics

    def now(self) -> datetime:
        """The sandbox time, UTC, whole seconds (the precision Salesforce stamps keep)."""
        return whole_second(self.clock())

    def _new_id(self, sobject: str) -> str:
        self._counters[sobject] += 1
        return make_id(KEY_PREFIXES[sobject], self._counters[sobject])

    def _new_locator(self) -> str:
        self._counters[LOCATOR_PREFIX] += 1
        return make_id(LOCATOR_PREFIX, self._counters[LOCATOR_PREFIX])[:15]

    def _store(self, sobject: str, values: Mapping[str, Any], at: datetime, by: str | None) -> str:
        record_id = self._new_id(sobject)
        obj = self.objects[sobject]
        record: Json = {f.name: None for f in obj.fields.values()}
        for item in obj.fields.values():
            if item.type == "boolean":
                record[item.name] = False
        record.update(values)
        record["Id"] = record_id
        record["IsDeleted"] = False
        record["SystemModstamp"] = at
        if obj.field("CreatedDate") is not None:
            record["CreatedDate"] = at
            record["CreatedById"] = by
        if obj.field("LastModifiedDate") is not None:
            record["LastModifiedDate"] = at
            record["LastModifiedById"] = by
        self.data[sobject][record_id] = record
        return record_id

    def find(self, record_id: str) -> tuple[str, Json] | None:
        """The object and stored record of an id (15 or 18 characters), deleted included."""
        with self._lock:
            full = normalize(record_id)
            sobject = object_of(full) if full else None
            if full is None or sobject is None:
                return None
            record = self.data[sobject].get(full)
            return None if record is None else (sobject, record)

    def record(self, record_id: str) -> Json:
        """A copy of a stored record (``KeyError`` when unknown)."""
        with self._lock:
            found = self.find(record_id)
            if found is None:
                raise KeyError(record_id)
            return dict(found[1])

    def records(self, sobject: str, *, deleted: bool = False) -> list[Json]:
        """Copies of an object's records in creation order (deleted ones on request)."""
        with self._lock:
            return [dict(r) for r in self.data[sobject].values() if deleted or not r["IsDeleted"]]

    def history(self, case_id: str) -> list[Json]:
        """The CaseHistory rows of a case, oldest first."""
        full = normalize(case_id)
        return [r for r in self.records("CaseHistory") if r["CaseId"] == full]

    def queue_id(self, name: str) -> str | None:
        """The Group id of a queue by its ``Name`` or ``DeveloperName``."""
        with self._lock:
            for group in self.data["Group"].values():
                if group["Type"] == "Queue" and name in (group["Name"], group["DeveloperName"]):
                    return str(group["Id"])
            return None

    # ------------------------------------------------------------------ sessions, limits

    def new_session(self, user_id: str | None = None) -> str:
        """A fresh session id for a user (the integration user by default)."""
        with self._lock:
            token = f"{ORG_ID[:15]}!session-{len(self.sessions) + 1:04d}"
            self.sessions[token] = user_id or self.integration_user
            return token

    def expire_sessions(self) -> None:
        """Every session ends: the next call with any of them gets 401 ``INVALID_SESSION_ID``."""
        with self._lock:
            self.sessions.clear()

    def expire_cursors(self) -> None:
        """Every query locator expires: ``nextRecordsUrl`` gets ``INVALID_QUERY_LOCATOR``."""
        with self._lock:
            self.cursors.clear()

    def set_password(self, username: str, password: str) -> None:
        """Require ``password`` for the OAuth password grant of ``username``."""
        with self._lock:
            self.passwords[username] = password

    def reset_daily_usage(self, used: int = 0) -> None:
        """Set the calls counted against ``daily_limit`` (a new day, or a nearly spent one)."""
        with self._lock:
            self.api_used = used

    def lock_record(self, record_id: str, times: int | None = None) -> None:
        """Writes to the record (and to CaseComments of a locked Case) meet
        ``UNABLE_TO_LOCK_ROW``: the next ``times`` ones, or all until ``unlock_record``."""
        with self._lock:
            self.locks[normalize(record_id) or record_id] = times

    def unlock_record(self, record_id: str) -> None:
        with self._lock:
            self.locks.pop(normalize(record_id) or record_id, None)

    # ------------------------------------------------------------------ org configuration

    def add_field(
        self,
        sobject: str,
        name: str,
        *,
        type: str = "string",
        length: int | None = None,
        values: Sequence[str] = (),
        label: str | None = None,
    ) -> None:
        """Declare a custom field (``Comentario_Interno__c``); ``values`` restricts a
        picklist (``set_picklist`` lists values without restricting). Lengths default to
        255 (string, picklist) and 32,768 (textarea); the label to one derived from the
        API name."""
        if type not in FIELD_TYPES:
            raise ValueError(f"field type {type!r} unknown; known: {sorted(FIELD_TYPES)}")
        if not name.endswith("__c"):
            raise ValueError("custom field names end with __c")
        if length is None and type in ("string", "picklist"):
            length = 255
        if length is None and type == "textarea":
            length = 32768
        with self._lock:
            self.objects[sobject].add(
                FieldDef(name, type, length=length, values=tuple(values), label=label)
            )
            for record in self.data[sobject].values():
                record.setdefault(name, False if type == "boolean" else None)

    def add_user(
        self,
        name: str,
        *,
        username: str | None = None,
        email: str | None = None,
        is_active: bool = True,
        created_at: datetime | None = None,
    ) -> str:
        """An active (or inactive) user; returns its id."""
        with self._lock:
            at = whole_second(created_at) if created_at else self.now()
            login = username or name.lower().replace(" ", ".") + "@sandbox.example"
            alias = "".join(part[:1] for part in name.split())[:8].lower()
            values = {
                "Name": name,
                "Username": login,
                "Email": email or login,
                "Alias": alias,
                "IsActive": is_active,
            }
            return self._store("User", values, at, getattr(self, "integration_user", None))

    def add_queue(
        self,
        name: str,
        *,
        developer_name: str | None = None,
        sobject_types: Iterable[str] = ("Case", "Task"),
        created_at: datetime | None = None,
    ) -> str:
        """A queue (``Group`` of ``Type`` 'Queue') with one ``QueueSobject`` row per object
        it may own; returns the Group id."""
        with self._lock:
            at = whole_second(created_at) if created_at else self.now()
            dev = developer_name or "".join(c if c.isalnum() else "_" for c in name)
            values = {"Name": name, "DeveloperName": dev, "Type": "Queue"}
            group_id = self._store("Group", values, at, self.integration_user)
            for sobject in sobject_types:
                self._store(
                    "QueueSobject",
                    {"QueueId": group_id, "SobjectType": sobject},
                    at,
                    self.integration_user,
                )
            return group_id

    def add_status(
        self,
        api_name: str,
        *,
        is_closed: bool = False,
        is_default: bool = False,
        label: str | None = None,
    ) -> str:
        """A Case status (``CaseStatus``: ApiName, MasterLabel, IsClosed); the first one
        added is the default unless another says ``is_default``."""
        with self._lock:
            statuses = self.data["CaseStatus"].values()
            if is_default:
                for status in statuses:
                    status["IsDefault"] = False
            values = {
                "ApiName": api_name,
                "MasterLabel": label or api_name,
                "IsClosed": is_closed,
                "IsDefault": is_default or not statuses,
                "SortOrder": len(statuses) + 1,
            }
            return self._store("CaseStatus", values, self.now(), self.integration_user)

    def status_of(self, api_name: str) -> Json | None:
        for status in self.data["CaseStatus"].values():
            if status["ApiName"] == api_name:
                return status
        return None

    def default_status(self) -> str | None:
        for status in self.data["CaseStatus"].values():
            if status["IsDefault"]:
                return str(status["ApiName"])
        return None

    # ------------------------------------------------------------------ records

    def add_case(
        self,
        subject: str,
        *,
        owner_id: str,
        status: str,
        type: str | None = None,
        priority: str = "Medium",
        origin: str = "Web",
        description: str | None = None,
        fields: Mapping[str, Any] | None = None,
        comments: Sequence[tuple[str, bool, str | None, datetime | None]] = (),
        files: Sequence[str] = (),
        created_at: datetime | None = None,
        created_by: str | None = None,
    ) -> str:
        """A case as if created earlier; returns its id.

        ``fields`` are custom fields (declared first with ``add_field``); ``comments`` are
        ``(body, is_published, created_by, created_at)`` (author None = the integration
        user, time None = the case's); ``files`` are titles linked to the case.
        """
        with self._lock:
            at = whole_second(created_at) if created_at else self.now()
            for name in fields or {}:
                if self.objects["Case"].field(name) is None:
                    raise ValueError(f"Case has no field {name!r}: declare it with add_field")
            if self.status_of(status) is None:
                raise ValueError(f"unknown case status {status!r}: add it with add_status")
            self._case_number += 1
            values: Json = {
                "CaseNumber": f"{self._case_number:08d}",
                "Subject": subject,
                "Description": description,
                "Status": status,
                "Priority": priority,
                "Origin": origin,
                "Type": type,
                "OwnerId": normalize(owner_id),
                **dict(fields or {}),
            }
            closed = bool(self.status_of(status)["IsClosed"])  # type: ignore[index]
            values["IsClosed"] = closed
            values["ClosedDate"] = at if closed else None
            case_id = self._store("Case", values, at, created_by or self.integration_user)
            for body, published, author, moment in comments:
                self.add_comment(
                    case_id,
                    body,
                    is_published=published,
                    created_by=author,
                    created_at=moment or at,
                )
            for title in files:
                self.add_file(case_id, title, created_at=at)
            return case_id

    def add_comment(
        self,
        case_id: str,
        body: str,
        *,
        is_published: bool = False,
        created_by: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A CaseComment (``is_published`` False = internal); with ``comment_bumps_case`` the
        case's ``SystemModstamp`` moves to the comment's time."""
        with self._lock:
            at = whole_second(created_at) if created_at else self.now()
            parent = normalize(case_id)
            values = {"ParentId": parent, "CommentBody": body, "IsPublished": is_published}
            comment_id = self._store(
                "CaseComment", values, at, normalize(created_by or "") or self.integration_user
            )
            if self.comment_bumps_case and parent is not None:
                case = self.data["Case"][parent]
                case["SystemModstamp"] = max(case["SystemModstamp"], at)
            return comment_id

    def add_task(
        self,
        case_id: str,
        subject: str,
        *,
        owner_id: str | None = None,
        status: str = "Not Started",
        priority: str = "Normal",
        activity_date: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A Task on a case (``WhatId``); returns its id."""
        with self._lock:
            at = whole_second(created_at) if created_at else self.now()
            values = {
                "WhatId": normalize(case_id),
                "Subject": subject,
                "Status": status,
                "Priority": priority,
                "ActivityDate": activity_date,
                "OwnerId": normalize(owner_id or self.integration_user),
                "IsClosed": status == "Completed",
            }
            return self._store("Task", values, at, self.integration_user)

    def add_file(
        self, linked_entity_id: str, title: str, *, created_at: datetime | None = None
    ) -> str:
        """A file (``ContentDocument``) linked to a Case or a CaseComment
        (``ContentDocumentLink``); returns the ContentDocument id. As an upload does,
        ``"print.png"`` becomes ``Title`` 'print' and ``FileExtension`` 'png'."""
        with self._lock:
            at = whole_second(created_at) if created_at else self.now()
            stem, dot, extension = title.rpartition(".")
            values = {
                "Title": stem if dot else title,
                "FileExtension": extension.lower() if dot else None,
                "ContentSize": 1024,
                "OwnerId": self.integration_user,
            }
            document_id = self._store("ContentDocument", values, at, self.integration_user)
            link = {
                "ContentDocumentId": document_id,
                "LinkedEntityId": normalize(linked_entity_id),
                "ShareType": "V",
                "Visibility": "AllUsers",
            }
            self._store("ContentDocumentLink", link, at, None)
            return document_id

    def set_case_status(self, case_id: str, status: str) -> None:
        """An agent changes a case's status in the UI (``IsClosed`` follows, stamps move)."""
        with self._lock:
            found = self.find(case_id)
            known = self.status_of(status)
            if found is None or found[0] != "Case":
                raise KeyError(case_id)
            if known is None:
                raise ValueError(f"unknown case status {status!r}: add it with add_status")
            record, now = found[1], self.now()
            record["Status"] = status
            record["IsClosed"] = bool(known["IsClosed"])
            record["ClosedDate"] = now if record["IsClosed"] else None
            record["SystemModstamp"] = record["LastModifiedDate"] = now

    def touch(self, record_id: str, at: datetime) -> None:
        """Set a record's ``SystemModstamp`` and ``LastModifiedDate`` (tests that need many
        records on one second, or a record edited in the UI)."""
        with self._lock:
            found = self.find(record_id)
            if found is None:
                raise KeyError(record_id)
            found[1]["SystemModstamp"] = whole_second(at)
            if "LastModifiedDate" in found[1]:
                found[1]["LastModifiedDate"] = whole_second(at)
