"""The window paints its frame first and builds the rest right after: ``import
hookadmin.ui.app`` leaves the service layer (all of ``hookadmin.core``), the pages and
the HTTP stack unimported; until it is complete the frame offers nothing to click (its
menu bar is there from the first frame, its menus empty and disabled, so nothing moves
when they fill; the tab widget comes with the rest); then the hooks are listed and the
engine starts, and what the late tabs made is frozen out of the garbage collector's
scans; errors of the deferred start still reach the user in one sentence."""

from __future__ import annotations

import contextlib
import gc
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import keyring
import keyring.errors
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.service import HookService
from hookadmin.core.store import DATABASE_ENV, StoreLocation
from hookadmin.core.team.database_choice import (
    PASSWORD_ENTRY,
    load_choice,
    remember_choice,
    split_password,
)
from hookadmin.ui.app import main, open_service
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.window_host import WindowHost

WAIT_MS = 20000
MENUS = ("&File", "De&livery", "&Hooks", "&Help")
DEFERRED = ("hookadmin.core.service", "hookadmin.core.audit", "hookadmin.core.store.sqlite",
            "hookadmin.core.store.ports", "hookadmin.ui.deliveries_page",
            "hookadmin.ui.activity_page", "hookadmin.ui.audit_page", "hookadmin.ui.hook_page",
            "hookadmin.ui.hook_form", "hookadmin.ui.workers", "hookadmin.ui.engine_thread",
            "aiohttp", "httpx", "psycopg", "cryptography", "keyring", "PySide6.QtCharts",
            "hookadmin.core.store", "hookadmin.core.team.database_choice", "platformdirs",
            "dataclasses", "hookadmin.core", "hookadmin.ui.database_name",
            "hookadmin.cli.parser", "hookadmin.ui.window_menus", "hookadmin.ui.hooks_panel")


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    return tmp_path / "config" / "hookadmin"


def test_importing_the_app_leaves_the_service_layer_pages_and_http_stack_for_later() -> None:
    code = ("import json, sys; import hookadmin.ui.app; "
            f"print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen",
                                                      "PATH": "/usr/bin:/bin"})
    assert json.loads(out.stdout) == []


class FirstPaint(QObject):
    """Calls ``seen(window)`` at the first paint of a :class:`MainWindow`."""

    def __init__(self, seen: Callable[[MainWindow], None]) -> None:
        super().__init__()
        self._seen: Callable[[MainWindow], None] | None = seen

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, MainWindow) \
                and self._seen is not None:
            self._seen(watched)
            self._seen = None
        return False


def run_main_until(done: Callable[[MainWindow], bool],
                   at_first_paint: Callable[[MainWindow], None]) -> int:
    """Run ``main(argv=[])``; close its window once ``done(window)`` holds (checked
    every 10 ms), or after WAIT_MS at the latest. Returns main's exit status."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    probe = FirstPaint(at_first_paint)
    app.installEventFilter(probe)

    def windows() -> list[MainWindow]:
        return [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]

    def check() -> None:
        for window in windows():
            if done(window):
                window.close()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(10)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(lambda: [w.close() for w in windows()])
    give_up.start(WAIT_MS)
    try:
        return main(argv=[])
    finally:
        poll.stop()
        give_up.stop()
        app.removeEventFilter(probe)
        gc.unfreeze()
        # main() closed its window and asked for it to be deleted: delete it now.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_the_frame_paints_before_the_pages_exist_then_hooks_list_and_the_engine_runs(
        home: Path, service: HookService) -> None:
    hook = service.create_hook(url="http://127.0.0.1:9/hook", events=("job",), name="Nine")
    frame: dict[str, object] = {}
    finished: dict[str, object] = {}

    def at_first_paint(window: MainWindow) -> None:
        frame["completed"] = window.completed
        central = window.centralWidget()
        frame["central"] = [type(child).__name__ for child in central.children()]
        frame["menus"] = [(a.text(), a.isEnabled(), len(a.menu().actions()))
                          for a in window.menuBar().actions()]
        frame["title"] = window.windowTitle()
        frame["database"] = window.status.database_label.text()
        frame["top"] = central.mapTo(window, QPoint(0, 0)).y()

    def done(window: MainWindow) -> bool:
        if not (window.completed and window.hooks_model.rowCount() == 1
                and window.engine is not None and window.engine.running):
            return False
        finished["hook"] = window.hooks_model.hook_at(0).id
        finished["tabs"] = [(window.tabs.tabText(i), window.tabs.isTabEnabled(i))
                            for i in range(window.tabs.count())]
        finished["webhooks"] = window.tabs.widget(0) is window.splitter
        finished["menus"] = [(a.text(), a.isEnabled()) for a in window.menuBar().actions()]
        finished["actions"] = [len(a.menu().actions()) > 0 for a in window.menuBar().actions()]
        finished["top"] = window.centralWidget().mapTo(window, QPoint(0, 0)).y()
        finished["title"] = window.windowTitle()
        finished["database"] = window.status.database_label.text()
        return True

    assert run_main_until(done, at_first_paint) == 0
    top = frame.pop("top")
    # The first frame: the menus' titles (empty, disabled), an empty central area
    # (no child, not even a layout) and "Opening…"; the tab widget and the menus' actions
    # come after.
    assert frame == {"completed": False, "central": [],
                     "menus": [(title, False, 0) for title in MENUS],
                     "title": "hookadmin", "database": "Opening…"}
    assert finished["hook"] == hook.id
    # Deliveries, Activity and Audit are enabled once built, after the hooks painted.
    assert finished["tabs"] == [("&Webhooks", True), ("&Deliveries", True),
                                ("&Activity", True), ("A&udit", True)]
    assert finished["webhooks"] is True
    assert finished["menus"] == [(title, True) for title in MENUS]
    assert finished["actions"] == [True, True, True, True]
    assert finished["top"] == top  # the central area did not move when the menus filled
    assert finished["title"] == "hookadmin — service hooks — Local (SQLite)"
    assert finished["database"] == "Local (SQLite)"


def test_a_remembered_team_database_that_is_gone_opens_the_local_one_and_says_why(
        home: Path, service: HookService, config_dir: Path,
        monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    port = closed_port
    config_dir.mkdir(parents=True)
    (config_dir / "database.json").write_text(
        json.dumps({"database": f"postgresql://admin@127.0.0.1:{port}/hooks"}),
        encoding="utf-8")
    warned: list[str] = []

    def warning(parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        warned.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    titles: list[str] = []

    def at_first_paint(window: MainWindow) -> None:
        titles.append(window.windowTitle())

    def done(window: MainWindow) -> bool:
        if window.completed:
            titles.append(window.windowTitle())
        return window.completed

    assert run_main_until(done, at_first_paint) == 0
    assert titles[0] == "hookadmin"  # which database it is is read after the first paint
    assert titles[-1] == "hookadmin — service hooks — Local (SQLite)"
    assert len(warned) == 1
    assert "nothing accepts connections there" in warned[0]
    assert warned[0].endswith("File → Connect to team database… tries again.")


def test_a_frame_closed_before_it_is_complete_closes_cleanly(
        qtbot: QtBot, home: Path, service: HookService) -> None:
    host = WindowHost(lambda _location: None)
    window = host.open_frame()
    qtbot.waitExposed(window)
    assert not window.completed
    host.close()
    assert not window.isVisible()
    with pytest.raises(RuntimeError, match="no window frame"):
        host.complete(service)


def test_completing_a_shown_frame_lists_the_hooks_and_enables_the_tabs(
        qtbot: QtBot, home: Path, service: HookService) -> None:
    hook = service.create_hook(url="http://127.0.0.1:9/hook", events=("job",))
    host = WindowHost(lambda _location: None)
    window = host.open_frame()
    qtbot.waitExposed(window)
    try:
        assert [(a.text(), a.isEnabled()) for a in window.menuBar().actions()] == [
            (title, False) for title in MENUS]
        with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
            host.complete(HookService(StoreLocation(home), origin="window"))
        assert window.hooks_model.hook_at(0).id == hook.id
        assert window.tabs.currentWidget() is window.splitter
        assert not window.empty_hint.isVisible()
        # The other tabs are built once the hooks have painted, with the hooks of the
        # refresh that came back before them.
        qtbot.waitUntil(lambda: window.pages_built, timeout=WAIT_MS)
        assert all(window.tabs.isTabEnabled(i) for i in range(window.tabs.count()))
        assert [window.tabs.widget(i) for i in (1, 2, 3)] == [
            window.deliveries_page, window.activity_page, window.audit_page]
        assert window.deliveries_page.hook_box.findData(hook.id) > 0
        assert window.activity_page.hook_box.findData(hook.id) > 0
        assert window.tabs.currentWidget() is window.splitter
        with pytest.raises(RuntimeError, match="no window frame"):
            host.complete(service)
    finally:
        host.close()


def test_open_delivery_before_the_tabs_are_built_builds_them_first(
        qtbot: QtBot, home: Path, service: HookService) -> None:
    host = WindowHost(lambda _location: None)
    window = host.open_frame()
    qtbot.waitExposed(window)
    try:
        host.complete(HookService(StoreLocation(home), origin="window"))
        assert not window.pages_built
        window.delivery_actions.open_on_deliveries_tab("no-such-delivery")
        assert window.pages_built
        assert window.tabs.currentWidget() is window.deliveries_page
        # The search for the delivery runs on the reads lane; its answer comes back later.
        qtbot.waitUntil(lambda: "no longer in the history" in window.banner.text(), timeout=10_000)
        window.build_pages()  # once only
        assert window.tabs.widget(1) is window.deliveries_page
    finally:
        host.close()


def test_the_late_tabs_are_frozen_out_of_full_collections_once_built(
        home: Path, service: HookService) -> None:
    service.create_hook(url="http://127.0.0.1:9/hook", events=("job",))
    seen: dict[str, bool] = {}

    def done(window: MainWindow) -> bool:
        if not (window.completed and window.pages_built):
            return False
        # Built after the window completed (and after its first gc.freeze()): a full
        # collection must not walk them again and again either.
        pages = {id(window.deliveries_page), id(window.activity_page),
                 id(window.audit_page)}
        seen["tracked"] = any(id(o) in pages for o in gc.get_objects())
        return True

    assert run_main_until(done, lambda _window: None) == 0
    assert seen == {"tracked": False}


def test_a_data_directory_that_cannot_be_used_is_said_with_the_windows_fix(
        qtbot: QtBot, tmp_path: Path) -> None:
    # Started with --home naming a folder under a file (this test's $HOOKADMIN_HOME
    # names another folder): the message box says to start again with another --home.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    said: list[str] = []
    looks = iter(range(500))  # at most 500 looks, 20 ms apart: 10 s

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            said.append(box.text())
            box.accept()
        elif next(looks, None) is not None:
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    assert open_service(str(blocker / "home"), None) is None
    assert said == [f"Cannot use {blocker / 'home'} as the data directory (Not a "
                    "directory); start hookadmin again with --home set to a folder you "
                    "can write to."]


@pytest.mark.parametrize("remembered", [False, True])
def test_a_bad_home_is_said_and_exits_1_with_a_remembered_team_database_too(
        tmp_path: Path, team: StoreLocation, remembered: bool, message_boxes: list[str],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``hookadmin --home BAD gui`` says the folder and exits 1 whether or not a team
    database (reachable, its password in the keyring) is remembered; the remembered
    choice is kept."""
    if remembered:
        remember_choice(str(team.url))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    try:
        status = run_main_until(lambda window: window.completed, lambda _window: None)
        assert status == 0  # the good --home of the test ($HOOKADMIN_HOME) opens
        monkeypatch.setenv("HOOKADMIN_HOME", str(blocker / "sub"))
        status = run_main_until(lambda window: window.completed, lambda _window: None)
    finally:
        if remembered:
            _forget_password(str(team.url))
    sentence = (f"Cannot use {blocker / 'sub'} as the data directory (Not a directory); "
                "set HOOKADMIN_HOME to a folder you can write to and start hookadmin again.")
    assert (status, message_boxes) == (1, [sentence])
    err = capsys.readouterr().err
    assert err.startswith(f"hookadmin: Cannot use {blocker / 'sub'} as the data directory")
    assert err.count("\n") == 1
    if remembered:
        assert load_choice() == split_password(str(team.url))[0]


def _forget_password(url: str) -> None:
    """Remove the remembered database's password from the keyring."""
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE_NAME, PASSWORD_ENTRY.format(
            url=split_password(url)[0]))
