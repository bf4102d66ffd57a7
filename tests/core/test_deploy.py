"""The shipped systemd unit is the one the README shows, and it stops on exits 2 and 3."""

from __future__ import annotations

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
