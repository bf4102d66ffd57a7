"""The Salesforce sandbox on the wire (``sandboxes.adapters``): ``/services/...`` of the
instance, PATCH included.

``install(rsps)`` intercepts ``https://sandbox.my.salesforce.com/services/...`` (what
``simple_salesforce.Salesforce(instance_url=...)`` calls [ref §1.2]); ``install(rsps,
"https://login.salesforce.com")`` also answers the OAuth token endpoint there.
``serve()`` answers plain HTTP on loopback; simple-salesforce always speaks https, so
a served sandbox is for plain ``requests`` clients (or a TLS-terminating proxy).
"""

from __future__ import annotations

from ..adapters import RunningServer, WireAdapters
from .dispatch import Dispatch
from .state import DEFAULT_BASE_URL


class Adapters(WireAdapters, Dispatch):
    """``install`` and ``serve`` of ``SalesforceSandbox``."""

    default_base_url = DEFAULT_BASE_URL
    path_pattern = r"/services/.*"
    api_path = ""
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    thread_name = "salesforce-sandbox"


__all__ = ["Adapters", "RunningServer"]
