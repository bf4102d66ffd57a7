"""YAML and JSON loading that remembers the line of every key and list item.

Error messages must name the line an operator has to fix, so the loaders return the data
plus a ``{path: line}`` table that pydantic error locations are looked up in.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import Problem

Path = tuple[str | int, ...]


class LocatedDocumentError(ValueError):
    """The document is not well-formed YAML/JSON (syntax error, duplicate key)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def load_yaml(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML into plain Python objects plus a line table keyed by path."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = getattr(exc, "problem", None) or str(exc)
        raise LocatedDocumentError(Problem(filename, line, "", f"invalid YAML: {detail}")) from exc
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.SafeLoader("")
    return _convert(node, (), lines, constructor, filename), lines


def _convert(
    node: yaml.Node, path: Path, lines: dict[Path, int], constructor: Any, filename: str
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise LocatedDocumentError(
                    Problem(filename, key_node.start_mark.line + 1, _dotted(path), "invalid key")
                )
            key = str(key)
            if key in result:
                raise LocatedDocumentError(
                    Problem(
                        filename,
                        key_node.start_mark.line + 1,
                        _dotted((*path, key)),
                        "duplicate key",
                    )
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, (*path, key), lines, constructor, filename)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, index), lines, constructor, filename)
            for index, item in enumerate(node.value)
        ]
    return constructor.construct_object(node, deep=True)


def load_json(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse JSON with ``json``; line numbers come from reading it again as YAML 1.2."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LocatedDocumentError(
            Problem(filename, exc.lineno, "", f"invalid JSON: {exc.msg} (column {exc.colno})")
        ) from exc
    try:
        _, lines = load_yaml(text, filename)
    except (LocatedDocumentError, yaml.YAMLError):
        lines = {}  # valid JSON that YAML cannot read (tabs, duplicate keys): no line numbers
    return data, lines


def validation_problems(
    exc: ValidationError,
    filename: str,
    lines: dict[Path, int],
    *,
    noun: str = "key",
    echo_input: bool = False,
) -> list[tuple[Path, Problem]]:
    """Each pydantic error as a located problem (its path kept for callers that need it).

    ``echo_input`` quotes the offending value; only for files without secrets or PII
    (mappings), never for tickets or settings.
    """
    out = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if isinstance(part, str | int))
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown {noun}"
        elif error["type"] == "missing":
            message = f"required {noun} missing"
        elif echo_input:
            value = error.get("input")
            if isinstance(value, str | int) and not isinstance(value, bool):
                message += f" (got {value!r})"
        out.append((loc, Problem(filename, line_of(lines, loc), _dotted(loc), message)))
    return out


def line_of(lines: dict[Path, int], loc: Path) -> int | None:
    """The line of the deepest known prefix of ``loc``."""
    for end in range(len(loc), -1, -1):
        line = lines.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted
