"""Lookup routes of the Freshdesk sandbox: ticket/contact/company fields, groups, agents.

What a connector reads to translate names and labels: ``/ticket_fields`` (labels, status
choices, custom ``cf_`` fields), ``/groups`` and ``/admin/groups``, ``/agents`` and
``/agents/me``, ``/contacts/{id}``, ``/companies/{id}`` and their field lists. Each
answer names the API docs section it follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .dispatch import Dispatch
from .records import CustomField, Json
from .shapes import ApiError, fmt
from .state import PRIORITIES


class LookupRoutes(Dispatch):
    """``GET`` handlers for the account's directory and field lists (a mixin of the sandbox)."""

    def _ticket_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Ticket Fields" (GET /api/v2/ticket_fields[?type=]): a JSON array,
        not paginated; ``label`` is what agents see; status ``choices`` map ids to [agent
        label, customer label]; custom fields carry their ``cf_...`` names."""
        stamp = fmt(self.now())

        def default(position: int, name: str, label: str, ftype: str, choices: Any = None) -> Json:
            item: Json = {
                "id": position,
                "name": name,
                "label": label,
                "label_for_customers": label,
                "description": label,
                "position": position,
                "required_for_closure": False,
                "required_for_agents": False,
                "required_for_customers": False,
                "customers_can_edit": False,
                "displayed_to_customers": True,
                "type": ftype,
                "default": True,
                "created_at": stamp,
                "updated_at": stamp,
            }
            if choices is not None:
                item["choices"] = choices
            return item

        requester = default(1, "requester", "Search a requester", "default_requester")
        requester.update({"portal_cc": False, "portal_cc_to": "company"})
        fields = [
            requester,
            default(2, "subject", "Subject", "default_subject"),
            default(3, "ticket_type", "Type", "default_ticket_type", list(self.ticket_types)),
            default(4, "source", "Source", "default_source", {"Email": 1, "Portal": 2, "Phone": 3}),
            default(
                5,
                "status",
                "Status",
                "default_status",
                {str(k): list(v) for k, v in sorted(self.statuses.items())},
            ),
            default(6, "priority", "Priority", "default_priority", dict(PRIORITIES)),
            default(
                7,
                "group",
                "Group",
                "default_group",
                {g["name"]: g["id"] for g in self.groups.values()},
            ),
            default(8, "agent", "Agent", "default_agent"),
            default(9, "description", "Description", "default_description"),
        ]
        for position, spec in enumerate(self.custom_fields.values(), start=10):
            item = default(position, spec.name, spec.label, spec.type, list(spec.choices) or None)
            item["default"] = False
            fields.append(item)
        wanted = query.get("type", [""])[-1]
        if wanted:
            fields = [f for f in fields if f["type"] == wanted]
        return 200, fields, {}

    def _groups(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        # Docs "List All Groups" (GET /api/v2/groups): an array, paginated like every list.
        chunk, headers = self._page(list(self.groups.values()), query, "/api/v2/groups")
        return 200, chunk, headers

    def _admin_groups(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Groups" of the new groups UI (GET /api/v2/admin/groups)."""
        rows = [
            {
                "id": g["id"],
                "name": g["name"],
                "description": g["description"],
                "escalate_to": g["escalate_to"],
                "unassigned_for": g["unassigned_for"],
                "agent_ids": [],
                "created_at": g["created_at"],
                "updated_at": g["updated_at"],
                "allow_agents_to_change_availability": False,
                "business_calendar_id": None,
                "type": "support_agent_group",
                "automatic_agent_assignment": {"enabled": False},
            }
            for g in self.groups.values()
        ]
        chunk, headers = self._page(rows, query, "/api/v2/admin/groups")
        return 200, chunk, headers

    def _agents(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        agents = list(self.agents.values())
        if "email" in query:
            agents = [a for a in agents if a["contact"]["email"] == query["email"][-1]]
        chunk, headers = self._page(agents, query, "/api/v2/agents")
        return 200, chunk, headers

    def _me(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        # Docs "Currently Authenticated Agent": the agent with group_ids, role_ids, skill_ids.
        me = {k: v for k, v in self.agents[self.me].items() if k != "focus_mode"}
        me.update({"group_ids": [], "role_ids": [1], "skill_ids": []})
        return 200, me, {}

    def _view_contact(
        self, contact_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        # Docs "View a Contact": custom fields by their API names, without ``cf_``.
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise ApiError(404, None)
        return 200, dict(contact), {}

    def _view_company(
        self, company_id: int, query: Mapping[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        # Docs "View a Company": name, domains, custom_fields (names without ``cf_``).
        company = self.companies.get(company_id)
        if company is None:
            raise ApiError(404, None)
        return 200, dict(company), {}

    def _party_fields(
        self, defaults: Sequence[tuple[str, str, str]], custom: Mapping[str, CustomField]
    ) -> list[Json]:
        stamp = fmt(self.now())
        out: list[Json] = []
        specs = [(n, lb, t, True) for n, lb, t in defaults]
        specs += [(f.name, f.label, f.type, False) for f in custom.values()]
        for position, (name, label, ftype, is_default) in enumerate(specs, start=1):
            out.append(
                {
                    "id": position,
                    "name": name,
                    "label": label,
                    "position": position,
                    "required_for_agents": name == "name",
                    "agents_can_edit": True,
                    "displayed_for_agents": True,
                    "quick_add_for_agent": False,
                    "unique": False,
                    "type": ftype,
                    "default": is_default,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
        return out

    def _contact_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Contact Fields" (GET /api/v2/contact_fields): an array; custom
        fields are named without ``cf_`` (the sample's ``custom_company_name``)."""
        defaults = (
            ("name", "Full name", "default_name"),
            ("job_title", "Title", "default_job_title"),
            ("email", "Email", "default_email"),
            ("phone", "Work phone", "default_phone"),
            ("mobile", "Mobile phone", "default_mobile"),
            ("company_name", "Company", "default_company_name"),
            ("address", "Address", "default_address"),
            ("time_zone", "Time zone", "default_time_zone"),
            ("language", "Language", "default_language"),
            ("description", "About", "default_description"),
        )
        fields = self._party_fields(defaults, self.contact_fields)
        for item in fields:
            item.update(
                {
                    "editable_in_signup": False,
                    "customers_can_edit": True,
                    "label_for_customers": item["label"],
                    "required_for_customers": False,
                    "displayed_for_customers": True,
                }
            )
        return 200, fields, {}

    def _company_fields(self, query: Mapping[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Docs "List All Company Fields" (GET /api/v2/company_fields): an array."""
        defaults = (
            ("name", "Company Name", "default_name"),
            ("description", "Description", "default_description"),
            ("note", "Notes", "default_note"),
            ("domains", "Domains for this company", "default_domains"),
            ("health_score", "Health score", "default_health_score"),
            ("account_tier", "Account tier", "default_account_tier"),
            ("renewal_date", "Renewal date", "default_renewal_date"),
            ("industry", "Industry", "default_industry"),
        )
        return 200, self._party_fields(defaults, self.company_fields), {}
