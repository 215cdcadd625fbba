"""``hookadmin`` and ``hookadmin gui`` (with ``--home`` and ``--database`` before them)
open the window without importing the command groups, the service layer or asyncio;
every other command line is read by the full parser, with its usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hookadmin.cli import window_options
from tests.helpers import run_cli

NOT_BEFORE_THE_WINDOW = ("hookadmin.cli.parser", "hookadmin.cli.dispatch",
                         "hookadmin.cli.hooks", "hookadmin.cli.worker",
                         "hookadmin.core.service", "hookadmin.core.store", "asyncio")


@pytest.mark.parametrize(("argv", "expected"), [
    ([], (None, None)),
    (["gui"], (None, None)),
    (["--home", "/h"], ("/h", None)),
    (["--home=/h", "gui"], ("/h", None)),
    (["--database", "postgresql://db/x", "--home", "/h", "gui"], ("/h", "postgresql://db/x")),
    (["--home", "/a", "--home", "/b"], ("/b", None)),
    (["--home", "gui"], ("gui", None)),
])
def test_the_command_lines_that_open_the_window(
        argv: list[str], expected: tuple[str | None, str | None]) -> None:
    assert window_options(argv) == expected


@pytest.mark.parametrize("argv", [
    ["hooks", "list"], ["--help"], ["--version"], ["gui", "--home", "/h"],
    ["--hom", "/h"], ["--home"], ["--home", "-x"], ["gui", "gui"], ["--home", "/h", "events"],
])
def test_every_other_command_line_goes_to_the_full_parser(argv: list[str]) -> None:
    assert window_options(argv) is None


def test_opening_the_window_imports_no_command_group_nor_the_service_layer() -> None:
    code = ("import json, sys; from hookadmin.cli import window_options; "
            "window_options(['--home', '/h', 'gui']); import hookadmin.ui.app; "
            f"print(json.dumps([m for m in {NOT_BEFORE_THE_WINDOW!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen",
                                                      "PATH": "/usr/bin:/bin"})
    assert json.loads(out.stdout) == []


def test_options_after_gui_are_still_a_usage_error(home: Path) -> None:
    result = run_cli("gui", "--database", "postgresql://db/hooks", home=home)
    assert result.returncode == 2
    assert result.stderr.startswith("hookadmin: unrecognized arguments: --database")
    assert result.stderr.count("\n") == 1


def test_the_help_still_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "hooks" in result.stdout
    assert "open the admin window" in result.stdout
