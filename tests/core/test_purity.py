"""The decision core performs no I/O: it imports no HTTP library, connector or clock reader."""

from __future__ import annotations

import ast
from pathlib import Path

SYNC = Path(__file__).resolve().parents[2] / "sync"
FORBIDDEN = {"requests", "urllib", "http", "socket", "connectors", "responses", "sqlalchemy"}
CORE = [
    "decide.py",
    "comment_parser.py",
    "validators.py",
    "business_time.py",
    "mapping_loader.py",
    "templates.py",
    "actions.py",
    "model.py",
    "masking.py",
]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_import_no_io_library() -> None:
    for name in CORE:
        assert not imported_roots(SYNC / name) & FORBIDDEN, name


def test_core_never_reads_the_clock() -> None:
    for name in CORE:
        text = (SYNC / name).read_text(encoding="utf-8")
        for call in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time("):
            assert call not in text, f"{name} calls {call}"
