"""Fixtures for the window tests (pytest-qt, real widgets, real keyring, real receivers).

Every test here gets, without asking:

* isolated ``QSettings``: INI files under the test's ``tmp_path``, never the user's;
* a check that no ``QThread`` started during the test is still running at its end;
* a check that no top-level window or dialog is still open at its end.

Fixtures to ask for:

* ``open_window(engine=None)``: shows a :class:`MainWindow` over the ``service``
  fixture, with short ping timeouts; every window it opened is closed after the test.
* ``window``: ``open_window()``, a window without a delivery engine.
* ``hook_factory(url, **fields)``: creates a hook through the service layer (with its
  secret in the keyring) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QThread
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.main_window import MainWindow
from tests.ui.gui import visible_top_level

__all__ = ["OFFSCREEN_NOISE", "PING_SETTINGS", "HookFactory", "visible_top_level"]

# Short timeouts so a ping to a dead port or a slow receiver is over in seconds.
PING_SETTINGS = DeliverySettings(connect_timeout=2.0, attempt_timeout=5.0)

HookFactory = Callable[..., Hook]

# The offscreen platform plugin (QT_QPA_PLATFORM=offscreen) says this about every shown
# top-level window; it is a limitation of the headless plugin, not of the window.
OFFSCREEN_NOISE = r"^This plugin does not support propagateSizeHints\(\)$"
UI_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ignore only the offscreen plugin's propagateSizeHints notice in the window tests;
    every other Qt warning still fails the test (qt_log_level_fail = WARNING)."""
    for item in items:
        if UI_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def isolated_qsettings(qapp: QApplication, tmp_path: Path) -> Iterator[Path]:
    """Point QSettings at INI files under ``tmp_path`` for the test; returns the folder."""
    folder = tmp_path / "qsettings"
    folder.mkdir()
    old_format = QSettings.defaultFormat()
    old_names = (QCoreApplication.organizationName(), QCoreApplication.applicationName())
    QCoreApplication.setOrganizationName("hookadmin-tests")
    QCoreApplication.setApplicationName("hookadmin-ui-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield folder
    QSettings.setDefaultFormat(old_format)
    QCoreApplication.setOrganizationName(old_names[0])
    QCoreApplication.setApplicationName(old_names[1])


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[QThread]]:
    """Record every QThread started during the test and fail it if one still runs at
    the end (after the windows have been closed)."""
    started: list[QThread] = []
    real_start = QThread.start

    def recording_start(self: QThread, *args: Any) -> None:
        started.append(self)
        real_start(self, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield started
    running = []
    for thread in started:
        try:
            if thread.isRunning():
                running.append(thread.objectName() or repr(thread))
        except RuntimeError:  # the C++ object is gone, so the thread has ended
            continue
    if running:
        for thread in started:
            try:
                thread.quit()
                thread.wait(5000)
            except RuntimeError:
                continue
        pytest.fail(f"QThreads still running after the test: {running}")


@pytest.fixture(autouse=True)
def no_window_left_open(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level window or dialog open."""
    yield
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    names = [w.objectName() or type(w).__name__ for w in left]
    for widget in left:
        widget.close()
    QApplication.processEvents()
    if names:
        pytest.fail(f"windows still open after the test: {names}")


@pytest.fixture
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the message boxes shown (critical and warning ones), in order; none is
    really shown."""
    shown: list[str] = []

    def box(parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", box)
    monkeypatch.setattr(QMessageBox, "warning", box)
    return shown


@pytest.fixture
def hook_factory(service: HookService) -> HookFactory:
    """``hook_factory(url, events=("job", "cluster"), name="", active=True) -> Hook``."""

    def make(url: str, *, events: tuple[str, ...] = ("job", "cluster"), name: str = "",
             active: bool = True) -> Hook:
        return service.create_hook(url=url, events=events, name=name, active=active)

    return make


def forget_edits(window: QWidget) -> None:
    """Before a test's window is closed: forget the form's unsaved edits a test left,
    or closing would ask whether to save them."""
    if isinstance(window, MainWindow) and window.completed:
        window.form.forget_edits()


@pytest.fixture
def open_window(qtbot: QtBot, service: HookService) -> Iterator[Callable[..., MainWindow]]:
    """Factory: ``open_window(engine=None) -> MainWindow``, shown, active and exposed.
    Every window it opened is closed after the test (which stops its engine)."""
    opened: list[MainWindow] = []

    def open_(engine: EngineHost | None = None) -> MainWindow:
        win = MainWindow(service, engine, ping_settings=PING_SETTINGS)
        qtbot.addWidget(win, before_close_func=forget_edits)
        opened.append(win)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow)
        # Its first read (started when it was made) is back: the hooks are listed.
        qtbot.waitUntil(win.is_idle, timeout=10000)
        return win

    yield open_
    for win in opened:
        win.close()


@pytest.fixture
def window(open_window: Callable[..., MainWindow]) -> MainWindow:
    """The main window over ``service``, shown, with no delivery engine."""
    return open_window()
