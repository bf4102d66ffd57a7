"""Settings: one YAML file plus ``HELPDESK_SYNC_*`` environment variables and ``.env``.

Precedence, highest first: environment, ``.env``, secret files, the YAML config file,
defaults. Nested keys use ``__`` (``HELPDESK_SYNC_STATE_URL``,
``HELPDESK_SYNC_MAX_ATTEMPTS``). Connector secrets are never written in the file itself
in production: name an environment variable (``api_key_env``) or a secret file
(``api_key_file``, e.g. a systemd credential). Secrets are ``SecretStr``: never printed,
never logged.

Each ``connectors:`` entry is validated by the settings model of its ``kind``
(``connectors.registry``): the shared keys live in ``connectors.settings``, each helpdesk's
own keys beside its connector (``connectors.freshdesk.settings``).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    TypeAdapter,
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

from connectors.registry import AnyConnectorSettings, untagged
from connectors.settings import ConnectorSettingsBase, ScopeSettings
from sync.errors import ConfigError, Problem
from sync.yaml_lines import (
    LocatedDocumentError,
    dotted,
    line_of,
    load_yaml,
    validation_problems,
)

CONFIG_ENV = "HELPDESK_SYNC_CONFIG"
"""Environment variable naming the YAML config file when ``--config`` is not given."""


def ConnectorSettings(**values: Any) -> ConnectorSettingsBase:
    """One connector's settings, validated as a config file entry is (by its ``kind``).

    The settings type is a union over the helpdesks (``AnyConnectorSettings``), so this
    stands in for its constructor. ``ConfigError`` names each bad key as
    ``connectors[<name>].<key>``, one a line.
    """
    try:
        return _CONNECTOR_ADAPTER.validate_python(values)
    except ValidationError as exc:
        where = f"connectors[{values.get('name') or '?'}]"
        problems = []
        for loc, problem in validation_problems(exc, where, {}):
            key = dotted(untagged(loc))
            problems.append(f"{where}.{key}: {problem.message}" if key else str(problem))
        raise ConfigError("\n".join(problems)) from None


_CONNECTOR_ADAPTER: TypeAdapter[ConnectorSettingsBase] = TypeAdapter(AnyConnectorSettings)


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
    health_address: str | None = Field(
        default="127.0.0.1:9464",
        pattern=r"^\[?[A-Za-z0-9.:-]*\]?:\d+$",
        description="HOST:PORT where `run` serves /healthz, /readyz and /metrics "
        "(localhost by default; null turns it off).",
    )
    mappings_dir: Path | None = Field(default=None, description="Directory of mapping YAML.")
    connectors: list[AnyConnectorSettings] = Field(default_factory=list)
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

    def connector(self, name: str) -> ConnectorSettingsBase:
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
        for tagged, problem in validation_problems(exc, filename, lines):
            loc = untagged(tagged, at=2) if tagged[:1] == ("connectors",) else tagged
            if loc != tagged:
                problem = Problem(filename, line_of(lines, loc), dotted(loc), problem.message)
            if loc and loc[0] in data:
                problems.append(str(problem))
            else:
                env = "HELPDESK_SYNC_" + "__".join(str(p).upper() for p in loc)
                problems.append(f"{env} (environment): {problem.message}")
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from exc
    finally:
        _FILE_DATA.reset(token)


__all__ = [
    "CONFIG_ENV",
    "AnyConnectorSettings",
    "ConnectorSettings",
    "ConnectorSettingsBase",
    "ScopeSettings",
    "Settings",
    "load_settings",
]
