"""The packages stay on their floors, and every module says what it is for.

Floors, lowest first: ``sync`` (the pure decision core), then ``engine``, ``connectors``
and ``sandboxes`` side by side, each building on ``sync`` alone, then ``cli``, then
``daemon.py`` on top. A module may import its own package and the floors its table entry
names, never one above or beside it. Every import counts: module-level, inside functions,
under ``if TYPE_CHECKING:``, and relative ones resolved to the absolute name. ``mappings``
is data (the YAML mappings ``sync`` loads), importable from every floor.

``sync`` also stays pure: no HTTP, SQL, scheduler, thread or process library in any of
its modules. ``test_purity.py`` checks a fixed list of core modules against I/O libraries
and clock reads; the check here covers every ``sync`` module, new ones included.

Every module opens with a docstring; one longer than ``MAX_LINES`` lines says in it, after
the marker ``Why this module is long:``, why it is not split.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sync", "engine", "connectors", "sandboxes", "cli")
TOP_MODULES = ("daemon",)
FIRST_PARTY = frozenset({*PACKAGES, *TOP_MODULES, "mappings"})
DATA = frozenset({"mappings"})
"""First-party packages that hold data, not code: every floor may read them."""

ALLOWED: dict[str, frozenset[str]] = {
    "sync": frozenset({"sync"}),
    "engine": frozenset({"sync", "engine"}),
    "connectors": frozenset({"sync", "connectors"}),
    "sandboxes": frozenset({"sync", "sandboxes"}),
    "cli": FIRST_PARTY - {"daemon"},
    "daemon": FIRST_PARTY,
}
"""First-party roots each floor may import (besides ``DATA``)."""

IMPURE = frozenset(
    {
        "requests", "urllib", "urllib3", "http", "httpx", "aiohttp", "socket", "ssl",
        "responses", "simple_salesforce", "tenacity",
        "sqlalchemy", "psycopg", "psycopg2", "sqlite3",
        "apscheduler", "threading", "_thread", "multiprocessing", "concurrent", "asyncio",
        "subprocess", "signal", "selectors",
    }
)  # fmt: skip
"""Third-party and standard roots ``sync`` never imports: it decides; it does not talk,
store, schedule or wait (first-party roots are the floor test's)."""

MAX_LINES = 500
LONG_MARKER = "Why this module is long:"


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's target, resolved to an absolute dotted name."""

    path: Path
    line: int
    name: str
    beyond: bool = False
    """A relative import climbing above its top-level package (``name`` as written)."""

    @property
    def root(self) -> str:
        return self.name.split(".")[0]

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def source_files() -> list[Path]:
    """Every Python module of the floored packages, and the top-level modules."""
    files = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    files += [ROOT / f"{name}.py" for name in TOP_MODULES]
    return [path for path in files if "__pycache__" not in path.parts]


def module_name(path: Path) -> str:
    """``sync/decide.py`` -> ``sync.decide``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor_of(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").parts[0]


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports_of(path: Path) -> Iterator[Import]:
    """Every import in the file, at any depth, relative ones made absolute.

    A relative import that climbs above its top-level package is yielded as written,
    marked ``beyond``: no floor allows it.
    """
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                yield Import(path, node.lineno, node.module)
                continue
            keep = len(package) - (node.level - 1)
            if keep < 1:
                written = "." * node.level + (node.module or "")
                yield Import(path, node.lineno, written, beyond=True)
                continue
            base = ".".join(package[:keep])
            if node.module:
                yield Import(path, node.lineno, f"{base}.{node.module}")
            else:  # ``from . import x``: each name is a submodule or an attribute of base
                for alias in node.names:
                    yield Import(path, node.lineno, f"{base}.{alias.name}")


def test_the_floor_table_covers_every_package() -> None:
    assert set(ALLOWED) == {*PACKAGES, *TOP_MODULES}
    for path in source_files():
        assert floor_of(path) in ALLOWED, path


def test_relative_imports_resolve_to_absolute_names() -> None:
    # The resolver itself, on the shapes the packages use: a module and a package.
    assert module_name(ROOT / "sync" / "decide.py") == "sync.decide"
    assert module_name(ROOT / "sandboxes" / "freshdesk" / "__init__.py") == "sandboxes.freshdesk"
    in_module = {i.name for i in imports_of(ROOT / "sync" / "decide.py")}
    assert "sync.actions" in in_module, in_module
    in_package = {i.name for i in imports_of(ROOT / "connectors" / "freshdesk" / "__init__.py")}
    assert "connectors.freshdesk.connector" in in_package, in_package


def test_no_import_runs_up_or_sideways_a_floor() -> None:
    offences: list[str] = []
    for path in source_files():
        floor = floor_of(path)
        allowed = ALLOWED[floor] | DATA
        for item in imports_of(path):
            if item.beyond:
                offences.append(
                    f"{item.where()}: relative import {item.name} climbs above the "
                    f"top-level package ({floor})"
                )
            elif item.root in FIRST_PARTY and item.root not in allowed:
                offences.append(
                    f"{item.where()}: imports {item.name} "
                    f"({floor} may import only {', '.join(sorted(allowed))})"
                )
    assert not offences, "imports across floors:\n" + "\n".join(offences)


def test_sync_imports_no_io_scheduler_or_thread_library() -> None:
    offences = [
        f"{item.where()}: imports {item.name}"
        for path in source_files()
        if floor_of(path) == "sync"
        for item in imports_of(path)
        if item.root in IMPURE
    ]
    assert not offences, "sync must stay pure:\n" + "\n".join(offences)


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for path in source_files()
        if not (ast.get_docstring(parse(path)) or "").strip()
    ]
    assert not missing, "modules without an opening docstring:\n" + "\n".join(missing)


def test_every_long_module_says_why_it_is_one_module() -> None:
    unexplained = []
    for path in source_files():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and LONG_MARKER not in (ast.get_docstring(parse(path)) or ""):
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert not unexplained, (
        f"modules over {MAX_LINES} lines without '{LONG_MARKER}' in their opening docstring "
        "(say why, or split them):\n" + "\n".join(unexplained)
    )
