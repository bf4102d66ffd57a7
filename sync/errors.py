"""Exception tree of helpdesk-sync.

    HelpdeskSyncError
    ├── ConfigError        bad settings file / environment (exit 2)
    ├── MappingError       bad mapping YAML, unknown validator, dangling reference (exit 2)
    └── InputError         a ticket document that cannot be read (exit 2 in ``explain``)

Connector errors (retriable, fatal, auth) join this tree with the connectors.
"""

from __future__ import annotations

from dataclasses import dataclass


class HelpdeskSyncError(Exception):
    """Root of every error helpdesk-sync raises on purpose."""


class ConfigError(HelpdeskSyncError):
    """Settings are invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a file: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class _LocatedError(HelpdeskSyncError):
    """An error carrying one or more located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class MappingError(_LocatedError):
    """A mapping file is invalid; each problem names file, line and path."""


class InputError(_LocatedError):
    """A ticket document is invalid; each problem names file, line and field."""
