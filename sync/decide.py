"""Ticket + mapping + context + now -> Decision. Pure: no I/O, no clock, no connectors.

Theory of operation: the internal comments are parsed once into labelled values; the
request type comes from the ticket's type field, else from the comment ("Tipo de
solicitação: ..."), else from a checklist title. The type's requirements are its own plus
those of every rule whose condition holds; each present value is validated. A complete
ticket gets the actions of its matching rules and type; an incomplete one gets the
mapping's ``on_incomplete`` actions (a note naming what is missing, back to its agent) and
is never routed. Rules marked ``run: always`` (context facts such as onboarding or a
finance block) act either way; ``stop`` ends the evaluation at that rule.

Why this module is long: it is one algorithm that reads top to bottom (prepare the ticket:
parse, type, validate; apply the rules; check the checklist; build the actions; finish),
and its phases share private working state: ``_Env``, ``_Prepared`` and the ``missing`` /
``invalid`` lists every phase appends to. ``evaluate_timer`` and ``project`` re-enter the
same phases for SLA timers. Split, those private types would become an interface between
modules and one decision would be scattered over files; it is also the hottest,
benchmarked code (``bench/decide.py``, ``bench/corpus.py``), where a split buys nothing.
"""

from __future__ import annotations

import fnmatch
import mimetypes
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from .actions import (
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
from .comment_parser import (
    Checklist,
    FieldValue,
    LabelIndex,
    extract_checklists,
    extract_fields,
    normalize_label,
    short_labelled,
    split_remark,
    untitled_checklists,
)
from .effects import carries_marker
from .field_sources import HelpdeskValue, helpdesk_values
from .mapping_loader import (
    TYPE_KEY,
    CompiledMapping,
    CompiledType,
    condition_fields,
    type_key,
)
from .mapping_schema import (
    ActionSpec,
    AttachmentSpec,
    ChecklistSpec,
    Condition,
    DueSpec,
    FieldSpec,
    RuleSpec,
    TimerSpec,
)
from .masking import SENSITIVE_VALIDATORS, mask_value
from .model import Attachment, Comment, Context, RelatedTicket, Ticket
from .prose import find_in_prose, values_in_text
from .templates import render
from .textnorm import fold
from .validators import Check, validate


@dataclass(frozen=True, slots=True)
class Missing:
    """A required item the comment lacks, named by the SOP's label."""

    key: str
    label: str
    sop: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """A present value that fails its validator; ``value`` is masked when it is PII."""

    key: str
    label: str
    reason: str
    value: str
    sop: str


@dataclass(frozen=True, slots=True)
class Found:
    """Where a checked field's value came from; ``value`` is masked when it is PII."""

    key: str
    label: str
    value: str
    source: str
    """``label``, ``field`` or ``prose``."""
    where: str
    """The helpdesk field (``fields.cf_cnpj``, ``requester.email``) or the comment."""

    def to_dict(self) -> dict[str, str]:
        return {
            "field": self.key,
            "label": self.label,
            "value": self.value,
            "source": self.source,
            "where": self.where,
        }

    def describe(self) -> str:
        """One line for ``explain``: "CPF do cliente = 529.***.***-25 (prose of comment c2)"."""
        how = {"label": "labelled line", "field": "helpdesk field", "prose": "prose"}[self.source]
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        shown = shown.replace("\n", " ")
        return f"{self.label} = {shown} ({how}: {self.where})"


@dataclass(frozen=True, slots=True)
class TimerStart:
    """An SOP deadline a decision starts: it fires at ``due`` if its condition still holds."""

    id: str
    due: datetime
    request_type: str
    sop: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "due": self.due.isoformat(),
            "request_type": self.request_type,
            "sop": self.sop,
        }


@dataclass(frozen=True, slots=True)
class TimerVerdict:
    """What a due timer does on the ticket as it is now."""

    fire: bool
    reason: str
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What must happen to one ticket, and why."""

    mapping: str
    ticket_id: str
    outcome: str
    """``complete``, ``incomplete``, ``unmapped`` or ``handled_by_rule`` (a stop rule fired)."""
    request_type: str | None
    sop: tuple[str, ...]
    complete: bool
    missing: tuple[Missing, ...] = ()
    invalid: tuple[Invalid, ...] = ()
    checked: tuple[str, ...] = ()
    found: tuple[Found, ...] = ()
    """Every checked value with its source (labelled line, helpdesk field, prose)."""
    actions: tuple[Action, ...] = ()
    satisfied: tuple[Action, ...] = ()
    """Actions the SOP asks for that the ticket already shows (not repeated)."""
    timers: tuple[TimerStart, ...] = ()
    """SOP deadlines this decision starts (they act later, by themselves)."""
    rules: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    explanation: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by ``explain --format json`` and the audit trail."""
        return {
            "ticket_id": self.ticket_id,
            "mapping": self.mapping,
            "outcome": self.outcome,
            "request_type": self.request_type,
            "sop": list(self.sop),
            "complete": self.complete,
            "missing": [{"field": m.key, "label": m.label, "sop": m.sop} for m in self.missing],
            "invalid": [
                {
                    "field": i.key,
                    "label": i.label,
                    "reason": i.reason,
                    "value": i.value,
                    "sop": i.sop,
                }
                for i in self.invalid
            ],
            "checked": list(self.checked),
            "fields": [f.to_dict() for f in self.found],
            "actions": [a.to_dict() for a in self.actions],
            "already_in_effect": [a.to_dict() for a in self.satisfied],
            "timers": [t.to_dict() for t in self.timers],
            "rules": list(self.rules),
            "suggestions": list(self.suggestions),
            "explanation": list(self.explanation),
        }


_SLASH = re.compile(r"\s*/\s*")


class _LazyNames:
    """Note placeholders computed on first use: most actions render no note."""

    __slots__ = ("_computed", "_makers")

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        self._makers = makers
        self._computed: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._computed:
            maker = self._makers.get(key)
            if maker is None:
                return default
            self._computed[key] = maker()
        return self._computed[key]


@dataclass(slots=True)
class _Env:
    """Everything conditions and templates read, gathered once per decision."""

    ticket: Ticket
    context: Context
    values: dict[str, str]
    raw: dict[str, FieldValue]
    attachments: frozenset[str]
    duplicate: RelatedTicket | None
    anchor: datetime
    now: datetime
    names: _LazyNames | None = None
    roots: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    to_fill: list[str] = field(default_factory=list)
    """Labels of advised items that are absent (what the next level fills in)."""
    written: dict[str, str] = field(default_factory=dict)
    """Valid values as found (labelled line, helpdesk field or prose), before canonical
    form: what notes and child tickets show ("11.222.333/0001-81", not "11222333000181")."""
    soft_invalid: set[str] = field(default_factory=set)
    """Advised-only fields with a wrong value, on the next level's list (``to_fill``)."""


@dataclass(slots=True)
class _Prepared:
    """A ticket read for the rules: parsed comments, type, validated values."""

    env: _Env
    checklists: list[Checklist]
    type_name: str | None
    type_source: str | None
    ctype: CompiledType | None
    checked: list[str]
    invalid: list[Invalid]
    internal: tuple[Comment, ...]
    found: list[Found]
    candidates: tuple[str, ...] = ()
    """Request types the written category could denote when it names none for sure."""


def _prepare(
    mapping: CompiledMapping, ticket: Ticket, context: Context, now: datetime
) -> _Prepared:
    # helpdesk-sync's own notes carry a marker: they are not agent input.
    internal = tuple(c for c in ticket.comments if c.internal and not carries_marker(c.body))
    raw = extract_fields(internal, mapping.labels)
    checklists = extract_checklists(internal) if mapping.uses_checklists else []
    type_name, type_source, candidates = _resolve_type(mapping, ticket, raw, checklists)
    if type_name is None and not candidates:
        type_name, type_source = _recognise(mapping, ticket, context, now, raw, internal)
    ctype = mapping.types.get(type_name) if type_name else None
    if ctype is not None and ctype.short_labels and not ctype.short_keys.issubset(raw):
        raw = _with_short_labels(ctype, raw, internal, mapping.labels)
    env = _Env(
        ticket=ticket,
        context=context,
        values={},
        raw=raw,
        attachments=_matched_attachments(mapping.spec.attachments, ticket),
        duplicate=_duplicate(context.open_tickets),
        anchor=max((c.created_at for c in internal), default=ticket.updated_at),
        now=now,
    )
    field_keys = (
        ctype.ordered_keys
        if ctype and ctype.ordered_keys
        else sorted(
            ctype.field_keys if ctype else _preflight_keys(mapping),
            key=mapping.field_order.__getitem__,
        )
    )
    local_now = now.astimezone(mapping.calendar.zone)
    required = ctype.steering_keys if ctype else mapping.preflight_steering
    asked = ctype.required_keys if ctype else frozenset()
    checked, invalid, found = _validate_present(
        mapping, field_keys, raw, ticket, env, local_now, internal, required, asked
    )
    return _Prepared(
        env,
        checklists,
        type_name,
        type_source,
        ctype,
        checked,
        invalid,
        internal,
        found,
        candidates,
    )


def decide(mapping: CompiledMapping, ticket: Ticket, context: Context, now: datetime) -> Decision:
    """Decide what the SOP requires for ``ticket``; deterministic in its arguments."""
    prepared = _prepare(mapping, ticket, context, now)
    return _decide(mapping, ticket, prepared)


def _decide(mapping: CompiledMapping, ticket: Ticket, prepared: _Prepared) -> Decision:
    env, checklists, ctype = prepared.env, prepared.checklists, prepared.ctype
    type_name, checked, invalid = prepared.type_name, prepared.checked, prepared.invalid
    internal, raw = prepared.internal, env.raw
    explanation: list[str] = []
    if prepared.type_source:
        explanation.append(prepared.type_source)

    missing: list[Missing] = []
    actions: list[Action] = []
    rules_hit: list[str] = []
    sops = [str(s) for s in mapping.spec.sop] if ctype is None else [str(ctype.spec.sop)]

    stopped = _apply_rules(
        mapping,
        mapping.spec.preflight,
        None,
        env,
        missing,
        actions,
        rules_hit,
        invalid=invalid,
        ctype=ctype,
        checked=checked,
    )
    if stopped is not None:
        explanation.append(f"rule '{stopped.id}' handled the ticket ({stopped.sop})")
        return _finish(
            mapping,
            ticket,
            "handled_by_rule",
            type_name,
            sops,
            not missing,
            missing,
            invalid,
            checked,
            actions,
            rules_hit,
            (),
            explanation,
            found=tuple(prepared.found),
        )

    if ctype is None:
        suggestions = list(prepared.candidates) or _suggest(mapping, ticket, internal, raw)
        if prepared.candidates:
            explanation.append(
                f"category '{ticket.request_type or raw[TYPE_KEY].value}' could be "
                + " or ".join(f"'{c}'" for c in prepared.candidates)
                + ": not guessed, nothing routed"
            )
        elif ticket.request_type or TYPE_KEY in raw:
            explanation.append(
                f"request type '{ticket.request_type or raw[TYPE_KEY].value}' is not in "
                f"mapping '{mapping.name}': no type rules apply"
            )
        else:
            explanation.append("no request type on the ticket or in its comments")
        if suggestions:
            explanation.append("possible types (not applied): " + "; ".join(suggestions))
        complete = not missing and not invalid
        if not complete:
            actions = [
                *actions,
                *_build(
                    mapping,
                    mapping.spec.defaults.on_incomplete,
                    env,
                    missing,
                    invalid,
                    checked,
                    None,
                ),
            ]
        actions.extend(
            _build(mapping, mapping.spec.defaults.on_unmapped, env, missing, invalid, checked, None)
        )
        return _finish(
            mapping,
            ticket,
            "unmapped",
            None,
            sops,
            complete,
            missing,
            invalid,
            checked,
            actions,
            rules_hit,
            tuple(suggestions),
            explanation,
            found=tuple(prepared.found),
        )

    spec = ctype.spec
    sop = str(spec.sop)
    for key in spec.require:
        if key not in env.values and key not in _invalid_keys(invalid):
            missing.append(Missing(key, mapping.spec.fields[key].label, sop))
    _require_one_of(mapping, spec.at_least_one_of, env, invalid, missing, sop)
    for key in spec.require_attachments:
        if key not in env.attachments:
            missing.append(Missing(key, mapping.spec.attachments[key].label, sop))
    if spec.checklist is not None:
        _check_checklist(
            spec.checklist,
            (spec.name, *spec.aliases),
            checklists,
            missing,
            invalid,
            sop,
            internal,
        )

    pending: list[Action] = []
    stopped = _apply_rules(
        mapping,
        ctype.rules,
        spec.sop,
        env,
        missing,
        pending,
        rules_hit,
        invalid=invalid,
        always_sink=actions,
        ctype=ctype,
        checked=checked,
    )
    complete = not missing and all(i.key in env.soft_invalid for i in invalid)
    if complete:
        invalid.clear()  # each one is on the next level's list
    timers: list[TimerStart] = []
    if complete:
        actions.extend(pending)
        if stopped is None:
            actions.extend(_build(mapping, spec.actions, env, missing, invalid, checked, ctype))
        outcome = "complete" if stopped is None else "handled_by_rule"
        timers = _timers_started(mapping, ctype, rules_hit, stopped, env)
    else:
        on_incomplete = (
            spec.on_incomplete
            if spec.on_incomplete is not None
            else mapping.spec.defaults.on_incomplete
        )
        actions.extend(_build(mapping, on_incomplete, env, missing, invalid, checked, ctype))
        outcome = "incomplete"
    if stopped is not None:
        explanation.append(f"rule '{stopped.id}' stopped further rules")
    return _finish(
        mapping,
        ticket,
        outcome,
        spec.name,
        [sop],
        complete,
        missing,
        invalid,
        checked,
        actions,
        rules_hit,
        (),
        explanation,
        timers,
        found=tuple(prepared.found),
    )


def _timer_specs(ctype: CompiledType, rule_ids: Iterable[str]) -> Iterator[TimerSpec]:
    hit = set(rule_ids)
    for rule in ctype.rules:
        if rule.id in hit:
            yield from rule.timers
    yield from ctype.spec.timers


def _timers_started(
    mapping: CompiledMapping,
    ctype: CompiledType,
    rules_hit: list[str],
    stopped: RuleSpec | None,
    env: _Env,
) -> list[TimerStart]:
    """Timers of the matched rules (and of the type unless a rule stopped it)."""
    started = []
    for rule in ctype.rules:
        if rule.id in rules_hit:
            started.extend((rule, timer) for timer in rule.timers)
    if stopped is None:
        started.extend((None, timer) for timer in ctype.spec.timers)
    out = []
    for rule, timer in started:
        anchor = max(env.anchor, env.now) if timer.counted_from == "decision" else env.anchor
        due = _due(mapping, timer.due, env, anchor)
        assert due is not None
        sop = timer.sop or (rule.sop if rule is not None else None) or ctype.spec.sop
        out.append(TimerStart(timer.id, due, ctype.spec.name, str(sop)))
    return out


def project(mapping: CompiledMapping, ticket: Ticket, actions: Iterable[Action]) -> Ticket:
    """The ticket as ``actions`` leave it: status, queue and owner (what timers look at).

    Used to check a timer that is already due when its decision starts it, on the ticket
    just loaded rather than a fresh read. Pure.
    """
    status, queue, owner = ticket.status, ticket.queue, ticket.owner
    for action in actions:
        if isinstance(action, SetStatus):
            status = action.status
        elif isinstance(action, Resolve):
            closed = mapping.spec.closed_statuses
            status = action.status or (closed[0] if closed else "Resolved")
        elif isinstance(action, Route):
            queue = action.group or action.queue or queue
            owner = action.owner or owner
    return replace(ticket, status=status, queue=queue, owner=owner)


def evaluate_timer(
    mapping: CompiledMapping,
    request_type: str,
    timer_id: str,
    ticket: Ticket,
    context: Context,
    now: datetime,
) -> TimerVerdict:
    """At a timer's due time: fire its actions, or say why it is cancelled. Pure."""
    if ticket.status and fold(ticket.status) in {fold(s) for s in mapping.spec.closed_statuses}:
        return TimerVerdict(False, f"ticket is {ticket.status}")
    prepared = _prepare(mapping, ticket, context, now)
    if prepared.type_name != request_type:
        return TimerVerdict(False, f"recategorised as {prepared.type_name or 'no type'}")
    ctype = prepared.ctype
    assert ctype is not None
    timer = next(
        (t for t in _timer_specs(ctype, (r.id for r in ctype.rules)) if t.id == timer_id), None
    )
    if timer is None:
        return TimerVerdict(False, f"timer '{timer_id}' no longer in mapping '{mapping.name}'")
    env = prepared.env
    if timer.while_ is not None and not _holds(timer.while_, env):
        return TimerVerdict(False, "its condition no longer holds")
    actions = _build(
        mapping,
        timer.actions,
        env,
        [],
        [],
        prepared.checked,
        ctype,
        sop=str(timer.sop) if timer.sop else None,
    )
    return TimerVerdict(True, "due", tuple(actions))


def _resolve_type(
    mapping: CompiledMapping,
    ticket: Ticket,
    raw: Mapping[str, FieldValue],
    checklists: list[Checklist],
) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(type name, how it was found, candidates when the category named two items)."""
    if ticket.request_type and ticket.request_type.strip():
        match = mapping.resolve_type(ticket.request_type)
        if match.name is not None:
            how = "" if match.how == "exact" else f" (matched {_HOW[match.how]})"
            return (
                match.name,
                f"type from the ticket's type field: '{ticket.request_type}'{how}",
                (),
            )
        if match.candidates:
            return None, None, match.candidates
    written = raw.get(TYPE_KEY)
    if written is not None:
        match = mapping.resolve_type(written.value)
        if match.name is not None:
            return (
                match.name,
                f"type from the comment ('{written.label}: {written.value}')",
                (),
            )
        if match.candidates:
            return None, None, match.candidates
    for checklist in reversed(checklists):
        for ctype in mapping.types.values():
            if ctype.spec.checklist and _title_key(checklist.title) in _checklist_keys(ctype):
                return ctype.spec.name, f"type from the checklist '{checklist.title}'", ()
    return None, None, ()


def _with_short_labels(
    ctype: CompiledType,
    raw: dict[str, FieldValue],
    internal: tuple[Comment, ...],
    labels: LabelIndex,
) -> dict[str, FieldValue]:
    """``raw`` plus the type's fields written under a shortened label ("Motivo: ...")."""
    extra: dict[str, FieldValue] = {}
    for fv in raw.values():
        if fv.key in ctype.field_keys:
            continue
        key = ctype.short_labels.get(normalize_label(fv.label))
        if key is not None and key not in raw:
            extra[key] = replace(fv, key=key)
    for comment in sorted(internal, key=lambda c: c.created_at):
        for norm, label, value, line in short_labelled(comment, labels):
            key = ctype.short_labels.get(norm)
            if key is not None and key not in raw:
                extra[key] = FieldValue(key, value, label, str(comment.id), line)
    return {**raw, **extra} if extra else raw


_HOW = {
    "deeper": "as a level below the SOP item",
    "worded": "by its words",
    "category": "as the category's own rule",
}


def _recognise(
    mapping: CompiledMapping,
    ticket: Ticket,
    context: Context,
    now: datetime,
    raw: dict[str, FieldValue],
    internal: tuple[Comment, ...],
) -> tuple[str | None, str | None]:
    """A type recognised by what the ticket says (``recognised_by``) when no category did."""
    for ctype in mapping.types.values():
        cond = ctype.spec.recognised_by
        if cond is None:
            continue
        keys = sorted(set(condition_fields(cond)), key=mapping.field_order.__getitem__)
        env = _Env(ticket, context, {}, raw, frozenset(), None, ticket.updated_at, now)
        local_now = now.astimezone(mapping.calendar.zone)
        _, _, found = _validate_present(
            mapping, keys, raw, ticket, env, local_now, internal, frozenset(keys)
        )
        if _holds(cond, env):
            sources = ", ".join(f"{f.label} ({f.source}: {f.where})" for f in found)
            return ctype.spec.name, f"type recognised from {sources or 'the ticket'}"
    return None, None


def _preflight_keys(mapping: CompiledMapping) -> frozenset[str]:
    keys: set[str] = set()
    for rule in mapping.spec.preflight:
        keys.update(rule.require)
        keys.update(rule.at_least_one_of)
    return frozenset(keys)


def _validate_present(
    mapping: CompiledMapping,
    keys: Sequence[str],
    raw: Mapping[str, FieldValue],
    ticket: Ticket,
    env: _Env,
    now: datetime,
    internal: tuple[Comment, ...],
    required: frozenset[str],
    asked: frozenset[str] = frozenset(),
) -> tuple[list[str], list[Invalid], list[Found]]:
    """Validate every field the ticket holds, wherever it is.

    Precedence per field: a labelled line in the comments (the newest wins), then the
    helpdesk's fields (configured sources, then fields named like the SOP label), then
    the prose of the comments. Lower sources are read only when higher ones are empty.
    """
    checked: list[str] = []
    invalid: list[Invalid] = []
    found: list[Found] = []
    fields = mapping.spec.fields
    pending = [k for k in keys if k not in raw]
    helpdesk: dict[str, HelpdeskValue] = (
        helpdesk_values(mapping, ticket, set(pending)) if pending else {}
    )
    # Prose is read for what can hold the ticket back or steer a rule, not for extras.
    prose_keys = [k for k in pending if k not in helpdesk and k in required]
    prose = (
        find_in_prose(fields, prose_keys, keys, internal, mapping.labels, now)
        if prose_keys and internal
        else {}
    )
    for key in keys:
        fspec = fields[key]
        sensitive = fspec.validator in SENSITIVE_VALIDATORS
        labelled = raw.get(key)
        if labelled is not None:
            value = labelled.value
            source, where = "label", f"comment {labelled.comment_id}, line {labelled.line}"
        elif key in helpdesk:
            value, source, where = helpdesk[key].value, "field", helpdesk[key].source
        elif key in prose:
            seen = prose[key]
            if seen.ambiguous and key not in asked:
                continue  # an optional datum the text leaves open is not asked for
            if seen.ambiguous:
                shown = [
                    mask_value(fspec.validator, v) if sensitive else v
                    for v in (seen.value, *seen.others)
                ]
                invalid.append(
                    Invalid(
                        key,
                        fspec.label,
                        "o texto traz mais de um valor possível ("
                        + ", ".join(shown)
                        + f"); informe qual vale com a linha '{fspec.label}: valor'",
                        "",
                        "",
                    )
                )
                continue
            value, source, where = seen.value, "prose", f"comment {seen.comment_id}"
        else:
            continue
        check = validate(fspec.validator, value, fspec.options, now)
        if not check.ok and source == "label" and fspec.validator not in _PROSE_VALIDATORS:
            value, check = _within_remark(key, fspec, value, check, now)
        if not check.ok and source == "prose" and not prose[key].stated:
            continue  # prose that is too short to describe anything: the field is absent
        shown_value = mask_value(fspec.validator, value) if sensitive else value
        if check.ok:
            env.values[key] = check.value if check.value is not None else value
            env.written[key] = value
            checked.append(fspec.label)
            found.append(Found(key, fspec.label, shown_value, source, where))
        else:
            invalid.append(
                Invalid(key, fspec.label, check.reason or "valor inválido", shown_value, "")
            )
    return checked, invalid, found


_PROSE_VALIDATORS = frozenset({"text", "city"})


def _within_remark(
    key: str, fspec: FieldSpec, value: str, check: Check, now: datetime
) -> tuple[str, Check]:
    """The value inside a labelled line that carries a remark, when there is one.

    "Valor: R$ 87,40. Contato feito" -> its first sentence; "E-mail: ana@x.com.br
    (confirmado)", "Garantia: dentro da política" -> the one value the field's own
    finder sees in the text. Two different values are not guessed between.
    """
    first, remark = split_remark(value)
    if first and remark:
        retry = validate(fspec.validator, first, fspec.options, now)
        if retry.ok:
            return first, retry
    seen = values_in_text(key, fspec, value, now)
    if len(seen) == 1:
        retry = validate(fspec.validator, seen[0], fspec.options, now)
        if retry.ok:
            return seen[0], retry
    if fspec.validator == "order_number" and not seen:
        token = value.split(maxsplit=1)[0].strip(".,;:()")
        if not any(ch.isdigit() for ch in token):
            return value, check  # "ver print" names no order
        retry = validate(fspec.validator, token, fspec.options, now)
        if retry.ok and token != value:
            return token, retry
    return value, check


def _invalid_keys(invalid: list[Invalid]) -> set[str]:
    return {i.key for i in invalid}


def _require_one_of(
    mapping: CompiledMapping,
    keys: list[str],
    env: _Env,
    invalid: list[Invalid],
    missing: list[Missing],
    sop: str,
) -> None:
    if not keys:
        return
    if any(k in env.values for k in keys) or any(k in _invalid_keys(invalid) for k in keys):
        return
    labels = [mapping.spec.fields[k].label for k in keys]
    missing.append(Missing("|".join(keys), " e/ou ".join(labels), sop))


def _apply_rules(
    mapping: CompiledMapping,
    rules: Iterable[RuleSpec],
    type_sop: Any,
    env: _Env,
    missing: list[Missing],
    sink: list[Action],
    hit: list[str],
    *,
    invalid: list[Invalid] | None = None,
    always_sink: list[Action] | None = None,
    ctype: CompiledType | None = None,
    checked: list[str] | None = None,
) -> RuleSpec | None:
    """Add matching rules' requirements; queue their actions; return the stop rule if any."""
    invalid = invalid if invalid is not None else []
    for rule in rules:
        if rule.when is not None and not _holds(rule.when, env):
            continue
        hit.append(rule.id)
        sop = str(rule.sop or type_sop or mapping.spec.sop[0])
        for key in rule.require:
            if key not in env.values and key not in _invalid_keys(invalid):
                if not any(m.key == key for m in missing):
                    missing.append(Missing(key, mapping.spec.fields[key].label, sop))
        _require_one_of(mapping, rule.at_least_one_of, env, invalid, missing, sop)
        for key in rule.require_attachments:
            if key not in env.attachments and not any(m.key == key for m in missing):
                missing.append(Missing(key, mapping.spec.attachments[key].label, sop))
        for key in rule.advise:
            label = mapping.spec.fields[key].label
            wrong = next((i for i in invalid if i.key == key), None)
            if wrong is not None and ctype is not None and key in ctype.advise_only:
                # The next level checks and fills these: a wrong value is on its list
                # and holds the ticket back only if something else does (_soft_invalid).
                env.soft_invalid.add(key)
                label = f"{label} — valor informado inválido: {wrong.reason}"
            elif key in env.values or wrong is not None:
                continue
            if label not in env.to_fill:
                env.to_fill.append(label)
        for key in rule.advise_attachments:
            label = mapping.spec.attachments[key].label
            if key not in env.attachments and label not in env.to_fill:
                env.to_fill.append(label)
        built = _build(
            mapping,
            rule.actions,
            env,
            missing,
            invalid,
            checked or [],
            ctype,
            sop=sop if rule.sop else None,
        )
        if rule.run == "always":
            (always_sink if always_sink is not None else sink).extend(built)
        else:
            sink.extend(built)
        if rule.stop:
            return rule
    return None


def _duplicate(open_tickets: tuple[RelatedTicket, ...]) -> RelatedTicket | None:
    """The other open ticket on the same subject: one in attendance first, else the first."""
    same = [t for t in open_tickets if t.same_subject]
    return next((t for t in same if t.in_attendance), same[0] if same else None)


def _holds(cond: Condition, env: _Env) -> bool:
    if cond.all is not None:
        return all(_holds(c, env) for c in cond.all)
    if cond.any is not None:
        return any(_holds(c, env) for c in cond.any)
    if cond.not_ is not None:
        return not _holds(cond.not_, env)
    if cond.attachment is not None:
        return cond.attachment in env.attachments
    if cond.duplicate is not None:
        dup = env.duplicate
        if (dup is not None) != cond.duplicate:
            return False
        if dup is None:
            return True
        if cond.has_linked_card is not None and dup.has_linked_card != cond.has_linked_card:
            return False
        if cond.in_attendance is not None and dup.in_attendance is not cond.in_attendance:
            return False
        if cond.newer is not None:
            is_newer = dup.created_at is not None and dup.created_at > env.ticket.created_at
            if is_newer != cond.newer:
                return False
        return True
    if cond.field is not None:
        value: Any = env.values.get(cond.field)
        if value is None and cond.field in env.raw:
            value = env.raw[cond.field].value
    elif cond.ticket is not None:
        value = getattr(env.ticket, cond.ticket)
    else:
        assert cond.context is not None
        value = env.context.facts.get(cond.context)
    return _test(cond, value, env.now)


def _test(cond: Condition, value: Any, now: datetime) -> bool:
    present = value is not None and value != "" and value is not False
    if cond.within_days is not None:
        return _within_days(value, cond.within_days, now)
    if cond.present is not None:
        return present == cond.present
    if cond.in_ is not None:
        return value is not None and any(_same(value, v) for v in cond.in_)
    if cond.not_equals is not None:
        return value is None or not _same(value, cond.not_equals)
    return value is not None and _same(value, cond.equals)


def _within_days(value: Any, days: int, now: datetime) -> bool:
    """True when an ISO date value lies in the ``days`` calendar days up to ``now``."""
    try:
        when = date.fromisoformat(str(value)[:10])
    except ValueError:
        return False
    return 0 <= (now.date() - when).days <= days


def _same(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        if isinstance(value, bool):
            return value == expected
        return fold(str(value)) in (
            {"true", "sim", "yes", "1"} if expected else {"false", "nao", "no", "0"}
        )
    return fold(str(value)) == fold(str(expected))


def _matched_attachments(specs: Mapping[str, AttachmentSpec], ticket: Ticket) -> frozenset[str]:
    if not ticket.attachments or not specs:
        return frozenset()
    matched = set()
    for key, spec in specs.items():
        patterns = tuple(spec.patterns)
        content_types = tuple(spec.content_types)
        for attachment in ticket.attachments:
            if _attachment_matches(
                patterns, content_types, attachment.name, _content_type(attachment)
            ):
                matched.add(key)
                break
    return frozenset(matched)


@lru_cache(maxsize=4096)
def _attachment_matches(
    patterns: tuple[str, ...], content_types: tuple[str, ...], name: str, ctype: str
) -> bool:
    folded = fold(name)
    if not any(fnmatch.fnmatchcase(folded, fold(p)) for p in patterns):
        return False
    return not content_types or any(ctype.startswith(c) for c in content_types)


def _title_key(text: str) -> str:
    """Checklist titles compare folded, "A / B" equal to "A/B", without end punctuation."""
    return _SLASH.sub("/", fold(text)).rstrip(" :.")


def _checklist_keys(ctype: CompiledType) -> set[str]:
    spec = ctype.spec
    assert spec.checklist is not None
    return {_title_key(n) for n in (spec.checklist.title, spec.name, *spec.aliases)}


_GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/binary",
     "application/x-download", "application/force-download", "application/unknown"}
)  # fmt: skip


def _content_type(attachment: Attachment) -> str:
    """The attachment's content type; by its extension when the helpdesk reports a generic one."""
    declared = (attachment.content_type or "").split(";")[0].strip().lower()
    if declared in _GENERIC_TYPES:
        return _guess_type(attachment.name).lower()
    return declared


def _guess_type(name: str) -> str:
    """Content type from the file name, for helpdesks that send none."""
    return mimetypes.guess_type(name, strict=False)[0] or ""


def _check_checklist(
    spec: ChecklistSpec,
    aliases: Iterable[str],
    checklists: list[Checklist],
    missing: list[Missing],
    invalid: list[Invalid],
    sop: str,
    comments: Sequence[Comment] = (),
) -> None:
    keys = {_title_key(spec.title), *(_title_key(a) for a in aliases)}
    found = next((c for c in reversed(checklists) if _title_key(c.title) in keys), None)
    if found is None and spec.questions:
        # The SOP's questions pasted without the macro's title line: the checklist when
        # every one of its questions is there.
        wanted = {_question_key(q) for q in spec.questions}
        found = next(
            (
                c
                for c in untitled_checklists(comments)
                if wanted <= {_question_key(q.text) for q in c.questions}
            ),
            None,
        )
    label = f"Checklist - {spec.title}"
    if found is None:
        missing.append(Missing("checklist", label, sop))
        return
    asked = {_question_key(q.text): q for q in found.questions}
    for question in spec.questions:
        if _question_key(question) not in asked:
            missing.append(Missing("checklist", f"{label}: pergunta '{question}'", sop))
    if not found.questions:
        invalid.append(Invalid("checklist", label, "checklist sem perguntas marcáveis", "", sop))
    for question in found.questions:
        marks = len(question.marked)
        if marks == 0:
            invalid.append(
                Invalid(
                    "checklist",
                    label,
                    f"pergunta '{question.text}' sem resposta (marque uma opção com X)",
                    "",
                    sop,
                )
            )
        elif marks > 1:
            invalid.append(
                Invalid(
                    "checklist",
                    label,
                    f"pergunta '{question.text}' com {marks} respostas (marque apenas uma)",
                    "",
                    sop,
                )
            )
    analysis = (found.analysis or "").strip()
    if spec.analysis_required and not analysis:
        missing.append(Missing("analysis", "Descrição da análise realizada", sop))
    elif analysis:
        lines = [line for line in analysis.splitlines() if line.strip()]
        if len(lines) > spec.analysis_max_lines:
            invalid.append(
                Invalid(
                    "analysis",
                    "Descrição da análise realizada",
                    f"a análise deve ter no máximo {spec.analysis_max_lines} "
                    f"linhas (tem {len(lines)})",
                    "",
                    sop,
                )
            )


def _question_key(text: str) -> str:
    """Checklist questions compare without case, accents or trailing punctuation."""
    return fold(text).rstrip(" :?.")


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def _note_names(
    mapping: CompiledMapping,
    ctype: CompiledType | None,
    missing: list[Missing],
    invalid: list[Invalid],
    checked: list[str],
    env: _Env,
) -> dict[str, Callable[[], str]]:
    """How to compute each note placeholder; evaluated only for placeholders a note uses."""

    def details() -> str:
        # Every value found, wherever it was, in SOP order: labelled ones as typed, those
        # from helpdesk fields or prose as validated.
        shown = {**env.values, **env.written}
        return "\n".join(
            f"{fspec.label}: {shown[key]}"
            for key, fspec in mapping.spec.fields.items()
            if key in shown
        )

    return {
        "type": lambda: ctype.spec.name if ctype else "",
        "sop": lambda: (
            str(ctype.spec.sop) if ctype else "; ".join(str(s) for s in mapping.spec.sop)
        ),
        "missing": lambda: _bullets(m.label for m in missing),
        "invalid": lambda: _bullets(
            f"{i.label}: {i.reason}" + (f" (informado: {i.value})" if i.value else "")
            for i in invalid
        ),
        "checked": lambda: _bullets(checked),
        "to_fill": lambda: _bullets(env.to_fill),
        "manual_checks": lambda: _bullets(ctype.spec.manual_checks) if ctype else "",
        "details": details,
    }


_CANONICAL_DISPLAY = frozenset({"enum", "yes_no", "uf"})
"""Validators whose canonical value reads better than the typed one ("Corporativo")."""


def _display_values(mapping: CompiledMapping, env: _Env) -> dict[str, str]:
    """Field values for templates: as typed, except choices shown by their canonical name."""
    shown = {key: found.value for key, found in env.raw.items()}
    shown.update(env.written)
    for key, value in env.values.items():
        if key not in shown or mapping.spec.fields[key].validator in _CANONICAL_DISPLAY:
            shown[key] = value
    return shown


def _roots(mapping: CompiledMapping, env: _Env) -> dict[str, Mapping[str, Any]]:
    t = env.ticket
    dup = env.duplicate
    return {
        "ticket": {
            "id": t.id,
            "number": t.display_number,
            "subject": t.subject,
            "status": t.status,
            "owner": t.owner,
            "queue": t.queue,
            "source": t.source,
            "request_type": t.request_type,
        },
        "fields": _display_values(mapping, env),
        "context": env.context.facts,
        "duplicate": {
            "id": dup.id,
            "number": dup.number or dup.id,
            "subject": dup.subject,
            "owner": dup.owner,
        }
        if dup
        else {},
    }


def _due(
    mapping: CompiledMapping, spec: DueSpec | None, env: _Env, anchor: datetime | None = None
) -> datetime | None:
    if spec is None:
        return None
    cal = mapping.calendar
    start = env.anchor if anchor is None else anchor
    if spec.business_hours:
        return cal.add_business_hours(start, spec.business_hours)
    if spec.business_days:
        return cal.add_business_days(start, spec.business_days)
    if spec.hours:
        return cal.add_calendar(start, hours=spec.hours)
    return cal.add_calendar(start, days=spec.days or 0)


def _build(
    mapping: CompiledMapping,
    specs: Iterable[ActionSpec],
    env: _Env,
    missing: list[Missing],
    invalid: list[Invalid],
    checked: list[str],
    ctype: CompiledType | None,
    *,
    sop: str | None = None,
) -> list[Action]:
    specs = list(specs)
    if not specs:
        return []
    makers = _note_names(mapping, ctype, missing, invalid, checked, env)
    if sop is not None:
        makers["sop"] = lambda: sop
    env.names = _LazyNames(makers)
    if not env.roots:
        env.roots.update(_roots(mapping, env))
    out: list[Action] = []
    for spec in specs:
        action = _make(mapping, spec, env)
        if action is not None:
            out.append(action)
    return out


def _make(mapping: CompiledMapping, item: ActionSpec, env: _Env) -> Action | None:
    def r(text: str | None) -> str | None:
        if text is None:
            return None
        return render(text, env.names or {}, env.roots).strip() or None

    def tpl(name: str | None) -> str | None:
        return r(mapping.spec.templates[name]) if name else None

    kind = item.kind
    if kind == "route" and item.route:
        s = item.route
        route = Route(queue=r(s.queue), group=r(s.group), team=r(s.team), owner=r(s.owner))
        return route if route.target else None
    if kind == "set_status" and item.set_status:
        return SetStatus(
            status=item.set_status.status, justification=r(item.set_status.justification)
        )
    if kind == "add_note" and item.add_note:
        return AddNote(text=tpl(item.add_note.template) or "", purpose=item.add_note.purpose)
    if kind == "create_task" and item.create_task:
        s = item.create_task
        due = _due(mapping, s.due, env)
        assert due is not None
        return CreateTask(
            subject=r(s.subject) or s.subject,
            due=due,
            owner=r(s.owner),
            description=r(s.description),
        )
    if kind == "create_child_ticket" and item.create_child_ticket:
        s = item.create_child_ticket
        return CreateChildTicket(
            subject=r(s.subject) or s.subject,
            description=tpl(s.description_template) or "",
            group=r(s.group),
            owner=r(s.owner),
            requester_email=r(s.requester_email),
            due=_due(mapping, s.due, env),
        )
    if kind == "create_ticket" and item.create_ticket:
        s = item.create_ticket
        return CreateTicket(
            subject=r(s.subject) or s.subject,
            description=tpl(s.description_template) or "",
            status=s.status,
            owner=r(s.owner),
            group=r(s.group),
            requester_email=r(s.requester_email),
            internal_note=tpl(s.note_template),
            due=_due(mapping, s.due, env),
        )
    if kind == "merge" and item.merge:
        into = r(item.merge.into)
        return Merge(into=into, note=tpl(item.merge.note_template)) if into else None
    if kind == "resolve" and item.resolve:
        return Resolve(status=item.resolve.status)
    if kind == "set_priority" and item.set_priority:
        return SetPriority(priority=item.set_priority.priority)
    if kind == "mark_critical" and item.mark_critical:
        return MarkCritical(reason=r(item.mark_critical.reason) or item.mark_critical.reason)
    return None


def _same_name(wanted: str | None, current: str | None) -> bool:
    return wanted is None or (current is not None and fold(wanted) == fold(current))


def _in_effect(ticket: Ticket, action: Action) -> bool:
    """True when the ticket already shows what the action would set."""
    if isinstance(action, Route):
        # queue (Salesforce) and group (Freshdesk) are both the ticket's ``queue``; a team
        # cannot be read back from the ticket, so a team route is never assumed in effect.
        return (
            action.team is None
            and bool(action.queue or action.group or action.owner)
            and _same_name(action.queue, ticket.queue)
            and _same_name(action.group, ticket.queue)
            and _same_name(action.owner, ticket.owner)
        )
    if isinstance(action, SetStatus):
        return bool(ticket.status) and fold(ticket.status or "") == fold(action.status)
    return False


def _one_note(actions: list[Action]) -> list[Action]:
    """All notes of one decision as ONE internal note, where the first one stood.

    What a decision tells the agent (where the ticket went and why, what is missing, what to
    check by hand) reads as one message, on every helpdesk.
    """
    notes = [a for a in actions if isinstance(a, AddNote)]
    if len(notes) < 2:
        return actions
    merged = AddNote(
        text="\n\n".join(n.text for n in notes),
        purpose="+".join(dict.fromkeys(n.purpose for n in notes)),
    )
    out: list[Action] = []
    for action in actions:
        if isinstance(action, AddNote):
            if merged not in out:
                out.append(merged)
        else:
            out.append(action)
    return out


def _drop_redundant(
    ticket: Ticket, actions: list[Action]
) -> tuple[list[Action], list[Action], list[str]]:
    """Split off routes/statuses the ticket already has: a handled ticket asks for nothing."""
    kept: list[Action] = []
    satisfied: list[Action] = []
    notes: list[str] = []
    for action in actions:
        if _in_effect(ticket, action):
            satisfied.append(action)
            what = (
                f"route to '{action.target}'"
                if isinstance(action, Route)
                else (f"status '{getattr(action, 'status', '')}'")
            )
            notes.append(f"{what} skipped: already in effect")
        elif action not in kept:
            kept.append(action)
    return kept, satisfied, notes


def _suggest(
    mapping: CompiledMapping,
    ticket: Ticket,
    comments: tuple[Comment, ...],
    raw: Mapping[str, FieldValue],
) -> list[str]:
    written = ticket.request_type or (raw[TYPE_KEY].value if TYPE_KEY in raw else "")
    if written:
        children = mapping.children.get(type_key(written))
        if children:
            return list(children)
    text = fold(" ".join([ticket.subject, *(c.body for c in comments)]))
    scored: list[tuple[int, str]] = []
    for ctype in mapping.types.values():
        score = sum(1 for ident in ctype.spec.identifiers if fold(ident) in text)
        if score:
            scored.append((score, ctype.spec.name))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [name for _, name in scored[:3]]


def _finish(
    mapping: CompiledMapping,
    ticket: Ticket,
    outcome: str,
    type_name: str | None,
    sops: list[str],
    complete: bool,
    missing: list[Missing],
    invalid: list[Invalid],
    checked: list[str],
    actions: list[Action],
    rules: list[str],
    suggestions: tuple[str, ...],
    explanation: list[str],
    timers: list[TimerStart] | None = None,
    found: tuple[Found, ...] = (),
) -> Decision:
    kept, satisfied, dropped = _drop_redundant(ticket, _one_note(actions))
    for i, item in enumerate(invalid):
        if not item.sop:
            invalid[i] = Invalid(
                item.key, item.label, item.reason, item.value, sops[0] if sops else ""
            )
    return Decision(
        mapping=mapping.name,
        ticket_id=ticket.id,
        outcome=outcome,
        request_type=type_name,
        sop=tuple(sops),
        complete=complete,
        missing=tuple(missing),
        invalid=tuple(invalid),
        checked=tuple(checked),
        actions=tuple(kept),
        satisfied=tuple(satisfied),
        timers=tuple(timers or ()),
        rules=tuple(rules),
        suggestions=suggestions,
        explanation=(*explanation, *dropped),
        found=found,
    )
