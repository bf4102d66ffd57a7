"""Seeds for the Movidesk sandbox: the Emissor account (with Ouvidoria) and its tickets.

``setup_emissor_account`` creates what the Emissor (seed 002) and Ouvidoria (seed 004)
flows run on: the teams "Suporte N1", "Financeiro-Atendimento", "Ouvidoria" and
"Onboarding" with their agents, client companies with CNPJ and their people, the custom
fields the flows read, the account's categories, and (``with_tickets``) one ticket per
situation of ``mappings/emissor.yaml`` and ``mappings/ouvidoria.yaml``, written the way
agents write them (``emissor_data``). ``python -m sandboxes.movidesk --seed emissor``
serves that account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import emissor_data as data
from .sandbox import MovideskSandbox


@dataclass(frozen=True, slots=True)
class EmissorAccount:
    """Ids of the Emissor account ``setup_emissor_account`` created."""

    teams: tuple[str, ...]
    agents: Mapping[str, str]
    """User name (``carla.mendes``) → person id."""
    companies: Mapping[str, str]
    """Company key (``emissor_data.COMPANIES``) → person id."""
    clients: Mapping[str, str]
    """Client key (``emissor_data.CLIENTS``) → person id."""
    fields: Mapping[str, int]
    """Custom field key (``emissor_data.CUSTOM_FIELDS``) → custom field id."""
    tickets: Mapping[str, int] = field(default_factory=dict)
    """Situation → ticket id (see ``seed_emissor_tickets``)."""


def setup_emissor_account(
    sandbox: MovideskSandbox, *, with_tickets: bool = True, at: datetime | None = None
) -> EmissorAccount:
    """The Emissor account set up the usual way; its tickets written around ``at``."""
    agents = {
        user: sandbox.add_person(
            name, profile_type=1, email=f"{user}@enotas.example", user_name=user
        )
        for user, (name, _) in data.AGENTS.items()
    }
    for team in data.TEAMS:
        sandbox.add_team(
            team, [agents[u] for u, (_, teams) in data.AGENTS.items() if team in teams]
        )
    companies = {
        key: sandbox.add_person(
            name, person_type=2, email=email, cpf_cnpj=cnpj, corporate_name=name
        )
        for key, (name, cnpj, email) in data.COMPANIES.items()
    }
    clients = {
        key: sandbox.add_person(
            name, email=email, organization=companies[company] if company else None
        )
        for key, (name, email, company) in data.CLIENTS.items()
    }
    fields = {
        key: sandbox.add_custom_field(label, type=kind, choices=choices)
        for key, (label, kind, choices) in data.CUSTOM_FIELDS.items()
    }
    sandbox.categories.extend(c for c in data.CATEGORIES if c not in sandbox.categories)
    account = EmissorAccount(data.TEAMS, agents, companies, clients, fields)
    if not with_tickets:
        return account
    tickets = seed_emissor_tickets(sandbox, account, at=at)
    return EmissorAccount(data.TEAMS, agents, companies, clients, fields, tickets)


def seed_emissor_tickets(
    sandbox: MovideskSandbox, account: EmissorAccount, *, at: datetime | None = None
) -> dict[str, int]:
    """One ticket per situation of the Emissor and Ouvidoria flows; situation → id.

    ``onboarding`` (customer in onboarding, its onboarding ticket ``onboarding_main`` named
    in a custom field), ``onboarding_unknown`` (flag set, ticket unknown), ``finance_block``
    (non-payment block, prints attached to the internal note), ``duplicate_card`` (an older
    ticket; ``duplicate_card_newer`` has the linked card), ``duplicate_merge`` (a newer
    ticket; ``duplicate_merge_older`` has no card), ``falha_complete``,
    ``checklist_incomplete``, ``ouvidoria`` (the customer asked for it, by phone),
    ``ouvidoria_chat`` and ``past`` (last updated 120 days ago: only ``/tickets/past``).
    """
    now = at or sandbox.now()
    a, c, f = account.agents, account.clients, account.fields
    n1 = "Suporte N1"

    def ticket(
        subject: str,
        client: str,
        *,
        owner: str,
        team: str = n1,
        ago: timedelta,
        actions: list[dict[str, Any]],
        **extra: Any,
    ) -> int:
        created = now - ago
        return sandbox.add_ticket(
            subject,
            clients=[c[client]],
            owner=a[owner],
            owner_team=team,
            created_at=created,
            actions=[{"created_at": created, **spec} for spec in actions],
            **extra,
        )

    def customer(html: str, client: str, **extra: Any) -> dict[str, Any]:
        return {"html": html, "type": 2, "origin": 3, "created_by": c[client], **extra}

    def note(html: str, agent: str, after: timedelta, **extra: Any) -> dict[str, Any]:
        return {"html": html, "type": 1, "created_by": a[agent], "created_at": now - after, **extra}

    out: dict[str, int] = {}
    out["onboarding_main"] = ticket(
        "Implantação eNotas - Clínica Sorriso Pleno",
        "rafael_sorriso",
        owner="bruna.alves",
        team="Onboarding",
        status="Em atendimento",
        category="Onboarding",
        ago=timedelta(days=12),
        custom_fields={f["categoria_onboarding"]: "Implantação"},
        actions=[
            {"html": data.ONBOARDING_KICKOFF, "type": 2, "created_by": a["bruna.alves"]},
            note(data.ONBOARDING_NOTE, "bruna.alves", timedelta(days=2)),
        ],
    )
    out["onboarding"] = ticket(
        "Erro ao transmitir NFS-e",
        "rafael_sorriso",
        owner="carla.mendes",
        category="Falha no sistema",
        ago=timedelta(hours=3),
        custom_fields={
            f["em_onboarding"]: "Sim",
            f["ticket_onboarding"]: str(out["onboarding_main"]),
        },
        actions=[
            customer(data.ONBOARDING_CUSTOMER, "rafael_sorriso"),
            note(data.ONBOARDING_AGENT, "carla.mendes", timedelta(hours=2)),
        ],
    )
    out["onboarding_unknown"] = ticket(
        "Código de serviço inválido",
        "tati_vida",
        owner="diego.rocha",
        category="Emissão de notas",
        ago=timedelta(hours=5),
        custom_fields={f["em_onboarding"]: "Sim"},
        actions=[
            customer(data.ONBOARDING_UNKNOWN_CUSTOMER, "tati_vida"),
            note(data.ONBOARDING_UNKNOWN_AGENT, "diego.rocha", timedelta(hours=4)),
        ],
    )
    out["finance_block"] = ticket(
        "Não consigo emitir notas",
        "sonia_mercadinho",
        owner="lucas.pereira",
        category="Emissão de notas",
        ago=timedelta(hours=2),
        custom_fields={
            f["bloqueio_inadimplencia"]: "Sim",
            f["motivo_bloqueio"]: "Fatura de outubro em aberto há 35 dias",
        },
        actions=[
            customer(data.FINANCE_CUSTOMER, "sonia_mercadinho"),
            note(
                data.FINANCE_AGENT,
                "lucas.pereira",
                timedelta(minutes=40),
                attachments=["print_embed_bloqueio.png", "print finan-suporte.jpeg"],
            ),
        ],
    )
    out["duplicate_card"] = ticket(
        "App não abre",
        "paulo_ph",
        owner="carla.mendes",
        category="Falha no sistema",
        ago=timedelta(days=3),
        actions=[customer(data.DUPLICATE_OLD_CUSTOMER, "paulo_ph")],
    )
    out["duplicate_card_newer"] = ticket(
        "App não abre no celular",
        "paulo_ph",
        owner="diego.rocha",
        status="Em atendimento",
        category="Falha no sistema",
        ago=timedelta(days=1),
        custom_fields={f["card_vinculado"]: "DEV-4821"},
        actions=[
            customer(data.DUPLICATE_NEW_CUSTOMER, "paulo_ph"),
            note(
                data.DUPLICATE_CARD_NOTE,
                "diego.rocha",
                timedelta(hours=20),
                attachments=["logcat_app_4.12.txt"],
            ),
        ],
    )
    out["duplicate_merge_older"] = ticket(
        "Importar vendas de outubro",
        "marcelo_luar",
        owner="lucas.pereira",
        status="Em atendimento",
        category="Solicitação de serviço",
        ago=timedelta(days=5),
        actions=[
            customer(
                data.MERGE_OLD_CUSTOMER,
                "marcelo_luar",
                attachments=[("vendas_outubro.xlsx", c["marcelo_luar"])],
            ),
            note(data.MERGE_OLD_AGENT, "lucas.pereira", timedelta(days=4)),
        ],
    )
    out["duplicate_merge"] = ticket(
        "Importar vendas outubro",
        "marcelo_luar",
        owner="carla.mendes",
        category="Solicitação de serviço",
        ago=timedelta(hours=1),
        actions=[customer(data.MERGE_NEW_CUSTOMER, "marcelo_luar")],
    )
    out["falha_complete"] = ticket(
        "Notas do Mercado Livre não sincronizam",
        "juliana_prates",
        owner="carla.mendes",
        category="Falha no sistema",
        ago=timedelta(hours=6),
        actions=[
            customer(data.FALHA_CUSTOMER, "juliana_prates"),
            note(
                data.FALHA_COMPLETE,
                "carla.mendes",
                timedelta(hours=5),
                attachments=["print_integracao_mercadolivre.png"],
            ),
        ],
    )
    out["checklist_incomplete"] = ticket(
        "Nota rejeitada",
        "ana_boasafra",
        owner="diego.rocha",
        category="Emissão de notas",
        ago=timedelta(hours=4),
        actions=[
            customer(data.INCOMPLETE_CUSTOMER, "ana_boasafra"),
            note(data.INCOMPLETE_CHECKLIST, "diego.rocha", timedelta(hours=3)),
        ],
    )
    out["ouvidoria"] = ticket(
        "Impressora fiscal travando",
        "jose_trigo",
        owner="marcos.teixeira",
        status="Em atendimento",
        category="Hardware",
        tags=["ouvidoria", "impressora"],
        ago=timedelta(hours=8),
        actions=[
            customer(data.OUVIDORIA_CUSTOMER, "jose_trigo"),
            note(data.OUVIDORIA_AGENT, "marcos.teixeira", timedelta(hours=1)),
        ],
    )
    out["ouvidoria_chat"] = ticket(
        "Leitor de código de barras parou",
        "jose_trigo",
        owner="lucas.pereira",
        status="Em atendimento",
        category="Hardware",
        origin=5,
        ago=timedelta(hours=2),
        actions=[note(data.OUVIDORIA_CHAT_AGENT, "lucas.pereira", timedelta(minutes=30))],
    )
    out["past"] = ticket(
        "Numeração de RPS pulou",
        "sonia_forte",
        owner="diego.rocha",
        status="Fechado",
        justification="Solucionado",
        category="Solicitação de serviço",
        ago=timedelta(days=200),
        updated_at=now - timedelta(days=120),
        actions=[
            customer(data.PAST_CUSTOMER, "sonia_forte"),
            note(data.PAST_AGENT, "diego.rocha", timedelta(days=199)),
        ],
    )
    return out
