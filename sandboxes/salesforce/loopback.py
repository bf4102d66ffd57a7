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

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .state import DEFAULT_BASE_URL


class LoopbackAdapter(HTTPAdapter):
    """Sends requests for ``instance_url`` to ``served_url`` (scheme, host and port), the
    path and query kept, never through a proxy (loopback is not proxied)."""

    def __init__(self, served_url: str) -> None:
        super().__init__()
        served = urlsplit(served_url)
        self.scheme, self.netloc = served.scheme, served.netloc

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        # ``proxies`` is dropped on purpose: the loopback server is reached directly.
        parts = urlsplit(request.url or "")
        request.url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, ""))
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert)


def loopback_session(served_url: str, instance_url: str = DEFAULT_BASE_URL) -> requests.Session:
    """A session whose calls to ``instance_url`` go to the sandbox at ``served_url``."""
    session = requests.Session()
    session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
    session.mount(instance_url.rstrip("/") + "/", LoopbackAdapter(served_url))
    return session


__all__ = ["LoopbackAdapter", "loopback_session"]
