"""The import contracts of ARCHITECTURE.md: dependencies point down, never up or sideways."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {"stgy", "federation", "storage", "tasks", "tests", "bench"}
ALLOWED = {
    "storage": set(),
    "federation": set(),
    "stgy": {"storage", "federation"},
    "tasks": {"stgy", "storage", "federation"},
}
# The command line is an entry point beside tasks/: `stgy worker` starts the worker.
ENTRY_POINTS = {Path("stgy/cli.py"): {"tasks"}}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


def test_packages_import_only_what_they_may() -> None:
    broken = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            extra = ENTRY_POINTS.get(path.relative_to(ROOT), set())
            for imported in imports_of(path) - allowed - extra - {package}:
                broken.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert broken == []


def test_storage_holds_all_sql_and_federation_no_database() -> None:
    for path in (ROOT / "federation").rglob("*.py"):
        text = path.read_text()
        assert "asyncpg" not in text and "quart" not in text, path
