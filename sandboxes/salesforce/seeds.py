"""Seeds for the Salesforce sandbox: the EPS Service Cloud org the ``eps`` mapping runs on.

``setup_eps_org`` creates the queues of the escalation matrix ("Backoffice EPS",
"Supervisor EPS", "GSO", each owning Case and Task records through ``QueueSobject``),
three N2 agents besides the integration user, the case statuses the flows write
("Novo" the default, "Em andamento", "Escalado", "Aguardando cliente", "Concluído III",
"Fechado" closed), the custom Case fields the flows read or write
(``Tipo_de_Solicitacao__c``, ``Numero_Pedido_GAR__c``, ``Comentario_Interno__c``) and
the values the Case picklists list: the request types of the escalation matrix (seeds 000
and 001) and the org's other ones in ``Type``, the usual ``Origin`` and ``Priority``
values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .sandbox import SalesforceSandbox

QUEUES: Mapping[str, str] = {
    "Backoffice EPS": "Backoffice_EPS",
    "Supervisor EPS": "Supervisor_EPS",
    "GSO": "GSO",
}
"""Queue name → DeveloperName."""
AGENTS: Mapping[str, str] = {
    "ana.souza": "Ana Souza",
    "bruno.lima": "Bruno Lima",
    "carla.mendes": "Carla Mendes",
}
"""N2 agents: user-name stem → full name (usernames ``<stem>@eps.example``)."""
STATUSES: tuple[tuple[str, bool], ...] = (
    ("Novo", False),
    ("Em andamento", False),
    ("Escalado", False),
    ("Aguardando cliente", False),
    ("Concluído III", False),
    ("Fechado", True),
)
"""Case statuses (ApiName, IsClosed), the first the default."""
REQUEST_TYPES: tuple[str, ...] = (
    "Voucher",
    "Liberação de pagamento",
    "Desbloqueio de IP",
    "Reenvio de código de instalação",
    "Nota Fiscal - Fenacon",
    "Posto fechado / inexistente",
    "AR não enviou a mídia",
    "Link da videoconferência não enviado",
    "Envio de documento antes da vídeo",
    "Dificuldade na validação da foto",
    "Ausência de ponto de atendimento para validação presencial",
    "Liberação de pedido",
    "Caso crítico - Ouvidoria/Corporativo",
    "Priorização de AC",
    "Priorização de AP",
    "Reclamação de má conduta do posto (AR)",
    "Não tem mídia disponível no ponto de atendimento",
    "Não tem agenda disponível",
    "Não compareceu na entrevista",
    "Solicitação de validação por videoconferência",
    "Dúvida comercial",
)
"""The Case ``Type`` values agents pick: the matrix's request types, then the org's others."""
PICKLISTS: Mapping[str, tuple[str, ...]] = {
    "Type": REQUEST_TYPES,
    "Origin": ("Phone", "Email", "Web"),
    "Priority": ("High", "Medium", "Low"),
}
"""Case picklist field -> the values it lists (not restricted: writes are not checked)."""
CASE_FIELDS: tuple[tuple[str, str], ...] = (
    ("Tipo_de_Solicitacao__c", "string"),
    ("Numero_Pedido_GAR__c", "string"),
    ("Comentario_Interno__c", "textarea"),
)


@dataclass(frozen=True, slots=True)
class EpsOrg:
    """Ids of what ``setup_eps_org`` created."""

    queues: Mapping[str, str]
    """Queue name → Group id."""
    users: Mapping[str, str]
    """User-name stem (``ana.souza``) → User id; ``integration`` is the API user."""
    statuses: Mapping[str, str]
    """Status ApiName → CaseStatus id."""


def setup_eps_org(sandbox: SalesforceSandbox) -> EpsOrg:
    """The EPS org set up the usual way (no cases: tests add the ones they need)."""
    queues = {
        name: sandbox.add_queue(name, developer_name=dev, sobject_types=("Case", "Task"))
        for name, dev in QUEUES.items()
    }
    users = {
        stem: sandbox.add_user(name, username=f"{stem}@eps.example")
        for stem, name in AGENTS.items()
    }
    users["integration"] = sandbox.integration_user
    statuses = {
        api_name: sandbox.add_status(api_name, is_closed=closed, is_default=index == 0)
        for index, (api_name, closed) in enumerate(STATUSES)
    }
    for name, kind in CASE_FIELDS:
        sandbox.add_field("Case", name, type=kind)
    for name, values in PICKLISTS.items():
        sandbox.set_picklist("Case", name, values)
    return EpsOrg(queues, users, statuses)
