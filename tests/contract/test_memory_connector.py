"""What the shared contract tests do not show of the connector template (``memory``).

Batched writes (several tickets in ONE call, answered per record), a record rejected
while the rest of its batch lands, typed rejections, and a cursor that is not a datetime.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.engine import Engine
from engine.store import Store
from sync.actions import Action, Merge, SetStatus
from sync.contract import (
    Effect,
    EffectResult,
    FatalError,
    Outcome,
    RetriableError,
    TicketWrites,
)
from sync.effects import effect_key
from sync.mapping_loader import load_mapping

from .harness import MemoryHarness
from .memory_connector import MemoryConnector
from .memory_desk import MemoryDesk
from .test_engine_contract import assert_exactly_once, engine


def effect(ticket_id: str, action: Action) -> Effect:
    return Effect(effect_key("mem", ticket_id, action), action)


class Recording(MemoryConnector):
    """The template connector, recording the tickets of every ``write`` call."""

    def __init__(self, desk: MemoryDesk) -> None:
        super().__init__("mem", desk)
        self.batches: list[list[str]] = []

    def write(self, batch: Sequence[TicketWrites]) -> list[EffectResult]:
        self.batches.append([item.loaded.ref.id for item in batch])
        return super().write(batch)


def test_a_batch_of_three_tickets_is_one_write_call(store: Store) -> None:
    h = MemoryHarness()
    tickets = [h.complete_ticket(v) for v in range(3)] + [h.incomplete_ticket()]
    h.clock.advance(minutes=1)
    connector = Recording(h.desk)
    run = Engine(connector, load_mapping("sac"), store, clock=h.clock)

    result = run.run_pass()

    assert result.ok
    assert connector.batches == [tickets[:3], tickets[3:]]  # write_batch = 3
    composite = [c for c in h.desk.calls if c.path == "/api/v2/composite"]
    assert len(composite) == 2  # one request per write call
    ka_update = h.desk.records[0]  # route + status of one ticket: ONE record, both keys
    assert (ka_update.method, ka_update.path) == ("PUT", f"/api/v2/tickets/{tickets[0]}")
    assert ka_update.body == {"group": "KA", "status": "Pending"}
    assert len(ka_update.external_ids) == 2
    assert_exactly_once(h, store)


def test_a_rejected_record_fails_its_ticket_only_and_lands_once_later(store: Store) -> None:
    h = MemoryHarness()
    ka, distributor, finance = (h.complete_ticket(v) for v in range(3))
    h.clock.advance(minutes=1)
    h.fail(kind="5xx", count=1, path=rf"/tickets/{distributor}/notes$")

    first = engine(h, store).run_pass()

    assert first.failed == 1
    [failed] = [t for t in first.tickets if t.outcome == "error"]
    assert failed.ticket_id == distributor
    assert failed.error is not None
    assert "503" in failed.error
    assert h.notes_on(distributor) == []  # its note was refused...
    assert len(h.children_of(distributor)) == 1  # ...the rest of its ticket landed
    for ticket in (ka, finance):  # ...and so did the other tickets of the batch
        assert len(h.field_updates(ticket)) == 1
        assert len(h.notes_on(ticket)) == 2  # the note and the task
    states = {e.kind: e.state for e in store.all_effects() if e.ticket_id == distributor}
    assert states == {
        "create_child_ticket": "confirmed",
        "set_status": "confirmed",
        "add_note": "failed",
    }

    h.clock.advance(minutes=1)
    second = engine(h, store).run_pass()

    assert second.ok
    assert len(h.notes_on(distributor)) == 1
    assert len(h.children_of(distributor)) == 1
    assert len(h.field_updates(distributor)) == 1
    assert_exactly_once(h, store)


def test_a_lost_batch_answer_is_looked_up_not_written_again(store: Store) -> None:
    h = MemoryHarness()
    tickets = [h.complete_ticket(v) for v in range(3)]
    h.clock.advance(minutes=1)
    h.fail(kind="drop", count=1, path=r"/notes$")  # the batch lands, its answer is lost

    first = engine(h, store).run_pass()

    assert first.failed == 3
    assert all(len(h.field_updates(t)) == 1 for t in tickets)  # written, not confirmed
    h.clock.advance(minutes=1)
    second = engine(h, store).run_pass()

    assert second.ok
    assert second.applied == 0
    assert second.reconciled > 0  # found again by their external ids
    assert all(len(h.field_updates(t)) == 1 for t in tickets)
    assert_exactly_once(h, store)


def test_write_answers_each_record_with_a_typed_result() -> None:
    h = MemoryHarness()
    first, second = h.complete_ticket(0), h.complete_ticket(2)
    connector = h.connector()
    one, two = connector.reload(first), connector.reload(second)
    unknown = effect(first, SetStatus("Waiting"))
    merge = effect(second, Merge(into=first))
    pending = effect(second, SetStatus("Pending"))

    results = connector.write([TicketWrites(one, (unknown,)), TicketWrites(two, (merge, pending))])

    answers = {r.key: r for r in results}
    assert len(answers) == len(results) == 3
    assert answers[unknown.key].outcome is Outcome.REJECTED  # the desk refused the record
    error = answers[unknown.key].error
    assert isinstance(error, FatalError)
    assert error.status == 400
    assert error.ticket_id == first
    assert answers[merge.key].outcome is Outcome.REJECTED  # never sent: nothing to write it
    assert answers[merge.key].reason == "the memory desk cannot write 'merge' actions"
    assert answers[pending.key].outcome is Outcome.APPLIED  # allOrNone=false
    assert h.desk.tickets[int(second)].status == "Pending"

    h.desk.fail("429", 1, rf"/tickets/{first}$", method="PUT")
    [throttled] = connector.write([TicketWrites(one, (effect(first, SetStatus("Pending")),))])
    assert isinstance(throttled.error, RetriableError)
    assert throttled.error.retry_after == 7
    assert h.sleeps == []  # a write is never retried: its answer may have been lost


def test_the_stored_cursor_is_the_connectors_sequence_text(store: Store) -> None:
    h = MemoryHarness()
    for variant in range(3):
        h.complete_ticket(variant)
    h.clock.advance(minutes=1)
    last_seeded = h.desk.seq

    engine(h, store).run_pass()

    cursor = store.get_cursor("mem")
    assert cursor == f"seq:{last_seeded}"  # the pass lists what changed before it started
    # Resuming there lists only what changed since: the tickets our own writes touched.
    again = list(MemoryConnector("mem", h.desk).changes(cursor))
    assert again
    assert all(int(ref.version) > last_seeded for ref in again)
    assert all(re.fullmatch(r"seq:\d+", ref.cursor) for ref in again)
