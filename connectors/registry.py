"""Builds the configured connector for each ``kind``."""

from __future__ import annotations

from sync.config import ConnectorSettings
from sync.errors import ConfigError

from .base import Connector


def build_connector(conf: ConnectorSettings) -> Connector:
    """A ready connector for one configured helpdesk account; ``ConfigError`` when unusable."""
    if conf.kind == "freshdesk":
        from .freshdesk import FreshdeskConnector

        return FreshdeskConnector(
            name=conf.name,
            base_url=conf.base_url,
            api_key=conf.secret().get_secret_value(),
            request_type_field=conf.request_type_field,
            subcategory_field=conf.subcategory_field,
            task_due_field=conf.task_due_field,
            timeout=conf.timeout_seconds,
        )
    raise ConfigError(
        f"connectors[{conf.name}].kind: '{conf.kind}' is not available yet; available: freshdesk"
    )
