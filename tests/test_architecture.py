"""DESIGN.md §8: core and delivery never import Qt or the UI; the CLI runs without Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import hookadmin

PACKAGE = Path(hookadmin.__file__).resolve().parent
HEADLESS = sorted([*PACKAGE.glob("core/**/*.py"), *PACKAGE.glob("delivery/*.py"),
                   *PACKAGE.glob("cli/*.py")])


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", HEADLESS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_qt_import(path: Path) -> None:
    bad = {n for n in _imports(path) if n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6")}
    if path != PACKAGE / "cli" / "__init__.py":  # the entry point opens the window
        bad |= {n for n in _imports(path) if n.startswith("hookadmin.ui")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_core_never_imports_delivery() -> None:
    for path in PACKAGE.glob("core/**/*.py"):
        assert not {n for n in _imports(path) if n.startswith("hookadmin.delivery")}, path.name


def test_headless_modules_load_without_qt() -> None:
    modules = [".".join(("hookadmin", *p.relative_to(PACKAGE).with_suffix("").parts))
               for p in HEADLESS if p.parent != PACKAGE]
    code = ("import sys, importlib\n"
            f"for m in {modules!r} + ['hookadmin.cli']: importlib.import_module(m)\n"
            "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'hookadmin.ui')))\n"
            "print(qt)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


IMPLEMENTATIONS = {"Store", "SQLiteStore", "SQLiteChangeFeed", "PostgresStore",
                   "PostgresChangeFeed"}


def _names_imported_from(path: Path, package: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.startswith(package):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py")
                                        if "store" not in p.relative_to(PACKAGE).parts),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_outside_the_store_nothing_names_a_database(path: Path) -> None:
    """DESIGN §8: the engine, the CLI and the window use the storage protocols and
    open_store(), never a class of one implementation (lint-imports checks the
    modules, this the names re-exported by hookadmin.core.store)."""
    named = _names_imported_from(path, "hookadmin.core.store") & IMPLEMENTATIONS
    assert not named, f"{path.name} imports {sorted(named)}"
