"""The sandboxes on the wire: ``responses`` callbacks or a loopback HTTP server.

``install(rsps)`` registers ``responses`` callbacks (unit tests, no sockets); ``serve()``
runs a ``ThreadingHTTPServer`` on loopback (the ``demo`` command, subprocess tests,
``python -m sandboxes.<helpdesk>``) and returns a ``RunningServer`` whose ``url`` is the
API base a client is configured with. Both turn the dispatcher's ``DroppedConnection`` /
``SandboxTimeout`` into what a client would see. One implementation for every sandbox.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .faults import DroppedConnection, SandboxTimeout


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    timeout_delay: float = 5.0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (killed, timed out) is normal here, not news."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass(slots=True)
class RunningServer:
    """A sandbox answering on loopback; ``stop()`` shuts it down."""

    url: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WireAdapters:
    """``install`` and ``serve`` (a mixin of each sandbox, next to its dispatcher).

    A sandbox sets where its API lives and which verbs it answers; ``handle``, ``sleep``
    and ``base_url`` come from its dispatcher and state.
    """

    default_base_url: str
    """``install``'s base URL when none is given (the real host's)."""
    path_pattern: str
    """Regex of the paths under the base URL that ``install`` answers."""
    api_path: str = ""
    """Where the API lives on a served sandbox (``/public/v1`` on api.movidesk.com)."""
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE")
    thread_name: str = "sandbox"
    base_url: str
    handle: Any
    """``handle(method, path, query, headers, body) -> (status, headers, body)``: the
    sandbox's dispatcher (listed after this mixin in the sandbox's bases)."""
    sleep: Any

    def install(self, rsps: Any, base_url: str | None = None) -> None:
        """Register ``responses`` callbacks for every API path under ``base_url``."""
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        pattern = re.compile(re.escape(self.base_url) + self.path_pattern)

        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            import requests

            parts = urlsplit(request.url)
            query = parse_qs(parts.query, keep_blank_values=True)
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode("utf-8")
            try:
                return self.handle(request.method, parts.path, query, dict(request.headers), body)
            except DroppedConnection:
                raise requests.exceptions.ConnectionError(
                    "Connection aborted (sandbox fault)"
                ) from None
            except SandboxTimeout:
                raise requests.exceptions.ReadTimeout("Read timed out (sandbox fault)") from None

        for method in self.methods:
            rsps.add_callback(method, pattern, callback=callback)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        """Answer real HTTP on ``host:port`` from a daemon thread (``port=0`` picks one)."""
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle on, the client's
            # delayed ACK adds ~40 ms to every loopback call.
            disable_nagle_algorithm = True

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(parts.query, keep_blank_values=True)
                try:
                    status, headers, payload = sandbox.handle(
                        self.command, parts.path, query, dict(self.headers.items()), body
                    )
                except DroppedConnection:
                    self.close_connection = True
                    return
                except SandboxTimeout:
                    sandbox.sleep(server.timeout_delay)
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        server = _Server((host, port), Handler)
        server.timeout_delay = 5.0
        address = server.server_address
        self.base_url = f"http://{address[0]}:{address[1]}{self.api_path}"
        thread = threading.Thread(
            target=server.serve_forever, name=self.thread_name, daemon=True
        )
        thread.start()
        return RunningServer(self.base_url, server, thread)


__all__ = ["RunningServer", "WireAdapters"]
