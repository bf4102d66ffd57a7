"""Write routes of the Freshdesk sandbox: update, create (children too), notes, merge.

Field checks follow the API's validation errors (unknown fields, nulls, status ids valid
per account, groups, agents, types, custom dropdown choices and dates); ``parent_id`` is
accepted only on create, a parent cannot be resolved while a child is open, a note moves
the ticket's ``updated_at``, a merge answers 204. Each answer names its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .dispatch import Dispatch
from .records import Json
from .shapes import ACCESS_DENIED, ApiError, parse_moment, ticket_json, validation


class WriteRoutes(Dispatch):
    """``POST``/``PUT`` handlers (a mixin of the sandbox)."""

    def _check_fields(self, data: Json, allowed: Iterable[str]) -> None:
        unknown = [k for k in data if k not in allowed]
        if unknown:
            raise validation(unknown[0], "Unexpected/invalid field in request", "invalid_field")
        for name in ("tags", "custom_fields", "cc_emails", "attachments"):
            if name in data and data[name] is None:
                kind = "key/value pair" if name == "custom_fields" else "Array"
                raise validation(
                    name, f"Value set is of type Null.It should be a/an {kind}", "datatype_mismatch"
                )
        if "status" in data and data["status"] not in self.statuses:
            valid = ",".join(str(s) for s in sorted(self.statuses))
            raise validation(
                "status", f"It should be one of these values: '{valid}'", "invalid_value"
            )
        if "priority" in data and data["priority"] not in (1, 2, 3, 4):
            raise validation(
                "priority", "It should be one of these values: '1,2,3,4'", "invalid_value"
            )
        if data.get("group_id") is not None and data["group_id"] not in self.groups:
            raise validation(
                "group_id", "There is no group matching the given group_id", "invalid_value"
            )
        if data.get("responder_id") is not None and data["responder_id"] not in self.agents:
            raise validation(
                "responder_id", "There is no agent matching the given responder_id", "invalid_value"
            )
        if data.get("type") is not None and data["type"] not in self.ticket_types:
            valid = ",".join(self.ticket_types)
            raise validation(
                "type", f"It should be one of these values: '{valid}'", "invalid_value"
            )
        if "tags" in data and not (
            isinstance(data["tags"], list) and all(isinstance(t, str) for t in data["tags"])
        ):
            raise validation("tags", "It should be a/an Array", "datatype_mismatch")
        if "custom_fields" in data:
            values = data["custom_fields"]
            if not isinstance(values, dict):
                raise validation(
                    "custom_fields", "It should be a/an key/value pair", "datatype_mismatch"
                )
            for name, value in values.items():
                spec = self.custom_fields.get(name)
                if spec is None:
                    raise validation(name, "Unexpected/invalid field in request", "invalid_field")
                if spec.type == "custom_date" and value is not None:
                    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                        raise validation(
                            name, "It should be in the 'valid date' format", "invalid_date"
                        )
                if (
                    spec.type == "custom_dropdown"
                    and value is not None
                    and value not in spec.choices
                ):
                    valid = ",".join(spec.choices)
                    raise validation(
                        name, f"It should be one of these values: '{valid}'", "invalid_value"
                    )

    _UPDATABLE = (
        "status",
        "priority",
        "group_id",
        "responder_id",
        "type",
        "tags",
        "custom_fields",
        "subject",
        "description",
        "due_by",
        "fr_due_by",
        "company_id",
        "source",
    )

    def _update_ticket(self, ticket_id: int, data: Json) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        if ticket.spam or ticket.deleted:
            raise ApiError(
                405, {"code": "method_not_allowed", "message": "Ticket is spam or deleted"}
            )
        if not data:
            raise ApiError(
                400,
                {
                    "description": "Validation failed",
                    "errors": [
                        {"message": "Mandatory attributes missing", "code": "missing_params"}
                    ],
                },
            )
        if "parent_id" in data:  # the server code refuses it on update: create children instead
            raise validation("parent_id", "Unexpected/invalid field in request", "invalid_field")
        self._check_fields(data, self._UPDATABLE)
        if data.get("status") in (4, 5) and any(
            self.tickets[c].status not in (4, 5) for c in ticket.children
        ):
            raise validation(
                "status",
                "The parent ticket cannot be resolved or closed until all child tickets are",
                "invalid_value",
            )
        changed = False
        for name, value in data.items():
            if name == "custom_fields":
                merged = {**ticket.custom_fields, **value}
                changed |= merged != ticket.custom_fields
                ticket.custom_fields = merged
                continue
            if name in ("due_by", "fr_due_by"):
                value = parse_moment(str(value)) or getattr(ticket, name)
            if getattr(ticket, name) != value:
                setattr(ticket, name, list(value) if name == "tags" else value)
                changed = True
        if changed:
            ticket.updated_at = max(ticket.updated_at, self.now())
        # Docs "Update a Ticket": 200 with the updated ticket (view shape).
        return 200, ticket_json(ticket, view=True), {}

    def _create_ticket(self, data: Json) -> tuple[int, Any, dict[str, str]]:
        allowed = (
            *self._UPDATABLE,
            "parent_id",
            "requester_id",
            "email",
            "phone",
            "name",
            "cc_emails",
        )
        self._check_fields(data, allowed)
        for name in ("status", "priority"):
            if name not in data:  # the server code demands both although the docs give defaults
                valid = ",".join(
                    str(s) for s in (sorted(self.statuses) if name == "status" else (1, 2, 3, 4))
                )
                raise validation(
                    name, f"It should be one of these values: '{valid}'", "missing_field"
                )
        if not data.get("subject"):
            raise validation("subject", "It should be a/an String", "missing_field")
        requester = data.get("requester_id")
        if requester is not None and requester not in self.contacts:
            raise validation(
                "requester_id",
                "There is no contact matching the given requester_id",
                "invalid_value",
            )
        if requester is None and data.get("email"):
            requester = next(
                (c["id"] for c in self.contacts.values() if c["email"] == data["email"]), None
            ) or self.add_contact(data.get("name") or data["email"], data["email"])
        if requester is None:
            raise validation(
                "requester_id",
                "Please fill at least 1 of email, mobile, phone, twitter_id, unique_external_id, "
                "requester_id, facebook_id fields",
                "missing_field",
            )
        parent_id = data.get("parent_id")
        if parent_id is not None:
            parent = self.tickets.get(parent_id)
            if parent is None or parent.deleted or parent.spam:
                raise ApiError(403, dict(ACCESS_DENIED))
            if parent.parent_id is not None:
                raise validation(
                    "parent_id", "A child ticket cannot be a parent ticket", "invalid_value"
                )
        now = self.now()
        ticket_id = self.add_ticket(
            data["subject"],
            status=data["status"],
            priority=data["priority"],
            group_id=data.get("group_id"),
            responder_id=data.get("responder_id"),
            requester_id=requester,
            custom_fields=data.get("custom_fields"),
            created_at=now,
            type=data.get("type"),
            tags=data.get("tags") or (),
            description=data.get("description", ""),
        )
        ticket = self.tickets[ticket_id]
        if parent_id is not None:
            ticket.parent_id = parent_id
            self.tickets[parent_id].children.append(ticket_id)
        location = {"Location": f"{self.base_url}/api/v2/tickets/{ticket_id}"}
        # Docs "Create a Ticket" / "Create a Child Ticket": 201, ``Location``, the ticket in
        # the view shape (a child shows association_type 2, associated_tickets_list [parent]).
        return 201, ticket_json(ticket, view=True), location

    def _create_note(self, ticket_id: int, data: Json) -> tuple[int, Any, dict[str, str]]:
        ticket = self._get(ticket_id)
        if ticket.spam or ticket.deleted:
            raise ApiError(
                405, {"code": "method_not_allowed", "message": "Ticket is spam or deleted"}
            )
        self._check_fields(data, ("body", "private", "incoming", "notify_emails", "user_id"))
        if not isinstance(data.get("body"), str) or not data["body"]:
            raise validation("body", "It should be a/an String", "missing_field")
        user_id = data.get("user_id")
        if user_id is not None and user_id not in self.agents:
            raise validation(
                "user_id", "There is no agent matching the given user_id", "invalid_value"
            )
        now = self.now()
        note = self._conversation(
            ticket_id,
            data["body"],
            bool(data.get("private", True)),
            now,
            (),
            user_id,
            bool(data.get("incoming", False)),
            2,
        )
        ticket.updated_at = now  # the server code sets updated_at to the note's time
        location = {
            "Location": f"{self.base_url}/api/v2/tickets/{ticket_id}/conversations/{note['id']}"
        }
        # Docs "Create a Note" response (and the real one in pbrane/freshdesk-api-client
        # .../documents/tac-case-notes/tacCase99note.json): no ``source``, ``notified_to``.
        answer = {
            "body_text": note["body_text"],
            "body": note["body"],
            "id": note["id"],
            "incoming": note["incoming"],
            "private": note["private"],
            "user_id": note["user_id"],
            "support_email": None,
            "ticket_id": ticket_id,
            "notified_to": list(data.get("notify_emails") or []),
            "attachments": [],
            "created_at": note["created_at"],
            "updated_at": note["updated_at"],
        }
        return 201, answer, location

    def _merge(self, data: Json) -> tuple[int, Any, dict[str, str]]:
        self._check_fields(
            data,
            (
                "primary_id",
                "ticket_ids",
                "note_in_primary",
                "note_in_secondary",
                "convert_recepients_to_cc",
            ),
        )
        primary_id = data.get("primary_id")
        ids = data.get("ticket_ids")
        if not isinstance(primary_id, int):
            raise validation("primary_id", "It should be a/an Positive Integer", "missing_field")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise validation("ticket_ids", "It should be a/an Array", "missing_field")
        primary = self._get(primary_id, include_hidden=False)
        secondaries = [self._get(i, include_hidden=False) for i in ids if i != primary_id]
        if not secondaries:
            raise validation(
                "ticket_ids", "There should be at least one secondary ticket", "invalid_value"
            )
        for ticket in secondaries:
            if ticket.merged_into is not None:
                raise validation(
                    "ticket_ids", f"Ticket {ticket.id} is already merged", "invalid_value"
                )
        now = self.now()
        for ticket in secondaries:
            ticket.merged_into = primary.id
            ticket.status = 5
            text = (data.get("note_in_secondary") or {}).get("body") or (
                f"This ticket is closed and merged into ticket {primary.id}"
            )
            self._conversation(ticket.id, text, True, now, (), None, False, 2)
            ticket.updated_at = now
        text = (data.get("note_in_primary") or {}).get("body") or (
            "Merged from tickets " + ", ".join(str(t.id) for t in secondaries)
        )
        self._conversation(primary.id, text, True, now, (), None, False, 2)
        primary.updated_at = now
        # Docs "Merge Tickets": ``HTTP Status: 204 No Content``.
        return 204, None, {}
