"""The set-up of the window tests that need the window's own delivery engine: the
window opened with an :class:`~hookadmin.ui.engine_host.EngineHost` on FAST's settings
(short retry schedule and polling), and a wait until the engine is where the test
starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.main_window import MainWindow
from tests.helpers import FAST


def running(engine: EngineHost) -> bool:
    """The engine is delivering."""
    return engine.running


def has_process(engine: EngineHost) -> bool:
    """The engine's child process has started."""
    return engine.process_id is not None


def open_with_engine(qtbot: QtBot, open_window: Callable[..., MainWindow], home: Path, *,
                     until: Callable[[EngineHost], bool] | None = running,
                     timeout_ms: int = 5000) -> tuple[MainWindow, EngineHost]:
    """Open the window (``open_window``, the fixture) with an engine over ``home`` and
    wait at most ``timeout_ms`` milliseconds until ``until(engine)`` holds (None: do
    not wait). Returns (window, engine)."""
    engine = EngineHost(home, FAST)
    window = open_window(engine)
    if until is not None:
        qtbot.waitUntil(lambda: until(engine), timeout=timeout_ms)
    return window, engine
