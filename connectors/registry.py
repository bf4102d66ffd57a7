"""The helpdesks the daemon can poll: per ``kind``, its settings model and connector factory.

``CONNECTORS`` is the one table: adding a helpdesk means adding one entry (and dropping its
kind from ``PLANNED_KINDS``). ``AnyConnectorSettings``, the type of one ``connectors:``
entry of the config file, is built from it: a union discriminated on ``kind``, so each
entry is validated by its helpdesk's model and errors name the entry's own keys. A kind
that is planned but not built yet, or unknown, is refused at load with a one-line error
saying which kinds are available.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, Protocol, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sync.contract import Connector
from sync.errors import ConfigError

from .freshdesk.settings import FreshdeskSettings
from .movidesk.settings import MovideskSettings
from .salesforce.settings import SalesforceSettings
from .settings import ConnectorSettingsBase

S_contra = TypeVar("S_contra", bound=ConnectorSettingsBase, contravariant=True)
S = TypeVar("S", bound=ConnectorSettingsBase)


class ConnectorFactory(Protocol[S_contra]):
    """Builds a ready connector from its validated settings."""

    def __call__(self, settings: S_contra, /, *, overlap: timedelta) -> Connector: ...


@dataclass(frozen=True, slots=True)
class ConnectorKind(Generic[S]):
    """One helpdesk: the model its config entries are validated by, and its factory."""

    settings: type[S]
    factory: ConnectorFactory[S]


def _freshdesk(settings: FreshdeskSettings, *, overlap: timedelta) -> Connector:
    from .freshdesk import FreshdeskConnector

    return FreshdeskConnector(
        name=settings.name,
        base_url=settings.base_url,
        api_key=settings.secret().get_secret_value(),
        request_type_field=settings.request_type_field,
        subcategory_field=settings.subcategory_field,
        task_due_field=settings.task_due_field,
        timeout=settings.timeout_seconds,
        ticket_attachments=settings.ticket_attachments,
        sub_limits=settings.limits(),
        overlap=overlap,
    )


def _movidesk(settings: MovideskSettings, *, overlap: timedelta) -> Connector:
    from .movidesk import MovideskConnector, WriteRules

    rules = WriteRules(
        agent_ref=settings.agent_ref,
        merge_status=settings.merge_status,
        merge_justification=settings.merge_justification,
        resolve_status=settings.resolve_status,
        resolve_justification=settings.resolve_justification,
        status_justifications={k: tuple(v) for k, v in settings.status_justifications.items()},
        urgencies=tuple(settings.urgencies),
        critical_tag=settings.critical_tag,
        critical_urgency=settings.critical_urgency,
        new_ticket_type=settings.new_ticket_type,
        task_due_field=settings.task_due_field,
        task_due_field_rule=settings.task_due_field_rule,
    )
    return MovideskConnector(
        name=settings.name,
        base_url=settings.base_url,
        api_key=settings.secret().get_secret_value(),
        agent_ref=settings.agent_ref,
        rules=rules,
        request_type_field=settings.request_type_field,
        subcategory_field=settings.subcategory_field,
        field_labels=settings.custom_field_labels,
        team_owners=settings.team_owners,
        page_size=settings.page_size,
        timeout=settings.timeout_seconds,
        day_limit_per_minute=settings.day_limit_per_minute,
        day_window=settings.day_window,
        timezone=settings.timezone,
        person_ttl=settings.person_ttl_seconds,
        context_sources=settings.context_sources(),
        context_ttl=settings.context_ttl_seconds,
        overlap=overlap,
    )


def _salesforce(settings: SalesforceSettings, *, overlap: timedelta) -> Connector:
    from .salesforce import build

    return build(settings, overlap=overlap)


CONNECTORS: dict[str, ConnectorKind[Any]] = {
    "freshdesk": ConnectorKind(FreshdeskSettings, _freshdesk),
    "movidesk": ConnectorKind(MovideskSettings, _movidesk),
    "salesforce": ConnectorKind(SalesforceSettings, _salesforce),
}
"""Every helpdesk the daemon can poll, by ``kind``."""

PLANNED_KINDS: tuple[str, ...] = ()
"""Kinds the design names whose connectors are not built yet: refused with that reason."""


def _available() -> str:
    return ", ".join(CONNECTORS)


def build_connector(
    conf: ConnectorSettingsBase, *, overlap: timedelta = timedelta(minutes=5)
) -> Connector:
    """A ready connector for one configured helpdesk account; ``ConfigError`` when unusable.

    ``overlap``: how far each poll re-reads behind its cursor (``Settings.overlap_seconds``).
    """
    entry = CONNECTORS.get(conf.kind)
    if entry is None:
        raise ConfigError(
            f"connectors[{conf.name}].kind: '{conf.kind}' is not available yet; "
            f"available: {_available()}"
        )
    if not isinstance(conf, entry.settings):
        raise ConfigError(
            f"connectors[{conf.name}]: settings of kind '{conf.kind}' must be "
            f"{entry.settings.__name__}, not {type(conf).__name__}"
        )
    return entry.factory(conf, overlap=overlap)


# ------------------------------------------------------------------ the settings union

_OTHER = "?"
"""Tag of the entries whose kind is missing, unknown or not available yet."""


class _OtherKind(BaseModel):
    """An entry no helpdesk model takes: validating it reports why, on its ``kind``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: Any = None
    kind: Any

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
        return value

    @field_validator("kind")
    @classmethod
    def _refuse(cls, kind: Any, info: ValidationInfo) -> Any:
        name = info.data.get("name")
        of = f" of connector '{name}'" if isinstance(name, str) and name else ""
        if kind in PLANNED_KINDS:
            raise PydanticCustomError(
                "connector_kind_unavailable",
                "kind '{kind}'{of} is not available yet; available: {available}",
                {"kind": kind, "of": of, "available": _available()},
            )
        planned = f" (not available yet: {', '.join(PLANNED_KINDS)})" if PLANNED_KINDS else ""
        raise PydanticCustomError(
            "connector_kind_unknown",
            "unknown kind {kind}{of}; allowed: {available}{planned}",
            {"kind": repr(kind), "of": of, "available": _available(), "planned": planned},
        )


def _kind_tag(value: Any) -> str:
    """The ``CONNECTORS`` key that validates ``value``, or ``_OTHER``."""
    kind = value.get("kind") if isinstance(value, Mapping) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) and kind in CONNECTORS else _OTHER


def _settings_union() -> Any:
    members = [Annotated[k.settings, Tag(kind)] for kind, k in CONNECTORS.items()]
    members.append(Annotated[_OtherKind, Tag(_OTHER)])
    return Annotated[functools.reduce(operator.or_, members), Discriminator(_kind_tag)]


if TYPE_CHECKING:
    AnyConnectorSettings = ConnectorSettingsBase
else:
    AnyConnectorSettings = _settings_union()
    """One ``connectors:`` entry: validated by the model its ``kind`` names."""


def untagged(loc: tuple[str | int, ...], at: int = 0) -> tuple[str | int, ...]:
    """An error location inside ``AnyConnectorSettings`` without the union's tag.

    Pydantic puts the tag of the member that failed into the location
    (``connectors.0.freshdesk.plan``); ``at`` is where the tag would be. Without it the
    location names the entry's own key, as in the file.
    """
    if len(loc) > at and (loc[at] in CONNECTORS or loc[at] == _OTHER):
        return loc[:at] + loc[at + 1 :]
    return loc


__all__ = [
    "CONNECTORS",
    "PLANNED_KINDS",
    "AnyConnectorSettings",
    "ConnectorFactory",
    "ConnectorKind",
    "build_connector",
    "untagged",
]
