"""Every action kind is handled by every layer: effect identity, explain, each connector.

Adding an action kind to ``sync.actions`` without registering it in ``ACTION_TYPES``, or
without teaching a layer about it, fails here — not in production on the first ticket
that needs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import responses

import sync.actions as actions_module
from sync.actions import (
    ACTION_TYPES,
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
from sync.contract import Effect
from sync.effects import effect_key, identity, identity_kinds, marker
from tests.contract.harness import FreshdeskHarness

DUE = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def samples(other_ticket: str) -> dict[type[Action], Action]:
    """One action of every kind, as the decision core would produce it."""
    return {
        Route: Route(group="Financeiro"),
        SetStatus: SetStatus(status="Pending"),
        AddNote: AddNote(text="[helpdesk-sync] Faltando: CNPJ", purpose="incomplete"),
        CreateTask: CreateTask(subject="Retornar ao cliente", due=DUE),
        CreateChildTicket: CreateChildTicket(
            subject="Distribuidor Tambasa: pedido 5570012",
            description="Dados",
            group="Distribuidores",
        ),
        CreateTicket: CreateTicket(
            subject="OUVIDORIA - cliente", description="Relato", group="Financeiro"
        ),
        Merge: Merge(into=other_ticket),
        Resolve: Resolve(),
        SetPriority: SetPriority(priority="High"),
        MarkCritical: MarkCritical(reason="Caso crítico (Ouvidoria)"),
    }


def test_every_action_class_is_registered() -> None:
    defined = {
        obj
        for _, obj in inspect.getmembers(actions_module, inspect.isclass)
        if issubclass(obj, Action) and obj is not Action
    }
    assert set(ACTION_TYPES) == defined
    assert len({t.kind for t in ACTION_TYPES}) == len(ACTION_TYPES)


def test_every_kind_has_an_effect_identity_and_a_stable_key() -> None:
    assert identity_kinds() == set(ACTION_TYPES)
    for kind, action in samples("2").items():
        assert isinstance(action, kind)
        identity(action)  # raises for a kind without one
        assert effect_key("fd", "1", action) == effect_key("fd", "1", action)


def test_every_kind_has_a_sample_here() -> None:
    assert set(samples("2")) == set(ACTION_TYPES)


@pytest.fixture
def harness() -> Iterator[FreshdeskHarness]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FreshdeskHarness(rsps, style="sac-fields")


@pytest.mark.parametrize("kind", ACTION_TYPES, ids=[t.kind for t in ACTION_TYPES])
def test_freshdesk_writes_every_kind_and_finds_it_again(
    harness: FreshdeskHarness, kind: type[Action]
) -> None:
    """Applied once, each kind is in the helpdesk and ``find_applied`` finds it again (the
    crash-recovery path): a kind the connector cannot write or find fails here."""
    ticket_id = harness.complete_ticket(0)
    other = harness.complete_ticket(1)
    harness.clock.advance(minutes=1)
    connector = harness.connector()
    since = harness.clock() - timedelta(hours=3)
    ref = next(r for r in connector.changed_since(since) if r.id == ticket_id)
    loaded = connector.load(ref)
    action = samples(other)[kind]
    effect = Effect(effect_key("fd", ticket_id, action), action)

    [receipt] = connector.write_ticket(loaded, [effect])

    assert receipt.key == effect.key
    again = connector.find_applied(connector.load(ref), effect)
    assert again is not None, f"{kind.kind}: written but not found again"
    assert again.key == effect.key
    if isinstance(action, AddNote | CreateTask):
        assert any(marker(effect.key) in note for note in harness.notes_on(ticket_id))
    if isinstance(action, CreateChildTicket):
        assert len(harness.children_of(ticket_id)) == 1
