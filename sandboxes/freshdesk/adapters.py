"""The Freshdesk sandbox on the wire (``sandboxes.adapters``): the API under ``/api/v2``."""

from __future__ import annotations

from ..adapters import RunningServer, WireAdapters
from .dispatch import Dispatch
from .state import DEFAULT_BASE_URL


class Adapters(WireAdapters, Dispatch):
    """``install`` and ``serve`` of ``FreshdeskSandbox``."""

    default_base_url = DEFAULT_BASE_URL
    path_pattern = r"/api/v2/.*"
    thread_name = "freshdesk-sandbox"


__all__ = ["Adapters", "RunningServer"]
