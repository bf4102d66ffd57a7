"""Movidesk tickets for the ``demo`` command: the Emissor and Ouvidoria flows, as agents write.

``seed_demo`` sets up the Emissor account (``seeds.setup_emissor_account``, without its
own tickets) and adds a handful of tickets the way agents leave them: the customer's HTML
message, then the agent's internal action in HTML (``&nbsp;``, lower-case marks, missing
accents), a print attached. Each entry says what the SOP expects, shown in the demo
table. None of them depends on the context facts the connector does not read yet
(onboarding, non-payment block, duplicates): their outcome comes from the ticket alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import emissor_data as data
from .sandbox import MovideskSandbox
from .seeds import EmissorAccount, setup_emissor_account
from .state import DEFAULT_STATUSES

DEMO_STATUS_JUSTIFICATIONS: Mapping[str, tuple[str, ...]] = {
    rule.name: rule.justifications for rule in DEFAULT_STATUSES
}
"""The account's statuses and their justifications, for the connector's settings."""


@dataclass(frozen=True, slots=True)
class MovideskDemoTicket:
    """One seeded Movidesk ticket."""

    key: str
    subject: str
    category: str
    client: str
    """Key of ``emissor_data.CLIENTS``, or ``UNKNOWN_CALLER``."""
    owner: str
    customer_html: str | None
    agent_html: str
    attachments: tuple[str, ...] = field(default_factory=tuple)
    tags: tuple[str, ...] = field(default_factory=tuple)
    status: str = "Novo"
    origin: int = 3
    expected: str = ""
    """What the SOP says should happen, shown in the demo table."""


UNKNOWN_CALLER = "unknown_caller"
"""A client person with neither e-mail nor company: the basic information is missing."""

BASIC_INFO_MISSING_AGENT = (
    "<p>Checklist - Falha no sistema</p><p>A falha refere-se a:</p><p>( ) Apps&nbsp;(x) "
    "Painel Emissor&nbsp;( ) Integração API&nbsp;( ) Integração SEFAZ/Prefeitura</p>"
    "<p>Cliente passou dados de acesso?</p><p>( ) Sim&nbsp;(x) Não&nbsp;( ) Não se aplica</p>"
    "<p>Emissão automática está habilitada?</p><p>( ) Sim&nbsp;(x) Não&nbsp;( ) Não se "
    "aplica</p><p>Cadastro da empresa está preenchido corretamente no eNotas?</p><p>(x) "
    "Sim&nbsp;( ) Não</p><p>Descrição da análise realizada:</p><p>cliente ligou de um numero "
    "nao cadastrado, painel nao carrega a lista de notas depois do login. nao informou a "
    "empresa nem o email da conta.</p>"
)
CHECKLIST_MISSING_CUSTOMER = (
    "<p>Bom dia, preciso conferir o relatório de notas emitidas em outubro, os totais nao "
    "batem com o meu sistema.</p><p>Sônia</p>"
)
CHECKLIST_MISSING_AGENT = "<p>vou olhar o relatorio com calma e retorno.</p>"

DEMO_TICKETS: tuple[MovideskDemoTicket, ...] = (
    MovideskDemoTicket(
        key="falha_complete",
        subject="Notas do Mercado Livre não sincronizam",
        category="Falha no sistema",
        client="juliana_prates",
        owner="carla.mendes",
        customer_html=data.FALHA_CUSTOMER,
        agent_html=data.FALHA_COMPLETE,
        attachments=("print_integracao_mercadolivre.png",),
        expected="checklist complete: nothing to write",
    ),
    MovideskDemoTicket(
        key="checklist_incomplete",
        subject="Nota rejeitada",
        category="Emissão de notas",
        client="ana_boasafra",
        owner="diego.rocha",
        customer_html=data.INCOMPLETE_CUSTOMER,
        agent_html=data.INCOMPLETE_CHECKLIST,
        expected="note: unanswered/doubly-marked questions, no analysis; status kept",
    ),
    MovideskDemoTicket(
        key="basic_info_missing",
        subject="Painel não carrega as notas",
        category="Falha no sistema",
        client=UNKNOWN_CALLER,
        owner="lucas.pereira",
        customer_html=None,
        agent_html=BASIC_INFO_MISSING_AGENT,
        attachments=("print_painel_em_branco.png",),
        expected="note: company name or account e-mail missing; status kept",
    ),
    MovideskDemoTicket(
        key="checklist_missing",
        subject="Conferência de relatório de outubro",
        category="Solicitação de serviço",
        client="sonia_forte",
        owner="diego.rocha",
        customer_html=CHECKLIST_MISSING_CUSTOMER,
        agent_html=CHECKLIST_MISSING_AGENT,
        expected="note: the category's checklist is missing; status kept",
    ),
    MovideskDemoTicket(
        key="ouvidoria",
        subject="Impressora fiscal travando",
        category="Hardware",
        client="jose_trigo",
        owner="marcos.teixeira",
        customer_html=data.OUVIDORIA_CUSTOMER,
        agent_html=data.OUVIDORIA_AGENT,
        tags=("ouvidoria", "impressora"),
        status="Em atendimento",
        expected="new ticket 'OUVIDORIA - N' for Richard (5 business days); resolve",
    ),
    MovideskDemoTicket(
        key="ouvidoria_chat",
        subject="Leitor de código de barras parou",
        category="Hardware",
        client="jose_trigo",
        owner="lucas.pereira",
        customer_html=None,
        agent_html=data.OUVIDORIA_CHAT_AGENT,
        status="Em atendimento",
        origin=5,
        expected="chat: orientation note only, no ticket opened",
    ),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """The demo account and its seeded tickets."""

    account: EmissorAccount
    tickets: Mapping[int, MovideskDemoTicket]
    """Ticket id → demo entry, in seeding order."""


def seed_demo(sandbox: MovideskSandbox, now: datetime) -> DemoAccount:
    """The Emissor account and ``DEMO_TICKETS``, written a few minutes apart before ``now``."""
    account = setup_emissor_account(sandbox, with_tickets=False)
    clients = dict(account.clients)
    clients[UNKNOWN_CALLER] = sandbox.add_person("Cliente (telefone não cadastrado)")
    tickets: dict[int, MovideskDemoTicket] = {}
    for index, demo in enumerate(DEMO_TICKETS):
        created = now - timedelta(hours=2, minutes=-5 * index)
        actions = []
        if demo.customer_html is not None:
            actions.append(
                {
                    "html": demo.customer_html,
                    "type": 2,
                    "origin": 3,
                    "created_by": clients[demo.client],
                }
            )
        actions.append(
            {
                "html": demo.agent_html,
                "type": 1,
                "created_by": account.agents[demo.owner],
                "created_at": created + timedelta(minutes=3),
                "attachments": list(demo.attachments),
            }
        )
        ticket_id = sandbox.add_ticket(
            demo.subject,
            clients=[clients[demo.client]],
            owner=account.agents[demo.owner],
            owner_team="Suporte N1",
            status=demo.status,
            category=demo.category,
            tags=demo.tags,
            origin=demo.origin,
            created_at=created,
            actions=actions,
        )
        tickets[ticket_id] = demo
    return DemoAccount(account, tickets)


__all__ = [
    "DEMO_STATUS_JUSTIFICATIONS",
    "DEMO_TICKETS",
    "UNKNOWN_CALLER",
    "DemoAccount",
    "MovideskDemoTicket",
    "seed_demo",
]
