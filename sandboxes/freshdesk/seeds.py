"""Seeds for the Freshdesk sandbox: the SAC account, SAC tickets, the small demo account.

``setup_sac_account`` / ``add_sac_ticket`` seed the account the SAC SOP runs on (labelled
custom fields, customers with companies, HTML notes with attachments, child tickets) from
``sandboxes.demo_data``; ``seed_demo`` seeds the small account ``python -m
sandboxes.freshdesk --seed demo`` serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .sandbox import FreshdeskSandbox


@dataclass(frozen=True, slots=True)
class SacAccount:
    """Ids of a sandbox account set up for the SAC SOP (``setup_sac_account``)."""

    groups: Mapping[str, int]
    agent: int
    contacts: Mapping[str, int]
    """Customer key (``demo_data.SAC_CUSTOMERS``) -> contact id."""
    companies: Mapping[str, int]
    """Customer key -> company id (customers with a company only)."""

    @property
    def sac_group(self) -> int:
        return self.groups["SAC"]


@dataclass(frozen=True, slots=True)
class SacNote:
    """A private note as an agent writes it: HTML (entities and all) and its attachments."""

    body: str
    attachments: tuple[tuple[str, str], ...] = ()
    private: bool = True


def setup_sac_account(sandbox: FreshdeskSandbox) -> SacAccount:
    """The SAC account set up the usual way: groups, an agent, the ticket form's custom
    fields with their labels (``demo_data.SAC_TICKET_FIELDS``), the categories also as
    ticket types, a company field ``cnpj`` and the customers of ``demo_data.SAC_CUSTOMERS``."""
    from sandboxes.demo_data import SAC_CATEGORIES, SAC_CUSTOMERS, SAC_GROUPS, SAC_TICKET_FIELDS

    groups = {name: sandbox.add_group(name) for name in SAC_GROUPS}
    agent = sandbox.add_agent("Ana Souza", "ana.souza@example.com")
    sandbox.add_agent("Denis", "denis@example.com")  # the SOP's WhatsApp contact (sac.yaml)
    for spec in SAC_TICKET_FIELDS:
        sandbox.add_custom_field(spec.name, spec.label, type=spec.type, choices=spec.choices)
    sandbox.ticket_types.extend(c for c in SAC_CATEGORIES if c not in sandbox.ticket_types)
    sandbox.add_company_field("cnpj", "CNPJ")
    contacts: dict[str, int] = {}
    companies: dict[str, int] = {}
    for customer in SAC_CUSTOMERS:
        company_id = None
        if customer.company:
            company_id = sandbox.add_company(
                customer.company, custom_fields={"cnpj": customer.cnpj}
            )
            companies[customer.key] = company_id
        contacts[customer.key] = sandbox.add_contact(
            customer.name, customer.email, phone=customer.phone, company_id=company_id
        )
    return SacAccount(groups, agent, contacts, companies)


def add_sac_ticket(
    sandbox: FreshdeskSandbox,
    account: SacAccount,
    *,
    subject: str,
    category: str | None,
    subcategory: str | None = None,
    category_in: str = "cf_categoria",
    fields: Mapping[str, Any] | None = None,
    notes: Sequence[SacNote] = (),
    customer: str | None = None,
    at: datetime | None = None,
    description: str = "",
    attachments: Iterable[tuple[str, str]] = (),
    parent_id: int | None = None,
) -> int:
    """A SAC ticket as agents leave it: the category in ``type`` (``category_in="type"``) or
    in the custom field ``cf_categoria``, the subcategory in ``cf_subcategoria``, SOP data
    in ``fields`` (``cf_cnpj``, ``cf_numero_do_pedido``, ...), then the agent's private notes
    (HTML) with their attachments, all written at ``at`` (the ticket created 5 minutes
    earlier). ``customer`` picks the requester (a ``SAC_CUSTOMERS`` key)."""
    at = (at or sandbox.now()).astimezone(UTC).replace(microsecond=0)
    custom: dict[str, Any] = {"cf_subcategoria": subcategory, **(fields or {})}
    ticket_type = None
    if category_in == "type":
        ticket_type = category
    else:
        custom[category_in] = category
    ticket_id = sandbox.add_ticket(
        subject,
        group_id=account.sac_group,
        responder_id=account.agent,
        requester_id=account.contacts[customer] if customer else None,
        custom_fields=custom,
        type=ticket_type,
        created_at=at - timedelta(minutes=5),
        updated_at=at,
        description=description,
        attachments=attachments,
        parent_id=parent_id,
    )
    for note in notes:
        sandbox.add_note(
            ticket_id,
            note.body,
            private=note.private,
            created_at=at,
            attachments=note.attachments,
            user_id=account.agent,
        )
    return ticket_id


def seed_demo(sandbox: FreshdeskSandbox) -> None:
    """A small SAC-like account: groups, agents, category fields and a few tickets."""
    from sandboxes.demo_data import SAC_GROUPS

    for name in SAC_GROUPS:
        sandbox.add_group(name)
    ana = sandbox.add_agent("Ana Souza", "ana.souza@example.com")
    sandbox.add_agent("Bruno Lima", "bruno.lima@example.com")
    sandbox.add_custom_status("Aguardando cliente")
    sandbox.add_custom_field("cf_categoria", "Categoria")
    sandbox.add_custom_field("cf_subcategoria", "Subcategoria")
    sandbox.add_custom_field("cf_prazo_tarefa", "Prazo da tarefa", type="custom_date")
    sac = next(g["id"] for g in sandbox.groups.values() if g["name"] == "SAC")
    first = sandbox.add_ticket(
        "Pedido chegou incompleto",
        group_id=sac,
        responder_id=ana,
        custom_fields={"cf_categoria": "Pedidos", "cf_subcategoria": "Ruptura do pedido"},
        description="<p>Faltaram itens no meu pedido.</p>",
    )
    sandbox.add_note(
        first, "<p>Número do pedido: 123456<br>Forma de pagamento: Pix</p>", user_id=ana
    )
    second = sandbox.add_ticket(
        "Cadastro com o distribuidor",
        group_id=sac,
        responder_id=ana,
        custom_fields={
            "cf_categoria": "Cadastro",
            "cf_subcategoria": "Cadastro com o distribuidor",
        },
    )
    sandbox.add_note(second, "<p>Status do cadastro: Sem resposta</p>", user_id=ana)
