"""Effects as sObject Collections records, and per-record answers as results; pure.

Theory of operation
-------------------
* ``plan_case`` turns one case's effects into records, every name resolved through
  ``connectors._names.need`` before anything is sent (the connector runs it under
  ``_names.resolved``; an unknown queue or user fails that case alone, nothing sent):

  - field effects (``Route`` -> ``OwnerId`` = the queue's Group Id, or the owner's Id (a
    user, else a queue) when the route names an owner; ``SetStatus``/``Resolve`` ->
    ``Status``; ``SetPriority`` -> ``Priority``; ``MarkCritical`` -> ``critical_field``
    = true) merge into ONE Case record ``{"attributes": {"type": "Case"}, "id": ...,
    <field>: <value>}`` carrying every field effect's key (a later one on a field wins);
  - ``AddNote`` -> one CaseComment ``{ParentId, CommentBody, IsPublished: false}``: the
    mapping's text verbatim, a blank line, the marker footer; at most 4,000 bytes (a
    longer text is cut, the footer always kept);
  - ``CreateTask`` -> one Task ``{WhatId, Subject (≤255), ActivityDate (the due's date in
    task_timezone), ReminderDateTime (the due, UTC), IsReminderSet: true, OwnerId (user,
    else queue), Description (the description and the marker footer)}``;
  - ``CreateChildTicket`` -> one Case ``{ParentId, Subject (≤255), Description (the
    description and the marker footer), OwnerId (the group's queue or the owner),
    SuppliedEmail (the requester e-mail, when given)}``; a child's ``due`` has no Case
    field and is not written (the mapping's timers follow the child instead);
  - new unlinked tickets, merges and team-only routes are rejected with a reason (not
    written by this connector).

* The connector sends the Case records with ``PATCH composite/sobjects`` and the comments
  and tasks with ``POST composite/sobjects`` (≤200 records a call, ``allOrNone: false``);
  ``row_error`` turns a failed row (``success: false``, ``errors[].statusCode``) into the
  contract's typed error for the effects that row carried.
* ``holds`` tells whether a case's current values show a field effect (lookup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync.actions import (
    Action,
    AddNote,
    CreateChildTicket,
    CreateTask,
    MarkCritical,
    Resolve,
    Route,
    SetPriority,
    SetStatus,
)
from sync.contract import ConnectorError, Effect, EffectResult, FatalError
from sync.textnorm import fold

from .._names import need
from .._notes import DEFAULT_MARKER_FOOTER, footer_text
from .client import HELPDESK, error_class, error_details

COMMENT_BYTES = 4000
SUBJECT_CHARS = 255
DESCRIPTION_CHARS = 32000
ELLIPSIS = " […]"
FIELD_ACTIONS = (Route, SetStatus, Resolve, SetPriority, MarkCritical)

Ids = Mapping[tuple[str, str], str]
"""(kind, name) -> Id, filled by the resolvers: ``queue`` (a Group Id) and ``owner`` (a
user's Id, else a queue's)."""


@dataclass(frozen=True, slots=True)
class WriteRules:
    """The org's choices that shape writes."""

    critical_field: str | None = None
    resolve_status: str = "Closed"
    task_timezone: str = "America/Sao_Paulo"
    marker_footer: str = DEFAULT_MARKER_FOOTER


@dataclass(slots=True)
class Record:
    """One record of a collections call and the effects it carries."""

    body: dict[str, Any]
    keys: list[str]
    case_id: str


@dataclass(slots=True)
class CasePlan:
    """One case's records: its Case update (if any), its inserts, its refusals."""

    case_id: str
    update: Record | None = None
    inserts: list[Record] = field(default_factory=list)
    refused: list[EffectResult] = field(default_factory=list)


def _refuse(key: str, reason: str, case_id: str) -> EffectResult:
    return EffectResult.rejected(key, FatalError(reason, helpdesk=HELPDESK, ticket_id=case_id))


def field_values(action: Action, ids: Ids, rules: WriteRules) -> dict[str, Any] | None:
    """The Case fields a field action sets (names resolved through ``ids``); None when the
    action is not a field action or cannot be written as one."""
    if isinstance(action, Route):
        if action.owner:
            return {"OwnerId": need(ids, "owner", action.owner)}
        queue = action.queue or action.group
        return {"OwnerId": need(ids, "queue", queue)} if queue else None
    if isinstance(action, SetStatus):
        return {"Status": action.status}
    if isinstance(action, Resolve):
        return {"Status": action.status or rules.resolve_status}
    if isinstance(action, SetPriority):
        return {"Priority": action.priority}
    if isinstance(action, MarkCritical):
        return {rules.critical_field: True} if rules.critical_field else None
    return None


def fit_bytes(text: str, footer: str, limit: int = COMMENT_BYTES) -> str:
    """``text``, a blank line and ``footer`` within ``limit`` UTF-8 bytes (text cut)."""
    tail = "\n\n" + footer
    whole = text + tail
    if len(whole.encode()) <= limit:
        return whole
    room = limit - len((ELLIPSIS + tail).encode())
    cut = text.encode()[: max(room, 0)].decode("utf-8", errors="ignore")
    return cut + ELLIPSIS + tail


def salesforce_datetime(moment: datetime) -> str:
    """An aware datetime as Salesforce's UTC form ``2024-05-01T10:00:00.000Z``."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def comment_record(case_id: str, effect: Effect, action: AddNote, rules: WriteRules) -> Record:
    body = fit_bytes(action.text, footer_text(rules.marker_footer, effect.key))
    return Record(
        {
            "attributes": {"type": "CaseComment"},
            "ParentId": case_id,
            "CommentBody": body,
            "IsPublished": False,
        },
        [effect.key],
        case_id,
    )


def task_record(
    case_id: str, effect: Effect, action: CreateTask, ids: Ids, rules: WriteRules
) -> Record:
    due = action.due
    if due.tzinfo is None:
        raise FatalError("task due without a time zone", helpdesk=HELPDESK, ticket_id=case_id)
    footer = footer_text(rules.marker_footer, effect.key)
    description = (action.description or "").strip()
    room = DESCRIPTION_CHARS - len(footer) - 2
    text = (description[:room] + "\n\n" + footer) if description else footer
    body: dict[str, Any] = {
        "attributes": {"type": "Task"},
        "WhatId": case_id,
        "Subject": action.subject[:SUBJECT_CHARS],
        "ActivityDate": due.astimezone(ZoneInfo(rules.task_timezone)).date().isoformat(),
        "ReminderDateTime": salesforce_datetime(due),
        "IsReminderSet": True,
        "Description": text,
    }
    if action.owner:
        body["OwnerId"] = need(ids, "owner", action.owner)
    return Record(body, [effect.key], case_id)


def child_record(
    case_id: str, effect: Effect, action: CreateChildTicket, ids: Ids, rules: WriteRules
) -> Record:
    """A child Case of ``case_id``, carrying the effect's marker in its Description."""
    footer = footer_text(rules.marker_footer, effect.key)
    room = DESCRIPTION_CHARS - len(footer) - 2
    body: dict[str, Any] = {
        "attributes": {"type": "Case"},
        "ParentId": case_id,
        "Subject": action.subject[:SUBJECT_CHARS],
        "Description": action.description.strip()[:room] + "\n\n" + footer,
    }
    if action.owner:
        body["OwnerId"] = need(ids, "owner", action.owner)
    elif action.group:
        body["OwnerId"] = need(ids, "queue", action.group)
    if action.requester_email:
        body["SuppliedEmail"] = action.requester_email
    return Record(body, [effect.key], case_id)


def plan_case(case_id: str, effects: Sequence[Effect], ids: Ids, rules: WriteRules) -> CasePlan:
    """One case's effects as records; raises ``NeedId`` for a name not yet resolved."""
    plan = CasePlan(case_id)
    for effect in effects:
        action = effect.action
        if isinstance(action, FIELD_ACTIONS):
            values = field_values(action, ids, rules)
            if values is None:
                why = (
                    "mark_critical needs critical_field in the connector settings"
                    if isinstance(action, MarkCritical)
                    else f"route to '{action.target}' names no queue or owner"
                )
                plan.refused.append(_refuse(effect.key, why, case_id))
                continue
            if plan.update is None:
                plan.update = Record({"attributes": {"type": "Case"}, "id": case_id}, [], case_id)
            plan.update.body.update(values)
            plan.update.keys.append(effect.key)
        elif isinstance(action, AddNote):
            plan.inserts.append(comment_record(case_id, effect, action, rules))
        elif isinstance(action, CreateTask):
            plan.inserts.append(task_record(case_id, effect, action, ids, rules))
        elif isinstance(action, CreateChildTicket):
            plan.inserts.append(child_record(case_id, effect, action, ids, rules))
        else:
            reason = f"the salesforce connector does not write '{action.kind}' actions"
            plan.refused.append(_refuse(effect.key, reason, case_id))
    return plan


def row_error(row: Mapping[str, Any], what: str, case_id: str) -> ConnectorError:
    """A failed collections row (``errors[].statusCode``) as the contract's typed error."""
    message, codes = error_details(row.get("errors") or [])
    cls = error_class(400, codes, message)
    return cls(
        f"{what}: record refused: {message or 'no error message'}",
        helpdesk=HELPDESK,
        ticket_id=case_id,
    )


def holds(action: Action, case: Mapping[str, Any], ids: Ids, rules: WriteRules) -> bool:
    """True when the case's current values show the field effect."""
    values = field_values(action, ids, rules)
    if not values:
        return False
    for name, value in values.items():
        current = case.get(name)
        if isinstance(value, str) and isinstance(current, str):
            if name == "OwnerId":
                if current[:15] != value[:15]:
                    return False
            elif fold(current) != fold(value):
                return False
        elif current != value:
            return False
    return True


__all__ = [
    "COMMENT_BYTES",
    "FIELD_ACTIONS",
    "CasePlan",
    "Ids",
    "Record",
    "WriteRules",
    "child_record",
    "comment_record",
    "field_values",
    "fit_bytes",
    "holds",
    "plan_case",
    "row_error",
    "salesforce_datetime",
    "task_record",
]
