"""Pydantic schema of a mapping file (one YAML per SOP family in ``mappings/``).

The schema is documented for operators in ``docs/mappings.md``; keep both in step.
Every model forbids unknown keys so a typo is an error with a line number, not a rule
that silently never fires.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SopRef(_Strict):
    """Where a rule comes from: the seed file and the heading inside it."""

    file: str = Field(pattern=r"^\d{3}_[0-9a-f]{16}\.txt$")
    heading: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.file} § {self.heading}"


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class CalendarSpec(_Strict):
    """Business hours and holidays used for deadlines."""

    timezone: str = "America/Sao_Paulo"
    opens: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes: str = Field(default="18:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    weekdays: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    country: str = "BR"
    subdivision: str | None = None
    optional_holidays: list[str] = Field(default_factory=list)
    extra_holidays: list[date] = Field(default_factory=list)


class FieldSpec(_Strict):
    """A labelled value agents write in the internal comment."""

    label: str = Field(min_length=1)
    """The SOP's label, used in notes to agents."""
    synonyms: list[str] = Field(default_factory=list)
    validator: str = "text"
    options: dict[str, Any] = Field(default_factory=dict)
    ticket_field: str | list[str] | None = None
    """Default helpdesk source(s) of the value (a field's API name, ``requester.email``,
    ``organization.name``, ``tag:x``); an account's ``fields:`` config replaces them."""
    prose: Literal["auto", "description", "clause", "off"] = "auto"
    """How the value is found in unlabelled comment text: ``auto`` by its validator's shape
    (CPF, e-mail, ...), choices and ``phrases``, or next to its ``cues``; ``description``:
    the comment's prose itself (free-text fields); ``clause``: the words after one of its
    ``cues`` up to the end of the clause ("status do pedido emitido" -> "emitido"), for a
    short value that is no proper name; ``off``: only labelled or from fields."""
    cues: list[str] = Field(default_factory=list)
    """Words that name the value in prose ("pedido", "pedido GAR"); default: none, and
    then a shape-recognised value counts only when no other field of the type shares its
    validator."""
    phrases: dict[str, list[str]] = Field(default_factory=dict)
    """Canonical value -> phrases that state it in prose ("Sim": ["o erro persiste"])."""

    @property
    def sources(self) -> tuple[str, ...]:
        """The default sources as a tuple."""
        if self.ticket_field is None:
            return ()
        if isinstance(self.ticket_field, str):
            return (self.ticket_field,)
        return tuple(self.ticket_field)


class AttachmentSpec(_Strict):
    """Evidence that must be attached to the ticket."""

    label: str = Field(min_length=1)
    patterns: list[str] = Field(default_factory=lambda: ["*"])
    """Shell-style patterns matched against folded attachment names."""
    content_types: list[str] = Field(default_factory=list)
    """Accepted content types (prefixes such as ``image/``); empty = any."""


class Condition(_Strict):
    """One test on the ticket's fields or context; exactly one form per node.

    Forms: ``field`` (a mapping field) or ``ticket`` (queue, status, owner, ...) with
    ``equals``/``in``/``present``/``not_equals``; ``context`` with
    ``equals``/``present``/``in``; ``duplicate`` (the customer's other open ticket on the
    same subject) with ``has_linked_card``/``newer``/``in_attendance``; ``attachment`` (an
    attachment key); ``all``/``any``/``not`` to combine.
    """

    field: str | None = None
    ticket: Literal["queue", "status", "owner", "subject", "source", "request_type"] | None = None
    context: str | None = None
    duplicate: bool | None = None
    attachment: str | None = None
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    present: bool | None = None
    within_days: int | None = Field(default=None, gt=0)
    """Date fields: the date lies within this many calendar days before ``now``."""
    has_linked_card: bool | None = None
    newer: bool | None = None
    in_attendance: bool | None = None
    """Duplicates: an analyst is handling the other ticket (an unknown state never matches)."""
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        subjects = [
            name
            for name in (
                "field",
                "ticket",
                "context",
                "duplicate",
                "attachment",
                "all",
                "any",
                "not_",
            )
            if getattr(self, name) is not None
        ]
        if len(subjects) != 1:
            raise ValueError(
                "a condition needs exactly one of field, ticket, context, duplicate, attachment, "
                f"all, any, not (got {', '.join(s.rstrip('_') for s in subjects) or 'none'})"
            )
        tests = [
            name
            for name in ("equals", "not_equals", "in_", "present", "within_days")
            if getattr(self, name) is not None
        ]
        subject = self.field or self.ticket or self.context
        if subject is not None:
            if len(tests) != 1:
                raise ValueError(
                    f"'{subject}' needs exactly one of equals, not_equals, in, present, within_days"
                )
        elif tests:
            raise ValueError(
                "equals/not_equals/in/present/within_days only go with field, ticket or context"
            )
        if self.within_days is not None and self.field is None:
            raise ValueError("within_days only goes with field")
        if (
            self.has_linked_card is not None
            or self.newer is not None
            or self.in_attendance is not None
        ) and not self.duplicate:
            raise ValueError("has_linked_card/newer/in_attendance only go with duplicate: true")
        return self


class DueSpec(_Strict):
    """A deadline relative to the moment the agent completed the comment."""

    business_hours: float | None = Field(default=None, gt=0)
    business_days: int | None = Field(default=None, gt=0)
    hours: float | None = Field(default=None, gt=0)
    days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_unit(self) -> DueSpec:
        units = [
            n for n in ("business_hours", "business_days", "hours", "days") if getattr(self, n)
        ]
        if len(units) != 1:
            raise ValueError(
                "a due needs exactly one of business_hours, business_days, hours, days"
            )
        return self

    def describe(self) -> str:
        """pt-BR phrase for notes, e.g. '48 horas úteis'."""
        if self.business_hours:
            return f"{_num(self.business_hours)} horas úteis"
        if self.business_days:
            return f"{self.business_days} dias úteis"
        if self.hours:
            return f"{_num(self.hours)} horas"
        return f"{self.days} dias"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class RouteSpec(_Strict):
    queue: str | None = None
    group: str | None = None
    team: str | None = None
    owner: str | None = None

    @model_validator(mode="after")
    def _some_target(self) -> RouteSpec:
        if not any((self.queue, self.group, self.team, self.owner)):
            raise ValueError("route needs at least one of queue, group, team, owner")
        return self


class StatusSpec(_Strict):
    status: str = Field(min_length=1)
    justification: str | None = None


class NoteSpec(_Strict):
    template: str
    purpose: str = "note"


class TaskSpec(_Strict):
    subject: str = Field(min_length=1)
    due: DueSpec
    owner: str | None = None
    description: str | None = None


class ChildTicketSpec(_Strict):
    subject: str = Field(min_length=1)
    description_template: str
    group: str | None = None
    owner: str | None = None
    requester_email: str | None = None
    due: DueSpec | None = None


class TicketSpec(_Strict):
    subject: str = Field(min_length=1)
    description_template: str
    status: str | None = None
    owner: str | None = None
    group: str | None = None
    requester_email: str | None = None
    note_template: str | None = None
    due: DueSpec | None = None


class MergeSpec(_Strict):
    into: str = Field(min_length=1)
    """Template of the id of the ticket that stays, e.g. ``{context.onboarding_ticket_id}``."""
    note_template: str | None = None


class ResolveSpec(_Strict):
    status: str | None = None


class PrioritySpec(_Strict):
    priority: str = Field(min_length=1)


class CriticalSpec(_Strict):
    reason: str = Field(min_length=1)


class ActionSpec(_Strict):
    """Exactly one action per list item, keyed by its kind."""

    route: RouteSpec | None = None
    set_status: StatusSpec | None = None
    add_note: NoteSpec | None = None
    create_task: TaskSpec | None = None
    create_child_ticket: ChildTicketSpec | None = None
    create_ticket: TicketSpec | None = None
    merge: MergeSpec | None = None
    resolve: ResolveSpec | None = None
    set_priority: PrioritySpec | None = None
    mark_critical: CriticalSpec | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ActionSpec:
        kinds = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "each action item needs exactly one of "
                + ", ".join(type(self).model_fields)
                + f" (got {', '.join(kinds) or 'none'})"
            )
        return self

    @cached_property
    def kind(self) -> str:
        """The single action kind set on this item."""
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def spec(self) -> _Strict:
        """The parameters of the single action kind."""
        value = getattr(self, self.kind)
        assert isinstance(value, _Strict)
        return value


class TimerSpec(_Strict):
    """An SOP deadline that acts by itself: when ``due`` passes and ``while`` still holds
    on the ticket as it is then, ``actions`` run once; otherwise the timer is cancelled.

    Started when its rule (or type) acts on a complete comment, on the mapping's calendar,
    counted from ``counted_from``: ``comment`` (default), the moment the agent completed the
    comment (the customer was told, the agent escalated); ``decision``, the moment
    helpdesk-sync acts on it (its own write starts the wait, e.g. the child ticket a
    distributor must answer). The two differ only when a ticket is decided long after its
    comment (a backfill): a wait that starts with our own write must not be overdue at once.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    sop: SopRef | None = None
    due: DueSpec
    counted_from: Literal["comment", "decision"] = "comment"
    while_: Condition | None = Field(default=None, alias="while")
    actions: list[ActionSpec] = Field(min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RuleSpec(_Strict):
    """Requirements and actions that apply when ``when`` holds (always when omitted)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    sop: SopRef | None = None
    """Citation; inherits the type's when omitted."""
    when: Condition | None = None
    require: list[str] = Field(default_factory=list)
    at_least_one_of: list[str] = Field(default_factory=list)
    require_attachments: list[str] = Field(default_factory=list)
    advise: list[str] = Field(default_factory=list)
    """Fields checked when present and, when absent, listed in the note (``{to_fill}``) as
    what the next level completes: they never hold the ticket back."""
    advise_attachments: list[str] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)
    run: Literal["when_complete", "always"] = "when_complete"
    """``always``: the actions fire even when the comment is incomplete (context rules)."""
    stop: bool = False
    """When this rule matches, later rules and the type's own actions are skipped."""
    timers: list[TimerSpec] = Field(default_factory=list)
    """Deadlines this rule starts when it acts."""

    @field_validator("at_least_one_of")
    @classmethod
    def _two_or_more(cls, value: list[str]) -> list[str]:
        if len(value) == 1:
            raise ValueError("at_least_one_of needs two or more fields (use require for one)")
        return value


class ChecklistSpec(_Strict):
    """An "(X)" checklist macro that must be filled in an internal note."""

    title: str = Field(min_length=1)
    questions: list[str] = Field(default_factory=list)
    """Questions known from the SOP; empty = whatever the macro holds, each answered once."""
    analysis_max_lines: int = Field(default=3, gt=0)
    analysis_required: bool = True


class TypeSpec(_Strict):
    """One request type (or category path "A > B") of an SOP."""

    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    sop: SopRef
    identifiers: list[str] = Field(default_factory=list)
    """Words the SOP gives to recognise the case; used only to suggest a type."""
    recognised_by: Condition | None = None
    """A ticket whose category names no type is this type when the condition holds (the
    customer's request written in words, a tag): e.g. ``{field: cliente_solicitou,
    equals: "Sim"}``."""
    require: list[str] = Field(default_factory=list)
    at_least_one_of: list[str] = Field(default_factory=list)
    optional: list[str] = Field(default_factory=list)
    """Fields validated when present, never required."""
    require_attachments: list[str] = Field(default_factory=list)
    checklist: ChecklistSpec | None = None
    manual_checks: list[str] = Field(default_factory=list)
    """pt-BR: what the SOP asks the agent to verify that ticket data cannot show."""
    rules: list[RuleSpec] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)
    """Actions when the comment is complete (after the matching rules' actions)."""
    timers: list[TimerSpec] = Field(default_factory=list)
    """Deadlines the type starts when its comment is complete."""
    on_incomplete: list[ActionSpec] | None = None
    """Overrides the mapping's ``defaults.on_incomplete``."""


class Defaults(_Strict):
    on_incomplete: list[ActionSpec] = Field(default_factory=list)
    on_unmapped: list[ActionSpec] = Field(default_factory=list)


class MappingSpec(_Strict):
    """A whole mapping file."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    version: int = Field(ge=1)
    helpdesk: Literal["salesforce", "movidesk", "freshdesk", "any"]
    sop: list[SopRef] = Field(min_length=1)
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    type_labels: list[str] = Field(default_factory=list)
    """Comment labels whose value names the request type when the ticket's type is empty."""
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    attachments: dict[str, AttachmentSpec] = Field(default_factory=dict)
    templates: dict[str, str] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    preflight: list[RuleSpec] = Field(default_factory=list)
    """Rules checked on every ticket before its type (e.g. seed 002 Bloco 1)."""
    common: list[RuleSpec] = Field(default_factory=list)
    """Rules added to every mapped type."""
    closed_statuses: list[str] = Field(default_factory=list)
    """Statuses that end a ticket: its pending timers are cancelled, never fired."""
    types: list[TypeSpec] = Field(min_length=1)
