"""Write routes of the Movidesk sandbox: ``PATCH /tickets?id=N`` and ``POST /tickets``.

Every body is checked before anything changes, so a refused write changes nothing. The
rules and where they come from:

- ``status`` must be a status of the account; a status that demands a justification
  needs one of its own, one that takes none accepts none; ``justification`` alone is
  refused (KB 256 layout: "Para alterar esse campo deve ser também informada a
  justificativa" / "... informado o status") → 400, body unverified.
- ``owner`` and ``ownerTeam`` change together: one without the other → HTTP 500
  (ferronicardoso/mcp-movidesk ``src/updateTicketValidation.ts``: "enviar só um deles causa
  HTTP 500 genérico"); the team must exist and contain the owner (layout: "team must
  contain the owner") → 400.
- Persons (``owner``, ``createdBy``, ``clients``) must exist → 400 (unverified body).
- ``actions``: an item without ``id``, or ``id: 0`` without ``createdBy.id`` → 500 on PATCH,
  400 on POST (ferronicardoso/mcp-movidesk ``src/ticketActionsValidation.ts``); a new
  action needs ``type`` 1|2 and a ``description`` (layout) → 400; an existing ``id`` edits
  that action (``isDeleted``, ``description``; jonasandre/movidesk-cli ``collections.go``
  ``DeleteAction``).
- ``customFieldValues`` replaces the whole set: values not sent are deleted (layout and
  reference "Writes"); unknown field ids → 400.
- ``clients`` and ``tags`` replace theirs (unverified: chosen to be the strict case).
- POST needs ``type``, ``createdBy.id``, ``clients[≥1]`` and ``actions[≥1]`` (layout);
  the missing-creator and missing-clients bodies are the texts ferronicardoso/mcp-movidesk
  ``src/createTicketValidation.ts`` quotes ("Ref. code is required" / "Customers is
  required"). ``parentTickets: [{"id": P}]`` links parent and child (reference, inferred
  from the layout, unverified).

Keys the sandbox does not model, and read-only ones (``id``, ``baseStatus``,
``lastUpdate``, ...), are ignored, as a lenient JSON binder would (unverified).

Every successful write moves ``lastUpdate`` to the sandbox's ``now()`` (reference quirk 6:
our own PATCH echoes on the next poll). Answers: PATCH → 200 with an empty body; POST →
200 with ``{"id": N}``, the whole ticket with ``returnAllProperties=true`` (reference:
exact shapes unverified).
"""

from __future__ import annotations

from typing import Any

from .dispatch import Dispatch, Query
from .records import Json, StoredAction, StoredTicket
from .shapes import ApiError, bad_request, server_error, ticket_json

API_ORIGIN = 9
"""``origin`` 9 = "Via web API" (layout)."""


class WriteRoutes(Dispatch):
    """``PATCH``/``POST`` handlers (a mixin of the sandbox)."""

    # ------------------------------------------------------------------ checks

    def _person_id(self, value: Any, what: str, *, fail: ApiError | None = None) -> str:
        if not isinstance(value, dict) or value.get("id") in (None, "", 0):
            raise fail or bad_request(f"{what}: Cód. Ref. é obrigatório.")
        person_id = str(value["id"])
        if person_id not in self.persons:
            raise bad_request(f"{what}: pessoa '{person_id}' não encontrada.")
        return person_id

    def _check_status(self, data: Json, *, creating: bool) -> tuple[str, str | None] | None:
        if "status" not in data:
            if data.get("justification") not in (None, "") or (
                "justification" in data and not creating
            ):
                raise bad_request("Para alterar a justificativa informe também o status.")
            return None
        status = data["status"]
        rule = self.statuses.get(status) if isinstance(status, str) else None
        if rule is None:
            raise bad_request(f"O status '{status}' não existe.")
        justification = data.get("justification")
        if rule.justifications and justification not in rule.justifications:
            raise bad_request(f"Justificativa inválida para o status '{status}'.")
        if not rule.justifications and justification not in (None, ""):
            raise bad_request(f"O status '{status}' não aceita justificativa.")
        return status, justification or None

    def _check_owner(self, data: Json) -> tuple[str | None, str | None] | None:
        has_owner, has_team = "owner" in data, "ownerTeam" in data
        if not has_owner and not has_team:
            return None
        if has_owner != has_team:
            raise server_error()
        owner, team = data["owner"], data["ownerTeam"]
        if owner is not None and team is None:
            raise server_error()
        if team is not None and (not isinstance(team, str) or team not in self.teams):
            raise bad_request(f"A equipe '{team}' não existe.")
        if owner is None:
            return None, team
        owner_id = self._person_id(owner, "owner")
        if self.persons[owner_id]["profileType"] not in (1, 3):
            raise bad_request("O responsável deve ser um agente.")
        if team is not None and owner_id not in self.teams[team]:
            raise bad_request(f"O responsável não pertence à equipe '{team}'.")
        return owner_id, team

    def _check_actions(
        self, data: Json, ticket: StoredTicket | None
    ) -> tuple[list[Json], list[tuple[StoredAction, Json]]]:
        """New actions and edits of existing ones; 500 (PATCH) / 400 (POST) for malformed."""
        items = data.get("actions")
        if items is None:
            return [], []
        if not isinstance(items, list):
            raise bad_request("actions deve ser uma lista.")
        generic = bad_request("Erro ao processar as ações.") if ticket is None else server_error()
        new: list[Json] = []
        edits: list[tuple[StoredAction, Json]] = []
        for item in items:
            if not isinstance(item, dict) or isinstance(item.get("id"), bool):
                raise generic
            action_id = item.get("id")
            if not isinstance(action_id, int):
                raise generic
            if action_id != 0:
                found = [a for a in ticket.actions if a.id == action_id] if ticket else []
                if not found:
                    raise bad_request(f"Ação {action_id} não encontrada.")
                edits.append((found[0], item))
                continue
            author = self._person_id(item.get("createdBy"), "createdBy", fail=generic)
            if item.get("type") not in (1, 2):
                raise bad_request("O tipo da ação é obrigatório (1 interna, 2 pública).")
            description = item.get("description")
            if not isinstance(description, str) or not description.strip():
                raise bad_request("A descrição da ação é obrigatória.")
            new.append({"type": item["type"], "html": description, "created_by": author})
        return new, edits

    def _check_custom_fields(self, data: Json) -> list[Json] | None:
        if "customFieldValues" not in data:
            return None
        values = data["customFieldValues"]
        if not isinstance(values, list):
            raise bad_request("customFieldValues deve ser uma lista.")
        out: list[Json] = []
        for value in values:
            field_id = value.get("customFieldId") if isinstance(value, dict) else None
            spec = self.custom_fields.get(field_id) if isinstance(field_id, int) else None
            if spec is None:
                raise bad_request(f"Campo adicional '{field_id}' não encontrado.")
            items = value.get("items") or []
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise bad_request(f"Itens inválidos no campo adicional {field_id}.")
            for item in items:
                if spec.choices and item.get("customFieldItem") not in spec.choices:
                    raise bad_request(f"Item inválido no campo adicional {field_id}.")
            text = value.get("value")
            if text is not None and not isinstance(text, str):
                raise bad_request(f"Valor inválido no campo adicional {field_id}.")
            line = value.get("line", 1)
            out.append(
                {
                    "customFieldId": field_id,
                    "customFieldRuleId": value.get("customFieldRuleId", spec.rule_id),
                    "line": line if isinstance(line, int) else 1,
                    "value": text,
                    "items": [
                        {
                            "personId": i.get("personId"),
                            "clientId": i.get("clientId"),
                            "team": i.get("team"),
                            "customFieldItem": i.get("customFieldItem"),
                            "storageFileGuid": i.get("storageFileGuid"),
                            "fileName": i.get("fileName"),
                        }
                        for i in items
                    ],
                }
            )
        return out

    def _check_plain(self, data: Json, *, creating: bool) -> Json:
        """subject, category, urgency, cc, tags, clients, parentTickets, type."""
        changes: Json = {}
        if "subject" in data:
            subject = data["subject"]
            if not isinstance(subject, str) or len(subject) > 350:
                raise bad_request("Assunto inválido (até 350 caracteres).")
            changes["subject"] = subject
        if "category" in data:
            category = data["category"]
            if category is not None and self.categories and category not in self.categories:
                raise bad_request(f"A categoria '{category}' não existe.")
            changes["category"] = category
        for key in ("urgency", "cc"):
            if key in data:
                changes[key] = data[key]
        if "tags" in data:
            tags = data["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise bad_request("tags deve ser uma lista de textos.")
            changes["tags"] = list(tags)
        if "clients" in data or creating:
            clients = data.get("clients")
            if not isinstance(clients, list) or not clients:
                raise bad_request("Customers is required")
            changes["clients"] = [
                self._person_id(c, "clients", fail=bad_request("Customers is required"))
                for c in clients
            ]
        if "parentTickets" in data:
            parents = data["parentTickets"]
            if not isinstance(parents, list):
                raise bad_request("parentTickets deve ser uma lista.")
            ids = [p.get("id") if isinstance(p, dict) else None for p in parents]
            if not all(isinstance(i, int) and i in self.tickets for i in ids):
                raise bad_request("Ticket pai não encontrado.")
            changes["parents"] = ids
        if "type" in data or creating:
            if data.get("type") not in (1, 2):
                raise bad_request("O tipo do ticket é obrigatório (1 interno, 2 público).")
            changes["type"] = data["type"]
        return changes

    # ------------------------------------------------------------------ apply

    def _apply(
        self,
        ticket: StoredTicket,
        status: tuple[str, str | None] | None,
        owner: tuple[str | None, str | None] | None,
        actions: tuple[list[Json], list[tuple[StoredAction, Json]]],
        fields: list[Json] | None,
        plain: Json,
    ) -> None:
        now = self.now()
        if status is not None:
            name, justification = status
            before = ticket.base_status
            ticket.status, ticket.justification = name, justification
            ticket.base_status = self.statuses[name].base
            if ticket.base_status == "Resolved" and before != "Resolved":
                ticket.resolved_in = now
            if ticket.base_status == "Closed" and before != "Closed":
                ticket.closed_in = now
            if before in ("Resolved", "Closed") and ticket.base_status not in (
                "Resolved",
                "Closed",
            ):
                ticket.reopened_in = now
            ticket.status_history.append(self._status_entry(name, justification, self.me, now))
        if owner is not None:
            ticket.owner, ticket.owner_team = owner
            ticket.owner_history.append(self._owner_entry(*owner, self.me, now))
        new, edits = actions
        for action, item in edits:
            if isinstance(item.get("isDeleted"), bool):
                action.is_deleted = item["isDeleted"]
            if isinstance(item.get("description"), str):
                action.html = item["description"]
        for spec in new:
            ticket.actions.append(
                StoredAction(
                    id=ticket.next_action_id(),
                    type=spec["type"],
                    origin=API_ORIGIN,
                    html=spec["html"],
                    created_by=spec["created_by"],
                    created_at=now,
                    status=ticket.status,
                    justification=ticket.justification,
                )
            )
        if fields is not None:
            ticket.custom_fields = fields
        for key in ("subject", "category", "urgency", "cc", "tags", "clients", "type"):
            if key in plain:
                setattr(ticket, key, plain[key])
        for parent_id in plain.get("parents", []):
            if parent_id not in ticket.parents:
                ticket.parents.append(parent_id)
                parent = self.tickets[parent_id]
                parent.children.append(ticket.id)
                parent.last_update = now
        ticket.last_update = now

    # ------------------------------------------------------------------ routes

    def _update_ticket(self, query: Query, data: Json) -> tuple[int, Any, int]:
        ticket = self._ticket_param(query)
        status = self._check_status(data, creating=False)
        owner = self._check_owner(data)
        actions = self._check_actions(data, ticket)
        fields = self._check_custom_fields(data)
        plain = self._check_plain(data, creating=False)
        self._apply(ticket, status, owner, actions, fields, plain)
        return 200, None, ticket.id

    def _create_ticket(self, query: Query, data: Json) -> tuple[int, Any, int]:
        creator = self._person_id(
            data.get("createdBy"), "createdBy", fail=bad_request("Ref. code is required")
        )
        plain = self._check_plain(data, creating=True)
        actions = self._check_actions(data, None)
        if not actions[0]:
            raise bad_request("Ao menos uma ação é obrigatória.")
        status = self._check_status(data, creating=True) or ("Novo", None)
        owner = self._check_owner(data)
        fields = self._check_custom_fields(data)
        now = self.now()
        ticket_id = self._next("ticket")
        rule = self.statuses[status[0]]
        ticket = StoredTicket(
            id=ticket_id,
            type=plain["type"],
            subject=plain.get("subject", ""),
            status=status[0],
            base_status=rule.base,
            justification=status[1],
            origin=API_ORIGIN,
            created_at=now,
            last_update=now,
            created_by=creator,
            owner=None,
            owner_team=None,
            clients=[],
        )
        self.tickets[ticket_id] = ticket
        ticket.status_history.append(self._status_entry(status[0], status[1], creator, now))
        self._apply(ticket, None, owner, actions, fields, plain)
        if rule.base == "Resolved":
            ticket.resolved_in = now
        if rule.base == "Closed":
            ticket.closed_in = now
        if query.get("returnAllProperties", ["false"])[-1].lower() == "true":
            return 200, ticket_json(ticket, self.persons, self.tickets), ticket_id
        return 200, {"id": ticket_id}, ticket_id
