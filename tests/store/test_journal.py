"""The journal's transition table, and the store applying exactly what it allows.

Every pair (from, to) of states is tried on both backends: a move the table allows
happens, any other leaves the row as it was — the guarantee two processes rely on.
"""

from __future__ import annotations

import itertools

import pytest

from engine.journal import AMBIGUOUS, TRANSITIONS, State, allowed, sources
from engine.store import Store

PATHS: dict[State, tuple[State, ...]] = {
    State.PLANNED: (),
    State.SENT: (State.SENT,),
    State.CONFIRMED: (State.SENT, State.CONFIRMED),
    State.FAILED: (State.SENT, State.FAILED),
}
"""How a fresh (``planned``) row reaches each state."""


def move(store: Store, key: str, target: State) -> None:
    """The store operation that asks for ``target``."""
    if target is State.PLANNED:
        store.plan_effect("fd", "1", key, "add_note", {"text": "x"})
    elif target is State.SENT:
        store.mark_sent([key])
    elif target is State.CONFIRMED:
        store.mark_confirmed(key, "remote-1", reconciled=False)
    else:
        store.mark_failed(key, "refused")


def test_every_state_is_reachable_and_confirmed_is_final() -> None:
    reached: set[State] = set()
    frontier: list[State | None] = [None]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)
    assert TRANSITIONS[State.CONFIRMED] <= {State.CONFIRMED}
    assert State.CONFIRMED not in AMBIGUOUS
    assert sources(State.PLANNED) == frozenset()  # planned only from no row at all


@pytest.mark.parametrize(
    ("current", "target"),
    list(itertools.product(State, State)),
    ids=lambda s: str(s),
)
def test_the_store_moves_a_row_only_as_the_table_allows(
    store: Store, current: State, target: State
) -> None:
    move(store, "k", State.PLANNED)
    for step in PATHS[current]:
        move(store, "k", step)
    before = store.get_effect("k")
    assert before is not None
    assert before.state == current

    move(store, "k", target)

    after = store.get_effect("k")
    assert after is not None
    expected = target if allowed(current, target) else current
    assert after.state == expected
