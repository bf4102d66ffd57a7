"""The effect journal's states and the transitions allowed between them.

Every effect the engine writes has one journal row (``engine.store``), keyed by its derived
idempotency key (``sync.effects``). Its state says what is known about the helpdesk:

    (none) ──plan──▶ planned ──send──▶ sent ──confirm──▶ confirmed
                        │                │ ▲                ▲
                        │             fail│ │send (again,    │confirm (found by a
                        │                ▼ │ after a lookup) │ lookup, or already
                        └──supersede──▶ failed ─────────────┘ in effect)

* ``planned``: decided, never sent. Nothing is in the helpdesk.
* ``sent``: a write call carrying it left (or may have). The only ambiguous state: after a
  crash the helpdesk may or may not have it, so the writer looks it up before sending it
  again. ``sent`` → ``sent`` counts one more attempt.
* ``confirmed``: the helpdesk has it (written, or found). Final: never downgraded; found
  again, it stays ``confirmed`` and keeps the remote id it knew.
* ``failed``: the helpdesk refused it, the call failed, or a newer decision no longer asks
  for it. An earlier attempt may still have landed, so it is looked up before it is sent
  again, like ``sent``.

``engine.store`` applies each transition as one ``UPDATE … WHERE state IN (sources)``, so
a move the table does not allow changes nothing, even between two processes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class State(StrEnum):
    """A journal row's state (stored as its value)."""

    PLANNED = "planned"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"


TRANSITIONS: Final[dict[State | None, frozenset[State]]] = {
    None: frozenset({State.PLANNED}),
    State.PLANNED: frozenset({State.SENT, State.CONFIRMED, State.FAILED}),
    State.SENT: frozenset({State.SENT, State.CONFIRMED, State.FAILED}),
    State.FAILED: frozenset({State.SENT, State.CONFIRMED, State.FAILED}),
    State.CONFIRMED: frozenset({State.CONFIRMED}),
}
"""From each state (``None``: no row yet), the states a row may move to."""

AMBIGUOUS: Final = frozenset({State.SENT, State.FAILED})
"""States whose effect may be in the helpdesk without the journal knowing: look it up
before writing it again."""

OPEN: Final = frozenset({State.PLANNED, State.SENT})
"""States of effects still in flight (``unfinished``; settled by the next decision)."""


def sources(target: State) -> frozenset[State]:
    """The states from which a row may move to ``target``."""
    return frozenset(
        s for s, targets in TRANSITIONS.items() if s is not None and target in targets
    )


def allowed(current: State | None, target: State) -> bool:
    """True when the table allows ``current`` → ``target``."""
    return target in TRANSITIONS[current]


__all__ = ["AMBIGUOUS", "OPEN", "TRANSITIONS", "State", "allowed", "sources"]
