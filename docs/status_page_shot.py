"""Regenerate ``docs/status-page.png``: the status page after a demo-like sandbox pass.

Seeds the demo's SAC tickets (``sandboxes.demo_data``, as ``helpdesk-sync demo`` does) in
a loopback Freshdesk sandbox at a fixed time, makes the helpdesk refuse one ticket's reads
so it is quarantined (a dead letter to show), runs one engine pass with the ``sac``
mapping, serves the status page on 127.0.0.1 and screenshots it with headless Chromium
(the Debian package) 1280 px wide. No network, no credentials, a few seconds.

Usage: ``python docs/status_page_shot.py [OUTPUT.png]`` (default: next to this script).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli.demo import seed  # noqa: E402
from cli.health import Health, serve  # noqa: E402
from connectors._http import HttpClient, RetryPolicy  # noqa: E402
from connectors.freshdesk import FreshdeskConnector  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.store import Store  # noqa: E402
from sandboxes.faults import Faults  # noqa: E402
from sandboxes.freshdesk import DEFAULT_API_KEY, FreshdeskSandbox  # noqa: E402
from sync.mapping_loader import load_mapping  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WINDOW = "1280,1400"
START = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
"""Thursday 10:00 in São Paulo; the pass runs at 10:10 (fixed, so the image is reproducible)."""
REFUSED_TICKET = 5
"""The seeded ticket whose reads the sandbox answers with 503 (quarantined)."""


class Clock:
    """One fixed clock for the sandbox, the engine, the store and the page."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def shoot(output: Path) -> None:
    clock = Clock(START + timedelta(minutes=10))
    sandbox = FreshdeskSandbox(clock=clock)
    seed(sandbox, START + timedelta(hours=2))  # last updated 13:00 to 13:08 UTC, a ticket a minute
    sandbox.inject(Faults(server_errors=10**6, path=rf"/tickets/{REFUSED_TICKET}(/|$)"))
    with tempfile.TemporaryDirectory() as tmp, sandbox.serve() as server:
        http = HttpClient(
            "freshdesk",
            server.url,
            policy=RetryPolicy(attempts=2, backoff_base=0.1),
            sleep=lambda _seconds: None,
            now=clock,
        )
        connector = FreshdeskConnector(
            "sac",
            server.url,
            DEFAULT_API_KEY,
            request_type_field="cf_categoria",
            subcategory_field="cf_subcategoria",
            http=http,
        )
        with Store(f"sqlite:///{tmp}/state.sqlite", clock=clock) as store:
            health = Health(store, {"sac": 60.0}, clock=clock)
            engine = Engine(
                connector,
                load_mapping("sac"),
                store,
                clock=clock,
                initial_lookback=timedelta(days=1),
                max_attempts=1,
            )
            health.pass_done("sac", engine.run_pass())
            clock.now += timedelta(seconds=20)
            running = serve(health, "127.0.0.1:0")
            try:
                subprocess.run(  # noqa: S603 - a fixed argv: our Chromium, our local URL
                    [
                        CHROMIUM,
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--hide-scrollbars",
                        f"--user-data-dir={tmp}/chromium",
                        f"--screenshot={output}",
                        f"--window-size={WINDOW}",
                        f"http://{running.address}/",
                    ],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
            finally:
                running.stop()
    sys.stdout.write(f"wrote {output}\n")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("status-page.png")
    shoot(target.resolve())
