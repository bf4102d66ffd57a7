"""What a configuration names in a helpdesk account, and whether the account has it.

Theory of operation
-------------------
* A mapping and a connector's configuration name things that must exist in the account:
  groups or queues to route to, agents or users to own tickets and tasks, statuses,
  custom fields to read, the request types of the type field. A name the account lacks
  fails every ticket that needs it (a 400 on each write), so ``check`` compares them
  before ``run`` meets them.
* ``mapping_names`` walks a mapping file as written (with its line table) and yields one
  ``NameUse`` per name: kind, value, file, line and dotted path. Values with a
  placeholder (``{context.escalated_by}``) are decided per ticket and are not checked.
* ``AccountNames`` is what a connector read from its account (``account_names()``): per
  kind, the names it knows, folded the way the helpdesk compares them, plus the kinds
  it could not list and why (Movidesk has no documented list of statuses, say).
* ``missing`` compares the two: one ``Problem`` per name the account lacks, naming the
  file, line and path to fix, and the known names closest to it; and the uses that could
  not be checked, so the report says what it did not check.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import Problem
from .textnorm import fold
from .type_match import type_key
from .yaml_lines import line_of, load_yaml

Kind = Literal["group", "owner", "status", "field", "type"]
KIND_WORDS: Mapping[str, str] = {
    "group": "group/queue/team",
    "owner": "agent/owner",
    "status": "status",
    "field": "field",
    "type": "request type",
}
_PLACEHOLDER = re.compile(r"\{[^{}]+\}")
_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class NameUse:
    """One name a mapping or configuration uses, and where."""

    kind: Kind
    value: str
    file: str
    line: int | None
    path: str
    alternatives: tuple[str, ...] = ()
    """Other names that denote the same thing (a type's aliases): one found is enough."""

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.path, message)


def name_key(kind: str, name: str) -> str:
    """How names of a kind compare: request types as category paths, the rest folded
    (case, accents and runs of blanks do not matter)."""
    if kind == "type":
        return type_key(name)
    return " ".join(fold(name).split())


@dataclass
class AccountNames:
    """The names an account holds, by kind, as its connector read them."""

    helpdesk: str
    known: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Kind -> every name the helpdesk accepts for it (display names, e-mails, API names)."""
    unchecked: Mapping[str, str] = field(default_factory=dict)
    """Kind -> why the connector cannot list that kind."""
    subtypes: Sequence[str] | None = None
    """Sub-category choices when they live in a field of their own (not nested under a
    category): a type "A > B" is found when A is a type and B a sub-type."""
    free_subtypes: bool = False
    """The sub-category is free text: a type "A > B" is found when A is a type."""
    task_owners: bool = True
    """Whether a task's owner must be an agent of the account (False: the helpdesk keeps
    tasks as note text, any name goes)."""
    exact: frozenset[str] = frozenset()
    """Kinds whose names the helpdesk takes only as spelled (a Salesforce picklist value
    is written as it is): compared exactly, blanks around them aside."""
    _keys: dict[str, set[str]] = field(init=False, repr=False)
    _subtypes: set[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._keys = {k: {self._key(k, n) for n in names} for k, names in self.known.items()}
        self._subtypes = None if self.subtypes is None else {type_key(n) for n in self.subtypes}

    def _key(self, kind: str, name: str) -> str:
        return name.strip() if kind in self.exact else name_key(kind, name)

    def has(self, kind: str, name: str) -> bool | None:
        """Whether the account holds the name; None when the kind cannot be listed."""
        keys = self._keys
        if kind not in keys:
            return None
        key = self._key(kind, name)
        if key in keys[kind]:
            return True
        subtypes = self._subtypes
        if kind == "type" and " > " in key and (subtypes is not None or self.free_subtypes):
            head, _, rest = key.partition(" > ")
            return head in keys[kind] and (self.free_subtypes or rest in (subtypes or ()))
        return False

    def closest(self, kind: str, name: str) -> list[str]:
        """Known names that look like ``name``, for the message."""
        names = list(dict.fromkeys(self.known.get(kind, ())))
        by_key: dict[str, str] = {}
        for n in names:  # the first spelling of a name is its display name
            by_key.setdefault(name_key(kind, n), n)
        found = difflib.get_close_matches(name_key(kind, name), list(by_key), _SUGGESTIONS, 0.6)
        return [by_key[k] for k in found]


@dataclass(frozen=True, slots=True)
class AccountReport:
    """What ``missing`` found: names the account lacks and uses it could not check."""

    problems: list[Problem]
    unchecked: list[str]
    checked: int


def missing(uses: Iterable[NameUse], account: AccountNames) -> AccountReport:
    """One located problem per name the account lacks (at its first use in each file, the
    other lines listed), and a note per kind the connector could not list."""
    lacking: dict[tuple[str, str, str], list[NameUse]] = {}
    unchecked: dict[str, int] = {}
    checked = 0
    for use in uses:
        found = [account.has(use.kind, name) for name in (use.value, *use.alternatives)]
        if any(f is None for f in found):
            unchecked[use.kind] = unchecked.get(use.kind, 0) + 1
            continue
        checked += 1
        if not any(found):
            key = (use.file, use.kind, name_key(use.kind, use.value))
            lacking.setdefault(key, []).append(use)
    problems: list[Problem] = []
    for (_, kind, _), found_uses in lacking.items():
        first = found_uses[0]
        message = (
            f"{KIND_WORDS[kind]} '{first.value}' does not exist in the {account.helpdesk} account"
        )
        near = account.closest(kind, first.value)
        if near:
            message += f" (closest: {', '.join(repr(n) for n in near)})"
        others = sorted({u.line for u in found_uses[1:] if u.line and u.line != first.line})
        if others:
            message += f"; also used at line(s) {', '.join(map(str, others))}"
        problems.append(first.problem(message))
    notes = [
        f"{n} {KIND_WORDS[kind]} name(s) not checked: {account.unchecked.get(kind, 'not listed')}"
        for kind, n in sorted(unchecked.items())
    ]
    return AccountReport(problems, notes, checked)


# ---------------------------------------------------------------------- mapping names

_ACTION_NAMES: Mapping[str, Mapping[str, Kind]] = {
    "route": {"queue": "group", "group": "group", "team": "group", "owner": "owner"},
    "set_status": {"status": "status"},
    "resolve": {"status": "status"},
    "create_task": {"owner": "owner"},
    "create_child_ticket": {"group": "group", "owner": "owner"},
    "create_ticket": {"status": "status", "group": "group", "owner": "owner"},
}
_CONDITION_KINDS: Mapping[str, Kind] = {"queue": "group", "status": "status", "owner": "owner"}
_PSEUDO_FIELD = re.compile(r"[.:]")
"""``requester.email``, ``organization.document``, ``tag:...``: the connector's own
normalized values, not account fields."""

PathT = tuple[str | int, ...]


def mapping_names(path: Path, *, task_owners: bool = True) -> list[NameUse]:
    """Every account name the mapping file at ``path`` uses, with its line.

    ``task_owners`` False leaves task owners out (a helpdesk whose tasks have no owner).
    """
    filename = str(path)
    data, lines = load_yaml(path.read_text(encoding="utf-8"), filename)
    uses: list[NameUse] = []

    def add(kind: Kind, value: Any, loc: PathT, alternatives: Sequence[str] = ()) -> None:
        if not isinstance(value, str) or not value.strip() or _PLACEHOLDER.search(value):
            return
        line = line_of(lines, loc)
        uses.append(NameUse(kind, value, filename, line, _dotted(loc), tuple(alternatives)))

    for key, spec in (data.get("fields") or {}).items():
        if not isinstance(spec, dict):
            continue
        sources = spec.get("ticket_field")
        for i, source in enumerate(sources if isinstance(sources, list) else [sources]):
            if isinstance(source, str) and not _PSEUDO_FIELD.search(source):
                loc: PathT = ("fields", key, "ticket_field")
                add("field", source, (*loc, i) if isinstance(sources, list) else loc)
    for i, tspec in enumerate(data.get("types") or []):
        if isinstance(tspec, dict) and isinstance(tspec.get("name"), str):
            aliases = [a for a in tspec.get("aliases") or [] if isinstance(a, str)]
            add("type", tspec["name"], ("types", i, "name"), aliases)
    for loc, node in _walk(data, ()):
        if not isinstance(node, dict):
            continue
        for action, names in _ACTION_NAMES.items():
            spec = node.get(action)
            if not isinstance(spec, dict):
                continue
            for attr, kind in names.items():
                if kind == "owner" and action == "create_task" and not task_owners:
                    continue
                add(kind, spec.get(attr), (*loc, action, attr))
        tested = node.get("ticket")
        kind = _CONDITION_KINDS.get(tested) if isinstance(tested, str) else None
        if kind is not None:
            add(kind, node.get("equals"), (*loc, "equals"))
            add(kind, node.get("not_equals"), (*loc, "not_equals"))
            for j, value in enumerate(node.get("in") or []):
                add(kind, value, (*loc, "in", j))
    return uses


def config_names(
    filename: str,
    lines: Mapping[Any, int],
    index: int,
    names: Iterable[tuple[Kind, PathT, str]],
) -> list[NameUse]:
    """The names one connector's configuration uses: ``(kind, key path, value)`` from its
    settings (``ConnectorSettingsBase.account_names``), located in the config file (no
    line when the value comes from a default or the environment)."""
    uses: list[NameUse] = []
    table = dict(lines)
    for kind, key, value in names:
        loc: PathT = ("connectors", index, *key)
        line = table.get(loc)
        uses.append(NameUse(kind, value, filename, line, _dotted(loc)))
    return uses


def _walk(node: Any, loc: PathT) -> Iterator[tuple[PathT, Any]]:
    yield loc, node
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("templates", "fields", "attachments", "sop", "calendar"):
                continue
            yield from _walk(value, (*loc, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*loc, i))


def _dotted(path: PathT) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = [
    "KIND_WORDS",
    "AccountNames",
    "AccountReport",
    "NameUse",
    "config_names",
    "mapping_names",
    "missing",
    "name_key",
]
