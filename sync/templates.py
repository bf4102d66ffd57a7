"""Placeholder templates for notes, subjects and action targets.

Only ``{name}`` and ``{root.key}`` placeholders exist (no format specs, no attribute
access), so a template written by ops cannot reach into Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+))?\}")
CONDITIONAL = re.compile(r"^\{\?([A-Za-z_][A-Za-z0-9_]*)\}")
"""A line starting with ``{?name}`` is kept only when ``name`` renders non-empty."""

ROOTS = frozenset({"ticket", "fields", "context", "duplicate"})
NAMES = frozenset(
    {
        "type",
        "sop",
        "missing",
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
            found.append((cond.group(1), None))
    return found


def check_placeholders(template: str, field_keys: set[str]) -> list[str]:
    """Problems with a template's placeholders (unknown names, fields or keys)."""
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


def render(template: str, names: Mapping[str, Any], roots: Mapping[str, Mapping[str, Any]]) -> str:
    """Fill placeholders; a missing value renders empty, and so do empty sections.

    A line made only of placeholders that all render empty is dropped, and a line prefixed
    ``{?name}`` is dropped when ``name`` is empty, so a note has no empty headings.
    """

    def _value(root: str, key: str | None) -> str:
        value = names.get(root) if key is None else roots.get(root, {}).get(key)
        return "" if value is None else str(value)

    def _sub(match: re.Match[str]) -> str:
        return _value(match.group(1), match.group(2))

    if "{" not in template:
        return template
    out: list[str] = []
    for line in template.split("\n"):
        cond = CONDITIONAL.match(line)
        if cond:
            if not _value(cond.group(1), None).strip():
                continue
            line = line[cond.end() :]
        rendered = PLACEHOLDER.sub(_sub, line)
        if (
            not rendered.strip()
            and PLACEHOLDER.search(line)
            and not PLACEHOLDER.sub("", line).strip()
        ):
            continue
        out.append(rendered)
    return "\n".join(out)
