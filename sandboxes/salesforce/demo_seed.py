"""Salesforce cases for the ``demo`` command: the EPS escalation matrix, as N1 agents write.

``seed_demo`` sets up the EPS org (``seeds.setup_eps_org``), adds two N1 agents and a
handful of cases the way they are left in Service Cloud: the request type in the case's
``Type``, the SOP data in an internal CaseComment written in the rich-text editor (HTML,
``&nbsp;``, bold labels, typos, part of it in prose), once in the org's "Comentário
Interno" field (``Comentario_Interno__c``) instead of a comment, a payment receipt
attached to the case. The set covers both columns of the matrix (Backoffice EPS with its
48-business-hour task, Supervisor EPS), an incomplete and an invalid case (a note, status
"Em andamento", the case stays with its agent), a critical case and one outside the
matrix. Each entry says what the SOP expects, shown in the demo table.

Dates the SOP validates (the purchase date may not be in the future) are written
relative to ``now``, so the seed holds on any day the demo runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .sandbox import SalesforceSandbox
from .seeds import EpsOrg, setup_eps_org

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
COMMENT_FIELD = "Comentario_Interno__c"
"""The org's "Comentário Interno" Case field, read as one more internal comment."""
N1_AGENTS: Mapping[str, str] = {
    "paula.ribeiro": "Paula Ribeiro",
    "diego.santos": "Diego Santos",
}
"""N1 agents who open and comment the demo cases: user-name stem → full name."""
PURCHASE_DATE = "{purchase_date}"
"""Placeholder in a comment for a purchase date two days before ``now`` (São Paulo)."""


@dataclass(frozen=True, slots=True)
class SalesforceDemoCase:
    """One seeded Salesforce case."""

    key: str
    subject: str
    type: str
    """The case's ``Type`` as the agent picked it (the request type of the matrix)."""
    agent: str
    """Key of ``N1_AGENTS``: the case's owner and the author of its comments."""
    comments: tuple[str, ...] = field(default_factory=tuple)
    """Internal CaseComments (HTML), oldest first."""
    comment_field: str | None = None
    """The ``Comentario_Interno__c`` value, when the agent wrote there instead."""
    files: tuple[str, ...] = field(default_factory=tuple)
    """Titles of the files attached to the case."""
    origin: str = "Phone"
    expected: str = ""
    """What the SOP says should happen, shown in the demo table."""


VOUCHER_COMPLETE = (
    "<p>Cliente ligou pq o certificado foi emitido com o email errado, ela digitou errado "
    "na hora da compra.&nbsp;</p>"
    "<p><b>Número do pedido GAR:</b>&nbsp;8812734</p>"
    "<p><b>Status do pedido GAR:</b>&nbsp;Emitido</p>"
    "<p><b>E-mail para envio do voucher:</b>&nbsp;maria.oliveira@exemplo.com.br</p>"
    "<p><b>CPF do Cliente:</b>&nbsp;529.982.247-25</p>"
    "<p><b>Motivo do Voucher:</b> Correção de E-mail</p>"
    "<p><b>Conformidade com a Política de Garantia:</b>&nbsp;Sim</p>"
)
VOUCHER_INCOMPLETE = (
    "<p>cliente pediu voucher, o nome do titular saiu errado no certificado&nbsp;</p>"
    "<p><b>Pedido GAR:</b>&nbsp;8812999</p>"
    "<p><b>E-mail para envio do voucher:</b> joao.batista@exemplo.com.br</p>"
    "<p><b>Motivo do Voucher:</b>&nbsp;erro de emissão</p>"
    "<p>esta dentro da politica de garantia, comprou semana passada</p>"
)
PAGAMENTO = (
    "<p>Cliente pagou no pix e o pedido continua aguardando pagamento no GAR, "
    "mandou o comprovante por email e eu anexei no caso.</p>"
    "<p><b>Nº do Pedido GAR:</b>&nbsp;8813377</p>"
    "<p><b>Nº do Pedido Checkout:</b>&nbsp;CHK-2026-55120</p>"
    f"<p><b>Data da compra:</b>&nbsp;{PURCHASE_DATE}</p>"
    "<p><b>Forma de Pagamento:</b>&nbsp;pix</p>"
)
IP_IN_FIELD = (
    "Nº do IP Público - 200.155.1.10\n"
    "Motivo da Solicitação - cliente com a rede bloqueada, nao acessa o portal de emissão "
    "desde ontem"
)
IP_COMMENT = "<p>dados no campo comentario interno</p>"
LIBERACAO_PEDIDO = (
    "<p>Cliente diz que ja validou e o pedido continua aguardando verificação há 2 dias.</p>"
    "<p><b>Nome do posto:</b>&nbsp;AR Centro SP</p>"
    "<p><b>Nome do cliente:</b>&nbsp;João da Silva</p>"
    "<p><b>E-mail do cliente:</b>&nbsp;joao.silva@exemplo.com.br</p>"
    "<p><b>Telefone:</b>&nbsp;(11) 98765-4321</p>"
    "<p><b>Nº do pedido GAR:</b>&nbsp;8812740</p>"
    "<p><b>Descrição da reclamação:</b> foi no posto, fez a validação e o pedido nao "
    "andou</p>"
)
CRITICAL = (
    "<p>Cliente ligou na ouvidoria reclamando da demora na emissão, pedido GAR 8813001, "
    "disse que vai no Procon.</p>"
    "<p><b>Número do pedido GAR:</b>&nbsp;8813001</p>"
    "<p><b>Status do pedido GAR:</b>&nbsp;Em validação</p>"
)
REENVIO_INVALID_CPF = (
    "<p>cliente nao recebeu o e-mail de aprovação com o código de instalação</p>"
    "<p><b>Pedido GAR:</b>&nbsp;8812801</p>"
    "<p><b>E-mail no GAR:</b>&nbsp;contato@padariaestrela.com.br</p>"
    "<p><b>CPF:</b>&nbsp;123.456.789-00</p>"
    "<p><b>Motivo do Reenvio do Código:</b> email caiu no spam e foi apagado</p>"
)
OUTSIDE = (
    "<p>Cliente perguntou quanto custa renovar o e-CPF A3 antes de vencer, passei o link "
    "da loja e o valor com desconto de renovação.&nbsp;</p>"
)

DEMO_CASES: tuple[SalesforceDemoCase, ...] = (
    SalesforceDemoCase(
        key="voucher_complete",
        subject="Voucher - email errado na compra",
        type="Voucher",
        agent="paula.ribeiro",
        comments=(VOUCHER_COMPLETE,),
        expected="queue Backoffice EPS, Escalado, note, task due in 48 business hours",
    ),
    SalesforceDemoCase(
        key="voucher_incomplete",
        subject="voucher",
        type="Voucher",
        agent="diego.santos",
        comments=(VOUCHER_INCOMPLETE,),
        expected="one note naming what is missing; Em andamento; stays with the agent",
    ),
    SalesforceDemoCase(
        key="pagamento",
        subject="Pagamento pix não baixou",
        type="Liberação de pagamento",
        agent="paula.ribeiro",
        comments=(PAGAMENTO,),
        files=("comprovante_pagamento.pdf",),
        origin="Email",
        expected="receipt attached: Backoffice EPS, Escalado, note, 48-business-hour task",
    ),
    SalesforceDemoCase(
        key="ip_in_field",
        subject="Rede bloqueada",
        type="Desbloqueio de IP",
        agent="diego.santos",
        comments=(IP_COMMENT,),
        comment_field=IP_IN_FIELD,
        expected="data in Comentário Interno: Backoffice EPS, Escalado, note, task",
    ),
    SalesforceDemoCase(
        key="liberacao_pedido",
        subject="Pedido parado em verificação",
        type="Liberação de pedido",
        agent="paula.ribeiro",
        comments=(LIBERACAO_PEDIDO,),
        expected="queue Supervisor EPS (then GSO), Escalado, note with the checks",
    ),
    SalesforceDemoCase(
        key="critical",
        subject="Reclamação na ouvidoria - demora na emissão",
        type="Caso crítico - Ouvidoria/Corporativo",
        agent="diego.santos",
        comments=(CRITICAL,),
        expected="marked critical (IsEscalated), queue Supervisor EPS, Escalado, note",
    ),
    SalesforceDemoCase(
        key="reenvio_invalid_cpf",
        subject="Código de instalação não chegou",
        type="Reenvio de código de instalação",
        agent="paula.ribeiro",
        comments=(REENVIO_INVALID_CPF,),
        expected="note: CPF invalid (masked); Em andamento; stays with the agent",
    ),
    SalesforceDemoCase(
        key="outside_matrix",
        subject="Valor da renovação do e-CPF",
        type="Dúvida comercial",
        agent="diego.santos",
        comments=(OUTSIDE,),
        origin="Web",
        expected="not in the escalation matrix: left alone",
    ),
)


@dataclass(frozen=True, slots=True)
class DemoOrg:
    """The demo org and its seeded cases."""

    org: EpsOrg
    agents: Mapping[str, str]
    """N1 agent stem → User id."""
    cases: Mapping[str, SalesforceDemoCase]
    """Case id → demo entry, in seeding order."""


def purchase_date(now: datetime) -> str:
    """Two days before ``now`` in São Paulo, as agents write dates (dd/mm/yyyy)."""
    return f"{(now.astimezone(SAO_PAULO) - timedelta(days=2)):%d/%m/%Y}"


def seed_demo(sandbox: SalesforceSandbox, now: datetime) -> DemoOrg:
    """The EPS org, its N1 agents and ``DEMO_CASES``, opened a few minutes apart before
    ``now``, each commented three minutes after it was opened."""
    org = setup_eps_org(sandbox)
    agents = {
        stem: sandbox.add_user(name, username=f"{stem}@eps.example")
        for stem, name in N1_AGENTS.items()
    }
    cases: dict[str, SalesforceDemoCase] = {}
    for index, demo in enumerate(DEMO_CASES):
        created = now - timedelta(hours=2, minutes=-5 * index)
        agent = agents[demo.agent]
        comments = [
            (
                body.replace(PURCHASE_DATE, purchase_date(now)),
                False,
                agent,
                created + timedelta(minutes=3),
            )
            for body in demo.comments
        ]
        fields = {COMMENT_FIELD: demo.comment_field} if demo.comment_field else {}
        case_id = sandbox.add_case(
            demo.subject,
            owner_id=agent,
            status="Novo",
            type=demo.type,
            origin=demo.origin,
            comments=comments,
            fields=fields,
            files=demo.files,
            created_at=created,
            created_by=agent,
        )
        cases[case_id] = demo
    return DemoOrg(org, agents, cases)


__all__ = [
    "COMMENT_FIELD",
    "DEMO_CASES",
    "N1_AGENTS",
    "DemoOrg",
    "SalesforceDemoCase",
    "purchase_date",
    "seed_demo",
]
