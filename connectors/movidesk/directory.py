"""Who the account names: agents and their teams, team owners, clients by e-mail.

Theory of operation
-------------------
* Agents are persons with ``profileType`` 1 (agent) or 3 (agent and client); each carries
  ``teams``, the names of its teams (jonasandre/movidesk-cli ``internal/movidesk/persons/
  types.go``: ``Teams []string``). They are read with ``GET /persons`` (``$select`` of
  the fields used, ``$expand=emails``, 100 a page, keyset on ``id``, never ``$skip``) into
  a ``connectors._names.NameLookup`` (an agent is found by name, e-mail, user name or
  person id, case- and accent-insensitively) and kept ``ttl`` seconds: an agent added to a
  team this morning is seen after at most that long (a miss reloads once as well).
* Routing needs pairs (``owner`` + ``ownerTeam`` change together, and the team must hold
  the owner): ``team_owner`` gives the owner for a team (the configured ``team_owners``
  entry, else the team's first active agent in the listing's order); ``agent_teams`` the
  teams of an agent; ``team`` the team's name as the account spells it. An unknown team or
  agent, an agent outside the team named with it, or a team without active agents is a
  ``FatalError`` raised before anything is written.
* Clients for tickets helpdesk-sync opens for an e-mail (``CreateTicket.requester_email``):
  ``GET /persons?$filter=emails/any(e: e/email eq '<e-mail>')``, cached with the same TTL
  in a ``connectors._names.PartyCache``. The Persons API page (KB 189) documents
  ``emails[].email``; the lambda over ``emails`` is what public client code sends for this
  lookup (an Express server found by the code index, ``emails/any(d:d/email eq '...')``;
  its repository was not identified): partly verified.
* ``check`` asks for every agent label and team (``agent_labels``, ``team_names``): the
  names routing resolves, read from the same pages. The public API documents no list of
  teams (the Tickets, Persons, Services and Activities pages of the API); a team no agent
  belongs to cannot take a ticket anyway (its owner must be in it).
* All I/O goes through the connector's ``HttpClient``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.contract import FatalError
from sync.textnorm import fold

from .._http import HttpClient
from .._names import NameLookup, PartyCache
from .api import HELPDESK, one, quote, rows, shape_error

PERSON_TTL = 600.0
"""Seconds agents, teams and clients read are reused."""
PAGE = 100
AGENT_SELECT = "id,businessName,userName,isActive,profileType,teams"
AGENT_FILTER = "(profileType eq 1 or profileType eq 3)"


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as routing needs it."""

    id: str
    name: str
    teams: tuple[str, ...]
    active: bool


def emails_of(person: Mapping[str, Any]) -> list[str]:
    """A person's e-mails: ``emails[].email`` and the embedded ``email``."""
    found = [
        str(e["email"])
        for e in person.get("emails") or []
        if isinstance(e, Mapping) and e.get("email")
    ]
    if person.get("email"):
        found.append(str(person["email"]))
    return found


class Directory:
    """Agents, teams and clients of one account, read through the connector's client."""

    def __init__(
        self,
        http: HttpClient,
        *,
        team_owners: Mapping[str, str] | None = None,
        ttl: float = PERSON_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.team_owners = {fold(team): owner for team, owner in (team_owners or {}).items()}
        self.ttl = ttl
        self.monotonic = monotonic
        self.agents: NameLookup[str] = NameLookup("agent", self._load_agents)
        self._people: dict[str, Agent] = {}
        self._order: list[str] = []
        self._loaded_at: float | None = None
        self._clients: PartyCache[str] = PartyCache(5000, ttl, monotonic)

    # ------------------------------------------------------------------ agents

    def _fresh(self) -> None:
        """Forget the agents when they were read more than ``ttl`` seconds ago."""
        if self._loaded_at is not None and self.monotonic() - self._loaded_at >= self.ttl:
            self.agents.loaded = False
            self.agents.missed.clear()
        if not self.agents.loaded:
            self.agents.load()

    def _load_agents(self) -> list[tuple[str, list[str]]]:
        """Every agent, 100 a page, keyset on ``id`` (``$orderby=id``)."""
        people: dict[str, Agent] = {}
        order: list[str] = []
        out: list[tuple[str, list[str]]] = []
        last: str | None = None
        while True:
            where = AGENT_FILTER + (f" and id gt {quote(last)}" if last is not None else "")
            params = {
                "$select": AGENT_SELECT,
                "$expand": "emails",
                "$filter": where,
                "$orderby": "id",
                "$top": PAGE,
            }
            page = rows(self.http.get("/persons", params=params), "GET /persons")
            for person in page:
                if person.get("id") is None:
                    raise shape_error("GET /persons", "persons with an id", person)
                pid = str(person["id"])
                name = str(person.get("businessName") or person.get("userName") or pid)
                teams = tuple(str(t) for t in person.get("teams") or [] if t)
                people[pid] = Agent(pid, name, teams, person.get("isActive") is not False)
                order.append(pid)
                labels = [name, *emails_of(person), str(person.get("userName") or ""), pid]
                out.append((pid, [label for label in labels if label]))
            if len(page) < PAGE:
                break
            last = str(page[-1]["id"])
        self._people, self._order = people, order
        self._loaded_at = self.monotonic()
        return out

    def agent_id(self, name: str) -> str:
        """Agent name, e-mail, user name or person id -> person id."""
        self._fresh()
        return self.agents.require(name, HELPDESK)

    def agent(self, person_id: str) -> Agent:
        """The agent with this person id (read when unknown)."""
        self._fresh()
        if person_id not in self._people:
            self.agents.load()
        found = self._people.get(person_id)
        if found is None:
            raise FatalError(f"unknown agent id '{person_id}'", helpdesk=HELPDESK)
        return found

    def agent_teams(self, person_id: str) -> tuple[str, ...]:
        """The teams of an active agent; ``FatalError`` when inactive or in none."""
        found = self.agent(person_id)
        if not found.active:
            raise FatalError(f"agent '{found.name}' is not active", helpdesk=HELPDESK)
        if not found.teams:
            raise FatalError(f"agent '{found.name}' belongs to no team", helpdesk=HELPDESK)
        return found.teams

    def teams(self) -> dict[str, str]:
        """Every team some agent belongs to: folded name -> the account's spelling."""
        self._fresh()
        return {fold(t): t for pid in self._order for t in self._people[pid].teams}

    def agent_labels(self) -> list[str]:
        """Every name ``agent_id`` finds an agent by: names, e-mails, user names, ids."""
        self._fresh()
        return self.agents.labels()

    def team_names(self) -> list[str]:
        """Every team ``team`` finds, as the account spells it (agents' ``teams``)."""
        return list(self.teams().values())

    def team(self, name: str) -> str:
        """A team's name as the account spells it; ``FatalError`` listing the known ones."""
        known = self.teams()
        if fold(name) not in known:
            self.agents.load()
            known = self.teams()
        if fold(name) not in known:
            listed = ", ".join(sorted(known.values(), key=fold)) or "none"
            raise FatalError(f"unknown team '{name}'; known: {listed}", helpdesk=HELPDESK)
        return known[fold(name)]

    def team_owner(self, team: str) -> str:
        """The owner a ticket routed to ``team`` gets: configured, else its first agent."""
        spelled = self.team(team)
        configured = self.team_owners.get(fold(spelled))
        if configured is not None:
            owner = self.agent_id(configured)
            if fold(spelled) not in {fold(t) for t in self.agent(owner).teams}:
                raise FatalError(
                    f"team_owners: '{configured}' is not in team '{spelled}'", helpdesk=HELPDESK
                )
            return owner
        for pid in self._order:
            agent = self._people[pid]
            if agent.active and fold(spelled) in {fold(t) for t in agent.teams}:
                return pid
        raise FatalError(f"team '{spelled}' has no active agent", helpdesk=HELPDESK)

    # ------------------------------------------------------------------ clients

    def client_id(self, email: str) -> str:
        """The person id of a client by e-mail (cached); ``FatalError`` when none."""

        def load(key: str) -> dict[str, Any] | None:
            params = {
                "$select": "id,businessName,isActive",
                "$filter": f"emails/any(e: e/email eq {quote(key)})",
                "$top": 2,
            }
            found = rows(self.http.get("/persons", params=params), "GET /persons")
            return found[0] if found else None

        person = self._clients.get(email.strip().lower(), load)
        if person is None or person.get("id") is None:
            raise FatalError(f"no Movidesk person with e-mail '{email}'", helpdesk=HELPDESK)
        return str(person["id"])

    def person(self, person_id: str) -> dict[str, Any]:
        """``GET /persons?id=X``: one person (the connector's own agent in ``check``)."""
        params = {"id": person_id, "$select": "id,businessName,profileType,isActive"}
        return one(self.http.get("/persons", params=params), "GET /persons?id=...")


__all__ = ["PERSON_TTL", "Agent", "Directory", "emails_of"]
