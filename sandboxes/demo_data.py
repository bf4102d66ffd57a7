"""SAC tickets for the ``demo`` sandbox, written the way agents write them (seed 003).

Each entry: category and sub-category (Freshdesk custom fields ``cf_categoria`` and
``cf_subcategoria``), subject, the agent's private notes (oldest first) and attachment
names. They cover complete, incomplete and invalid comments of several categories, a
ticket with no category, and one that the SOP only asks to orient.

Also the SAC account's usual set-up (groups, categories, the ticket form's custom fields
with their labels, customers with their companies) that
``sandboxes.freshdesk.setup_sac_account`` creates.
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


# ---------------------------------------------------------------------------------------
# The SAC account as it is usually set up in Freshdesk (seed 003): what the sandbox's
# ``setup_sac_account`` creates. Categories are the SOP's first-level contact reasons
# (the first part of each request type of ``mappings/sac.yaml``).
# ---------------------------------------------------------------------------------------

SAC_GROUPS: tuple[str, ...] = (
    "SAC",
    "Distribuidores",
    "Financeiro",
    "NRP",
    "KA",
    "Trademaster",
    "Cashback",
    "Yalo",
    "Compra Agora",
)
SAC_CATEGORIES: tuple[str, ...] = (
    "Cadastro",
    "Ruptura do pedido",
    "Pedidos",
    "Reembolso",
    "Crédito",
    "Cashback",
    "Sou um cliente E-COA",
    "Sou uma Indústria",
    "Problemas no Site",
    "Suspeita de fraude",
    "Senha",
    "Promoções",
    "2ª via boleto",
    "Deslogado",
    "WhatsApp",
    "Aplicativo Compra Agora",
)
SAC_PAYMENT_METHODS: tuple[str, ...] = (
    "Boleto faturado",
    "Boleto antecipado",
    "Pix",
    "Cartão de crédito",
    "Crédito do distribuidor",
    "Trademaster",
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A custom ticket field: API name, the label agents see, type, dropdown choices."""

    name: str
    label: str
    type: str = "custom_text"
    choices: tuple[str, ...] = ()


SAC_TICKET_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("cf_categoria", "Categoria", "custom_dropdown", SAC_CATEGORIES),
    FieldSpec("cf_subcategoria", "Subcategoria"),
    FieldSpec("cf_cnpj", "CNPJ"),
    FieldSpec("cf_numero_do_pedido", "Número do pedido"),
    FieldSpec("cf_distribuidor", "Distribuidor"),
    FieldSpec(
        "cf_forma_de_pagamento", "Forma de pagamento", "custom_dropdown", SAC_PAYMENT_METHODS
    ),
    FieldSpec("cf_prazo_tarefa", "Prazo da tarefa", "custom_date"),
)
"""The ticket form: category fields, the SOP identifiers agents fill as fields, the
follow-up due date helpdesk-sync mirrors (``task_due_field``)."""


@dataclass(frozen=True, slots=True)
class Customer:
    """A requester (contact) and, for a B2B retailer, its company with the CNPJ."""

    key: str
    name: str
    email: str
    phone: str | None
    company: str | None = None
    cnpj: str | None = None


SAC_CUSTOMERS: tuple[Customer, ...] = (
    Customer(
        "mercadinho",
        "Joana Pereira",
        "joana@mercadinhoboavista.com.br",
        "(81) 99876-5432",
        "Mercadinho Boa Vista Ltda",
        "11.222.333/0001-81",
    ),
    Customer(
        "atacarejo",
        "Marcos Albuquerque",
        "compras@atacarejonordeste.com.br",
        "(83) 98811-2233",
        "Atacarejo Nordeste Ltda",
        "45.723.174/0001-10",
    ),
    Customer("avulso", "Carlos Andrade", "carlos.andrade@example.com", "(11) 97654-3210"),
)
"""Contacts with name/e-mail/phone; two belong to a company with its CNPJ (company field
``cnpj``: Freshdesk names contact and company custom fields without ``cf_``)."""
