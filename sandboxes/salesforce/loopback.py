"""Reach a loopback Salesforce sandbox through simple-salesforce: a rewriting transport.

simple-salesforce always builds ``https://<instance>/...`` URLs (reference §1.2: "https is
hard-coded"), while ``SalesforceSandbox.serve()`` answers plain HTTP on 127.0.0.1. A
``requests.Session`` from ``loopback_session`` carries a transport adapter mounted on the
instance's ``https://`` prefix that sends each request to the served URL instead, path
and query unchanged, so the library's own calls (queries, ``nextRecordsUrl`` pages,
``restful`` collections) reach the sandbox as they would reach an org. For the demo and
the benchmarks only: a real org is reached by the connector's ordinary session.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter


class LoopbackAdapter(HTTPAdapter):
    """Sends requests for ``instance_url`` to ``served_url`` (scheme, host and port)."""

    def __init__(self, served_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        served = urlsplit(served_url)
        self.scheme, self.netloc = served.scheme, served.netloc

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


def loopback_session(served_url: str, instance_url: str) -> requests.Session:
    """A session whose calls to ``instance_url`` go to the sandbox at ``served_url``."""
    session = requests.Session()
    session.mount(instance_url.rstrip("/") + "/", LoopbackAdapter(served_url))
    return session


__all__ = ["LoopbackAdapter", "loopback_session"]
