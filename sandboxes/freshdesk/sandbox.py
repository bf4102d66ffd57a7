"""``FreshdeskSandbox``: one fake Freshdesk account, assembled from the package's parts.

The class only joins its mixins: the account's data and seeding (``state``), the request
dispatcher with rate limits and faults (``dispatch``, ``limits``, ``faults``), the route
handlers (``routes_read``, ``routes_write``, ``routes_lookup``) and the adapters that put
it on the wire (``adapters``).
"""

from __future__ import annotations

from .adapters import Adapters
from .routes_lookup import LookupRoutes
from .routes_read import ReadRoutes
from .routes_write import WriteRoutes


class FreshdeskSandbox(ReadRoutes, WriteRoutes, LookupRoutes, Adapters):
    """One fake Freshdesk account; every public method is thread-safe."""
