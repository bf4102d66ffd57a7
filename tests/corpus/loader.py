"""Read the labelled corpus (``tests/corpus/*.yaml``), decide every ticket, compare.

Each corpus file holds tickets written the way support agents write them and, for each,
the decision its SOP expects (``expect``). The expectations follow the SOPs in
``../shared/seeds``, not what the decision core happens to accept today: the corpus is the
yardstick the core is measured with (``bench/corpus.py``, ``tests/core/test_corpus.py``).

File format (one file per mapping; every ``*.yaml`` here is read, so new files join)::

    mapping: eps
    now: "2026-11-24T15:00:00Z"        # decision time
    sources: {}                          # connector ``fields:`` config: field key -> helpdesk
                                         # field (or requester.<part>, organization.<part>)
    tickets:
      - id: eps-001
        about: "what the ticket tests"
        sources: {...}                   # optional, merged over the file's (ticket wins)
        now: "..."                       # optional, overrides the file's
        ticket: {...}                    # normalized ticket JSON (README "Ticket JSON")
        expect:
          outcome: complete              # complete | incomplete | unmapped | handled_by_rule
          request_type: "Voucher"        # or null
          targets: ["Backoffice EPS"]    # [] = not escalated anywhere
          missing: []                    # keys; "a|b" for an at-least-one-of pair
          invalid: []
          critical: false

Ticket defaults: ``id`` = the case id; ``source`` = the mapping's helpdesk;
``created_at`` = now - 2 h; ``updated_at`` = now - 5 min; comments get ids ``c1``, ``c2``,
... and ``created_at`` one minute apart ending at now - 5 min, ``internal: true``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from sync.actions import Action, CreateChildTicket, CreateTicket, MarkCritical, Merge, Route
from sync.decide import Decision, decide
from sync.errors import MappingError
from sync.mapping_loader import CompiledMapping, load_mapping
from sync.model import Context, Ticket
from sync.ticket_io import TicketDoc
from sync.yaml_lines import LocatedDocumentError, dotted, line_of, load_yaml

CORPUS_DIR = Path(__file__).resolve().parent

OUTCOMES = ("complete", "incomplete", "unmapped", "handled_by_rule")
CLEAN_OUTCOMES = frozenset({"complete", "handled_by_rule"})
"""Expected outcomes with every datum the SOP needs: a note saying something is missing
or invalid on such a ticket is a false missing note."""

# Mistake kinds, in report order.
FALSE_MISSING = "false_missing"
FALSE_ROUTE = "false_route"
WRONG_TARGET = "wrong_target"
WRONG_TYPE = "wrong_type"
WRONG_MISSING_LIST = "wrong_missing_list"
CRITICAL = "critical"
WRONG_OUTCOME = "wrong_outcome"
MISSED_ROUTE = "missed_route"
ERROR = "error"
KINDS = (
    FALSE_MISSING,
    FALSE_ROUTE,
    WRONG_TARGET,
    WRONG_TYPE,
    WRONG_MISSING_LIST,
    CRITICAL,
    WRONG_OUTCOME,
    MISSED_ROUTE,
    ERROR,
)
HEADLINE_KINDS = (FALSE_MISSING, FALSE_ROUTE, WRONG_TARGET)
OTHER_KINDS = tuple(k for k in KINDS if k not in HEADLINE_KINDS)

KIND_TITLES = {
    FALSE_MISSING: "false missing note",
    FALSE_ROUTE: "false route",
    WRONG_TARGET: "wrong target",
    WRONG_TYPE: "wrong type",
    WRONG_MISSING_LIST: "wrong missing/invalid list",
    CRITICAL: "critical mismatch",
    WRONG_OUTCOME: "wrong outcome",
    MISSED_ROUTE: "not escalated",
    ERROR: "decide() raised",
}

_HELPDESK_SOURCE = {"salesforce": "salesforce", "movidesk": "movidesk", "freshdesk": "freshdesk"}


class CorpusError(Exception):
    """A corpus file is malformed; every problem names the file (and ticket id)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# ---- the file format -------------------------------------------------------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpectDoc(_Doc):
    outcome: Literal["complete", "incomplete", "unmapped", "handled_by_rule"]
    request_type: str | None
    targets: list[str]
    missing: list[str] = Field(default_factory=list)
    invalid: list[str] = Field(default_factory=list)
    critical: bool = False


class CaseDoc(_Doc):
    id: str = Field(min_length=1)
    about: str = Field(min_length=1)
    sources: dict[str, str] | None = None
    now: AwareDatetime | None = None
    ticket: dict[str, Any]
    expect: ExpectDoc


class FileDoc(_Doc):
    mapping: str = Field(min_length=1)
    now: AwareDatetime
    sources: dict[str, str] = Field(default_factory=dict)
    tickets: list[dict[str, Any]]


# ---- loaded cases ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectation:
    outcome: str
    request_type: str | None
    targets: frozenset[str]
    missing: frozenset[str]
    invalid: frozenset[str]
    critical: bool


@dataclass(frozen=True, slots=True)
class CorpusCase:
    file: str
    line: int | None
    mapping: str
    id: str
    about: str
    now: datetime
    sources: Mapping[str, str]
    ticket: Ticket
    context: Context
    expect: Expectation

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def key_of(item: str) -> str:
    """A missing/invalid key, with an at-least-one-of pair in a stable order ("a|b")."""
    return "|".join(sorted(part.strip() for part in item.split("|")))


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_corpus(directory: Path = CORPUS_DIR, mapping: str | None = None) -> list[CorpusCase]:
    """Every case of every corpus file (or of one mapping); ``CorpusError`` lists problems."""
    cases: list[CorpusCase] = []
    problems: list[str] = []
    for path in corpus_files(directory):
        try:
            cases.extend(load_file(path))
        except CorpusError as exc:
            problems.extend(exc.problems)
    seen: dict[str, CorpusCase] = {}
    for case in cases:
        other = seen.setdefault(case.id, case)
        if other is not case:
            problems.append(f"{case.where}: ticket {case.id}: duplicate id (also at {other.where})")
    if problems:
        raise CorpusError(problems)
    return [c for c in cases if mapping is None or c.mapping == mapping]


def load_file(path: Path) -> list[CorpusCase]:
    """The cases of one corpus file."""
    name = _display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CorpusError([f"{name}: cannot read: {exc.strerror}"]) from exc
    try:
        data, lines = load_yaml(text, name)
    except LocatedDocumentError as exc:
        raise CorpusError([str(exc.problem)]) from exc
    if not isinstance(data, dict):
        raise CorpusError([f"{name}:1: a corpus file must be a YAML mapping"])
    try:
        doc = FileDoc.model_validate(data)
    except ValidationError as exc:
        raise CorpusError(_problems(exc, name, lines, (), "")) from exc
    try:
        compiled = _mapping(doc.mapping)
    except MappingError as exc:
        raise CorpusError([f"{name}:{line_of(lines, ('mapping',))}: mapping: {exc}"]) from exc

    cases: list[CorpusCase] = []
    problems: list[str] = []
    for index, raw in enumerate(doc.tickets):
        base = ("tickets", index)
        ident = str(raw.get("id") or f"#{index + 1}") if isinstance(raw, dict) else f"#{index}"
        try:
            case = CaseDoc.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems(exc, name, lines, base, ident))
            continue
        line = line_of(lines, base)
        where = f"{name}:{line}: ticket {case.id}"
        now = case.now or doc.now
        try:
            ticket, context = _ticket(case, compiled, now)
        except ValidationError as exc:
            problems.extend(_problems(exc, name, lines, (*base, "ticket"), case.id))
            continue
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        expect = case.expect
        inconsistent = _inconsistent(expect)
        if inconsistent:
            problems.append(f"{where}: expect: {inconsistent}")
            continue
        cases.append(
            CorpusCase(
                file=name,
                line=line,
                mapping=doc.mapping,
                id=case.id,
                about=case.about,
                now=now,
                sources={**doc.sources, **(case.sources or {})},
                ticket=ticket,
                context=context,
                expect=Expectation(
                    outcome=expect.outcome,
                    request_type=expect.request_type,
                    targets=frozenset(expect.targets),
                    missing=frozenset(key_of(k) for k in expect.missing),
                    invalid=frozenset(key_of(k) for k in expect.invalid),
                    critical=expect.critical,
                ),
            )
        )
    if problems:
        raise CorpusError(problems)
    return cases


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(CORPUS_DIR.parents[1]))
    except ValueError:
        return str(path)


def _problems(
    exc: ValidationError, name: str, lines: dict[Any, int], base: tuple[Any, ...], ident: str
) -> list[str]:
    out = []
    for error in exc.errors():
        loc = (*base, *(p for p in error["loc"] if isinstance(p, str | int)))
        message = {"extra_forbidden": "unknown key", "missing": "required key missing"}.get(
            error["type"], error["msg"]
        )
        who = f" ticket {ident}:" if ident else ""
        out.append(f"{name}:{line_of(lines, loc)}:{who} {dotted(loc)}: {message}")
    return out


def _inconsistent(expect: ExpectDoc) -> str | None:
    if expect.outcome in ("incomplete", "unmapped") and expect.targets:
        return f"outcome {expect.outcome} is never escalated: targets must be []"
    if expect.outcome == "complete" and (expect.missing or expect.invalid):
        return "outcome complete cannot list missing or invalid items"
    if expect.outcome == "incomplete" and not (expect.missing or expect.invalid):
        return "outcome incomplete must name the missing or invalid items"
    return None


def _ticket(case: CaseDoc, mapping: CompiledMapping, now: datetime) -> tuple[Ticket, Context]:
    data = dict(case.ticket)
    data.setdefault("id", case.id)
    data.setdefault("source", _HELPDESK_SOURCE.get(mapping.spec.helpdesk, "unknown"))
    data.setdefault("created_at", (now - timedelta(hours=2)).isoformat())
    data.setdefault("updated_at", (now - timedelta(minutes=5)).isoformat())
    comments = data.get("comments") or []
    if not isinstance(comments, list):
        raise ValueError("ticket.comments must be a list")
    last = now - timedelta(minutes=5)
    filled = []
    for index, comment in enumerate(comments):
        if not isinstance(comment, dict):
            raise ValueError(f"ticket.comments[{index}] must be a mapping with a body")
        item = dict(comment)
        item.setdefault("id", f"c{index + 1}")
        item.setdefault("internal", True)
        item.setdefault(
            "created_at", (last - timedelta(minutes=len(comments) - 1 - index)).isoformat()
        )
        filled.append(item)
    data["comments"] = filled
    ids = {c["id"] for c in filled}
    for index, attachment in enumerate(data.get("attachments") or []):
        ref = attachment.get("comment_id") if isinstance(attachment, dict) else None
        if ref is not None and ref not in ids:
            raise ValueError(f"ticket.attachments[{index}].comment_id: no comment '{ref}'")
    doc = TicketDoc.model_validate(data)
    return doc.to_ticket(), doc.to_context()


# ---- deciding and comparing ------------------------------------------------------------


@cache
def _mapping(name: str) -> CompiledMapping:
    return load_mapping(name)


@cache
def _bound(name: str, sources: tuple[tuple[str, str], ...]) -> CompiledMapping:
    # The connector's field-sources binding (the lead's sync/field_sources.py). Imported
    # here so that a missing module fails loudly when deciding, not when loading files.
    from sync.field_sources import bind_sources

    return bind_sources(_mapping(name), dict(sources))


def bound_mapping(case: CorpusCase) -> CompiledMapping:
    """The case's mapping bound to its field sources."""
    return _bound(case.mapping, tuple(sorted(case.sources.items())))


@dataclass(frozen=True, slots=True)
class Observed:
    """What the decision said, in the corpus's terms."""

    outcome: str
    request_type: str | None
    targets: frozenset[str]
    missing: frozenset[str]
    invalid: frozenset[str]
    critical: bool
    explanation: tuple[str, ...] = ()
    error: str | None = None


def targets_of(actions: Iterable[Action]) -> frozenset[str]:
    """Where the actions send the ticket (routes, child/created tickets, merges)."""
    out = set()
    for action in actions:
        if isinstance(action, Route):
            target = action.target
        elif isinstance(action, CreateChildTicket):
            target = action.group or action.owner or ""
        elif isinstance(action, CreateTicket):
            target = action.owner or action.group or ""
        elif isinstance(action, Merge):
            target = f"merge {action.into}"
        else:
            continue
        if target:
            out.add(target)
    return frozenset(out)


def observe(decision: Decision) -> Observed:
    acted = (*decision.actions, *decision.satisfied)
    explanation = [*decision.explanation]
    explanation += [f"missing: {m.key} ({m.label})" for m in decision.missing]
    explanation += [f"invalid: {i.key} ({i.label}: {i.reason})" for i in decision.invalid]
    explanation += [f"rules: {', '.join(decision.rules)}"] if decision.rules else []
    return Observed(
        outcome=decision.outcome,
        request_type=decision.request_type,
        targets=targets_of(acted),
        missing=frozenset(key_of(m.key) for m in decision.missing),
        invalid=frozenset(key_of(i.key) for i in decision.invalid),
        critical=any(isinstance(a, MarkCritical) for a in acted),
        explanation=tuple(explanation),
    )


def classify(expect: Expectation, got: Observed) -> tuple[str, ...]:
    """The mistakes a decision makes against its expectation (empty = right)."""
    if got.error is not None:
        return (ERROR,)
    kinds = []
    if expect.outcome in CLEAN_OUTCOMES and (
        got.outcome == "incomplete" or got.missing - expect.missing or got.invalid - expect.invalid
    ):
        kinds.append(FALSE_MISSING)
    if got.targets and (not expect.targets or expect.outcome in ("incomplete", "unmapped")):
        kinds.append(FALSE_ROUTE)
    elif expect.targets and got.targets and expect.targets != got.targets:
        kinds.append(WRONG_TARGET)
    elif expect.targets and not got.targets and FALSE_MISSING not in kinds:
        kinds.append(MISSED_ROUTE)
    if expect.request_type != got.request_type:
        kinds.append(WRONG_TYPE)
    if (
        expect.outcome == "incomplete"
        and got.outcome == "incomplete"
        and (expect.missing != got.missing or expect.invalid != got.invalid)
    ):
        kinds.append(WRONG_MISSING_LIST)
    if expect.critical != got.critical:
        kinds.append(CRITICAL)
    if expect.outcome != got.outcome and not (
        expect.outcome in CLEAN_OUTCOMES and got.outcome == "incomplete"
    ):
        kinds.append(WRONG_OUTCOME)
    return tuple(kinds)


@dataclass(frozen=True, slots=True)
class Result:
    case: CorpusCase
    got: Observed
    mistakes: tuple[str, ...]


def run_case(case: CorpusCase) -> Result:
    mapping = bound_mapping(case)
    try:
        decision = decide(mapping, case.ticket, case.context, case.now)
    except Exception as exc:  # noqa: BLE001 - a crash on one ticket is a reported mistake
        got = Observed("error", None, frozenset(), frozenset(), frozenset(), False, (), repr(exc))
        return Result(case, got, (ERROR,))
    got = observe(decision)
    return Result(case, got, classify(case.expect, got))


@dataclass(slots=True)
class MappingReport:
    mapping: str
    results: list[Result] = field(default_factory=list)

    @property
    def tickets(self) -> int:
        return len(self.results)

    def expected(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.case.expect.outcome == outcome)

    @property
    def base(self) -> int:
        """Tickets expected complete: the base of the false-missing rate."""
        return self.expected("complete")

    def count(self, kind: str) -> int:
        return sum(1 for r in self.results if kind in r.mistakes)

    @property
    def false_missing_pct(self) -> float:
        return 100.0 * self.count(FALSE_MISSING) / self.base if self.base else 0.0

    @property
    def other(self) -> int:
        """Tickets with a mistake outside the three headline kinds (type, missing list,
        critical, outcome, not escalated, error)."""
        return sum(1 for r in self.results if any(k in OTHER_KINDS for k in r.mistakes))

    @property
    def mistakes(self) -> list[Result]:
        return [r for r in self.results if r.mistakes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping,
            "tickets": self.tickets,
            "expected": {o: self.expected(o) for o in OUTCOMES},
            "false_missing": self.count(FALSE_MISSING),
            "false_missing_base": self.base,
            "false_missing_pct": round(self.false_missing_pct, 1),
            "false_routes": self.count(FALSE_ROUTE),
            "wrong_targets": self.count(WRONG_TARGET),
            "other_mismatches": self.other,
            "by_kind": {k: self.count(k) for k in KINDS},
            "correct": self.tickets - len(self.mistakes),
            "mistakes": [result_dict(r) for r in self.mistakes],
        }


def run_corpus(
    directory: Path = CORPUS_DIR, mapping: str | None = None
) -> dict[str, MappingReport]:
    """Decide every case; one report per mapping, in file order."""
    reports: dict[str, MappingReport] = {}
    for case in load_corpus(directory, mapping):
        report = reports.setdefault(case.mapping, MappingReport(case.mapping))
        report.results.append(run_case(case))
    return reports


def unknown_names(cases: Iterable[CorpusCase]) -> dict[str, list[str]]:
    """Expected type names and field keys today's mapping does not know (informational:
    the core is being changed to the SOPs, so these show what it still lacks)."""
    out: dict[str, set[str]] = {}
    for case in cases:
        spec = _mapping(case.mapping).spec
        known_types = {t.name for t in spec.types}
        known_keys = {*spec.fields, *spec.attachments, "checklist", "analysis"}
        bucket = out.setdefault(case.mapping, set())
        name = case.expect.request_type
        if name is not None and name not in known_types:
            bucket.add(f"type '{name}'")
        for key in (*case.expect.missing, *case.expect.invalid):
            for part in key.split("|"):
                if part not in known_keys:
                    bucket.add(f"field '{part}'")
    return {m: sorted(v) for m, v in out.items() if v}


# ---- rendering -------------------------------------------------------------------------


def _fmt(items: Iterable[str]) -> str:
    return "[" + ", ".join(sorted(items)) + "]"


def describe_expected(e: Expectation) -> str:
    return (
        f"{e.outcome}, type={e.request_type!r}, targets={_fmt(e.targets)}, "
        f"missing={_fmt(e.missing)}, invalid={_fmt(e.invalid)}, critical={e.critical}"
    )


def describe_got(g: Observed) -> str:
    if g.error is not None:
        return f"error: {g.error}"
    return (
        f"{g.outcome}, type={g.request_type!r}, targets={_fmt(g.targets)}, "
        f"missing={_fmt(g.missing)}, invalid={_fmt(g.invalid)}, critical={g.critical}"
    )


def result_dict(r: Result) -> dict[str, Any]:
    e, g = r.case.expect, r.got
    return {
        "id": r.case.id,
        "about": r.case.about,
        "where": r.case.where,
        "mistakes": list(r.mistakes),
        "expected": {
            "outcome": e.outcome,
            "request_type": e.request_type,
            "targets": sorted(e.targets),
            "missing": sorted(e.missing),
            "invalid": sorted(e.invalid),
            "critical": e.critical,
        },
        "got": {
            "outcome": g.outcome,
            "request_type": g.request_type,
            "targets": sorted(g.targets),
            "missing": sorted(g.missing),
            "invalid": sorted(g.invalid),
            "critical": g.critical,
            "error": g.error,
        },
        "explanation": list(g.explanation),
    }


def render_mistake(r: Result) -> str:
    kinds = ", ".join(KIND_TITLES[k] for k in r.mistakes)
    lines = [
        f"{r.case.id} ({r.case.where}): {kinds}",
        f"  about:    {r.case.about}",
        f"  expected: {describe_expected(r.case.expect)}",
        f"  got:      {describe_got(r.got)}",
    ]
    lines += [f"  why:      {line}" for line in r.got.explanation]
    return "\n".join(lines)


def render_summary(report: MappingReport) -> str:
    others = ", ".join(
        f"{KIND_TITLES[k]} {report.count(k)}" for k in OTHER_KINDS if report.count(k)
    )
    expected = ", ".join(f"{o} {report.expected(o)}" for o in OUTCOMES if report.expected(o))
    return "\n".join(
        [
            f"{report.mapping}: {report.tickets} tickets ({expected})",
            f"  correct:             {report.tickets - len(report.mistakes)}",
            f"  false missing notes: {report.count(FALSE_MISSING)} "
            f"({report.false_missing_pct:.1f} % of {report.base} expected complete)",
            f"  false routes:        {report.count(FALSE_ROUTE)}",
            f"  wrong targets:       {report.count(WRONG_TARGET)}",
            f"  other mismatches:    {report.other}" + (f" ({others})" if others else ""),
        ]
    )
