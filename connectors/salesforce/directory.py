"""Who the org names: queues and users by name, for ``OwnerId``; cached lookups.

Theory of operation
-------------------
* Queues are ``Group`` rows with ``Type = 'Queue'``: ``SELECT Id, Name, DeveloperName FROM
  Group WHERE Type = 'Queue'`` (one query, cached), found by label or developer name.
* Users are the active ones: ``SELECT Id, Name, Username, Email FROM User WHERE IsActive =
  true`` (paged, cached), found by name, username, e-mail or Id.
* Both are ``connectors._names.NameLookup``: compared case- and accent-insensitively, a
  miss reloads once (a queue created this morning is found without a restart); an unknown
  name is a ``FatalError`` (listing the known queues; users, who may be thousands, are not
  listed). Lookups are read again after ``ttl`` seconds.
* A task's owner (``CreateTask.owner``) is a user, else a queue (the SOPs name queues such
  as "Backoffice EPS"; the queue must accept Tasks in the org's setup).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sync.contract import FatalError

from .._names import NameLookup
from .client import HELPDESK
from .listing import Reader

QUEUES_SOQL = "SELECT Id, Name, DeveloperName FROM Group WHERE Type = 'Queue'"
USERS_SOQL = "SELECT Id, Name, Username, Email FROM User WHERE IsActive = true"
TTL = 600.0


class Directory:
    """Queues and users of one org, read through the connector's reader."""

    def __init__(
        self,
        reader: Reader,
        *,
        ttl: float = TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.ttl = ttl
        self.monotonic = monotonic
        self.queues: NameLookup[str] = NameLookup("queue", self._load_queues)
        self.users: NameLookup[str] = NameLookup("user", self._load_users)
        self._read_at: dict[str, float] = {}

    def _load_queues(self) -> list[tuple[str, list[str]]]:
        self._read_at["queue"] = self.monotonic()
        return [
            (str(r["Id"]), [str(r.get("Name") or r["Id"]), str(r.get("DeveloperName") or "")])
            for r in self.reader.records(QUEUES_SOQL)
        ]

    def _load_users(self) -> list[tuple[str, list[str]]]:
        self._read_at["user"] = self.monotonic()
        return [
            (str(r["Id"]), [str(r.get(k) or "") for k in ("Name", "Username", "Email", "Id")])
            for r in self.reader.records(USERS_SOQL)
        ]

    def _fresh(self, lookup: NameLookup[str]) -> NameLookup[str]:
        read = self._read_at.get(lookup.kind)
        if read is not None and self.monotonic() - read >= self.ttl:
            lookup.loaded = False
            lookup.missed.clear()
        return lookup

    def queue_id(self, name: str) -> str:
        """A queue's Group Id by its name or developer name; ``FatalError`` when unknown."""
        return self._fresh(self.queues).require(name, HELPDESK)

    def user_id(self, name: str) -> str:
        """An active user's Id by name, username, e-mail or Id; ``FatalError`` when unknown
        (users are not listed in the message: there may be thousands)."""
        found = self._fresh(self.users).id(name)
        if found is None:
            raise FatalError(f"unknown active user '{name}'", helpdesk=HELPDESK)
        return found

    def user_name(self, user_id: str) -> str | None:
        """An active user's name by Id (15 or 18 characters); None when not active/known."""
        users = self._fresh(self.users)
        if not users.loaded:
            users.load()
        wanted = user_id[:15]
        for known, name in users.names.items():
            if known[:15] == wanted:
                return name
        return None  # an inactive user: no one to return the case to

    def owner_id(self, name: str) -> str:
        """A task owner: a user, else a queue; ``FatalError`` naming both when neither."""
        found = self._fresh(self.users).id(name)
        if found is None:
            found = self._fresh(self.queues).id(name)
        if found is None:
            raise FatalError(
                f"unknown active user or queue '{name}'; queues: {self.queues.known()}",
                helpdesk=HELPDESK,
            )
        return found


__all__ = ["QUEUES_SOQL", "USERS_SOQL", "Directory"]
