"""Settings of a Salesforce connector: the shared ones plus the org's auth and Case fields.

Theory of operation
-------------------
* Four ways to sign in, as operators run them (``auth``; inferred from the keys given
  when left out):

  - ``password``: ``username`` + ``password`` + ``security_token`` (SOAP login);
  - ``jwt``: ``username`` + ``consumer_key`` + ``privatekey_file`` (OAuth JWT bearer);
  - ``client_credentials``: ``consumer_key`` + ``consumer_secret`` and ``domain`` set
    to the org's My Domain (``acme.my``; ``login``/``test`` do not serve this flow);
  - ``session``: an existing ``session_id`` + ``instance_url`` (no login; an expired
    session is an ``AuthError``).

  A validator names the piece an option lacks. Each secret (``password``,
  ``security_token``, ``consumer_secret``, ``session_id``) is given inline (tests and
  demos), or through ``<name>_env`` (an environment variable) or ``<name>_file`` (a
  file), like the shared ``api_key``; ``secret_value`` reads it.
* ``domain``: ``login`` (production, the default), ``test`` (sandbox orgs) or a My
  Domain prefix. ``api_version`` is sent without the ``v``.
* Case fields the org chose: ``request_type_field`` (default ``Type``), an optional
  ``subcategory_field`` (read as "Type > Subcategory"),
  ``comment_field`` (a long text field where agents keep the SOP's "Comentário Interno",
  read as one more internal comment), ``critical_field`` (the checkbox ``mark_critical``
  sets, e.g. ``IsEscalated``), ``case_fields`` (more fields read into ``Ticket.fields``).
* ``account_names`` names what must exist in the org for ``check``: the shared names,
  ``comment_field``, ``critical_field`` and ``case_fields`` (Case fields) and
  ``resolve_status`` (a Case status: the default too, since every resolve that names no
  status writes it).
* ``daily_budget_share``: the share of the org's daily API allocation after which the
  connector pauses (``BudgetPaused``), so agents' integrations keep the rest.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from sync.account import Kind, PathT
from sync.errors import ConfigError

from ..settings import ConnectorSettingsBase

AuthMode = Literal["password", "jwt", "client_credentials", "session"]
SECRETS = ("password", "security_token", "consumer_secret", "session_id")
"""Secrets given inline, through ``<name>_env`` or through ``<name>_file``."""
API_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
"""A Case field's API name (``Status``, ``Order_Number__c``): what a SOQL field list takes."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "password": ("username", "password", "security_token"),
    "jwt": ("username", "consumer_key", "privatekey_file"),
    "client_credentials": ("consumer_key", "consumer_secret"),
    "session": ("session_id", "instance_url"),
}
"""What each auth option needs (a secret counts when given in any of its three ways)."""


class SalesforceSettings(ConnectorSettingsBase):
    """One Salesforce org (Service Cloud Cases, REST API) polled by the daemon."""

    kind: Literal["salesforce"]
    base_url: str = Field(
        default="https://login.salesforce.com",
        pattern=r"^https?://",
        description="The org's URL as operators know it (shown by `check`); the API host "
        "comes from the login answer, or from instance_url for a session.",
    )
    auth: AuthMode | None = Field(
        default=None,
        description="password, jwt, client_credentials or session; inferred when left out.",
    )
    username: str | None = Field(default=None, description="Integration user (password, jwt).")
    password: SecretStr | None = None
    password_env: str | None = None
    password_file: Path | None = None
    security_token: SecretStr | None = None
    security_token_env: str | None = None
    security_token_file: Path | None = None
    consumer_key: str | None = Field(default=None, description="Connected app consumer key.")
    consumer_secret: SecretStr | None = None
    consumer_secret_env: str | None = None
    consumer_secret_file: Path | None = None
    privatekey_file: Path | None = Field(
        default=None, description="PEM private key signing the JWT bearer assertion."
    )
    session_id: SecretStr | None = None
    session_id_env: str | None = None
    session_id_file: Path | None = None
    instance_url: str | None = Field(
        default=None, pattern=r"^https?://", description="The instance of an existing session."
    )
    domain: str = Field(
        default="login",
        pattern=r"^[a-z0-9][a-z0-9.-]*$",
        description="login (production), test (sandbox) or the My Domain prefix (acme.my).",
    )
    api_version: str = Field(default="59.0", pattern=r"^\d+\.\d$", description="No 'v'.")
    request_type_field: str = Field(
        default="Type", pattern=API_NAME, description="Case field with the request type."
    )
    subcategory_field: str | None = Field(
        default=None,
        pattern=API_NAME,
        description="Optional Case field joined to the request type as 'Type > Subcategory'.",
    )
    comment_field: str | None = Field(
        default=None,
        pattern=API_NAME,
        description="Case field where agents keep the internal comment the SOP asks for.",
    )
    critical_field: str | None = Field(
        default=None,
        pattern=API_NAME,
        description="Case checkbox mark_critical sets (IsEscalated or a custom one); "
        "unset, mark_critical is rejected.",
    )
    case_fields: list[str] = Field(
        default_factory=list, description="More Case fields (API names) read for decisions."
    )
    resolve_status: str = Field(
        default="Closed", description="Status a resolve action sets when it names none."
    )
    task_timezone: str = Field(
        default="America/Sao_Paulo",
        description="Time zone a task's due date (ActivityDate) is taken in.",
    )
    daily_budget_share: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Pause once this share of the org's daily API requests is used.",
    )
    page_size: int = Field(
        default=2000, ge=200, le=2000, description="SOQL batchSize (Sforce-Query-Options)."
    )
    write_batch: int = Field(
        default=200, ge=1, le=200, description="Cases whose effects one write call takes."
    )

    @model_validator(mode="after")
    def _auth_complete(self) -> Self:
        if self.api_key or self.api_key_env or self.api_key_file:
            raise ValueError(
                "salesforce signs in with auth options (password, jwt, client_credentials, "
                "session), not api_key"
            )
        for name in SECRETS:
            given = [x for x in (getattr(self, name), getattr(self, f"{name}_env"),
                                 getattr(self, f"{name}_file")) if x]  # fmt: skip
            if len(given) > 1:
                raise ValueError(f"give only one of {name}, {name}_env, {name}_file")
        mode = self.auth_mode()
        missing = [piece for piece in REQUIRED[mode] if not self._given(piece)]
        if missing:
            raise ValueError(f"auth '{mode}' needs {', '.join(missing)}")
        if mode == "client_credentials" and self.domain in ("login", "test"):
            raise ValueError(
                "auth 'client_credentials' needs domain set to the org's My Domain "
                "(e.g. acme.my), not login/test"
            )
        for name in self.case_fields:
            if not re.match(API_NAME, name):
                raise ValueError(f"case_fields: '{name}' is not a field API name")
        return self

    def account_names(self) -> list[tuple[Kind, PathT, str]]:
        """The shared names plus the org's Case fields and the resolve status."""
        names = super().account_names()
        for key in ("comment_field", "critical_field"):
            value = getattr(self, key)
            if value:
                names.append(("field", (key,), value))
        for i, name in enumerate(self.case_fields):
            names.append(("field", ("case_fields", i), name))
        names.append(("status", ("resolve_status",), self.resolve_status))
        return names

    def _given(self, piece: str) -> bool:
        if piece in SECRETS:
            return any(getattr(self, n) for n in (piece, f"{piece}_env", f"{piece}_file"))
        return bool(getattr(self, piece))

    def auth_mode(self) -> AuthMode:
        """The auth option: the configured one, else the one the given keys point to."""
        if self.auth is not None:
            return self.auth
        if self._given("session_id"):
            return "session"
        if self.privatekey_file:
            return "jwt"
        if self._given("consumer_secret") and not self.username:
            return "client_credentials"
        return "password"

    def secret_value(self, name: str) -> str | None:
        """A secret from wherever it is configured (None: not given); ``ConfigError`` when
        its variable or file cannot be read."""
        where = f"connectors[{self.name}]"
        inline: SecretStr | None = getattr(self, name)
        env: str | None = getattr(self, f"{name}_env")
        file: Path | None = getattr(self, f"{name}_file")
        if inline is not None:
            return inline.get_secret_value()
        if env:
            value = os.environ.get(env)
            if not value:
                raise ConfigError(f"{where}.{name}_env: environment variable {env} is not set")
            return value.strip()
        if file:
            try:
                return file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"{where}.{name}_file: cannot read {file}: {exc.strerror}"
                ) from exc
        return None


__all__ = ["API_NAME", "AuthMode", "SalesforceSettings"]
