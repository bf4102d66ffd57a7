"""Builds the configured connector for each ``kind``."""

from __future__ import annotations

from cli.settings import ConnectorSettings
from sync.contract import Connector
from sync.errors import ConfigError


def build_connector(conf: ConnectorSettings) -> Connector:
    """A ready connector for one configured helpdesk account; ``ConfigError`` when unusable."""
    if conf.kind == "freshdesk":
        from .freshdesk import FreshdeskConnector, plan_sub_limits

        where = f"connectors[{conf.name}]"
        try:
            plan_sub_limits(conf.plan)
        except ValueError as exc:
            raise ConfigError(f"{where}.plan: {exc}") from None
        try:
            limits = plan_sub_limits(conf.plan, conf.sub_limits)
        except ValueError as exc:
            raise ConfigError(f"{where}.sub_limits: {exc}") from None
        return FreshdeskConnector(
            name=conf.name,
            base_url=conf.base_url,
            api_key=conf.secret().get_secret_value(),
            request_type_field=conf.request_type_field,
            subcategory_field=conf.subcategory_field,
            task_due_field=conf.task_due_field,
            timeout=conf.timeout_seconds,
            ticket_attachments=conf.ticket_attachments,
            sub_limits=limits,
        )
    raise ConfigError(
        f"connectors[{conf.name}].kind: '{conf.kind}' is not available yet; available: freshdesk"
    )
