"""The window's keyring state (``ui/keyring_state.py``) on a real lane and a real
start-up check thread: what it says, and that it says it in the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hookadmin.core.errors import SecretStoreError
from hookadmin.ui.background import Lane
from hookadmin.ui.keyring_state import KEYRING_ADVICE, KeyringState
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.workers import StartupChecks


@pytest.fixture
def lane() -> Iterator[Lane[None]]:
    lane: Lane[None] = Lane("test-keyring", lambda: None, slow_after_ms=50)
    yield lane
    lane.close(wait=True)


def _check_failing(message: str, cause: str) -> StartupChecks:
    def check() -> None:
        raise SecretStoreError(message, cause=cause)

    return StartupChecks(check)


def test_a_missing_team_key_is_said_in_the_gui_thread_and_not_as_a_fault(
        qtbot: QtBot, lane: Lane[None]) -> None:
    state = KeyringState(lane)
    sentence = "No team key for team database db1 on this machine."
    said: list[tuple[str, threading.Thread]] = []

    def record(text: str) -> None:
        said.append((text, threading.current_thread()))

    # Direct: the handlers run in the thread that emits, which must be the GUI thread.
    state.team_key_missing.connect(record, Qt.ConnectionType.DirectConnection)
    state.unusable.connect(record, Qt.ConnectionType.DirectConnection)
    startup = _check_failing(sentence, "team_key_missing")
    state.follow(startup)
    with qtbot.waitSignal(state.checked, timeout=10_000) as blocker:
        startup.start()
    assert blocker.args == [False]
    assert said == [(sentence, threading.main_thread())]
    assert state.team_key_problem == sentence
    assert not state.problem
    assert not state.waiting
    assert startup.wait(30)


def test_an_unusable_keyring_is_a_banner_until_the_engine_finds_it_answering(
        qtbot: QtBot, lane: Lane[None]) -> None:
    state = KeyringState(lane)
    sentence = "The OS keyring is locked."
    banners: list[str] = []
    state.unusable.connect(banners.append)
    startup = _check_failing(sentence, "locked")
    state.follow(startup)
    with qtbot.waitSignal(state.checked, timeout=10_000) as blocker:
        startup.start()
    assert blocker.args == [False]
    assert banners == [f"{sentence} {KEYRING_ADVICE}"]
    assert state.problem
    assert state.waiting
    assert not state.team_key_problem
    usable: list[str] = []
    state.usable.connect(usable.append)
    with qtbot.waitSignal(state.changed, timeout=1000):
        state.engine_changed("")  # the engine's keyring reads answer again
    assert not state.problem
    assert not state.waiting
    assert usable == banners  # the banner's sentence no longer holds
    state.engine_changed("")
    assert usable == banners  # said once
    assert startup.wait(30)


def test_the_keyring_banner_goes_once_the_keyring_answers_again(
        qtbot: QtBot, window: MainWindow) -> None:
    # Found locked by the check after the first paint, then unlocked: the engine's
    # reads answer again, and the banner that said "locked" goes (another stays).
    window.keyring.startup_checked("The OS keyring is locked.")
    assert window.banner_box.isVisible()
    assert window.banner.text().startswith("The OS keyring is locked.")
    window.keyring.engine_changed("")
    assert not window.banner_box.isVisible()
    window.show_banner("Hook ops was deleted elsewhere.")
    window.keyring.startup_checked("The OS keyring is locked.")
    window.keyring.answered(True)  # the window's own keyring call answered
    assert not window.banner_box.isVisible()
    window.show_banner("Hook ops was deleted elsewhere.")
    window.keyring.engine_changed("")  # nothing of the keyring's is shown: it stays
    assert window.banner.text() == "Hook ops was deleted elsewhere."
    assert window.banner_box.isVisible()


def test_a_keyring_call_running_long_makes_delivery_wait(
        qtbot: QtBot, lane: Lane[None]) -> None:
    state = KeyringState(lane)
    release = threading.Event()
    done: list[bool] = []
    lane.busy_changed.connect(lambda _busy: state.changed.emit())
    with qtbot.waitSignal(state.changed, timeout=5000):
        lane.submit(lambda _: release.wait(10), done.append, lambda err: None)
    assert state.waiting  # as while an unlock prompt is up
    release.set()
    qtbot.waitUntil(lambda: bool(done) and not state.waiting, timeout=5000)
    assert done == [True]
