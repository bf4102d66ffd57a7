"""The account the Movidesk sandbox holds, and how tests and seeds fill it.

``SandboxState`` owns one account's data: tickets (with actions, custom field values,
parent/child links, owner and status histories), persons (agents with their teams, client
persons, companies with ``cpfCnpj``), teams (name → member agent ids), the status
configuration (name → base status and accepted justifications), custom field definitions,
categories, services (the tree ``GET /services`` lists); plus the clock, the id counters,
the call and write logs, the limit counters and the lock every public method takes. Its
``add_*``/``set_*``/``touch`` methods seed the account as if agents had worked in it
earlier: they validate nothing (the API routes do), and they move ``lastUpdate`` the way
the helpdesk would.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ..faults import Faults
from .records import (
    BASE_STATUSES,
    Call,
    CustomFieldDef,
    Json,
    StatusRule,
    StoredAction,
    StoredTicket,
    Write,
)

DEFAULT_TOKEN = "sandbox-token"  # noqa: S105 - the fake account's token, not a secret
DEFAULT_BASE_URL = "https://sandbox.movidesk.example/public/v1"
DEFAULT_STATUSES: tuple[StatusRule, ...] = (
    StatusRule("Novo", "New"),
    StatusRule("Aberto", "InAttendance"),
    StatusRule("Em atendimento", "InAttendance"),
    StatusRule("Pendente Onboarding", "Stopped", ("Cliente em onboarding",)),
    StatusRule("Pendente Financeiro", "Stopped", ("Bloqueio por inadimplência",)),
    StatusRule("Pendente Suporte", "Stopped", ("Ticket duplicado (mesmo assunto)",)),
    StatusRule("Aguardando", "Stopped", ("Aguardando cliente", "Aguardando terceiro")),
    StatusRule("Resolvido", "Resolved", ("Solucionado",)),
    StatusRule("Fechado", "Closed", ("Solucionado", "Duplicado")),
    StatusRule("Cancelado", "Canceled", ("Duplicado",)),
)
"""The account's statuses (Configurações › Status): the names the Emissor and Ouvidoria
mappings write, each with its base status and the justifications it demands."""
Attachment = str | tuple[str, str]
"""An attachment to seed: a file name, or (file name, author person id)."""


class SandboxState:
    """One fake Movidesk account's data and seeding methods; every public one is thread-safe."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        clock: Callable[[], datetime] | None = None,
        day_limit: int | None = 10,
        night_limit: int | None = None,
        lockout_after: int | None = 3,
        lockout_seconds: float = 60.0,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        base_url: str = DEFAULT_BASE_URL,
        statuses: Iterable[StatusRule] = DEFAULT_STATUSES,
        shuffle_ties: bool = False,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.time_scale = time_scale
        self.clock = clock or self._scaled_clock(time_scale)
        self.day_limit = day_limit
        self.night_limit = night_limit
        self.lockout_after = lockout_after
        self.lockout_seconds = lockout_seconds
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self.shuffle_ties = shuffle_ties
        self.faults: list[Faults] = []
        self.writes: list[Write] = []
        self.calls: list[Call] = []
        self.lockouts = 0
        """How many times three failed requests locked the tickets API."""
        self.throttled = 0
        """How many requests the per-minute budget refused."""
        self.tickets: dict[int, StoredTicket] = {}
        self.persons: dict[str, Json] = {}
        self.teams: dict[str, list[str]] = {}
        self.statuses: dict[str, StatusRule] = {s.name: s for s in statuses}
        self.custom_fields: dict[int, CustomFieldDef] = {}
        self.categories: list[str] = []
        """Allowed ``category`` names; empty = any name is accepted."""
        self.services: dict[int, Json] = {}
        """Services by id, stored in the shape ``GET /services`` answers (``add_service``)."""
        self._lock = threading.RLock()
        self._rng = random.Random(seed)  # noqa: S311 - test data, not security
        self._ids = {
            "ticket": 0,
            "person": 184_000_000,
            "field": 45_000,
            "rule": 11_000,
            "service": 561_000,
        }
        self._request_no = 0
        self._recent: deque[datetime] = deque()
        self._failures = 0
        self._locked_until: datetime | None = None
        self.me = self.add_person(
            "Integração API", profile_type=1, email="integracao@sandbox.example"
        )
        """The agent the token belongs to: author of status and owner changes made via API."""

    @staticmethod
    def _scaled_clock(scale: float) -> Callable[[], datetime]:
        start_wall = datetime.now(UTC)
        start_mono = time.monotonic()
        if scale == 1:
            return lambda: datetime.now(UTC)
        return lambda: start_wall + timedelta(seconds=(time.monotonic() - start_mono) * scale)

    def now(self) -> datetime:
        """The sandbox time (UTC, microseconds kept: ``lastUpdate`` has sub-second digits)."""
        return self.clock().astimezone(UTC)

    @property
    def api_prefix(self) -> str:
        """The path every API URL starts with (``/public/v1`` on the real host)."""
        rest = self.base_url.split("://", 1)[-1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else ""

    # ------------------------------------------------------------------ configuration

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def add_status(self, name: str, base: str, justifications: Sequence[str] = ()) -> None:
        """A status of the account with its base status and accepted justifications."""
        if base not in BASE_STATUSES:
            raise ValueError(f"base status {base!r} unknown; known: {', '.join(BASE_STATUSES)}")
        with self._lock:
            self.statuses[name] = StatusRule(name, base, tuple(justifications))

    def add_team(self, name: str, members: Iterable[str] = ()) -> str:
        """A team (``ownerTeam``) and its member agents; returns its name."""
        with self._lock:
            team = self.teams.setdefault(name, [])
            for member in members:
                if member not in team:
                    team.append(member)
                    self.persons[member]["teams"].append(name)
            return name

    def add_custom_field(
        self, label: str, *, type: str = "text", choices: Sequence[str] = ()
    ) -> int:
        """A ticket custom field (``text`` → ``value``, ``list`` → ``items``); returns its id."""
        with self._lock:
            field_id = self._next("field")
            self.custom_fields[field_id] = CustomFieldDef(
                field_id, self._next("rule"), label, type, tuple(choices)
            )
            return field_id

    def add_service(
        self,
        name: str,
        *,
        parent: int | None = None,
        categories: Sequence[str] = (),
        is_active: bool = True,
        default_category: str | None = None,
    ) -> int:
        """A service (``parent``: the id of the service above it); returns its id. Without
        ``categories`` the service allows every category."""
        with self._lock:
            if parent is not None and parent not in self.services:
                raise ValueError(f"no service {parent}")
            service_id = self._next("service")
            # Layout of KB 7440 ("API do Movidesk - Serviços"): every property of the table,
            # in its order; enums as its numbers (serviceForTicketType 2 = public and
            # internal, isVisible/allowSelection 3 = agent and client). parentServiceId is
            # null on a first-level service (int? in epmallmann/MovideskApiClient
            # Models/Service.cs, *int in jonasandre/movidesk-cli services/services.go).
            self.services[service_id] = {
                "id": service_id,
                "name": name,
                "description": None,
                "parentServiceId": parent,
                "serviceForTicketType": 2,
                "isVisible": 3,
                "allowSelection": 3,
                "allowFinishTicket": True,
                "isActive": is_active,
                "automationMacro": None,
                "defaultCategory": default_category,
                "defaultUrgency": None,
                "allowAllCategories": not categories,
                "categories": list(categories),
            }
            return service_id

    def add_person(
        self,
        name: str,
        *,
        person_type: int = 1,
        profile_type: int = 2,
        email: str | None = None,
        phone: str | None = None,
        cpf_cnpj: str | None = None,
        organization: str | None = None,
        teams: Iterable[str] = (),
        user_name: str | None = None,
        corporate_name: str | None = None,
        person_id: str | None = None,
        is_active: bool = True,
    ) -> str:
        """A person (agent ``profile_type=1``, client 2, both 3; company ``person_type=2``);
        returns its id (the "Cód. Ref.", a string). ``organization`` links a client to a
        company; ``teams`` adds an agent to teams (created when missing)."""
        with self._lock:
            pid = person_id or str(self._next("person"))
            stamp = self.now()
            # Shape of KB 189 (Persons API layout) and fabiodalazem/MovideskSDK
            # MoviPerson.java / MoviPersonEmail.java; ``teams`` as names (reference).
            self.persons[pid] = {
                "id": pid,
                "codeReferenceAdditional": None,
                "isActive": is_active,
                "personType": person_type,
                "profileType": profile_type,
                "accessProfile": "Agentes" if profile_type in (1, 3) else "Clientes",
                "corporateName": corporate_name,
                "businessName": name,
                "businessBranch": None,
                "cpfCnpj": cpf_cnpj,
                "userName": user_name,
                "role": None,
                "bossId": None,
                "bossName": None,
                "classification": None,
                "cultureId": "pt-BR",
                "timeZoneId": "E. South America Standard Time",
                "authenticateOn": None,
                "createdDate": stamp,
                "createdBy": None,
                "changedDate": stamp,
                "changedBy": None,
                "observations": None,
                "teams": [],
                "addresses": [],
                "contacts": (
                    [{"contactType": "Telefone comercial", "contact": phone, "isDefault": True}]
                    if phone
                    else []
                ),
                "emails": (
                    [{"emailType": "Profissional", "email": email, "isDefault": True}]
                    if email
                    else []
                ),
                "relationships": [],
                "customFieldValues": [],
            }
            if organization is not None:
                company = self.persons[organization]
                self.persons[pid]["relationships"].append(
                    {
                        "id": organization,
                        "name": company["businessName"],
                        "slaAgreement": None,
                        "forceChildrenToHaveSomeAgreement": False,
                        "allowAllServices": True,
                        "includeInParents": False,
                        "loadChildOrganizations": False,
                    }
                )
            for team in teams:
                self.add_team(team, [pid])
            return pid

    # ------------------------------------------------------------------ tickets

    def add_ticket(
        self,
        subject: str,
        *,
        clients: Sequence[str] = (),
        created_by: str | None = None,
        owner: str | None = None,
        owner_team: str | None = None,
        status: str = "Novo",
        justification: str | None = None,
        category: str | None = None,
        urgency: str | None = None,
        type: int = 2,
        origin: int = 3,
        custom_fields: Mapping[int, Any] | None = None,
        tags: Iterable[str] = (),
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        actions: Sequence[Mapping[str, Any]] = (),
        parent_id: int | None = None,
        protocol: str | None = None,
    ) -> int:
        """A ticket as if created earlier; returns its id.

        ``actions`` are ``add_action`` keyword sets (``html`` required), written at their
        ``created_at`` or at ``created_at`` of the ticket; ``lastUpdate`` is ``updated_at``
        or the latest of creation and actions. ``custom_fields`` maps field id → value (a
        list field takes the item name, or a list of them).
        """
        with self._lock:
            ticket_id = self._next("ticket")
            created = (created_at or self.now()).astimezone(UTC)
            rule = self.statuses[status]
            requester = created_by or (clients[0] if clients else self.me)
            ticket = StoredTicket(
                id=ticket_id,
                type=type,
                subject=subject,
                status=status,
                base_status=rule.base,
                justification=justification,
                origin=origin,
                created_at=created,
                last_update=created,
                created_by=requester,
                owner=owner,
                owner_team=owner_team,
                clients=list(clients),
                protocol=protocol,
                category=category,
                urgency=urgency,
                tags=list(tags),
                custom_fields=self._field_values(custom_fields or {}),
            )
            if rule.base == "Resolved":
                ticket.resolved_in = created
            if rule.base == "Closed":
                ticket.closed_in = created
            # Histories as a ticket created in the UI leaves them (types.go OwnerHistory /
            # StatusHistory); permanency times are not simulated.
            ticket.status_history.append(
                self._status_entry(status, justification, requester, created)
            )
            if owner or owner_team:
                ticket.owner_history.append(
                    self._owner_entry(owner, owner_team, requester, created)
                )
            self.tickets[ticket_id] = ticket
            for spec in actions:
                self.add_action(ticket_id, **{"created_at": created, **spec})
            if parent_id is not None:
                ticket.parents.append(parent_id)
                self.tickets[parent_id].children.append(ticket_id)
            if updated_at is not None:
                ticket.last_update = updated_at.astimezone(UTC)
            return ticket_id

    def add_action(
        self,
        ticket_id: int,
        html: str,
        *,
        type: int = 1,
        created_by: str | None = None,
        created_at: datetime | None = None,
        attachments: Iterable[Attachment] = (),
        origin: int = 2,
        bump: bool = True,
    ) -> int:
        """An action (``type`` 1 internal note, 2 public message) with attachments; returns
        its id. Like the helpdesk, the ticket's ``lastUpdate`` moves to the action's time."""
        with self._lock:
            ticket = self.tickets[ticket_id]
            at = (created_at or self.now()).astimezone(UTC)
            author = created_by or ticket.owner or self.me
            action = StoredAction(
                id=ticket.next_action_id(),
                type=type,
                origin=origin,
                html=html,
                created_by=author,
                created_at=at,
                status=ticket.status,
                justification=ticket.justification,
                attachments=[self._attachment(a, author, at) for a in attachments],
            )
            ticket.actions.append(action)
            if bump:
                ticket.last_update = max(ticket.last_update, at)
            return action.id

    def set_custom_fields(
        self, ticket_id: int, values: Mapping[int, Any], *, at: datetime | None = None
    ) -> None:
        """An agent edits custom fields in the UI: the named fields change (the others stay,
        unlike an API write, which replaces the set) and ``lastUpdate`` moves."""
        with self._lock:
            ticket = self.tickets[ticket_id]
            fresh = {v["customFieldId"]: v for v in self._field_values(values)}
            kept = [v for v in ticket.custom_fields if v["customFieldId"] not in fresh]
            ticket.custom_fields = kept + list(fresh.values())
            moment = (at or self.now()).astimezone(UTC)
            ticket.last_update = max(ticket.last_update, moment)

    def touch(self, ticket_id: int, updated_at: datetime) -> None:
        """Set a ticket's ``lastUpdate`` (tests that need tickets on the 90-day boundary, or
        many tickets in one second)."""
        with self._lock:
            self.tickets[ticket_id].last_update = updated_at.astimezone(UTC)

    # ------------------------------------------------------------------ helpers

    def _field_values(self, values: Mapping[int, Any]) -> list[Json]:
        """``customFieldValues`` entries for field id → value.

        Shape of the layout (``customFieldId, customFieldRuleId, line, value, items[]``)
        and fabiodalazem/MovideskSDK MoviTicketCustomFieldValue.java; a list field carries
        its choice in ``items[].customFieldItem`` (types.go ``CustomFieldItem``).
        """
        out: list[Json] = []
        for field_id, value in values.items():
            spec = self.custom_fields[field_id]
            entry: Json = {
                "customFieldId": field_id,
                "customFieldRuleId": spec.rule_id,
                "line": 1,
                "value": None,
                "items": [],
            }
            if spec.type == "list":
                chosen = value if isinstance(value, list | tuple) else [value]
                entry["items"] = [_item(str(v)) for v in chosen if v is not None]
            else:
                entry["value"] = None if value is None else str(value)
            out.append(entry)
        return out

    def _attachment(self, spec: Attachment, author: str, at: datetime) -> Json:
        name, by = (spec, author) if isinstance(spec, str) else spec
        digest = hashlib.sha1(f"{name}{at.isoformat()}{self._rng.random()}".encode())  # noqa: S324
        return {"fileName": name, "path": digest.hexdigest(), "createdBy": by, "createdDate": at}

    @staticmethod
    def _status_entry(status: str, justification: str | None, by: str, at: datetime) -> Json:
        return {
            "status": status,
            "justification": justification,
            "changedBy": by,
            "changedDate": at,
            "permanencyTimeFullTime": None,
            "permanencyTimeWorkingTime": None,
        }

    @staticmethod
    def _owner_entry(owner: str | None, team: str | None, by: str, at: datetime) -> Json:
        return {
            "ownerTeam": team,
            "owner": owner,
            "changedBy": by,
            "changedDate": at,
            "permanencyTimeFullTime": None,
            "permanencyTimeWorkingTime": None,
        }


def _item(name: str) -> Json:
    return {
        "personId": None,
        "clientId": None,
        "team": None,
        "customFieldItem": name,
        "storageFileGuid": None,
        "fileName": None,
    }
