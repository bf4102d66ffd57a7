"""The Freshdesk account names for ``check`` from a dependent (``nested_field``) type field.

The ``/ticket_fields`` row of a dependent field, as Freshdesk's "List All Ticket Fields"
documents it and its API's JSON builder writes it: ``choices`` nested by level
(``{"Pedidos": {"Atraso": ["Tambasa", ...]}}``) and ``nested_ticket_fields`` naming the
lower levels (``name``, ``label``, ``level``). The sandbox serves only flat dropdowns, so
this answer is given here.
"""

from __future__ import annotations

from typing import Any

from connectors.freshdesk.account import account_names

DEPENDENT = {
    "id": 20,
    "name": "cf_categoria",
    "label": "Categoria",
    "type": "nested_field",
    "default": False,
    "choices": {
        "Pedidos": {"Atraso": ["Tambasa", "Profarma"], "Cancelamento": []},
        "Cadastro": {"Quero alterar meu cadastro": []},
    },
    "nested_ticket_fields": [
        {"id": 21, "name": "cf_subcategoria", "label": "Subcategoria", "level": 2},
        {"id": 22, "name": "cf_distribuidor", "label": "Distribuidor", "level": 3},
    ],
}
STATUS = {
    "id": 5,
    "name": "status",
    "label": "Status",
    "type": "default_status",
    "default": True,
    "choices": {"2": ["Open", "Being Processed"], "6": ["Aguardando distribuidor", "Em análise"]},
}


class Answer:
    def __init__(self, body: Any) -> None:
        self.body = body

    def json(self) -> Any:
        return self.body


class Http:
    def get(self, path: str) -> Answer:
        assert path == "/api/v2/ticket_fields"
        return Answer([STATUS, DEPENDENT])


class Names:
    def __init__(self, *names: str) -> None:
        self.names = list(names)

    def labels(self) -> list[str]:
        return self.names


class Directory:
    http = Http()
    groups = Names("SAC")
    agents = Names("Ana Souza", "ana.souza@example.com")


def test_a_dependent_type_field_gives_every_path_of_its_levels() -> None:
    account = account_names(Directory(), "cf_categoria", "cf_subcategoria")  # type: ignore[arg-type]
    assert account.has("type", "Pedidos > Atraso") is True
    assert account.has("type", "Pedidos > Atraso > Tambasa") is True
    assert account.has("type", "Cadastro > Quero alterar meu cadastro") is True
    assert account.has("type", "Pedidos > Troca") is False  # not a choice under Pedidos
    assert account.has("type", "Cadastro > Atraso") is False  # a choice, under another level
    # the lower levels are fields of the account too
    assert account.has("field", "cf_distribuidor") is True
    # custom statuses by their agent label, the defaults by name
    assert account.has("status", "Aguardando distribuidor") is True
    assert account.has("status", "pendente") is True
    # the customer label is not what the writes resolve a status by
    assert account.has("status", "Em análise") is False
