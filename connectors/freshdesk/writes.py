"""Planning writes: one decision's effects as Freshdesk requests, without sending anything.

Theory of operation
-------------------
* Writes (``apply``): all field effects of one decision go in ONE ``PUT /tickets/{id}``
  (Route, SetStatus, SetPriority, MarkCritical = priority Urgent + tag ``critico``, Resolve,
  and the optional task due-date field), sent at the position of the first effect it
  carries. All notes and tasks of one decision go in ONE private note, sent at the first
  note or task: the note texts in order, then each task, then a footer with every effect's
  marker (``connectors._notes``). Freshdesk has no task API: a task is the line "Tarefa de
  acompanhamento: ..." of that note and, when ``task_due_field`` names a custom date field,
  that field in the combined PUT (several tasks: the earliest due date). Child tickets, new
  tickets and merges are one request each, in their order.
* Freshdesk has groups and agents: a queue name is taken as a group, a team has no
  equivalent (routing only to a team is a ``FatalError``). Due dates are shown in São Paulo
  time.
* Exactly once: PUTs of absolute values are marked ``retry_writes`` (sending twice changes
  nothing); POSTs (notes, tickets) and merges are not, because a retried POST whose first
  answer was lost would write twice.
* Everything here is pure. Requests are plain ``Request`` descriptions the connector sends.
  The ids a plan needs (a group's, an agent's, a status's, a ticket's requester) come in
  ``ids``; a plan that meets one not there raises ``NeedId`` and the connector resolves it
  (``directory``, which may call the API) and plans again. Plans ask for ids in the order
  they meet them and fail on a bad action where they meet it, so the calls and the errors
  come in the same order as if the names were resolved inline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sync.actions import (
    Action,
    AddNote,
    CreateChildTicket,
    CreateTask,
    CreateTicket,
    MarkCritical,
    Merge,
    Resolve,
    Route,
    SetPriority,
    SetStatus,
)
from sync.contract import ConnectorError, Effect, FatalError
from sync.textnorm import fold

from .._http import Classifier
from .._names import need
from .._notes import footer_html, text_to_html
from .api import HELPDESK, PRIORITY_LOW, PRIORITY_URGENT, STATUS_OPEN, STATUS_RESOLVED

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CRITICAL_TAG = "critico"
"""Tag MarkCritical adds (with priority Urgent): Freshdesk has no critical-case checkbox."""
PRIORITY_NAMES: Mapping[str, int] = {
    "low": 1,
    "medium": 2,
    "high": 3,
    "urgent": 4,
    "baixa": 1,
    "media": 2,
    "alta": 3,
    "urgente": 4,
}
FIELD_ACTIONS = (Route, SetStatus, SetPriority, MarkCritical, Resolve)

IdKind = Literal["status", "group", "agent", "requester"]
Ids = Mapping[tuple[IdKind, str], int]
"""Ids resolved so far: (kind, name) -> id; a requester is keyed by its ticket's id."""


def _id(ids: Ids, kind: IdKind, name: str) -> Any:
    return need(ids, kind, name)


@dataclass(frozen=True, slots=True)
class Request:
    """One write call as the connector will send it."""

    method: str
    path: str
    body: Any
    retry_writes: bool = False
    """Safe to send twice (absolute values): retried on ambiguous failures."""
    classify: Classifier | None = None
    """Error class override for this call (``HttpClient.request``)."""


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """The one PUT body for every field effect (and task due field), and their keys."""

    body: dict[str, Any]
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Step:
    """One call of ``apply``: the combined PUT, the combined note, or one other effect."""

    kind: Literal["update", "note", "write"]
    effect: Effect | None = None
    """The effect a ``write`` step applies."""


def priority_id(name: str) -> int:
    """Priority name (English or Portuguese) or number -> 1..4."""
    key = fold(name)
    if key in PRIORITY_NAMES:
        return PRIORITY_NAMES[key]
    if key in {"1", "2", "3", "4"}:
        return int(key)
    known = "Low, Medium, High, Urgent, Baixa, Média, Alta, Urgente"
    raise FatalError(f"unknown priority '{name}'; known: {known}", helpdesk=HELPDESK)


def field_changes(action: Action, tags: Sequence[str], ids: Ids) -> dict[str, Any]:
    """The PUT body part one field action asks for (names resolved to ids)."""
    if isinstance(action, Route):
        # Freshdesk has groups and agents; a queue name is taken as a group, a team has
        # no equivalent and is ignored when a group or owner comes with it.
        group = action.group or action.queue
        if not group and not action.owner:
            raise FatalError(
                f"cannot route to team '{action.team}': Freshdesk routes to a group or agent",
                helpdesk=HELPDESK,
            )
        body: dict[str, Any] = {}
        if group:
            body["group_id"] = _id(ids, "group", group)
        if action.owner:
            body["responder_id"] = _id(ids, "agent", action.owner)
        return body
    if isinstance(action, SetStatus):
        return {"status": _id(ids, "status", action.status)}
    if isinstance(action, Resolve):
        return {"status": _id(ids, "status", action.status) if action.status else STATUS_RESOLVED}
    if isinstance(action, SetPriority):
        return {"priority": priority_id(action.priority)}
    if isinstance(action, MarkCritical):
        merged = list(tags) + ([CRITICAL_TAG] if CRITICAL_TAG not in tags else [])
        return {"priority": PRIORITY_URGENT, "tags": merged}
    return {}


def holds(current: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """True when the ticket as it is now already shows every change (tags: a subset)."""

    def one(name: str, value: Any) -> bool:
        if name == "tags":
            return set(value) <= set(current.get("tags") or [])
        return bool(current.get(name) == value)

    return all(one(name, value) for name, value in changes.items())


def _check_names(action: CreateChildTicket | CreateTicket, ids: Ids) -> None:
    """Resolve the names of a ticket to create, so a bad one fails before any write."""
    if action.group:
        _id(ids, "group", action.group)
    if action.owner:
        _id(ids, "agent", action.owner)
    if isinstance(action, CreateTicket) and action.status:
        _id(ids, "status", action.status)


def task_due(action: CreateTask) -> str:
    """The task's due day for ``task_due_field`` (a custom date field)."""
    return action.due.astimezone(SAO_PAULO).strftime("%Y-%m-%d")


def task_text(action: CreateTask) -> str:
    """A task as the note line agents read (Freshdesk has no task API)."""
    due = action.due.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")
    lines = [f"Tarefa de acompanhamento: {action.subject} — prazo {due} (America/Sao_Paulo)"]
    if action.owner:
        lines.append(f"Responsável: {action.owner}")
    if action.description:
        lines.append(action.description)
    return "\n".join(lines)


def note_html(effects: Sequence[Effect], footer: str) -> str:
    """ONE private note for a decision's notes and tasks: the note texts in order, then
    each task, then one footer with every effect's marker (each is found by its own)."""
    notes = [e for e in effects if isinstance(e.action, AddNote)]
    tasks = [e for e in effects if isinstance(e.action, CreateTask)]
    parts = [text_to_html(e.action.text) for e in notes if isinstance(e.action, AddNote)]
    parts += [text_to_html(task_text(e.action)) for e in tasks if isinstance(e.action, CreateTask)]
    return "".join(parts) + footer_html(footer, *(e.key for e in notes + tasks))


def plan_update(
    ticket_id: str,
    fields: Mapping[str, Any],
    effects: Sequence[Effect],
    ids: Ids,
    task_due_field: str | None,
) -> UpdatePlan:
    """The one PUT body for every field effect (and task due field), and their keys.

    Every name the effects carry is asked for here, before anything is written.
    """
    body: dict[str, Any] = {}
    keys: set[str] = set()
    tags = list(fields.get("tags") or [])
    dues: list[str] = []
    for effect in effects:
        action = effect.action
        if isinstance(action, FIELD_ACTIONS):
            part = field_changes(action, tags, ids)
            tags = part.get("tags", tags)
            body.update(part)
            keys.add(effect.key)
        elif isinstance(action, CreateTask) and task_due_field:
            dues.append(task_due(action))
        elif isinstance(action, CreateChildTicket | CreateTicket):
            _check_names(action, ids)
        elif isinstance(action, Merge) and not action.into.isdigit():
            raise FatalError(
                f"cannot merge into '{action.into}': not a Freshdesk ticket id",
                helpdesk=HELPDESK,
                ticket_id=ticket_id,
            )
    if task_due_field and dues and fields.get(task_due_field) != min(dues):
        # Several tasks share one field: it shows the earliest (most urgent) due date.
        # Already there (a restart after the PUT landed): nothing to send again.
        body["custom_fields"] = {task_due_field: min(dues)}
    return UpdatePlan(body=body, keys=frozenset(keys))


def steps(effects: Sequence[Effect], update: UpdatePlan) -> list[Step]:
    """The calls of ``apply`` in order: the PUT at the first effect it carries (a task joins
    it when it sets the due field), the note at the first note or task, the rest each."""
    out: list[Step] = []
    put_planned = note_planned = False
    for effect in effects:
        action = effect.action
        joins_put = effect.key in update.keys or (
            isinstance(action, CreateTask) and "custom_fields" in update.body
        )
        if joins_put and not put_planned:
            out.append(Step("update"))
            put_planned = True
        if effect.key in update.keys:
            continue
        if isinstance(action, AddNote | CreateTask):
            if not note_planned:  # the decision's one note, at its first note or task
                out.append(Step("note"))
                note_planned = True
            continue
        out.append(Step("write", effect))
    return out


def update_request(ticket_id: str, body: Mapping[str, Any]) -> Request:
    """The combined PUT (absolute values: sending twice changes nothing)."""
    return Request("PUT", f"/api/v2/tickets/{ticket_id}", body, retry_writes=True)


def note_request(ticket_id: str, body_html: str) -> Request:
    """A private note (docs "Create a Note")."""
    return Request(
        "POST", f"/api/v2/tickets/{ticket_id}/notes", {"body": body_html, "private": True}
    )


def merge_request(ticket_id: str, effect: Effect, footer: str) -> Request:
    """``PUT /tickets/merge`` of this ticket into ``action.into``, with the optional note."""
    action = effect.action
    assert isinstance(action, Merge)
    body: dict[str, Any] = {
        "primary_id": int(action.into),
        "ticket_ids": [int(action.into), int(ticket_id)],
    }
    if action.note:
        body["note_in_primary"] = {
            "body": text_to_html(action.note) + footer_html(footer, effect.key),
            "private": True,
        }
    return Request("PUT", "/api/v2/tickets/merge", body)


def _refused_parent(status: int, codes: tuple[str, ...]) -> type[ConnectorError] | None:
    # 403 on create means the parent is unknown/inaccessible: that ticket fails, the
    # credentials are fine (check() already proved them).
    return FatalError if status == 403 else None


def new_ticket_request(ticket_id: str, effect: Effect, ids: Ids, footer: str) -> Request:
    """``POST /tickets`` for a child ticket or a ticket for the same customer."""
    action = effect.action
    assert isinstance(action, CreateChildTicket | CreateTicket)
    text = action.description
    if action.due is not None:
        due = action.due.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")
        text += f"\n\nPrazo: {due} (America/Sao_Paulo)"
    status = STATUS_OPEN
    if isinstance(action, CreateTicket) and action.status:
        status = _id(ids, "status", action.status)
    body: dict[str, Any] = {
        "subject": action.subject,
        "description": text_to_html(text) + footer_html(footer, effect.key),
        "status": status,  # the server demands status and priority despite documented defaults
        "priority": PRIORITY_LOW,
    }
    if action.group:
        body["group_id"] = _id(ids, "group", action.group)
    if action.owner:
        body["responder_id"] = _id(ids, "agent", action.owner)
    if action.requester_email:
        body["email"] = action.requester_email
    else:
        body["requester_id"] = _id(ids, "requester", ticket_id)
    if isinstance(action, CreateChildTicket):
        body["parent_id"] = int(ticket_id)
    return Request("POST", "/api/v2/tickets", body, classify=_refused_parent)


def internal_note_html(effect: Effect, footer: str) -> str | None:
    """The private note a created ticket gets (``CreateTicket.internal_note``), if any."""
    action = effect.action
    if isinstance(action, CreateTicket) and action.internal_note:
        return text_to_html(action.internal_note) + footer_html(footer, effect.key)
    return None


__all__ = [
    "CRITICAL_TAG",
    "FIELD_ACTIONS",
    "SAO_PAULO",
    "Request",
    "Step",
    "UpdatePlan",
    "field_changes",
    "holds",
    "internal_note_html",
    "merge_request",
    "new_ticket_request",
    "note_html",
    "note_request",
    "plan_update",
    "priority_id",
    "steps",
    "task_due",
    "task_text",
    "update_request",
]
