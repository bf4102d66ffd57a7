"""``MovideskSandbox``: one fake Movidesk account, assembled from the package's parts.

The class only joins its mixins: the account's data and seeding (``state``), the request
dispatcher with its limits and faults (``dispatch``, ``limits``, ``faults``), the route
handlers (``routes_read``, ``routes_write``) and the adapters that put it on the wire
(``adapters``).
"""

from __future__ import annotations

from .adapters import Adapters
from .routes_read import ReadRoutes
from .routes_write import WriteRoutes


class MovideskSandbox(ReadRoutes, WriteRoutes, Adapters):
    """One fake Movidesk account; every public method is thread-safe."""
