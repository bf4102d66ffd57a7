"""No CPF, CNPJ, e-mail or phone reaches the state store raw, on SQLite and PostgreSQL.

Tickets carry them in notes (and so in the child tickets' and notes' texts the decisions
write), and one ticket fails with them in its exception text. Every row of every table
is then read back and searched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import MetaData, select

import engine.engine as engine_module
from engine.store import Store
from tests.store import store_fixture

from .harness import FreshdeskHarness, mocked
from .test_engine_contract import engine

CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"
EMAIL = "joana.lima@mercadinho.com.br"
PHONE = "(11) 98765-4321"
RAW = (CPF, "52998224725", CNPJ, "11222333000181", EMAIL, "98765-4321")

store = store_fixture()


@pytest.fixture
def harness() -> Iterator[FreshdeskHarness]:
    with mocked() as rsps:
        yield FreshdeskHarness(rsps, style="sac-fields")


def dump(opened: Store) -> str:
    """Every value of every table, as text."""
    meta = MetaData()
    meta.reflect(bind=opened._engine)
    parts = []
    with opened._engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def test_the_store_keeps_no_pii_raw(
    harness: FreshdeskHarness, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = [harness.complete_ticket(v) for v in range(3)]
    for ticket in tickets:
        harness.sandbox.add_note(
            int(ticket),
            f"Cliente {EMAIL}, tel {PHONE}, CPF do titular {CPF}, CNPJ {CNPJ}.",
            user_id=harness.agent,
            created_at=harness.clock(),
        )
    poison = harness.complete_ticket(1)
    harness.clock.advance(minutes=1)
    real = engine_module.decide

    def decide(mapping, ticket, context, now):  # type: ignore[no-untyped-def]
        if ticket.id == poison:
            raise ValueError(f"rule failed for {CPF} / {EMAIL} / {PHONE} / {CNPJ}")
        return real(mapping, ticket, context, now)

    monkeypatch.setattr(engine_module, "decide", decide)
    for _ in range(3):  # the poison ticket fails until it is quarantined
        result = engine(harness, store, max_attempts=2).run_pass()
        harness.clock.advance(minutes=1)

    assert result.decided + result.skipped >= 3
    assert store.dead_letters()  # the failure text reached the store...
    stored = dump(store)
    assert "rule failed for" in stored
    for raw in RAW:
        assert raw not in stored  # ...masked, as are the action texts
    assert "11.***.***/****-81" in stored  # kept, masked, in the decisions' action texts
