"""Load mapping YAML files, check every cross-reference, and compile them for ``decide``.

All problems found in one file are reported together, each with file, line and path, so
an operator fixes a mapping in one round instead of one error per start-up. Loading reads
the YAML with line numbers (``yaml_lines``), validates its shape (``mapping_schema``), runs
the cross-reference checks (``mapping_checks``) and compiles the indexes ``decide`` reads
(``CompiledMapping``); which type a written category names is ``type_match``'s job, and
its names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .business_time import BusinessCalendar
from .comment_parser import SHORT_LABEL_WORDS, LabelIndex, normalize_label
from .errors import MappingError, Problem
from .mapping_checks import MappingChecker
from .mapping_schema import Condition, MappingSpec, RuleSpec, TimerSpec, TypeSpec
from .prose import prepare as prepare_prose
from .prose import searchable
from .type_match import TYPE_KEY, TypeMatch, resolve_category, type_key
from .yaml_lines import LocatedDocumentError, load_yaml, validation_problems

__all__ = [
    "TYPE_KEY",
    "CompiledMapping",
    "CompiledType",
    "TypeMatch",
    "condition_fields",
    "default_mapping_dir",
    "load_mapping",
    "load_mapping_file",
    "load_mappings",
    "resolve_category",
    "type_key",
]


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
    checker = MappingChecker(spec, filename, lines, problems)
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
