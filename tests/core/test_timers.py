"""SLA timers in the decision core: which a decision starts, and what a due timer does."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.explain import format_decision
from sync.actions import AddNote, Resolve, Route, SetStatus
from sync.decide import decide, evaluate_timer, project
from sync.mapping_loader import CompiledMapping, load_mapping_file
from sync.model import Context
from tests.factories import ticket

MAPPING = """\
name: timers
title: Timers
version: 1
helpdesk: freshdesk
sop:
  - {file: 003_411e92168c32257f.txt, heading: "Fluxo dos processos - SAC"}
closed_statuses: [Resolved, Closed]
fields:
  distribuidor:
    label: Distribuidor
  status_cadastro:
    label: Status do cadastro
    validator: enum
    options: {choices: [Aprovado, Sem resposta]}
templates:
  follow_up: "Sem devolutiva do distribuidor {fields.distribuidor} em 72 horas úteis."
  nrp: "Sem resposta em 5 dias úteis: escalado para NRP."
types:
  - name: Cadastro > Status do cadastro com o distribuidor
    sop:
      file: 003_411e92168c32257f.txt
      heading: "03. Cadastro — Status do cadastro com o distribuidor"
    require: [status_cadastro]
    rules:
      - id: sem_resposta
        when: {field: status_cadastro, equals: Sem resposta}
        require: [distribuidor]
        actions:
          - create_child_ticket:
              subject: "Distribuidor {fields.distribuidor}"
              description_template: follow_up
        timers:
          - id: distributor_72h
            due: {business_hours: 72}
            counted_from: decision
            while: {context: child_answered, not_equals: true}
            actions:
              - add_note: {template: follow_up, purpose: timer}
  - name: Crédito
    sop: {file: 003_411e92168c32257f.txt, heading: "07. Crédito"}
    require: [distribuidor]
    timers:
      - id: credit_5d
        sop: {file: 003_411e92168c32257f.txt, heading: "07. Crédito — sem resposta em 5 dias úteis"}
        due: {business_days: 5}
        actions:
          - route: {group: NRP}
          - add_note: {template: nrp}
"""
COMMENT = "Status do cadastro: sem resposta\nDistribuidor: Atacadão Nordeste"
TYPE = "Cadastro > Status do cadastro com o distribuidor"
NOW = datetime(2026, 11, 19, 19, 0, tzinfo=UTC)  # Thu 16:00 São Paulo; Fri 20 is a holiday


@pytest.fixture(scope="module")
def mapping(tmp_path_factory: pytest.TempPathFactory) -> CompiledMapping:
    path = Path(tmp_path_factory.mktemp("m")) / "timers.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return load_mapping_file(path)


def test_a_complete_decision_starts_its_timers_in_business_time(mapping: CompiledMapping) -> None:
    d = decide(mapping, ticket(COMMENT, request_type=TYPE), Context(), NOW)
    [timer] = d.timers
    assert timer.id == "distributor_72h"
    # Thu 16:00 → skip Fri 20 (holiday) and the weekend: 2 h Thu + 7 days × 10 h
    # (Mon 23 … Fri 27, Mon 30, Tue 1) = 72 h → Tue 1 Dec 18:00
    assert timer.due == datetime.fromisoformat("2026-12-01T18:00:00-03:00")
    assert timer.sop.endswith("03. Cadastro — Status do cadastro com o distribuidor")
    assert "distributor_72h: due 2026-12-01T18:00:00-03:00" in format_decision(d, "1")


def test_incomplete_or_other_branch_starts_no_timer(mapping: CompiledMapping) -> None:
    incomplete = decide(
        mapping, ticket("Status do cadastro: sem resposta", request_type=TYPE), Context(), NOW
    )
    approved = decide(
        mapping, ticket("Status do cadastro: aprovado", request_type=TYPE), Context(), NOW
    )
    assert incomplete.timers == ()
    assert approved.timers == ()


def test_type_timer_with_its_own_citation(mapping: CompiledMapping) -> None:
    d = decide(mapping, ticket("Distribuidor: Peixoto", request_type="Credito"), Context(), NOW)
    [timer] = d.timers
    assert timer.due == datetime.fromisoformat("2026-11-27T16:00:00-03:00")
    assert timer.sop.endswith("07. Crédito — sem resposta em 5 dias úteis")


def test_due_timer_fires_its_actions_while_the_condition_holds(mapping: CompiledMapping) -> None:
    t = ticket(COMMENT, request_type=TYPE, status="Pending")
    verdict = evaluate_timer(mapping, TYPE, "distributor_72h", t, Context(), NOW)
    assert verdict.fire
    assert verdict.actions == (
        AddNote("Sem devolutiva do distribuidor Atacadão Nordeste em 72 horas úteis.", "timer"),
    )
    credit = evaluate_timer(
        mapping,
        "Crédito",
        "credit_5d",
        ticket("Distribuidor: X", request_type="Crédito"),
        Context(),
        NOW,
    )
    assert credit.actions[0] == Route(group="NRP")


@pytest.mark.parametrize(
    ("status", "request_type", "facts", "reason"),
    [
        ("Pending", TYPE, {"child_answered": True}, "its condition no longer holds"),
        ("Resolved", TYPE, {}, "ticket is Resolved"),
        ("Pending", "Crédito", {}, "recategorised as Crédito"),
    ],
    ids=["child-answered", "resolved", "recategorised"],
)
def test_due_timer_is_cancelled_when_no_longer_needed(
    mapping: CompiledMapping,
    status: str,
    request_type: str,
    facts: dict[str, object],
    reason: str,
) -> None:
    t = ticket(COMMENT, request_type=request_type, status=status)
    verdict = evaluate_timer(mapping, TYPE, "distributor_72h", t, Context(facts=facts), NOW)
    assert not verdict.fire
    assert verdict.reason == reason
    assert verdict.actions == ()


def test_duplicate_timer_id_in_a_type_is_refused(tmp_path: Path) -> None:
    from sync.errors import MappingError

    text = MAPPING.replace(
        "id: credit_5d",
        "id: credit_5d\n        due: {days: 1}\n        actions: [{resolve: {}}]\n"
        "      - id: credit_5d",
    )
    path = tmp_path / "timers.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping_file(path)
    assert "timer id 'credit_5d' is used twice in this type with different definitions" in str(
        caught.value
    )


def test_sac_credit_timer_goes_to_nrp_unless_the_distributor_answered() -> None:
    from tests.factories import mapping as shipped

    sac = shipped("sac")
    comment = "Tipo de crédito: Distribuidor\nValor desejado: 15000\nDistribuidor: Martins"
    silent = evaluate_timer(
        sac,
        "Crédito",
        "credito_5d",
        ticket(comment, request_type="Crédito", status="Pending"),
        Context(facts={"child_answered": False}),
        NOW,
    )
    assert silent.fire
    assert silent.actions[0] == Route(group="NRP")
    answered_in_comment = evaluate_timer(
        sac,
        "Crédito",
        "credito_5d",
        ticket(comment, "Retorno do distribuidor: respondeu", request_type="Crédito"),
        Context(),
        NOW,
    )
    assert not answered_in_comment.fire


def test_counted_from_decision_starts_the_wait_when_the_ticket_is_decided(
    mapping: CompiledMapping,
) -> None:
    """A backfill decides a 30-day-old comment: a wait our own write starts counts from
    now; a wait counted from the comment is already over."""
    later = NOW + timedelta(days=30)  # Sat 19/12 16:00 São Paulo
    [distributor] = decide(mapping, ticket(COMMENT, request_type=TYPE), Context(), later).timers
    [credit] = decide(
        mapping, ticket("Distribuidor: Peixoto", request_type="Credito"), Context(), later
    ).timers
    # Sat → Mon 21/12 08:00 + 72 business hours (7 days × 10 h + 2 h; Dec 25 is a holiday)
    assert distributor.due == datetime.fromisoformat("2026-12-31T10:00:00-03:00")
    assert credit.due == datetime.fromisoformat("2026-11-27T16:00:00-03:00")  # as before
    assert credit.due < later


def test_project_shows_the_ticket_as_the_actions_leave_it(mapping: CompiledMapping) -> None:
    t = ticket(COMMENT, request_type=TYPE, status="Open", queue="SAC", owner="ana")
    routed = project(
        mapping, t, [Route(group="Distribuidores", owner="bruno"), SetStatus("Pending")]
    )
    assert (routed.status, routed.queue, routed.owner) == ("Pending", "Distribuidores", "bruno")
    assert project(mapping, t, [Resolve()]).status == "Resolved"  # the first closed status
    assert project(mapping, t, [Resolve(status="Closed")]).status == "Closed"
    assert project(mapping, t, []) == t
    verdict = evaluate_timer(
        mapping, TYPE, "distributor_72h", project(mapping, t, [Resolve()]), Context(), NOW
    )
    assert (verdict.fire, verdict.reason) == (False, "ticket is Resolved")
