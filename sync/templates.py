"""Placeholder templates for notes, subjects and action targets.

Only ``{name}`` and ``{root.key}`` placeholders exist (no format specs, no attribute
access), so a template written by ops cannot reach into Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+))?\}")
CONDITIONAL = re.compile(r"^\{\?([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+))?\}")
"""A line starting with ``{?name}`` is kept only when ``name`` renders non-empty."""

ROOTS = frozenset({"ticket", "fields", "context", "duplicate"})
NAMES = frozenset(
    {
        "type",
        "sop",
        "missing",
        "to_fill",
        "invalid",
        "checked",
        "manual_checks",
        "suggestions",
        "details",
    }
)
TICKET_KEYS = frozenset(
    {"id", "number", "subject", "status", "owner", "queue", "source", "request_type"}
)
DUPLICATE_KEYS = frozenset({"id", "number", "subject", "owner"})


def placeholders(template: str) -> list[tuple[str, str | None]]:
    """The ``(root, key)`` pairs a template uses (conditional prefixes included)."""
    found = [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template)]
    for line in template.splitlines():
        cond = CONDITIONAL.match(line)
        if cond:
            found.append((cond.group(1), cond.group(2)))
    return found


def check_placeholders(template: str, field_keys: set[str]) -> list[str]:
    """Problems with a template's placeholders (unknown names, fields or keys).

    The template is also split into its lines here, once, so rendering never pays for it.
    """
    _compile(template)
    problems: list[str] = []
    for root, key in placeholders(template):
        if key is None:
            if root not in NAMES:
                problems.append(
                    f"unknown placeholder '{{{root}}}'; known: {', '.join(sorted(NAMES))} "
                    f"or {{root.key}} with root in {', '.join(sorted(ROOTS))}"
                )
        elif root not in ROOTS:
            problems.append(f"unknown placeholder root '{root}' in '{{{root}.{key}}}'")
        elif root == "fields" and key not in field_keys:
            problems.append(f"placeholder '{{fields.{key}}}' names a field that does not exist")
        elif root == "ticket" and key not in TICKET_KEYS:
            problems.append(
                f"placeholder '{{ticket.{key}}}' unknown; known: {', '.join(sorted(TICKET_KEYS))}"
            )
        elif root == "duplicate" and key not in DUPLICATE_KEYS:
            problems.append(
                f"placeholder '{{duplicate.{key}}}' unknown; "
                f"known: {', '.join(sorted(DUPLICATE_KEYS))}"
            )
    return problems


class _Names(Protocol):
    def get(self, key: str, default: Any = None, /) -> Any: ...


def render(template: str, names: _Names, roots: Mapping[str, Mapping[str, Any]]) -> str:
    """Fill placeholders; a missing value renders empty, and so do empty sections.

    A line made only of placeholders that all render empty is dropped, and a line prefixed
    ``{?name}`` (or ``{?root.key}``) is dropped when that value is empty, so a note has no
    empty headings.
    """
    if "{" not in template:
        return template

    empty: Mapping[str, Any] = {}

    def _value(root: str, key: str | None) -> str:
        value = names.get(root) if key is None else roots.get(root, empty).get(key)
        return "" if value is None else str(value)

    out: list[str] = []
    for condition, parts, only_placeholders in _compile(template):
        if condition is not None and not _value(*condition).strip():
            continue
        rendered = "".join(
            [part if part.__class__ is str else _value(*part) for part in parts]  # type: ignore[misc]
        )
        if only_placeholders and not rendered.strip():
            continue
        out.append(rendered)
    return "\n".join(out)


_Part = str | tuple[str, str | None]


@lru_cache(maxsize=4096)
def _compile(
    template: str,
) -> tuple[tuple[tuple[str, str | None] | None, tuple[_Part, ...], bool], ...]:
    """Split a template once into lines of literal text and placeholders."""
    lines = []
    for line in template.split("\n"):
        condition: tuple[str, str | None] | None = None
        cond = CONDITIONAL.match(line)
        if cond:
            condition = (cond.group(1), cond.group(2))
            line = line[cond.end() :]
        parts: list[_Part] = []
        position = 0
        for match in PLACEHOLDER.finditer(line):
            if match.start() > position:
                parts.append(line[position : match.start()])
            parts.append((match.group(1), match.group(2)))
            position = match.end()
        if position < len(line):
            parts.append(line[position:])
        has_placeholder = any(not isinstance(p, str) for p in parts)
        only = has_placeholder and not "".join(p for p in parts if isinstance(p, str)).strip()
        lines.append((condition, tuple(parts), only))
    return tuple(lines)
