"""Settings of a Movidesk connector: the shared ones plus what only Movidesk has.

The API token comes through the shared ``api_key``/``api_key_env``/``api_key_file``. The
day window and time zone are checked when the settings load, so a bad value is reported
with the file and line like every other config error. The day window is one value
(``07:01-18:59``), never two times: YAML would read a bare ``18:59`` as a base-60 number.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from sync.account import Kind, PathT

from ..settings import ConnectorSettingsBase
from .api import DEFAULT_BASE_URL
from .limits import DEFAULT_DAY_WINDOW, DEFAULT_TIMEZONE, parse_day_window, zone
from .normalize import CATEGORY_NAMES

CUSTOM_FIELD_SETTINGS = (
    "task_due_field",
    "onboarding_field",
    "onboarding_ticket_field",
    "non_payment_field",
    "block_reason_field",
    "linked_card_field",
)
"""Settings naming a ticket custom field by its id."""


class MovideskSettings(ConnectorSettingsBase):
    """One Movidesk account (public API v1) polled by the daemon."""

    kind: Literal["movidesk"]
    base_url: str = Field(
        default=DEFAULT_BASE_URL, pattern=r"^https?://", description="Movidesk API base."
    )
    request_type_field: str = Field(
        default="category",
        description="Where the request type is: category (also 'type': the ticket type is "
        "internal/public on Movidesk, never a request type), serviceFirstLevel/"
        "serviceSecondLevel/serviceThirdLevel, or a custom field id.",
    )
    agent_ref: str = Field(
        min_length=1,
        description="Person id (Cód. Ref.) of the agent helpdesk-sync writes as: createdBy "
        "of its notes and of the tickets it opens.",
    )
    day_limit_per_minute: int | None = Field(
        default=10,
        ge=1,
        description="Requests per rolling minute during the day window; null turns the "
        "pacing off (only for an account whose Movidesk plan has no day limit: three "
        "refused requests lock the API for 60 s).",
    )
    day_window: str = Field(
        default=DEFAULT_DAY_WINDOW,
        description="Local minutes (inclusive) when the per-minute limit applies; the night "
        "is unlimited.",
    )
    timezone: str = Field(default=DEFAULT_TIMEZONE, description="Time zone of the day window.")
    page_size: int = Field(
        default=100,
        ge=1,
        le=100,
        description="Tickets per list call ($top); lower it when "
        "heavy tickets make Movidesk answer 'An error has occurred'.",
    )
    merge_status: str = Field(
        default="Fechado",
        description="Status given to a ticket merged into another (Movidesk has no merge "
        "endpoint: the duplicate is closed with an internal note naming the principal).",
    )
    merge_justification: str | None = Field(
        default="Duplicado", description="Justification sent with merge_status."
    )
    resolve_status: str = Field(
        default="Resolvido", description="Status a resolve action sets when it names none."
    )
    resolve_justification: str | None = Field(
        default=None, description="Justification sent with resolve_status."
    )
    status_justifications: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The account's statuses and their justification names (Configurações › "
        "Status), checked before sending: a listed status with justifications needs one of "
        "them (a single one is used when the action gives none); an empty list sends none.",
    )
    urgencies: list[str] = Field(
        default_factory=list,
        description="The account's urgency names; when set, set_priority must name one "
        "(Low/Medium/High/Urgent are read as Baixa/Média/Alta/Urgente).",
    )
    critical_tag: str = Field(default="critico", description="Tag mark_critical adds.")
    critical_urgency: str | None = Field(
        default=None, description="Urgency mark_critical also sets, when given."
    )
    team_owners: dict[str, str] = Field(
        default_factory=dict,
        description="Owner (name, e-mail or person id) given a ticket routed to a team; "
        "a team not listed goes to its first active agent.",
    )
    new_ticket_type: Literal[1, 2] = Field(
        default=2, description="Type of the tickets helpdesk-sync opens: 1 internal, 2 public."
    )
    task_due_field: str | None = Field(
        default=None,
        description="Custom field id of a date field that mirrors follow-up dues "
        "(customFieldValues are read, merged and written whole).",
    )
    task_due_field_rule: int | None = Field(
        default=None,
        description="Display rule id (customFieldRuleId) of task_due_field, needed when a "
        "ticket has no value in it yet.",
    )
    custom_field_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Custom field id -> the label agents see (Movidesk publishes no list).",
    )
    person_ttl_seconds: float = Field(
        default=600, gt=0, description="How long agents, teams and clients read are reused."
    )
    onboarding_category: str | None = Field(
        default=None,
        description="Context fact: category of a customer's onboarding ticket; an open one "
        "of the same organization sets customer_in_onboarding and onboarding_ticket_id.",
    )
    onboarding_tag: str | None = Field(
        default=None,
        description="Context fact: tag marking an onboarding ticket (as onboarding_category).",
    )
    onboarding_field: str | None = Field(
        default=None,
        description="Context fact: custom field id of the ticket's yes/no flag 'customer in "
        "onboarding' (customer_in_onboarding).",
    )
    onboarding_ticket_field: str | None = Field(
        default=None,
        description="Context fact: custom field id holding the number of the customer's "
        "onboarding ticket (onboarding_ticket_id, the merge target).",
    )
    non_payment_field: str | None = Field(
        default=None,
        description="Context fact: custom field id of the ticket's yes/no flag 'blocked for "
        "non-payment' (blocked_for_non_payment).",
    )
    block_reason_field: str | None = Field(
        default=None,
        description="Context fact: custom field id of the block reason (block_reason).",
    )
    linked_card_field: str | None = Field(
        default=None,
        description="Context fact: custom field id holding a linked development card; when "
        "set, the organization's other open tickets are read (Context.open_tickets).",
    )
    context_ttl_seconds: float = Field(
        default=120,
        gt=0,
        description="How long an organization's open tickets are reused (about one pass); "
        "our own writes to its tickets drop them sooner.",
    )

    def account_names(self) -> list[tuple[Kind, PathT, str]]:
        """The shared names plus Movidesk's own: the agent helpdesk-sync writes as; the
        statuses it sets (merge and resolve statuses, the statuses of
        ``status_justifications``); ``team_owners`` (teams and their owners); the custom
        fields it reads or writes (``task_due_field``, the context fact fields, the ids of
        ``custom_field_labels``); and ``onboarding_category``, a category, checked as a
        request type when the request type is the category."""
        names = super().account_names()
        names.append(("owner", ("agent_ref",), self.agent_ref))
        names.append(("status", ("merge_status",), self.merge_status))
        names.append(("status", ("resolve_status",), self.resolve_status))
        names += [
            ("status", ("status_justifications", status), status)
            for status in self.status_justifications
        ]
        for team, owner in self.team_owners.items():
            names.append(("group", ("team_owners", team), team))
            names.append(("owner", ("team_owners", team), owner))
        for key in CUSTOM_FIELD_SETTINGS:
            value = getattr(self, key)
            if value:
                names.append(("field", (key,), value))
        names += [
            ("field", ("custom_field_labels", field_id), field_id)
            for field_id in self.custom_field_labels
        ]
        if self.onboarding_category and self.request_type_field in CATEGORY_NAMES:
            names.append(("type", ("onboarding_category",), self.onboarding_category))
        return names

    def context_sources(self) -> dict[str, str | None]:
        """The context fact settings as ``MovideskConnector(context_sources=...)`` takes them."""
        return {
            "onboarding_category": self.onboarding_category,
            "onboarding_tag": self.onboarding_tag,
            "onboarding_field": self.onboarding_field,
            "onboarding_ticket_field": self.onboarding_ticket_field,
            "non_payment_field": self.non_payment_field,
            "block_reason_field": self.block_reason_field,
            "linked_card_field": self.linked_card_field,
        }

    @field_validator("day_window")
    @classmethod
    def _known_window(cls, value: str) -> str:
        try:
            parse_day_window(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "movidesk_day_window", "{reason}", {"reason": str(exc)}
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "movidesk_timezone", "{reason}", {"reason": str(exc)}
            ) from None
        return value


__all__ = ["MovideskSettings"]
