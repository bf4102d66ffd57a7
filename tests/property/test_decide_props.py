"""Properties of ``decide`` over arbitrary comments: never raises, deterministic, sane dues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.actions import CreateTask
from sync.decide import decide
from sync.mapping_loader import load_mappings
from sync.model import Attachment, Comment, Context, RelatedTicket, Ticket

MAPPINGS = load_mappings()
NAMES = sorted(MAPPINGS)

FRAGMENTS = st.sampled_from(
    [
        "Número do pedido GAR: ",
        "CPF: ",
        "529.982.247-25",
        "NÃO GERADO",
        "E-mail: ",
        "maria@exemplo.com.br",
        "Tipo de solicitação: ",
        "Voucher",
        "Pedidos > Cancelamento",
        "Checklist - Falha no sistema",
        "(X) Sim ( ) Não",
        "Descrição da análise realizada:",
        "<p>",
        "</p>",
        "<br>",
        "&nbsp;",
        "\n",
        " - ",
        ":",
        "•",
        "Sim",
        "Não",
        "IP: 10.0.0.1",
        "Distribuidor: ",
        "CNPJ: 12.ABC.345/01DE-35",
        "Categoria: ",
        "Ouvidoria",
    ]
)
BODIES = st.one_of(st.text(max_size=300), st.lists(FRAGMENTS, max_size=30).map("".join))
START = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def tickets(draw: st.DrawFn) -> tuple[str, Ticket, Context, datetime]:
    name = draw(st.sampled_from(NAMES))
    mapping = MAPPINGS[name]
    type_names = [None, "", "tipo inexistente", *mapping.types]
    at = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 700)))
    bodies = draw(st.lists(BODIES, min_size=0, max_size=3))
    ticket = Ticket(
        id="T",
        source="test",
        created_at=at - timedelta(hours=1),
        updated_at=at,
        number="123",
        request_type=draw(st.sampled_from(type_names)),
        subject=draw(st.text(max_size=40)),
        status=draw(st.sampled_from([None, "Novo", "Open"])),
        queue=draw(st.sampled_from([None, "GSO", "Backoffice EPS"])),
        comments=tuple(
            Comment(f"c{i}", body, draw(st.booleans()), at - timedelta(minutes=i))
            for i, body in enumerate(bodies)
        ),
        attachments=tuple(
            Attachment(n, c)
            for n, c in draw(
                st.lists(
                    st.tuples(st.text(max_size=12), st.sampled_from([None, "image/png"])),
                    max_size=2,
                )
            )
        ),
    )
    facts = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "customer_in_onboarding",
                    "blocked_for_non_payment",
                    "onboarding_ticket_id",
                    "block_reason",
                ]
            ),
            st.one_of(st.booleans(), st.text(max_size=8)),
            max_size=3,
        )
    )
    related = tuple(
        RelatedTicket(
            id="R",
            owner="bia",
            created_at=at,
            same_subject=draw(st.booleans()),
            has_linked_card=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 1)))
    )
    return name, ticket, Context(facts=facts, open_tickets=related), at


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tickets())
def test_decide_never_raises_and_is_deterministic(
    case: tuple[str, Ticket, Context, datetime],
) -> None:
    name, ticket, context, now = case
    first = decide(MAPPINGS[name], ticket, context, now)
    second = decide(MAPPINGS[name], ticket, context, now)
    assert first == second
    assert first.outcome in {"complete", "incomplete", "unmapped", "handled_by_rule"}
    if not first.complete:
        assert not any(a.kind in {"route", "create_child_ticket"} for a in first.actions) or (
            first.outcome == "handled_by_rule"
        )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tickets())
def test_task_dues_are_after_the_comment_and_aware(
    case: tuple[str, Ticket, Context, datetime],
) -> None:
    name, ticket, context, now = case
    decision = decide(MAPPINGS[name], ticket, context, now)
    for action in decision.actions:
        if isinstance(action, CreateTask):
            assert action.due.tzinfo is not None
            assert action.due > ticket.created_at
