"""The shipped systemd unit is the one the README shows, and it stops on exits 2 and 3."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def unit_body(text: str) -> str:
    """The unit from its ``[Unit]`` section on (comments before it left out)."""
    return text[text.index("[Unit]") :].split("```")[0].strip()


def test_the_unit_file_is_the_one_the_readme_shows() -> None:
    shipped = (ROOT / "deploy" / "helpdesk-sync.service").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme[readme.index("# /etc/systemd/system/helpdesk-sync.service") :]
    assert unit_body(shipped) == unit_body(shown)
    assert "RestartPreventExitStatus=2 3" in shipped
    assert "ExecStart=/opt/helpdesk-sync/.venv/bin/helpdesk-sync run" in shipped


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_image_runs_unprivileged_with_its_state_in_a_volume() -> None:
    steps = instructions(dockerfile())
    users = [args for word, args in steps if word == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    workdir = [args for word, args in steps if word == "WORKDIR"][-1]
    volumes = [json.loads(args) for word, args in steps if word == "VOLUME"]
    # the default SQLite store is relative to the working directory: in the volume
    assert [workdir] in volumes
    assert ("ENTRYPOINT", '["helpdesk-sync"]') in steps
    assert ("CMD", '["run"]') in steps
    assert not any(  # env would override the mounted configuration file
        word == "ENV" and re.search(r"HELPDESK_SYNC_(?!CONFIG=)", args) for word, args in steps
    )


def test_the_image_copies_every_package_the_project_installs() -> None:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    sources = {
        source
        for word, args in instructions(dockerfile())
        if word == "COPY"
        for source in args.split()[:-1]
    }
    assert {name.split(".")[0] for name in setup["packages"]} <= sources
    assert {f"{module}.py" for module in setup["py-modules"]} <= sources


def healthcheck_command(port: int) -> list[str]:
    """The image's HEALTHCHECK command, run here against a health server on ``port``."""
    [args] = [args for word, args in instructions(dockerfile()) if word == "HEALTHCHECK"]
    command = json.loads(args[args.index("CMD ") + 4 :])
    assert command[0] == "python"
    return [sys.executable, *command[1:-1], command[-1].replace(":9464/", f":{port}/")]


def test_the_image_health_check_passes_only_when_ready(tmp_path: Path) -> None:
    from cli.health import Health, serve
    from engine.store import Store

    with Store(f"sqlite:///{tmp_path / 'state.sqlite'}") as store:
        health = Health(store, {"fd": 60.0})
        running = serve(health, "127.0.0.1:0")
        try:
            port = int(running.address.rsplit(":", 1)[1])
            # no pass yet: /readyz answers 503, the check fails
            starting = subprocess.run(healthcheck_command(port), capture_output=True, timeout=30)
            assert starting.returncode == 1
            health.skipped("fd")  # another process owns the connector: this one is ready
            ready = subprocess.run(healthcheck_command(port), capture_output=True, timeout=30)
            assert ready.returncode == 0, ready.stderr
        finally:
            running.stop()
