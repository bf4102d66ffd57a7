"""SAC tickets for the ``demo`` sandbox, written the way agents write them (seed 003).

Each entry: category and sub-category (Freshdesk custom fields ``cf_categoria`` and
``cf_subcategoria``), subject, the agent's private notes (oldest first) and attachment
names. They cover complete, incomplete and invalid comments of several categories, a
ticket with no category, and one that the SOP only asks to orient.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DemoTicket:
    """One seeded ticket."""

    subject: str
    category: str | None
    subcategory: str | None
    notes: tuple[str, ...]
    attachments: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    expected: str = ""
    """What the SOP says should happen, shown in the demo table."""


DEMO_TICKETS: tuple[DemoTicket, ...] = (
    DemoTicket(
        subject="Erro ao finalizar pedido no site",
        category="Problemas no Site",
        subcategory=None,
        notes=(
            "<div>Cliente não consegue finalizar a compra, aparece erro 500 no checkout."
            "<br>Descrição do problema: erro ao finalizar pedido no carrinho desde ontem"
            "<br>CNPJ: 11.222.333/0001-81</div>",
        ),
        attachments=(("print-erro-checkout.png", "image/png"),),
        expected="route KA + follow-up",
    ),
    DemoTicket(
        subject="Distribuidor não aprovou meu cadastro",
        category="Cadastro",
        subcategory="Status do cadastro com o distribuidor",
        notes=(
            "• CNPJ do cliente: 45.723.174/0001-10\n"
            "• Status do cadastro: sem resposta\n"
            "• Distribuidor: Atacadão Nordeste",
        ),
        expected="child ticket distributor, 72 business hours",
    ),
    DemoTicket(
        subject="Pedido veio incompleto - quero reembolso",
        category="Ruptura do pedido",
        subcategory=None,
        notes=(
            "Número do pedido: 100045872\nForma de pagamento - boleto antecipado\n"
            "Opção de estorno: reembolso\nBanco: Itaú\nAgência: 0912\n"
            "Conta corrente: 45521-3\nValor do reembolso: R$ 312,40",
        ),
        expected="route Financeiro",
    ),
    DemoTicket(
        subject="Cancelar pedido 100046001",
        category="Pedidos",
        subcategory="Cancelamento",
        notes=(
            "<p><b>Número do pedido:</b> 100046001</p><p><b>Status do pedido:</b> "
            "Pagamento</p><p><b>Distribuidor:</b> Martins</p>",
        ),
        expected="child ticket distributor",
    ),
    DemoTicket(
        subject="Quero aumentar meu limite de crédito",
        category="Crédito",
        subcategory=None,
        notes=(
            "valor desejado: R$ 15.000,00\ntipo de credito: distribuidor\n"
            "distribuidor: Peixoto Comércio",
        ),
        expected="child ticket distributor, 5 business days",
    ),
    DemoTicket(
        subject="Contestação de cashback",
        category="Cashback",
        subcategory="Contestação",
        notes=("Motivo da contestação: cupom da batalha Unilever não apareceu",),
        expected="incomplete: note asks for the CNPJ",
    ),
    DemoTicket(
        subject="Site fora do ar",
        category="Problemas no Site",
        subcategory=None,
        notes=("Descrição do problema: site fora do ar para o cliente\nCNPJ: 11.222.333/0001-80",),
        expected="invalid CNPJ + no evidence: note, not routed",
    ),
    DemoTicket(
        subject="Não recebi meu pedido, está atrasado",
        category=None,
        subcategory=None,
        notes=("Cliente informa pedido em atraso, verificar prazo do distribuidor.",),
        expected="no category: suggestion only",
    ),
    DemoTicket(
        subject="Status do meu pedido",
        category="Pedidos",
        subcategory="Status do pedido",
        notes=("Número do pedido: 100047310",),
        expected="orientation only: nothing to write",
    ),
)
