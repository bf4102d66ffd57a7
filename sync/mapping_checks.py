"""Cross-reference checks of a mapping file that its schema cannot express.

``MappingChecker`` runs after pydantic has validated a mapping's shape: every field,
attachment, template and placeholder a rule, type, timer or action names must exist,
validator names and options must be known and well typed, condition values must be
possible for their field, type names and aliases must be unique, a timer id means one
timer; it also builds the business calendar and the label index. Each problem is
appended to the caller's list with file, line and path, so one run reports them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from .business_time import BusinessCalendar
from .comment_parser import LabelIndex
from .errors import Problem
from .mapping_schema import (
    ActionSpec,
    Condition,
    FieldSpec,
    MappingSpec,
    RuleSpec,
    TimerSpec,
    TypeSpec,
)
from .templates import check_placeholders
from .type_match import TYPE_KEY, type_key
from .validators import REGISTRY, option_errors, validate
from .yaml_lines import dotted, line_of

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class MappingChecker:
    """Cross-reference checks pydantic cannot express."""

    def __init__(
        self, spec: MappingSpec, filename: str, lines: dict[Any, int], problems: list[Problem]
    ) -> None:
        self.spec = spec
        self.filename = filename
        self.lines = lines
        self.problems = problems
        self.field_keys = set(spec.fields)

    def add(self, loc: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(self.filename, line_of(self.lines, loc), dotted(loc), message))

    def run(self) -> None:
        for key, fspec in self.spec.fields.items():
            self.check_validator(("fields", key), fspec)
        for name, template in self.spec.templates.items():
            for message in check_placeholders(template, self.field_keys):
                self.add(("templates", name), message)
        self.check_actions(("defaults", "on_incomplete"), self.spec.defaults.on_incomplete)
        self.check_actions(("defaults", "on_unmapped"), self.spec.defaults.on_unmapped)
        for section in ("preflight", "common"):
            self.check_rules((section,), getattr(self.spec, section))
        seen: dict[str, str] = {}
        for index, tspec in enumerate(self.spec.types):
            loc: tuple[str | int, ...] = ("types", index)
            for alias_index, name in enumerate([tspec.name, *tspec.aliases]):
                key = type_key(name)
                where = (*loc, "name") if alias_index == 0 else (*loc, "aliases", alias_index - 1)
                if key in seen:
                    self.add(
                        where, f"duplicate type name/alias '{name}' (already used by '{seen[key]}')"
                    )
                else:
                    seen[key] = tspec.name
            self.check_type(loc, tspec)

    def check_validator(self, loc: tuple[str | int, ...], fspec: FieldSpec) -> None:
        validator = REGISTRY.get(fspec.validator)
        if validator is None:
            self.add(
                (*loc, "validator"),
                f"'{fspec.validator}' unknown; known: {', '.join(sorted(REGISTRY))}",
            )
            return
        unknown = sorted(set(fspec.options) - validator.options)
        if unknown:
            self.add(
                (*loc, "options"),
                f"unknown option(s) {', '.join(unknown)} for validator "
                f"'{fspec.validator}'; known: "
                f"{', '.join(sorted(validator.options)) or 'none'}",
            )
        for message in option_errors(fspec.options):
            self.add((*loc, "options"), message)
        missing = sorted(validator.required_options - set(fspec.options))
        if missing:
            self.add(
                (*loc, "options"),
                f"validator '{fspec.validator}' needs option(s) {', '.join(missing)}",
            )

    def check_fields(self, loc: tuple[str | int, ...], keys: Iterable[str]) -> None:
        for index, key in enumerate(keys):
            if key not in self.field_keys:
                self.add((*loc, index), f"field '{key}' is not defined under fields:")

    def check_attachments(self, loc: tuple[str | int, ...], keys: Iterable[str]) -> None:
        for index, key in enumerate(keys):
            if key not in self.spec.attachments:
                self.add((*loc, index), f"attachment '{key}' is not defined under attachments:")

    def check_type(self, loc: tuple[str | int, ...], tspec: TypeSpec) -> None:
        if tspec.recognised_by is not None:
            self.check_condition((*loc, "recognised_by"), tspec.recognised_by)
        self.check_fields((*loc, "require"), tspec.require)
        self.check_fields((*loc, "at_least_one_of"), tspec.at_least_one_of)
        self.check_fields((*loc, "optional"), tspec.optional)
        self.check_attachments((*loc, "require_attachments"), tspec.require_attachments)
        self.check_rules((*loc, "rules"), tspec.rules)
        self.check_actions((*loc, "actions"), tspec.actions)
        self.check_timers((*loc, "timers"), tspec.timers)
        # One id, one timer: branches may share a timer (same definition), never reuse an id.
        seen_timers: dict[str, TimerSpec] = {}
        for timer in [
            *tspec.timers,
            *(t for r in (*self.spec.common, *tspec.rules) for t in r.timers),
        ]:
            if seen_timers.setdefault(timer.id, timer) != timer:
                self.add(
                    (*loc, "name"),
                    f"timer id '{timer.id}' is used twice in this type with different definitions",
                )
        if tspec.on_incomplete is not None:
            self.check_actions((*loc, "on_incomplete"), tspec.on_incomplete)
        if len(tspec.at_least_one_of) == 1:
            self.add((*loc, "at_least_one_of"), "needs two or more fields (use require for one)")

    def check_rules(self, loc: tuple[str | int, ...], rules: list[RuleSpec]) -> None:
        ids: set[str] = set()
        for index, rule in enumerate(rules):
            rloc = (*loc, index)
            if rule.id in ids:
                self.add((*rloc, "id"), f"duplicate rule id '{rule.id}'")
            ids.add(rule.id)
            self.check_fields((*rloc, "require"), rule.require)
            self.check_fields((*rloc, "at_least_one_of"), rule.at_least_one_of)
            self.check_attachments((*rloc, "require_attachments"), rule.require_attachments)
            self.check_fields((*rloc, "advise"), rule.advise)
            self.check_attachments((*rloc, "advise_attachments"), rule.advise_attachments)
            if rule.when is not None:
                self.check_condition((*rloc, "when"), rule.when)
            self.check_actions((*rloc, "actions"), rule.actions)
            self.check_timers((*rloc, "timers"), rule.timers)

    def check_timers(self, loc: tuple[str | int, ...], timers: list[TimerSpec]) -> None:
        for index, timer in enumerate(timers):
            if timer.while_ is not None:
                self.check_condition((*loc, index, "while"), timer.while_)
            self.check_actions((*loc, index, "actions"), timer.actions)

    def check_condition(self, loc: tuple[str | int, ...], cond: Condition) -> None:
        if cond.field is not None:
            fspec = self.spec.fields.get(cond.field)
            if fspec is None:
                self.add((*loc, "field"), f"field '{cond.field}' is not defined under fields:")
                return
            expected = [cond.equals, cond.not_equals, *(cond.in_ or [])]
            for value in expected:
                if value is None or fspec.validator not in REGISTRY:
                    continue
                check = validate(fspec.validator, str(value), fspec.options)
                if not check.ok:
                    self.add(
                        loc,
                        f"value {value!r} can never match field '{cond.field}' ({check.reason})",
                    )
        if cond.attachment is not None and cond.attachment not in self.spec.attachments:
            self.add((*loc, "attachment"), f"attachment '{cond.attachment}' is not defined")
        for key in ("all", "any"):
            for index, sub in enumerate(getattr(cond, key) or []):
                self.check_condition((*loc, key, index), sub)
        if cond.not_ is not None:
            self.check_condition((*loc, "not"), cond.not_)

    def check_actions(self, loc: tuple[str | int, ...], actions: list[ActionSpec]) -> None:
        for index, action in enumerate(actions):
            aloc = (*loc, index, action.kind)
            spec = action.spec
            for name, value in spec:
                if isinstance(value, str):
                    if name.endswith("template"):
                        if value not in self.spec.templates:
                            self.add(
                                (*aloc, name),
                                f"template '{value}' is not defined under "
                                f"templates:; known: "
                                f"{', '.join(sorted(self.spec.templates))}",
                            )
                    else:
                        for message in check_placeholders(value, self.field_keys):
                            self.add((*aloc, name), message)

    def calendar(self) -> BusinessCalendar | None:
        cal = self.spec.calendar
        try:
            return BusinessCalendar(
                timezone=cal.timezone,
                opens=time.fromisoformat(cal.opens),
                closes=time.fromisoformat(cal.closes),
                weekdays=frozenset(_WEEKDAYS[d] for d in cal.weekdays),
                country=cal.country,
                subdivision=cal.subdivision,
                optional_holidays=tuple(cal.optional_holidays),
                extra_holidays=tuple(cal.extra_holidays),
            )
        except ValueError as exc:
            self.add(("calendar",), str(exc))
            return None

    def label_index(self) -> LabelIndex | None:
        labels = {key: [f.label, *f.synonyms] for key, f in self.spec.fields.items()}
        if self.spec.type_labels:
            labels[TYPE_KEY] = list(self.spec.type_labels)
        try:
            return LabelIndex(labels)
        except ValueError as exc:
            self.add(("fields",), str(exc))
            return None
