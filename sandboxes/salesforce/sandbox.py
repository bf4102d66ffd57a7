"""``SalesforceSandbox``: one fake Salesforce org, assembled from the package's parts.

The class only joins its mixins: the org's data and seeding (``state``), SOQL and
locators (``query``), record writes (``writes``), the request dispatcher with its
session, limit and fault handling (``dispatch``, ``..faults``), the route handlers
(``routes_read``, ``routes_write``, ``routes_composite``, ``routes_describe``) and the
adapters that put it on the wire (``adapters``).
"""

from __future__ import annotations

from .adapters import Adapters
from .routes_composite import CompositeRoutes
from .routes_describe import DescribeRoutes
from .routes_read import ReadRoutes
from .routes_write import WriteRoutes


class SalesforceSandbox(ReadRoutes, WriteRoutes, CompositeRoutes, DescribeRoutes, Adapters):
    """One fake Salesforce org; every public method is thread-safe."""
