"""Field sources: the account's ``fields:`` config, labels, the requester and organization."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.actions import CreateChildTicket, Route
from sync.decide import decide
from sync.field_sources import bind_sources
from sync.model import Comment, Context, Party, Ticket
from tests.factories import mapping

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def late_order(fields: dict[str, str], labels: dict[str, str] | None = None) -> Ticket:
    """An order-delay ticket as a Freshdesk agent leaves it: data in fields, a prose note."""
    return Ticket(
        id="41",
        source="freshdesk",
        created_at=NOW.replace(hour=12),
        updated_at=NOW.replace(hour=17),
        request_type="Pedidos > Atraso na entrega",
        fields=fields,
        field_labels=labels or {},
        organization=Party(name="Mercadinho Sol", document="11.222.333/0001-81"),
        comments=(
            Comment(
                "n1",
                "<p>Verificado no admin: pedido fora do prazo,&nbsp;cliente cobrando.</p>",
                True,
                NOW.replace(hour=16),
            ),
        ),
    )


def escalated_to(decision_actions: tuple[object, ...]) -> list[str]:
    out = []
    for action in decision_actions:
        if isinstance(action, Route):
            out.append(action.target)
        elif isinstance(action, CreateChildTicket):
            out.append(action.group or "")
    return out


def test_account_field_config_supplies_what_no_label_names() -> None:
    fields = {"cf_pedido_erp": "5570012", "cf_parceiro": "Martins Atacado"}
    plain = decide(mapping("sac"), late_order(fields), Context(), NOW)
    assert plain.outcome == "incomplete"
    assert {m.key for m in plain.missing} >= {"numero_pedido", "distribuidor"}

    bound = bind_sources(
        mapping("sac"), {"numero_pedido": "cf_pedido_erp", "distribuidor": "cf_parceiro"}
    )
    decided = decide(bound, late_order(fields), Context(), NOW)
    assert decided.outcome == "complete"
    assert escalated_to(decided.actions) == ["Distribuidores"]
    where = {f.key: f.where for f in decided.found}
    assert where["numero_pedido"] == "fields.cf_pedido_erp"
    assert where["cnpj"] == "organization.document"


def test_helpdesk_field_labelled_like_the_sop_counts_without_config() -> None:
    fields = {"cf_pedido_301": "5570012", "cf_dist": "Martins Atacado"}
    labels = {"cf_pedido_301": "Número do pedido", "cf_dist": "Distribuidor"}
    decided = decide(mapping("sac"), late_order(fields, labels), Context(), NOW)
    assert decided.outcome == "complete"
    assert escalated_to(decided.actions) == ["Distribuidores"]


def test_bad_source_key_is_refused_with_the_known_keys() -> None:
    with pytest.raises(
        ValueError, match=r"numero: not a field of mapping 'sac'; known: .*numero_pedido"
    ):
        bind_sources(mapping("sac"), {"numero": "cf_x"})
    with pytest.raises(ValueError, match="requester has name, email, document, phone"):
        bind_sources(mapping("sac"), {"cnpj": "requester.cnpj"})
