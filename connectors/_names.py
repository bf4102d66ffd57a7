"""Name lookups every connector shares: names <-> ids of one kind, and a party cache.

Theory of operation
-------------------
* Actions name things as SOPs and agents write them (a group "Financeiro", a status
  "Pendente", an agent by name or e-mail); helpdesk APIs want ids. A ``NameLookup`` holds
  the names <-> ids of one kind (statuses, groups, agents, queues, users), loaded lazily
  through a loader the connector gives it, compared case- and accent-insensitively
  (``sync.textnorm.fold``).
* A miss reloads once: a group created this morning is found without a restart. A name or
  id still unknown after that reload is remembered as missed, so an unknown id does not
  cost a call per ticket. ``require`` turns an unknown name into a ``FatalError`` listing
  the known ones (the ticket fails with a message an operator can act on).
* ``peek`` never reloads on a miss: comment authors include customers, who are not agents.
* ``PartyCache`` keeps contacts and companies (Freshdesk), clients and organizations
  (Movidesk), Contacts and Accounts (Salesforce) by id for a while, least recently used
  out: an agent who fills in a company's CNPJ sees it on the ticket's next decision after
  at most ``ttl`` seconds.
* Write plans stay pure: a plan that needs an id it was not given raises ``NeedId``
  (``need``); ``resolved`` looks the name up and plans again, so every name of a decision
  is resolved before its first write.
* Nothing here does I/O itself: the loaders do, and only when a lookup asks them to.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sync.contract import FatalError
from sync.textnorm import fold

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")
"""An id as the helpdesk spells it (Freshdesk: int; Salesforce: an 18-character string)."""


@dataclass(slots=True)
class NameLookup(Generic[K]):
    """Names <-> ids of one kind, loaded lazily and reloaded once on a miss."""

    kind: str
    """What the names are ("status", "group", "agent"): errors name it."""
    loader: Callable[[], list[tuple[K, list[str]]]]
    """Every id with its labels, the display name first (the others: e-mail, aliases)."""
    names: dict[K, str] = field(default_factory=dict)
    ids: dict[str, K] = field(default_factory=dict)
    loaded: bool = False
    missed: set[K | str] = field(default_factory=set)
    """Keys already reloaded for once: an unknown id must not cost a call per ticket."""

    def load(self) -> None:
        self.names.clear()
        self.ids.clear()
        for item_id, labels in self.loader():
            self.names[item_id] = labels[0]
            for label in labels:
                if label:
                    self.ids.setdefault(fold(label), item_id)
        self.loaded = True

    def name(self, item_id: K | None) -> str | None:
        """The display name of an id (reloading once when unknown), None for no id."""
        if item_id is None:
            return None
        if not self.loaded or (item_id not in self.names and item_id not in self.missed):
            self.load()
            if item_id not in self.names:
                self.missed.add(item_id)
        return self.names.get(item_id)

    def peek(self, item_id: K | None) -> str | None:
        """The name of an id without reloading on a miss (comment authors: customers too)."""
        if item_id is None:
            return None
        if not self.loaded:
            self.load()
        return self.names.get(item_id)

    def id(self, name: str, fallback: Mapping[str, K] | None = None) -> K | None:
        """The id of a name, case/accent-insensitively (reloading once when unknown)."""
        key = fold(name)
        if not self.loaded:
            self.load()
        if key not in self.ids:
            if fallback and key in fallback:
                return fallback[key]
            if key not in self.missed:
                self.load()
                if key not in self.ids:
                    self.missed.add(key)
        return self.ids.get(key)

    def require(self, name: str, helpdesk: str, fallback: Mapping[str, K] | None = None) -> K:
        """The id of a name; a ``FatalError`` listing the known names when there is none."""
        found = self.id(name, fallback)
        if found is None:
            raise FatalError(
                f"unknown {self.kind} '{name}'; known: {self.known()}", helpdesk=helpdesk
            )
        return found

    def labels(self) -> list[str]:
        """Every name the account accepts for this kind (display names first), loaded."""
        if not self.loaded:
            self.load()
        return [*self.names.values(), *self.ids]

    def known(self) -> str:
        return ", ".join(sorted(self.names.values(), key=fold)) or "none"


class PartyCache(Generic[K]):
    """Contacts or companies by id for ``ttl`` seconds, at most ``size`` (LRU).

    A read that found nothing (``None``: refused or gone) is cached like any other.
    """

    def __init__(self, size: int, ttl: float, clock: Callable[[], float]) -> None:
        self.size, self.ttl, self.clock = size, ttl, clock
        self._items: OrderedDict[K, tuple[float, dict[str, Any] | None]] = OrderedDict()

    def get(
        self, item_id: K, loader: Callable[[K], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        now = self.clock()
        hit = self._items.get(item_id)
        if hit is not None and now - hit[0] < self.ttl:
            self._items.move_to_end(item_id)
            return hit[1]
        value = loader(item_id)
        self._items[item_id] = (now, value)
        self._items.move_to_end(item_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


# ---------------------------------------------------------------------------------------
# pure write plans that ask for names
# ---------------------------------------------------------------------------------------


class NeedId(Exception):
    """A pure plan needs a name resolved that it was not given: resolve it, plan again."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} '{name}'")
        self.kind = kind
        self.name = name


def need(ids: Mapping[tuple[Any, str], Any], kind: str, name: str) -> Any:
    """``ids[kind, name]``, or ``NeedId`` so the caller resolves it and plans again."""
    if (kind, name) not in ids:
        raise NeedId(kind, name)
    return ids[kind, name]


def resolved(
    plan: Callable[[dict[Any, Any]], R], resolvers: Mapping[str, Callable[[str], Any]]
) -> R:
    """Run a pure ``plan(ids)``, resolving each name it asks for (``NeedId``) in turn.

    The plan stays free of I/O: every lookup happens here, before anything is written, so
    an unknown name fails a decision with nothing sent.
    """
    ids: dict[Any, Any] = {}
    while True:
        try:
            return plan(ids)
        except NeedId as missing:
            ids[missing.kind, missing.name] = resolvers[missing.kind](missing.name)


__all__ = [
    "NameLookup",
    "NeedId",
    "PartyCache",
    "need",
    "resolved",
]
