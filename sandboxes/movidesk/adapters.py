"""The Movidesk sandbox on the wire (``sandboxes.adapters``): the API under ``/public/v1``
as on api.movidesk.com, PATCH included."""

from __future__ import annotations

from ..adapters import RunningServer, WireAdapters
from .dispatch import Dispatch
from .state import DEFAULT_BASE_URL

API_PATH = "/public/v1"
"""Where the API lives on a served sandbox, as on api.movidesk.com."""


class Adapters(WireAdapters, Dispatch):
    """``install`` and ``serve`` of ``MovideskSandbox``."""

    default_base_url = DEFAULT_BASE_URL
    path_pattern = r"(/.*)?(\?.*)?"
    api_path = API_PATH
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    thread_name = "movidesk-sandbox"


__all__ = ["API_PATH", "Adapters", "RunningServer"]
