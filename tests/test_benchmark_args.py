"""Benchmark scripts refuse bad arguments with one sentence and exit 2, changing nothing;
what they print is plain."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

GC_FREEZE = REPO_ROOT / "benchmarks" / "gc_freeze.py"


def run_gc_freeze(*args: str) -> subprocess.CompletedProcess[str]:
    """``python benchmarks/gc_freeze.py ARGS...`` with its output captured as text."""
    return subprocess.run([sys.executable, str(GC_FREEZE), *args], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"})


def test_gc_freeze_refuses_a_home_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-home"
    proc = run_gc_freeze(str(missing))
    assert proc.returncode == 2, proc.stderr
    assert not missing.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(missing) in lines[0]
    assert "does not exist" in lines[0]
    assert "window_startup.py --home" in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_gc_freeze_refuses_a_folder_without_a_database(tmp_path: Path) -> None:
    proc = run_gc_freeze(str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert list(tmp_path.iterdir()) == []
    assert "holds no hookadmin database" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_gc_freeze_without_a_home_prints_its_usage() -> None:
    proc = run_gc_freeze()
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
    assert "HOME" in proc.stderr


def test_lanes_medians_print_without_float_artefacts(monkeypatch: pytest.MonkeyPatch) -> None:
    # The median of two phases is their mean: 0.1 and 0.2 gave 0.15000000000000002.
    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    lanes = importlib.import_module("lanes")
    assert str(lanes._median([0.1, 0.2])) == "0.15"
    assert str(lanes._median([2112.1, 2112.1, 5.0])) == "2112.1"
