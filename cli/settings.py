"""Settings: one YAML file plus ``HELPDESK_SYNC_*`` environment variables and ``.env``.

Precedence, highest first: environment, ``.env``, secret files, the YAML config file,
defaults. Nested keys use ``__`` (``HELPDESK_SYNC_STATE_URL``,
``HELPDESK_SYNC_MAX_ATTEMPTS``). Connector secrets are never written in the file itself
in production: name an environment variable (``api_key_env``) or a secret file
(``api_key_file``, e.g. a systemd credential). Secrets are ``SecretStr``: never printed,
never logged.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sync.errors import ConfigError
from sync.yaml_lines import LocatedDocumentError, load_yaml, validation_problems

CONFIG_ENV = "HELPDESK_SYNC_CONFIG"
"""Environment variable naming the YAML config file when ``--config`` is not given."""


class ScopeSettings(BaseModel):
    """Which tickets of a helpdesk the mapping applies to (empty = all)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: list[str] = Field(default_factory=list, description="Queue/group names in scope.")
    request_types: list[str] = Field(
        default_factory=list, description="Request types in scope (names as in the mapping)."
    )


class ConnectorSettings(BaseModel):
    """One helpdesk account polled by the daemon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="Unique connector name.")
    kind: Literal["freshdesk", "movidesk", "salesforce"]
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
    task_due_field: str | None = Field(
        default=None, description="Freshdesk custom date field that mirrors follow-up dues."
    )
    interval_seconds: int = Field(default=60, ge=5, description="Polling interval of `run`.")
    initial_lookback_hours: float = Field(
        default=24, gt=0, description="How far back the very first poll looks."
    )
    timeout_seconds: float = Field(default=30, gt=0, description="Per-request timeout.")
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
    def _one_secret_source(self) -> ConnectorSettings:
        sources = [s for s in (self.api_key, self.api_key_env, self.api_key_file) if s]
        if len(sources) > 1:
            raise ValueError("give only one of api_key, api_key_env, api_key_file")
        return self

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


class Settings(BaseSettings):
    """Everything the daemon needs, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_SYNC_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    state_url: str = Field(
        default="sqlite:///helpdesk-sync.sqlite",
        description="SQLAlchemy URL of the state store (SQLite file or PostgreSQL).",
    )
    overlap_seconds: int = Field(
        default=300, ge=0, description="How far each poll re-reads behind the cursor."
    )
    max_attempts: int = Field(
        default=5, ge=1, description="Failures before a ticket is quarantined."
    )
    log_format: Literal["auto", "text", "json"] = Field(
        default="auto", description="auto: text on a terminal, JSON lines otherwise."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    mappings_dir: Path | None = Field(default=None, description="Directory of mapping YAML.")
    connectors: list[ConnectorSettings] = Field(default_factory=list)
    lease_seconds: float | None = Field(
        default=None,
        ge=1,
        description="How long a process's lease on a connector runs unless renewed (renewed "
        "three times per length while it lives); default half the connector's "
        "interval_seconds. Shorter than every connector's interval_seconds, so a dead "
        "owner's connectors are taken over within one interval.",
    )

    @field_validator("lease_seconds")
    @classmethod
    def _lease_within_interval(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return value
        for conf in info.data.get("connectors") or []:
            if value >= conf.interval_seconds:
                raise ValueError(
                    f"must be shorter than connectors[{conf.name}].interval_seconds "
                    f"({conf.interval_seconds}): a dead owner's connector is taken over "
                    "only after its lease runs out"
                )
        return value

    def lease_ttl(self, name: str) -> timedelta:
        """How long connector ``name``'s lease runs: ``lease_seconds`` or half its interval."""
        seconds = self.lease_seconds or self.connector(name).interval_seconds / 2
        return timedelta(seconds=seconds)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        names = [c.name for c in self.connectors]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate connector name(s): {', '.join(duplicates)}")
        return self

    def connector(self, name: str) -> ConnectorSettings:
        """The connector called ``name``; ``ConfigError`` lists the known ones."""
        for item in self.connectors:
            if item.name == name:
                return item
        known = ", ".join(c.name for c in self.connectors) or "none configured"
        raise ConfigError(f"unknown connector '{name}'; known: {known}")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            _FileSource(settings_cls),
        )


_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar(
    "helpdesk_sync_config_file", default=None
)


class _FileSource(PydanticBaseSettingsSource):
    """The YAML config file, read once by ``load_settings`` and handed over here."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return (_FILE_DATA.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the YAML file (``path`` or ``$HELPDESK_SYNC_CONFIG``) and the env.

    Raises ``ConfigError`` naming the file, line and key (or the environment variable).
    """
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    data: dict[str, Any] = {}
    lines: dict[Any, int] = {}
    filename = str(path) if path else "environment"
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
        try:
            loaded, lines = load_yaml(text, filename)
        except LocatedDocumentError as exc:
            raise ConfigError(str(exc.problem)) from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}:1: the config file must be a YAML mapping")
        data = loaded
    token = _FILE_DATA.set(data)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for loc, problem in validation_problems(exc, filename, lines):
            if loc and loc[0] in data:
                problems.append(str(problem))
            else:
                env = "HELPDESK_SYNC_" + "__".join(str(p).upper() for p in loc)
                problems.append(f"{env} (environment): {problem.message}")
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from exc
    finally:
        _FILE_DATA.reset(token)
