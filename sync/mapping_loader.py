"""Load mapping YAML files, check every cross-reference, and compile them for ``decide``.

All problems found in one file are reported together, each with file, line and path, so
an operator fixes a mapping in one round instead of one error per start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .business_time import BusinessCalendar
from .comment_parser import SHORT_LABEL_WORDS, LabelIndex, normalize_label
from .errors import MappingError, Problem
from .mapping_schema import (
    ActionSpec,
    Condition,
    FieldSpec,
    MappingSpec,
    RuleSpec,
    TimerSpec,
    TypeSpec,
)
from .prose import prepare as prepare_prose
from .prose import searchable
from .templates import check_placeholders
from .textnorm import WORD_ABBREVIATIONS, fold
from .validators import REGISTRY, option_errors, validate
from .yaml_lines import LocatedDocumentError, dotted, line_of, load_yaml, validation_problems

TYPE_KEY = "__request_type__"
"""Label-index key under which the mapping's ``type_labels`` are extracted."""

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def default_mapping_dir() -> Path:
    """The ``mappings/`` directory shipped with the package."""
    import mappings

    return Path(mappings.__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class CompiledType:
    """A request type with its rules flattened for fast decisions."""

    spec: TypeSpec
    rules: tuple[RuleSpec, ...]
    """The mapping's ``common`` rules followed by the type's own."""
    field_keys: frozenset[str]
    """Every field this type may validate (required anywhere or optional)."""
    steering_keys: frozenset[str] = frozenset()
    """Fields that can hold the ticket back or steer a rule and that prose can yield:
    the ones looked for in the comments' prose."""
    short_labels: Mapping[str, str] = field(default_factory=dict)
    """Normalized leading words of one field's label among this type's fields ("motivo" ->
    motivo_voucher), for labels agents shorten; a prefix two fields share is absent."""
    ordered_keys: tuple[str, ...] = ()
    """``field_keys`` in the order the mapping file lists its fields."""
    required_keys: frozenset[str] = frozenset()
    """Fields the type or one of its rules requires: only these are reported when the
    prose holds two different values (an optional one is left unread)."""
    short_keys: frozenset[str] = frozenset()
    """The fields ``short_labels`` can name."""
    advise_only: frozenset[str] = frozenset()
    """Fields rules only advise (the next level's checklist): an invalid value there is
    listed for that level to fix, it does not hold the ticket back."""


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    """A validated mapping plus the indexes ``decide`` needs."""

    spec: MappingSpec
    path: str
    calendar: BusinessCalendar
    labels: LabelIndex
    types: dict[str, CompiledType]
    """By type name (as written in the mapping)."""
    type_index: dict[str, str]
    """Folded name/alias/path -> type name."""
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Folded parent category -> its sub-type names ("Pedidos" -> "Pedidos > ...")."""
    field_order: dict[str, int] = field(default_factory=dict)
    """Field key -> position in the file, so notes list fields in the SOP's order."""
    preflight_steering: frozenset[str] = frozenset()
    """``steering_keys`` of the preflight rules alone (a ticket with no type)."""
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Field key -> helpdesk fields that hold it, in order: the account's ``fields:``
    config when bound (``field_sources.bind_sources``), else the mapping's ``ticket_field``."""
    uses_checklists: bool = field(default=False, init=False)
    """Whether a type reads an SOP checklist (else comments are not parsed for one)."""

    @property
    def name(self) -> str:
        return self.spec.name

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "uses_checklists",
            any(t.spec.checklist is not None for t in self.types.values()),
        )

    def match_type(self, raw: str | None) -> str | None:
        """The type name a raw type/category string denotes exactly, or None."""
        if not raw:
            return None
        return self.type_index.get(type_key(raw))

    def resolve_type(self, raw: str | None) -> TypeMatch:
        """The SOP item a category as helpdesks hold it names; see ``resolve_category``."""
        return resolve_category(self, raw)


_PATH_SEPARATOR = re.compile(r"\s*[>/»]\s*")
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-"})


@dataclass(frozen=True, slots=True)
class TypeMatch:
    """How a written category resolved: one type, or the candidates it could mean."""

    name: str | None
    how: str
    """``exact``, ``deeper`` (a level below the SOP's item), ``worded`` (matched by its
    words), ``category`` (the whole category's rule), ``ambiguous`` or ``none``."""
    candidates: tuple[str, ...] = ()


_STOPWORDS = frozenset(
    "a o as os e de da do das dos em no na nos nas para por com ao aos um uma meu minha "
    "sou quero se ou".split()
)
_WORD_SPLIT = re.compile(r"[^0-9a-z]+")


def _stems(text: str) -> frozenset[str]:
    """Significant word stems of a folded text: "Liberação de pagamentos" -> {liber, pagam}."""
    words = (
        WORD_ABBREVIATIONS.get(w, w)
        for w in _WORD_SPLIT.split(fold(text))
        if w and w not in _STOPWORDS
    )
    return frozenset(w[:5] if len(w) > 5 else w.rstrip("s") or w for w in words)


def _score(written: frozenset[str], phrases: Iterable[frozenset[str]]) -> int:
    """How well written words name an item: every word of one of its phrases is there,
    or the written words are a shortening of a phrase. 0 when neither."""
    best = 0
    for phrase in phrases:
        if not phrase or not written:
            continue
        if phrase <= written:
            best = max(best, 2 * len(phrase))
        elif written <= phrase:
            best = max(best, 2 * len(written) - 1)
    return best


def _type_phrases(tspec: TypeSpec, depth: int) -> list[frozenset[str]]:
    """Word sets that name a type from ``depth`` levels down: its sub-item, aliases, ids."""
    out = []
    for name in (tspec.name, *tspec.aliases):
        parts = type_key(name).split(" > ")
        out.append(_stems(" ".join(parts[depth:]) if len(parts) > depth else parts[-1]))
    out.extend(_stems(ident) for ident in tspec.identifiers)
    return out


def resolve_category(mapping: CompiledMapping, raw: str | None) -> TypeMatch:
    """Resolve a category path as agents and helpdesks write it to one SOP item.

    In order: the exact name or alias; a path one or more levels deeper than an item that
    has no sub-items of its own ("Liberação de pagamento > Pix"); the sub-item of a known
    category by its words ("Pedidos > Atraso de entrega"), over the item names, aliases and
    the SOP's identifiers; the whole text over every item; the category's own rule when
    the SOP gives one. A tie between two items is never guessed: ``ambiguous`` lists them.
    """
    if not raw or not raw.strip():
        return TypeMatch(None, "none")
    key = type_key(raw)
    exact = mapping.type_index.get(key)
    if exact is not None:
        return TypeMatch(exact, "exact")
    if key in mapping.children:
        # A category with sub-items, written without one: the SOP gives no rule for it.
        return TypeMatch(None, "ambiguous", tuple(mapping.children[key]))
    parts = key.split(" > ")
    for depth in range(len(parts) - 1, 0, -1):
        prefix = " > ".join(parts[:depth])
        name = mapping.type_index.get(prefix)
        if name is not None and prefix not in mapping.children:
            return TypeMatch(name, "deeper")
    parent_depth = 0
    for depth in range(len(parts) - 1, 0, -1):
        if " > ".join(parts[:depth]) in mapping.children:
            parent_depth = depth
            break
    if parent_depth:
        parent = " > ".join(parts[:parent_depth])
        pool = [mapping.types[n].spec for n in mapping.children[parent]]
        written = _stems(" ".join(parts[parent_depth:]))
        match = _best(pool, written, parent_depth, mapping)
        if match.name is not None or match.how == "ambiguous":
            return match
        own = mapping.type_index.get(parent)
        if own is not None:
            return TypeMatch(own, "category")
    pool = [t.spec for t in mapping.types.values()]
    return _best(pool, _stems(key.replace(" > ", " ")), 0, mapping)


def _best(
    pool: list[TypeSpec], written: frozenset[str], depth: int, mapping: CompiledMapping
) -> TypeMatch:
    scored = []
    for tspec in pool:
        score = _score(written, _type_phrases(tspec, depth))
        if depth == 0:
            score = max(score, _score(written, [_stems(type_key(tspec.name).replace(" > ", " "))]))
        if score:
            scored.append((score, tspec.name))
    if depth == 0:
        # Over every item, one shortened word ("Atraso") names nothing for sure.
        scored = [(score, name) for score, name in scored if score >= 2]
    if not scored:
        return TypeMatch(None, "none")
    top = max(score for score, _ in scored)
    best = list(dict.fromkeys(name for score, name in scored if score == top))
    if len(best) == 1:
        return TypeMatch(best[0], "worded")
    return TypeMatch(None, "ambiguous", tuple(best))


@lru_cache(maxsize=8192)
def type_key(raw: str) -> str:
    """Folded key of a type name or category path: "A > B", "A / B", "A/B" are one path.

    Dashes of any kind compare equal ("Nota Fiscal – Fenacon" as word processors write it).
    """
    text = fold(raw).translate(_DASHES)
    parts = [part.strip(" .:-") for part in _PATH_SEPARATOR.split(text)]
    return " > ".join(part for part in parts if part)


def load_mapping_file(path: Path) -> CompiledMapping:
    """Read, validate and compile one mapping file; raises ``MappingError``."""
    filename = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError([Problem(filename, None, "", f"cannot read: {exc.strerror}")]) from exc
    try:
        data, lines = load_yaml(text, filename)
    except LocatedDocumentError as exc:
        raise MappingError([exc.problem]) from exc
    if not isinstance(data, dict):
        raise MappingError([Problem(filename, 1, "", "a mapping file must be a YAML mapping")])
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        located = validation_problems(exc, filename, lines, echo_input=True)
        raise MappingError([p for _, p in located]) from exc
    problems: list[Problem] = []
    checker = _Checker(spec, filename, lines, problems)
    checker.run()
    if path.stem != spec.name:
        problems.append(
            Problem(
                filename,
                lines.get(("name",)),
                "name",
                f"'{spec.name}' must equal the file name '{path.stem}'",
            )
        )
    calendar = checker.calendar()
    labels = checker.label_index()
    if problems:
        raise MappingError(problems)
    assert calendar is not None
    assert labels is not None
    return _compile(spec, filename, calendar, labels)


def load_mappings(directory: Path | None = None) -> dict[str, CompiledMapping]:
    """Load every ``*.yaml`` mapping in a directory; all problems reported together."""
    directory = directory or default_mapping_dir()
    loaded: dict[str, CompiledMapping] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            mapping = load_mapping_file(path)
        except MappingError as exc:
            problems.extend(exc.problems)
            continue
        loaded[mapping.name] = mapping
    if problems:
        raise MappingError(problems)
    if not loaded:
        raise MappingError([Problem(str(directory), None, "", "no *.yaml mapping files found")])
    return loaded


def load_mapping(name: str, directory: Path | None = None) -> CompiledMapping:
    """Load one mapping by name (``eps``) or by path to a YAML file."""
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"} or "/" in name:
        return load_mapping_file(candidate)
    directory = directory or default_mapping_dir()
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise MappingError(
            [Problem(str(path), None, "", f"unknown mapping '{name}'; known: {', '.join(known)}")]
        )
    return load_mapping_file(path)


class _Checker:
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


def _rule_fields(rules: Iterable[RuleSpec]) -> Iterator[str]:
    """Fields a rule requires or tests, so each is validated whenever present."""
    for rule in rules:
        yield from rule.require
        yield from rule.at_least_one_of
        yield from rule.advise
        if rule.when is not None:
            yield from condition_fields(rule.when)


def condition_fields(cond: Condition) -> Iterator[str]:
    """Every mapping field a condition tests, nested conditions included."""
    if cond.field is not None:
        yield cond.field
    for sub in (*(cond.all or ()), *(cond.any or ())):
        yield from condition_fields(sub)
    if cond.not_ is not None:
        yield from condition_fields(cond.not_)


def _steering(
    spec: MappingSpec,
    rules: Iterable[RuleSpec],
    required: Iterable[str],
    timers: Iterable[TimerSpec],
) -> frozenset[str]:
    """Prose-findable fields required or advised by the type or a rule, or tested by a
    rule or timer."""
    keys = set(required)
    for rule in rules:
        keys.update((*rule.require, *rule.at_least_one_of, *rule.advise))
        if rule.when is not None:
            keys.update(condition_fields(rule.when))
        timers = [*timers, *rule.timers]
    for timer in timers:
        if timer.while_ is not None:
            keys.update(condition_fields(timer.while_))
    return frozenset(k for k in keys if searchable(spec.fields[k]))


_DANGLING = frozenset(
    {"a", "o", "as", "os", "de", "do", "da", "dos", "das", "e", "ou", "para", "com", "no", "na",
     "nos", "nas", "em", "por", "pelo", "pela", "se"}
)  # fmt: skip


def _short_labels(spec: MappingSpec, keys: Iterable[str], labels: LabelIndex) -> dict[str, str]:
    """Leading-word prefixes of the type's field labels that name exactly one field.

    A prefix may be another type's full label ("Motivo" is SOP 000's "Motivo da
    Solicitação"): on this type's tickets it names this type's field.
    """
    keys = frozenset(keys)
    owner: dict[str, str | None] = {}
    for key in keys:
        fspec = spec.fields[key]
        for synonym in (fspec.label, *fspec.synonyms):
            words = normalize_label(synonym).split()
            for size in range(1, min(len(words), SHORT_LABEL_WORDS + 1)):
                prefix = " ".join(words[:size])
                if words[size - 1] in _DANGLING or labels.lookup_normalized(prefix) in keys:
                    continue  # a label of the type's own: read as such
                if owner.setdefault(prefix, key) != key:
                    owner[prefix] = None
    return {prefix: key for prefix, key in owner.items() if key is not None}


def _advise_only(rules: Iterable[RuleSpec], tspec: TypeSpec) -> frozenset[str]:
    """Advised fields that no rule requires, tests or counts among its alternatives."""
    advised: set[str] = set()
    hard: set[str] = {*tspec.require, *tspec.at_least_one_of}
    if tspec.recognised_by is not None:
        hard.update(condition_fields(tspec.recognised_by))
    for rule in rules:
        advised.update(rule.advise)
        hard.update((*rule.require, *rule.at_least_one_of))
        if rule.when is not None:
            hard.update(condition_fields(rule.when))
        for timer in rule.timers:
            if timer.while_ is not None:
                hard.update(condition_fields(timer.while_))
    for timer in tspec.timers:
        if timer.while_ is not None:
            hard.update(condition_fields(timer.while_))
    return frozenset(advised - hard)


def _compile(
    spec: MappingSpec, filename: str, calendar: BusinessCalendar, labels: LabelIndex
) -> CompiledMapping:
    types: dict[str, CompiledType] = {}
    index: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    for key, fspec in spec.fields.items():
        prepare_prose(key, fspec)
    for tspec in spec.types:
        rules = (*spec.common, *tspec.rules)
        keys = frozenset(
            [
                *tspec.require,
                *tspec.at_least_one_of,
                *tspec.optional,
                *_rule_fields(rules),
                *_rule_fields(spec.preflight),
                *(condition_fields(tspec.recognised_by) if tspec.recognised_by else ()),
            ]
        )
        steering = _steering(
            spec, [*spec.preflight, *rules], [*tspec.require, *tspec.at_least_one_of], tspec.timers
        )
        short = _short_labels(spec, keys, labels)
        types[tspec.name] = CompiledType(
            tspec,
            rules,
            keys,
            steering_keys=steering,
            ordered_keys=tuple(k for k in spec.fields if k in keys),
            short_labels=short,
            required_keys=frozenset(
                [
                    *tspec.require,
                    *tspec.at_least_one_of,
                    *(k for r in rules for k in (*r.require, *r.at_least_one_of)),
                ]
            ),
            short_keys=frozenset(short.values()),
            advise_only=_advise_only([*spec.preflight, *rules], tspec),
        )
        for name in (tspec.name, *tspec.aliases):
            index[type_key(name)] = tspec.name
        parts = type_key(tspec.name).split(" > ")
        for depth in range(1, len(parts)):
            children.setdefault(" > ".join(parts[:depth]), []).append(tspec.name)
    return CompiledMapping(
        spec=spec,
        path=filename,
        calendar=calendar,
        labels=labels,
        types=types,
        type_index=index,
        children={k: tuple(v) for k, v in children.items()},
        field_order={key: index for index, key in enumerate(spec.fields)},
        preflight_steering=_steering(spec, spec.preflight, [], []),
        sources={key: f.sources for key, f in spec.fields.items() if f.sources},
    )
