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


def identity(action: Action) -> dict[str, Any]:
    """The fields that make two actions the same effect."""
    if isinstance(action, Route):
        return {
            "queue": action.queue,
            "group": action.group,
            "team": action.team,
            "owner": action.owner,
        }
    if isinstance(action, SetStatus):
        return {"status": action.status}
    if isinstance(action, AddNote):
        return {"purpose": action.purpose, "text": action.text}
    if isinstance(action, CreateTask | CreateChildTicket | CreateTicket):
        return {"subject": action.subject}
    if isinstance(action, Merge):
        return {"into": action.into}
    if isinstance(action, Resolve):
        return {}
    if isinstance(action, SetPriority):
        return {"priority": action.priority}
    if isinstance(action, MarkCritical):
        return {"reason": action.reason}
    raise TypeError(f"no identity defined for action {type(action).__name__}")


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
