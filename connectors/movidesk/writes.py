"""Planning writes: one decision's effects as Movidesk requests, without sending anything.

Theory of operation
-------------------
* ONE ``PATCH /tickets?id=N`` per decision carries everything that changes the ticket:
  ``status`` + ``justification`` (SetStatus, Resolve, the merge fallback), ``owner`` +
  ``ownerTeam`` (Route; always together: one alone answers 500, ferronicardoso/mcp-movidesk
  ``src/updateTicketValidation.ts``), ``urgency`` (SetPriority), ``tags`` (MarkCritical,
  the full list), ``customFieldValues`` (the task due field) and ONE new internal action
  ``{"id": 0, "type": 1, "description": ..., "createdBy": {"id": <agent>}}`` holding the
  decision's notes, tasks and merge note in effect order, then a footer with the marker of
  every effect the PATCH carries (``connectors._notes``). Existing actions are not resent.
  Where two effects set the same field, the later one wins (the Emissor mapping merges,
  then sets its own status). The PATCH goes out at the position of its first effect.
* Routing: a team alone gets its owner from ``team_owners`` or the team's first active
  agent; an owner alone gets one of the owner's teams (the ticket's current team when the
  owner is in it); both must agree. Names resolve through the directory before anything
  is written.
* Local validation first, because three failed requests lock the Tickets API for 60 s:
  statuses and justifications against ``status_justifications`` (when the account's rules
  are configured), urgencies against ``urgencies``, the owner/team pair, merge targets.
  An action the connector cannot write is a ``FatalError`` raised before any write.
* ``customFieldValues`` REPLACES the ticket's whole set (field layout: "Os campos que
  estiverem na base de dados e não forem enviados no corpo da requisição serão excluídos",
  fabiodalazem/MovideskSDK ``MoviTicket.java``; jonasandre/movidesk-cli ``internal/
  movidesk/tickets/customfields.go`` reads, merges and writes the set): the connector reads
  the current set just before the PATCH and ``merge_custom`` sends it whole with the change.
  Dates go as ``YYYY-MM-DDThh:MM:ss.000Z`` UTC (same layout).
* New and child tickets: one ``POST /tickets`` each (``type``, ``createdBy.id``, ``clients``,
  ``actions`` written like the PATCH's, ``id`` 0; a child also ``parentTickets: [{"id":
  P}]``), the marker in the description and in the internal note a ``CreateTicket`` carries.
* Merge: Movidesk has no merge endpoint (reference "Merge"); the duplicate (this ticket)
  gets ``merge_status`` + ``merge_justification`` and an internal note "Ticket mesclado ao
  ticket N" with the marker, inside the decision's PATCH.
* Exactly once: the PATCH is retried on ambiguous failures only when it adds no action;
  POSTs never. Everything here is pure: a plan that needs a name resolved raises
  ``NeedId``, the connector resolves it (``directory``) and plans again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from sync.contract import Effect, FatalError
from sync.model import Ticket
from sync.textnorm import fold

from .._names import need
from .._notes import DEFAULT_MARKER_FOOTER, footer_html, text_to_html
from .api import HELPDESK, parse_datetime
from .normalize import MERGE_NOTE

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
FIELD_ACTIONS = (Route, SetStatus, Resolve, SetPriority, MarkCritical)
NEW_TICKETS = (CreateChildTicket, CreateTicket)
URGENCY_ALIASES: Mapping[str, str] = {
    "low": "baixa", "medium": "media", "high": "alta", "urgent": "urgente",
}  # fmt: skip
"""English priority names the decision core may use -> folded Portuguese urgency names."""

IdKind = Literal["agent", "agent_teams", "team", "team_owner", "client"]
Ids = Mapping[tuple[IdKind, str], Any]
"""Resolved names: agent -> person id, agent_teams -> tuple of team names, team -> the
account's spelling, team_owner -> person id, client (an e-mail) -> person id."""


def _need(ids: Ids, kind: IdKind, name: str) -> Any:
    return need(ids, kind, name)


def _fail(message: str, ticket_id: str | None = None) -> FatalError:
    return FatalError(message, helpdesk=HELPDESK, ticket_id=ticket_id)


@dataclass(frozen=True, slots=True)
class WriteRules:
    """The account's write conventions (from ``MovideskSettings``)."""

    agent_ref: str
    marker_footer: str = DEFAULT_MARKER_FOOTER
    merge_status: str = "Fechado"
    merge_justification: str | None = "Duplicado"
    resolve_status: str = "Resolvido"
    resolve_justification: str | None = None
    status_justifications: Mapping[str, Sequence[str]] = field(default_factory=dict)
    urgencies: Sequence[str] = ()
    critical_tag: str = "critico"
    critical_urgency: str | None = None
    new_ticket_type: int = 2
    task_due_field: str | None = None
    task_due_field_rule: int | None = None


@dataclass(frozen=True, slots=True)
class CustomChange:
    """A custom field value to write (merged into the ticket's whole set)."""

    field_id: str
    value: str
    rule: int | None


@dataclass(frozen=True, slots=True)
class Patch:
    """The decision's one PATCH: its body (custom fields apart) and the effects it carries."""

    body: dict[str, Any]
    keys: tuple[str, ...]
    custom: Mapping[str, CustomChange]
    note: bool
    """It adds an internal action: not safe to send twice."""


@dataclass(frozen=True, slots=True)
class Step:
    """One call of a decision: the PATCH, or the POST of one new ticket."""

    kind: Literal["patch", "post"]
    effect: Effect | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """Every call of one decision, in order, with every name already resolved."""

    steps: tuple[Step, ...]
    patch: Patch | None
    posts: Mapping[str, dict[str, Any]]
    """POST bodies by effect key."""


# ---------------------------------------------------------------------------------------
# field values
# ---------------------------------------------------------------------------------------


def status_fields(rules: WriteRules, status: str, justification: str | None) -> dict[str, Any]:
    """``status`` (+ ``justification``) checked against the account's configured rules."""
    configured = {fold(name): (name, list(js)) for name, js in rules.status_justifications.items()}
    if fold(status) not in configured:
        out: dict[str, Any] = {"status": status}
        if justification:
            out["justification"] = justification
        return out
    name, allowed = configured[fold(status)]
    if not allowed:
        return {"status": name}
    if justification:
        match = next((j for j in allowed if fold(j) == fold(justification)), None)
        if match is None:
            raise _fail(
                f"justification '{justification}' is not one of status '{name}': "
                + ", ".join(allowed)
            )
        return {"status": name, "justification": match}
    if len(allowed) == 1:
        return {"status": name, "justification": allowed[0]}
    raise _fail(f"status '{name}' needs a justification, one of: " + ", ".join(allowed))


def urgency(rules: WriteRules, name: str) -> str:
    """An urgency as the account spells it (checked when ``urgencies`` are configured)."""
    if not rules.urgencies:
        return name
    known = {fold(u): u for u in rules.urgencies}
    key = fold(name)
    key = key if key in known else URGENCY_ALIASES.get(key, key)
    if key not in known:
        raise _fail(f"unknown urgency '{name}'; known: " + ", ".join(rules.urgencies))
    return known[key]


def route_fields(
    team: str | None, owner: str | None, current_team: str | None, ids: Ids
) -> dict[str, Any]:
    """``owner`` + ``ownerTeam``, always together, the team holding the owner."""
    if owner:
        person = str(_need(ids, "agent", owner))
        teams: tuple[str, ...] = tuple(_need(ids, "agent_teams", person))
        if team:
            spelled = str(_need(ids, "team", team))
            if fold(spelled) not in {fold(t) for t in teams}:
                raise _fail(f"agent '{owner}' is not in team '{spelled}'")
        else:
            spelled = next(
                (t for t in teams if current_team and fold(t) == fold(current_team)), teams[0]
            )
        return {"owner": {"id": person}, "ownerTeam": spelled}
    if team:
        spelled = str(_need(ids, "team", team))
        return {"owner": {"id": str(_need(ids, "team_owner", spelled))}, "ownerTeam": spelled}
    raise _fail("a route needs a team, group, queue or owner")


def field_changes(
    action: Action, ticket: Ticket, tags: Sequence[str], ids: Ids, rules: WriteRules
) -> dict[str, Any]:
    """The PATCH fields one field action asks for."""
    if isinstance(action, Route):
        team = action.team or action.group or action.queue
        return route_fields(team, action.owner, ticket.queue, ids)
    if isinstance(action, SetStatus):
        return status_fields(rules, action.status, action.justification)
    if isinstance(action, Resolve):
        if action.status:
            return status_fields(rules, action.status, None)
        return status_fields(rules, rules.resolve_status, rules.resolve_justification)
    if isinstance(action, SetPriority):
        return {"urgency": urgency(rules, action.priority)}
    if isinstance(action, MarkCritical):
        known = {fold(t) for t in tags}
        out: dict[str, Any] = {
            "tags": [*tags, rules.critical_tag]
            if fold(rules.critical_tag) not in known
            else [*tags]
        }
        if rules.critical_urgency:
            out["urgency"] = urgency(rules, rules.critical_urgency)
        return out
    raise _fail(f"action '{action.kind}' is not a field change", ticket.id)


def holds(
    action: Action, row: Mapping[str, Any], ticket: Ticket, ids: Ids, rules: WriteRules
) -> bool:
    """True when the ticket as it is now (``row``) already shows a field action."""
    tags = [str(t) for t in row.get("tags") or []]
    wanted = field_changes(action, ticket, tags, ids, rules)
    for name, value in wanted.items():
        if name == "owner":
            owner = row.get("owner") if isinstance(row.get("owner"), Mapping) else {}
            if str((owner or {}).get("id")) != value["id"]:
                return False
        elif name == "tags":
            if not {fold(t) for t in value} <= {fold(t) for t in tags}:
                return False
        elif fold(str(row.get(name) or "")) != fold(str(value)):
            return False
    return True


# ---------------------------------------------------------------------------------------
# texts
# ---------------------------------------------------------------------------------------


def local(moment: datetime) -> str:
    """A moment as agents in São Paulo read it."""
    return moment.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")


def task_text(action: CreateTask) -> str:
    """A task as the note line agents read (the public API has no task resource)."""
    lines = [
        f"Tarefa de acompanhamento: {action.subject} — prazo {local(action.due)} "
        "(America/Sao_Paulo)"
    ]
    if action.owner:
        lines.append(f"Responsável: {action.owner}")
    if action.description:
        lines.append(action.description)
    return "\n".join(lines)


def merge_text(action: Merge) -> str:
    """The note of the merge fallback, naming the principal ticket."""
    text = MERGE_NOTE.format(into=action.into)
    return text + ("\n" + action.note if action.note else "")


def custom_date(moment: datetime) -> str:
    """A date custom field value: UTC, ``YYYY-MM-DDThh:MM:ss.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def new_action(agent_ref: str, kind: int, html: str) -> dict[str, Any]:
    """A new action (``id`` 0: created, never an existing one edited), 1 internal, 2 public."""
    return {"id": 0, "type": kind, "description": html, "createdBy": {"id": agent_ref}}


# ---------------------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------------------


def _merge_target(ticket: Ticket, action: Merge) -> str:
    into = action.into.strip()
    if not into.isdigit():
        raise _fail(f"cannot merge into '{action.into}': not a Movidesk ticket number", ticket.id)
    if into == ticket.id:
        raise _fail("cannot merge a ticket into itself", ticket.id)
    return into


def new_ticket_body(ticket: Ticket, effect: Effect, ids: Ids, rules: WriteRules) -> dict[str, Any]:
    """``POST /tickets`` for a child ticket or a ticket for the same or another client."""
    action = effect.action
    assert isinstance(action, CreateChildTicket | CreateTicket)
    if action.requester_email:
        client = str(_need(ids, "client", action.requester_email))
    else:
        client = str(ticket.fields.get("client_id") or "")
        if not client:
            raise _fail("cannot open a ticket for this one's client: it has none", ticket.id)
    text = action.description
    if action.due is not None:
        text += f"\n\nPrazo: {local(action.due)} (America/Sao_Paulo)"
    footer = footer_html(rules.marker_footer, effect.key)
    actions = [new_action(rules.agent_ref, rules.new_ticket_type, text_to_html(text) + footer)]
    if isinstance(action, CreateTicket) and action.internal_note:
        actions.append(new_action(rules.agent_ref, 1, text_to_html(action.internal_note) + footer))
    body: dict[str, Any] = {
        "type": rules.new_ticket_type,
        "subject": action.subject,
        "createdBy": {"id": rules.agent_ref},
        "clients": [{"id": client}],
        "actions": actions,
    }
    if isinstance(action, CreateTicket) and action.status:
        body.update(status_fields(rules, action.status, None))
    if action.owner or action.group:
        body.update(route_fields(action.group, action.owner, ticket.queue, ids))
    if isinstance(action, CreateChildTicket):
        if not ticket.id.isdigit():
            raise _fail(f"'{ticket.id}' is not a Movidesk ticket number", ticket.id)
        body["parentTickets"] = [{"id": int(ticket.id)}]
    return body


def plan(ticket: Ticket, effects: Sequence[Effect], ids: Ids, rules: WriteRules) -> Plan:
    """Every call of one decision, validated and resolved, before anything is written."""
    body: dict[str, Any] = {}
    keys: list[str] = []
    parts: list[str] = []
    tags = [str(t) for t in ticket.fields.get("tags") or []]
    dues: list[datetime] = []
    posts: dict[str, dict[str, Any]] = {}
    steps: list[Step] = []
    for effect in effects:
        action = effect.action
        if isinstance(action, FIELD_ACTIONS):
            part = field_changes(action, ticket, tags, ids, rules)
            tags = part.get("tags", tags)
            body.update(part)
        elif isinstance(action, AddNote):
            parts.append(text_to_html(action.text))
        elif isinstance(action, CreateTask):
            parts.append(text_to_html(task_text(action)))
            dues.append(action.due)
        elif isinstance(action, Merge):
            _merge_target(ticket, action)
            body.update(status_fields(rules, rules.merge_status, rules.merge_justification))
            parts.append(text_to_html(merge_text(action)))
        elif isinstance(action, NEW_TICKETS):
            posts[effect.key] = new_ticket_body(ticket, effect, ids, rules)
            steps.append(Step("post", effect))
            continue
        else:
            raise _fail(f"action '{action.kind}' is not supported", ticket.id)
        if not keys:
            steps.append(Step("patch"))
        keys.append(effect.key)
    custom: dict[str, CustomChange] = {}
    if rules.task_due_field and dues:
        field_id = rules.task_due_field
        if field_id not in ticket.fields and rules.task_due_field_rule is None:
            raise _fail(
                f"custom field {field_id} has no value on this ticket yet: "
                "set task_due_field_rule (its display rule id)",
                ticket.id,
            )
        # Several tasks share one field: it shows the earliest (most urgent) due date.
        custom[field_id] = CustomChange(field_id, custom_date(min(dues)), rules.task_due_field_rule)
    if parts:
        html = "".join(parts) + footer_html(rules.marker_footer, *keys)
        body["actions"] = [new_action(rules.agent_ref, 1, html)]
    patch = Patch(body, tuple(keys), custom, bool(parts)) if keys else None
    return Plan(tuple(steps), patch, posts)


# ---------------------------------------------------------------------------------------
# custom fields: read, merge, write
# ---------------------------------------------------------------------------------------


def _copy(item: Mapping[str, Any]) -> dict[str, Any]:
    """A custom field value as read, to send back unchanged (items and all their keys)."""
    out = dict(item)
    out["items"] = [dict(i) for i in item.get("items") or [] if isinstance(i, Mapping)]
    return out


def _same_value(old: Any, new: str) -> bool:
    if old == new:
        return True
    try:
        return isinstance(old, str) and parse_datetime(old) == parse_datetime(new)
    except ValueError:
        return False


def merge_custom(
    current: Sequence[Mapping[str, Any]], changes: Mapping[str, CustomChange], ticket_id: str
) -> list[dict[str, Any]] | None:
    """The whole ``customFieldValues`` set with the changes; None when it holds them."""
    out = [_copy(item) for item in current if isinstance(item, Mapping)]
    changed = False
    for field_id, change in changes.items():
        match = next((i for i in out if str(i.get("customFieldId")) == field_id), None)
        if match is not None:
            if not _same_value(match.get("value"), change.value):
                match["value"] = change.value
                changed = True
            continue
        if change.rule is None:
            raise _fail(
                f"custom field {field_id} has no value on this ticket: set task_due_field_rule",
                ticket_id,
            )
        out.append(
            {
                "customFieldId": int(field_id) if field_id.isdigit() else field_id,
                "customFieldRuleId": change.rule,
                "line": 1,
                "value": change.value,
                "items": [],
            }
        )
        changed = True
    return out if changed else None


__all__ = [
    "FIELD_ACTIONS", "NEW_TICKETS", "CustomChange", "Patch", "Plan", "Step",
    "WriteRules", "custom_date", "field_changes", "holds", "merge_custom",
    "merge_text",
    "new_action", "new_ticket_body", "plan", "route_fields", "status_fields", "task_text",
    "urgency",
]  # fmt: skip
