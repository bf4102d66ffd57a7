"""Deterministic idempotency keys for effects, and the marker that carries them.

A key is derived, not drawn: the same decision about the same ticket always yields the
same key, in this process or after a crash and restart. It covers what makes an effect
the same effect for an agent — a note's text, a task's subject, a route's target — and
leaves out what may drift between two decisions of one ticket (a task's due date moves
with the newest comment), so re-deciding an unchanged ticket never writes twice.

Connectors write ``marker(key)`` into every note, task and ticket they create, so after a
crash between a write and its journal commit the engine can find the write again instead
of repeating it; the decision core ignores comments that carry a marker (its own notes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from .actions import (
    Action,
    AddNote,
    CreateChildTicket,
    CreateTask,
    CreateTicket,
    MarkCritical,
    Merge,
    Resolve,
    Route,
    SetPriority,
    SetStatus,
)

MARKER_PREFIX = "hs-ref:"
"""Text connectors embed, followed by the key, in everything they create."""


_IDENTITY: dict[type[Action], Callable[[Any], dict[str, Any]]] = {
    Route: lambda a: {"queue": a.queue, "group": a.group, "team": a.team, "owner": a.owner},
    SetStatus: lambda a: {"status": a.status},
    AddNote: lambda a: {"purpose": a.purpose, "text": a.text},
    CreateTask: lambda a: {"subject": a.subject},
    CreateChildTicket: lambda a: {"subject": a.subject},
    CreateTicket: lambda a: {"subject": a.subject},
    Merge: lambda a: {"into": a.into},
    Resolve: lambda a: {},
    SetPriority: lambda a: {"priority": a.priority},
    MarkCritical: lambda a: {"reason": a.reason},
}
"""Per action kind, the fields that make two actions the same effect."""


def identity(action: Action) -> dict[str, Any]:
    """The fields that make two actions the same effect."""
    make = _IDENTITY.get(type(action))
    if make is None:
        raise TypeError(f"no identity defined for action {type(action).__name__}")
    return make(action)


def identity_kinds() -> frozenset[type[Action]]:
    """The action kinds ``identity`` knows."""
    return frozenset(_IDENTITY)


def effect_key(connector: str, ticket_id: str, action: Action) -> str:
    """``sha256(connector, ticket, kind, identity)`` as 32 hex characters."""
    canonical = json.dumps(
        [connector, ticket_id, action.kind, identity(action)],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def marker(key: str) -> str:
    """The text a connector writes so the effect can be found again."""
    return f"{MARKER_PREFIX}{key}"


def carries_marker(text: str) -> bool:
    """True for text written by helpdesk-sync itself."""
    return MARKER_PREFIX in text
