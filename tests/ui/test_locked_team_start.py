"""A remembered team database whose password is in a locked OS keyring: the window
opens its frame, asks the keyring off the GUI thread (the Secret Service's own unlock
prompt, which cannot be shown here, so the keyring stays locked), and stays open with a
banner saying so, *Try again* and *Use this computer's database*; the remembered choice
is kept whichever is clicked. Against the real test keyring, locked for real, and the
throw-away PostgreSQL."""

from __future__ import annotations

import contextlib
import gc
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import SecretService
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
from hookadmin.ui.app import open_location
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.remembered_start import KeyringBanner, RememberedStart
from hookadmin.ui.window_host import WindowHost
from tests.ui.gui import click
from tests.ui.test_keyring_banner import locked_login_keyring
from tests.ui.test_window_start import run_main_until

WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    return tmp_path / "config" / "hookadmin"


@pytest.fixture
def remembered(team: StoreLocation, config_dir: Path) -> Iterator[str]:
    """The team database remembered as the window's choice, its password in the
    keyring (removed after); its URL without the password."""
    remember_choice(str(team.url))
    bare = split_password(str(team.url))[0]
    yield bare
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE_NAME, PASSWORD_ENTRY.format(url=bare))


@pytest.fixture
def keyring_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads the Secret Service backend's reads run on (the reads
    themselves are real)."""
    threads: list[str] = []
    real = SecretService.Keyring.get_password

    def recorded(self: SecretService.Keyring, service: str, username: str) -> str | None:
        threads.append(threading.current_thread().name)
        return real(self, service, username)

    monkeypatch.setattr(SecretService.Keyring, "get_password", recorded)
    return threads


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """The real test keyring locked inside the block (see ``locked_login_keyring``);
    keyring's backend leaves the D-Bus connection of a locked collection to the
    garbage collector, which is run before the block ends."""
    with locked_login_keyring(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()


def test_the_window_stays_open_with_a_banner_and_asks_the_keyring_off_the_gui_thread(
        remembered: str, home: Path, keyring_threads: list[str],
        message_boxes: list[str]) -> None:
    seen: dict[str, object] = {}

    def done(window: MainWindow) -> bool:
        banner = window.findChild(RememberedStart)
        if banner is None or not banner.banner.isVisible():
            return False
        seen["text"] = banner.banner.label.text()
        seen["buttons"] = [(b.text(), b.isEnabled()) for b in
                           (banner.banner.try_again, banner.banner.use_local)]
        seen["completed"] = window.completed
        seen["loading"] = banner.note.text()
        return True

    with locked():
        status = run_main_until(done, lambda _window: None)
    assert status == 0  # closed by the test: the window had stayed open
    assert message_boxes == []
    text = str(seen["text"])
    assert text.startswith("The OS keyring is locked, so the team's PostgreSQL database "
                           f"{remembered.split('://', 1)[1]} cannot be opened")
    assert "unlock the keyring and click Try again" in text
    assert seen["buttons"] == [("&Try again", True), ("Use this computer's &database", True)]
    assert seen["completed"] is False
    assert seen["loading"] == "No database is open yet."  # not "Loading…"
    assert keyring_threads
    assert threading.main_thread().name not in keyring_threads
    assert load_choice() == remembered  # nothing forgotten


def _frame(qtbot: QtBot, location: StoreLocation
           ) -> tuple[WindowHost, MainWindow, RememberedStart, list[HookService | None]]:
    """The window's frame, shown, with a :class:`RememberedStart` on ``location``
    (started) whose opened services are listed."""
    host = WindowHost(lambda _location: None)
    window = host.open_frame()
    qtbot.waitExposed(window)
    start = RememberedStart(window, location,
                            lambda at, team: open_location(at, team, window))
    opened: list[HookService | None] = []
    start.opened.connect(opened.append)
    start.start()
    return host, window, start, opened


def _wait_for_banner(qtbot: QtBot, start: RememberedStart) -> None:
    qtbot.waitUntil(lambda: start.banner.isVisible()
                    and start.banner.try_again.isEnabled(), timeout=WAIT_MS)


def _complete(qtbot: QtBot, host: WindowHost, window: MainWindow,
              opened: list[HookService | None]) -> None:
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=WAIT_MS)
    (service,) = opened
    assert service is not None
    with qtbot.waitSignal(window.ready, timeout=WAIT_MS):
        host.complete(service)


def test_try_again_after_unlocking_opens_the_team_database(
        qtbot: QtBot, remembered: str, home: Path, team: StoreLocation,
        message_boxes: list[str]) -> None:
    with locked():
        host, window, start, opened = _frame(qtbot, StoreLocation(home, remembered))
        try:
            _wait_for_banner(qtbot, start)
            asked: list[bool] = []
            start.asked.connect(lambda: asked.append(True))
            click(qtbot, start.banner.try_again, settle=False)  # still locked
            assert asked == [True]
            _wait_for_banner(qtbot, start)
            assert "keyring is locked" in start.banner.label.text()
            assert opened == []
        except BaseException:
            host.close()
            raise
    try:
        click(qtbot, start.banner.try_again, settle=False)  # unlocked now
        _complete(qtbot, host, window, opened)
        assert window.service.location == team  # with the password from the keyring
        assert window.windowTitle().endswith(f"Team: 127.0.0.1/{team.url.rsplit('/', 1)[1]}")
        assert not any(b.isVisible() for b in window.findChildren(KeyringBanner))
        assert message_boxes == []
    finally:
        host.close()


def test_use_this_computer_s_database_opens_the_local_one_and_keeps_the_choice(
        qtbot: QtBot, remembered: str, home: Path, message_boxes: list[str],
        hook_factory: Callable[..., object]) -> None:
    hook_factory("https://local.example.com/hook", name="local")
    with locked():
        host, window, start, opened = _frame(qtbot, StoreLocation(home, remembered))
        try:
            _wait_for_banner(qtbot, start)
            click(qtbot, start.banner.use_local, settle=False)
            _complete(qtbot, host, window, opened)
            assert window.service.location == StoreLocation(home)
            assert window.windowTitle().endswith("Local (SQLite)")
            assert window.hooks_model.hook_at(0).name == "local"
            assert not any(b.isVisible() for b in window.findChildren(KeyringBanner))
            assert load_choice() == remembered  # the next start tries the team again
            assert message_boxes == []
        finally:
            host.close()
