"""Settings of a Freshdesk connector: the shared ones plus what only Freshdesk has.

The plan and its sub-limit overrides are checked when the settings load, so a bad plan is
reported with the file and line like every other config error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from sync.account import Kind, PathT

from ..settings import ConnectorSettingsBase
from .limits import plan_sub_limits


class FreshdeskSettings(ConnectorSettingsBase):
    """One Freshdesk account (API v2) polled by the daemon."""

    kind: Literal["freshdesk"]
    task_due_field: str | None = Field(
        default=None, description="Freshdesk custom date field that mirrors follow-up dues."
    )
    plan: str | None = Field(
        default=None,
        description="Helpdesk plan whose per-endpoint sub-limits are paced (Freshdesk: "
        "trial, growth, pro, enterprise, purchased_1000, purchased_2000).",
    )
    sub_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Per-minute endpoint limits overriding the plan's, e.g. tickets_list: 10 "
        "when other integrations share the account.",
    )
    ticket_attachments: bool = Field(
        default=True,
        description="Freshdesk: load each ticket with its own attachments (2 credits); false "
        "reads the list row plus conversations (1 credit) when evidence is on notes.",
    )

    @field_validator("plan")
    @classmethod
    def _known_plan(cls, value: str | None) -> str | None:
        try:
            plan_sub_limits(value)
        except ValueError as exc:
            raise PydanticCustomError("freshdesk_plan", "{reason}", {"reason": str(exc)}) from None
        return value

    @field_validator("sub_limits")
    @classmethod
    def _known_sub_limits(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        try:
            plan_sub_limits(info.data.get("plan"), value)
        except ValueError as exc:
            raise PydanticCustomError(
                "freshdesk_sub_limits", "{reason}", {"reason": str(exc)}
            ) from None
        return value

    def account_names(self) -> list[tuple[Kind, PathT, str]]:
        """The shared names plus the custom date field follow-up dues are mirrored in."""
        names = super().account_names()
        if self.task_due_field:
            names.append(("field", ("task_due_field",), self.task_due_field))
        return names

    def limits(self) -> dict[str, int]:
        """The plan's per-minute sub-limits with this account's overrides."""
        return plan_sub_limits(self.plan, self.sub_limits)


__all__ = ["FreshdeskSettings"]
