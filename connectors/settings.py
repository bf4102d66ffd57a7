"""Settings every helpdesk connector shares: the base of each helpdesk's settings model.

A connector entry of the config file is validated by the model its ``kind`` names
(``connectors.registry`` keeps the table); each such model derives from
``ConnectorSettingsBase`` and adds only what its helpdesk alone needs. Secrets are
``SecretStr``: never printed, never logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from sync.account import Kind, PathT
from sync.errors import ConfigError


class ScopeSettings(BaseModel):
    """Which tickets of a helpdesk the mapping applies to (empty = all)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: list[str] = Field(default_factory=list, description="Queue/group names in scope.")
    request_types: list[str] = Field(
        default_factory=list, description="Request types in scope (names as in the mapping)."
    )


class ConnectorSettingsBase(BaseModel):
    """One helpdesk account polled by the daemon: what every kind of helpdesk shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="Unique connector name.")
    kind: str
    base_url: str = Field(
        pattern=r"^https?://", description="API base, e.g. https://acme.freshdesk.com"
    )
    mapping: str = Field(description="Mapping name (eps, emissor, sac, ouvidoria) or path.")
    api_key: SecretStr | None = Field(default=None, description="Inline key (tests/demo only).")
    api_key_env: str | None = Field(default=None, description="Env var holding the API key.")
    api_key_file: Path | None = Field(default=None, description="File holding the API key.")
    request_type_field: str = Field(
        default="type", description="Ticket field with the request type (type or cf_...)."
    )
    subcategory_field: str | None = Field(
        default=None, description="Optional second field joined as 'category > subcategory'."
    )
    interval_seconds: int = Field(default=60, ge=5, description="Polling interval of `run`.")
    initial_lookback_hours: float = Field(
        default=24, gt=0, description="How far back the very first poll looks."
    )
    timeout_seconds: float = Field(default=30, gt=0, description="Per-request timeout.")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Field sources: mapping field key -> the helpdesk field holding it "
        "(Freshdesk cf_... or a default field; Movidesk a custom field id; Salesforce an API "
        "name; requester.<part> or organization.<part> with part name|email|document|phone). "
        "Wins over the mapping's ticket_field.",
    )
    scope: ScopeSettings = Field(default_factory=ScopeSettings)
    enabled: bool = True

    @model_validator(mode="after")
    def _one_secret_source(self) -> Self:
        sources = [s for s in (self.api_key, self.api_key_env, self.api_key_file) if s]
        if len(sources) > 1:
            raise ValueError("give only one of api_key, api_key_env, api_key_file")
        return self

    def account_names(self) -> list[tuple[Kind, PathT, str]]:
        """Names this configuration uses that must exist in the helpdesk account:
        ``(kind, key path, value)``; ``check`` looks each up through the connector. Each
        helpdesk's settings add their own (a due-date field, a resolve status)."""
        names: list[tuple[Kind, PathT, str]] = [
            ("field", ("request_type_field",), self.request_type_field)
        ]
        if self.subcategory_field:
            names.append(("field", ("subcategory_field",), self.subcategory_field))
        for key, source in self.fields.items():
            if not is_derived_source(source):
                names.append(("field", ("fields", key), source))
        for i, group in enumerate(self.scope.groups):
            names.append(("group", ("scope", "groups", i), group))
        return names

    def secret(self) -> SecretStr:
        """The API key from wherever it is configured; ``ConfigError`` names the source."""
        where = f"connectors[{self.name}]"
        if self.api_key is not None:
            return self.api_key
        if self.api_key_env:
            value = os.environ.get(self.api_key_env)
            if not value:
                raise ConfigError(
                    f"{where}.api_key_env: environment variable {self.api_key_env} is not set"
                )
            return SecretStr(value.strip())
        if self.api_key_file:
            try:
                return SecretStr(self.api_key_file.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise ConfigError(
                    f"{where}.api_key_file: cannot read {self.api_key_file}: {exc.strerror}"
                ) from exc
        raise ConfigError(f"{where}: no credentials: set api_key_env or api_key_file")


def is_derived_source(source: str) -> bool:
    """``requester.email``, ``organization.document``, ``tag:...``: values the connector
    derives itself, not fields of the account."""
    return "." in source or ":" in source


__all__ = ["ConnectorSettingsBase", "ScopeSettings", "is_derived_source"]
