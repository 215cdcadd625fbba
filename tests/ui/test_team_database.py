"""The window in team mode, against the throw-away PostgreSQL and the real keyring: the
connect dialog and its sentences, the remembered choice (its password in the keyring,
never in the file), switching the window and its engine, and a machine without the
team key."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import keyring
import keyring.errors
import psycopg
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hookadmin.core.keyring_access import read_entry
from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.service import HookService
from hookadmin.core.store import DATABASE_ENV, StoreLocation
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.team.database_choice import (
    PASSWORD_ENTRY,
    choice_file,
    remembered_location,
    split_password,
)
from hookadmin.core.team.key import KEY_FILE_ENV, create_team_key, keyring_entry_name
from hookadmin.ui.app import engine_for
from hookadmin.ui.connect_dialog import CONNECT_ANYWAY, ConnectDialog
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.window_host import WindowHost
from tests.helpers import resource
from tests.receiver import Receiver

WAIT_MS = 30_000


def _delete_entry(name: str) -> None:
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE_NAME, name)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user config folder under ``tmp_path``; no database chosen by the environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    return tmp_path / "config" / "hookadmin"


@pytest.fixture
def team_id(postgres_url: str) -> Iterator[str]:
    """``postgres_url`` set up as a team database, its key in this machine's keyring
    (removed after, with any remembered password)."""
    with PostgresStore.init(postgres_url) as store:
        database_id = store.store_id
    create_team_key(database_id)
    yield database_id
    _delete_entry(keyring_entry_name(database_id))
    _delete_entry(PASSWORD_ENTRY.format(url=split_password(postgres_url)[0]))


def _password(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url)["password"])


def _dialog(qtbot: QtBot, home: Path) -> ConnectDialog:
    dialog = ConnectDialog(home)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _connect(qtbot: QtBot, dialog: ConnectDialog, url: str, password: str = "") -> str:
    """Type ``url`` and ``password``, press Connect; the sentence the test ended with."""
    dialog.url_edit.setText(url)
    dialog.password_edit.setText(password)
    with qtbot.waitSignal(dialog.tested, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    return str(blocker.args[0])


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts one connection and never answers: it
    hangs up once :attr:`release` is set (or after ``WAIT_MS``)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        self.accepted.append(conn)
        self.release.wait(WAIT_MS / 1000)
        conn.close()

    def close(self) -> None:
        """Hang up (if not yet), wait for the thread and stop listening."""
        self.release.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A :class:`SilentServer`, closed after the test."""
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize(("typed", "sentence"), [
    ("", "Enter the team database's URL"),
    ("mysql://admin@127.0.0.1/hooks", "must start with postgresql://"),
    ("postgresql://admin@127.0.0.1:notaport/hooks", "port"),
])
def test_a_malformed_url_is_one_sentence_before_any_connection(
        qtbot: QtBot, home: Path, typed: str, sentence: str) -> None:
    dialog = _dialog(qtbot, home)
    said = _connect(qtbot, dialog, typed)
    assert sentence in said
    assert said.count(". ") == 0
    assert said.endswith(".")
    assert dialog.message.text() == said
    assert dialog.message.isVisible()
    assert dialog.service is None
    assert dialog.isVisible()
    dialog.reject()


def test_a_refused_connection_says_nothing_listens_there(qtbot: QtBot, home: Path,
                                                         closed_port: int) -> None:
    dialog = _dialog(qtbot, home)
    said = _connect(qtbot, dialog, f"postgresql://postgres@127.0.0.1:{closed_port}/hooks")
    assert "nothing accepts connections there" in said
    assert dialog.connect_button.isEnabled()
    assert dialog.service is None
    dialog.reject()


def test_a_bad_password_is_refused_and_never_shown(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str) -> None:
    bare, _ = split_password(postgres_url)
    dialog = _dialog(qtbot, home)
    said = _connect(qtbot, dialog, bare, "not-the-password")
    assert "refused the user name or password" in said
    assert "not-the-password" not in said
    assert not choice_file().exists()
    assert read_entry(PASSWORD_ENTRY.format(url=bare)) is None
    dialog.reject()


def test_an_empty_or_foreign_database_is_not_hookadmins(
        qtbot: QtBot, home: Path, postgres_url: str) -> None:
    dialog = _dialog(qtbot, home)
    assert "set it up with `hookadmin team init`" in _connect(qtbot, dialog, postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE TABLE invoices (id int)")
    said = _connect(qtbot, dialog, postgres_url)
    assert "is not hookadmin's" in said
    assert "'invoices'" in said
    assert _password(postgres_url) not in said
    dialog.reject()


def test_a_database_of_a_newer_hookadmin_is_refused(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE hookadmin_meta SET value = '999' WHERE key = 'schema_version'")
    dialog = _dialog(qtbot, home)
    said = _connect(qtbot, dialog, postgres_url)
    assert "set up by a newer hookadmin (schema 999" in said
    assert dialog.service is None
    dialog.reject()


def test_the_test_runs_off_the_gui_thread(qtbot: QtBot, home: Path,
                                          silent_server: SilentServer) -> None:
    """A server that accepts and never answers: the click returns at once, the dialog
    says it is connecting, and the sentence comes when the server hangs up."""
    dialog = _dialog(qtbot, home)
    dialog.url_edit.setText(f"postgresql://postgres@127.0.0.1:{silent_server.port}/hooks")
    with qtbot.waitSignal(dialog.tested, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(silent_server.accepted), timeout=WAIT_MS)
        assert dialog.busy
        assert not dialog.connect_button.isEnabled()
        assert dialog.message.text().startswith("Connecting to PostgreSQL database")
        silent_server.release.set()
    assert "connection" in str(blocker.args[0])
    assert dialog.connect_button.isEnabled()
    silent_server.close()
    dialog.reject()


def test_connecting_switches_the_window_and_its_engine_and_is_remembered(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str, receiver: Receiver,
        config_dir: Path) -> None:
    team = StoreLocation(home, postgres_url)
    with HookService(team) as team_service:
        hook = team_service.create_hook(url=receiver.url, events=("job",))
        team_service.publish("job.failed", resource("job.failed"))
    host = WindowHost(EngineHost)
    local = host.open(HookService(StoreLocation(home), origin="window"))
    qtbot.waitExposed(local)
    assert local.windowTitle().endswith("Local (SQLite)")
    assert not local.database_actions.local_action.isEnabled()
    old_engine = local.engine
    assert old_engine is not None
    qtbot.waitUntil(lambda: old_engine.running, timeout=WAIT_MS)
    dialog = local.database_actions.ask_connect()
    bare, password = split_password(postgres_url)
    dialog.url_edit.setText(bare)
    dialog.password_edit.setText(password or "")
    with qtbot.waitSignal(host.switched, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    team_window = host.window
    assert isinstance(team_window, MainWindow)
    try:
        name = f"Team: 127.0.0.1/{urlsplit(postgres_url).path.lstrip('/')}"
        assert team_window.windowTitle() == f"hookadmin — service hooks — {name}"
        assert team_window.status.database_label.text() == name
        assert team_window.geometry() == local.geometry()
        assert not local.isVisible()
        assert not old_engine.running
        assert team_window.service.location.url is not None
        # The new window's engine delivers from the team database.
        qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=WAIT_MS)
        assert receiver.requests()[0].header("webhook-id")
        qtbot.waitUntil(lambda: team_window.hooks_model.row_of(hook.id) >= 0, timeout=WAIT_MS)
        # Remembered: the URL in the file without its password, which is in the keyring.
        text = choice_file().read_text(encoding="utf-8")
        assert json.loads(text) == {"database": bare}
        assert password
        assert password not in text
        assert (config_dir / "database.json").stat().st_mode & 0o077 == 0
        assert read_entry(PASSWORD_ENTRY.format(url=bare)) == password
        again = remembered_location(home)
        assert again is not None
        assert again.url is not None
        assert _password(again.url) == password
        # File → Use local database switches back, for this start and the next.
        assert team_window.database_actions.local_action.isEnabled()
        with qtbot.waitSignal(host.switched, timeout=WAIT_MS):
            team_window.database_actions.local_action.trigger()
        assert host.window is not None
        assert host.window.windowTitle().endswith("Local (SQLite)")
        assert json.loads(choice_file().read_text(encoding="utf-8")) == {"database": None}
        assert remembered_location(home) is None
    finally:
        host.close()


def test_without_the_team_key_hooks_list_but_cannot_be_revealed_pinged_or_signed(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str) -> None:
    team = StoreLocation(home, postgres_url)
    with HookService(team) as team_service:
        hook = team_service.create_hook(url="https://example.com/hook", events=("job",))
    _delete_entry(keyring_entry_name(team_id))  # this "machine" never had it
    window = MainWindow(HookService(team, origin="window"))
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.keyring_checked, timeout=WAIT_MS) as checked:
            window.show()
        assert checked.args == [False]
        assert "no team key for team database" in window.keyring.team_key_problem
        assert not window.banner_box.isVisible()  # said on the page, not as a fault
        assert "no team key" in window.engine_label.text()
        qtbot.waitUntil(lambda: window.hooks_model.row_of(hook.id) >= 0, timeout=WAIT_MS)
        window.select_hook(hook.id)
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page, timeout=WAIT_MS)
        page = window.page
        assert page.key_notice.isVisible()
        assert page.key_notice.text() == window.keyring.team_key_problem
        for button in (page.reveal_button, page.ping_button, page.reset_button):
            assert not button.isEnabled()
            assert "cannot reveal, ping or sign" in button.toolTip()
        assert page.edit_button.isEnabled()
    finally:
        window.close()
        window.service.close()


def test_without_the_key_the_dialog_says_so_and_connects_when_asked(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str) -> None:
    _delete_entry(keyring_entry_name(team_id))
    dialog = _dialog(qtbot, home)
    said = _connect(qtbot, dialog, postgres_url)
    assert said.startswith(f"This machine has no team key for team database {team_id}")
    assert dialog.connect_button.text() == CONNECT_ANYWAY
    assert dialog.isVisible()
    # The sentence shows whole: the dialog grows to the wrapped lines' height.
    message = dialog.message
    qtbot.waitUntil(lambda: message.height() >= message.heightForWidth(message.width()))
    assert dialog.rect().contains(message.geometry())
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert dialog.service is not None
    try:
        assert dialog.service.location.url == postgres_url
        assert json.loads(choice_file().read_text(encoding="utf-8")) == {
            "database": split_password(postgres_url)[0]}
    finally:
        dialog.service.close()


def test_return_in_the_fields_connects(qtbot: QtBot, home: Path, closed_port: int) -> None:
    dialog = _dialog(qtbot, home)
    dialog.url_edit.setText("mysql://admin@127.0.0.1/hooks")
    dialog.password_edit.setFocus()
    with qtbot.waitSignal(dialog.tested, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert "must start with postgresql://" in str(blocker.args[0])
    assert dialog.isVisible()
    # Again after a connection that failed on the dialog's thread: still Connect.
    dialog.url_edit.setText(f"postgresql://postgres@127.0.0.1:{closed_port}/hooks")
    for _ in range(2):
        with qtbot.waitSignal(dialog.tested, timeout=WAIT_MS) as blocker:
            qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
        assert "nothing accepts connections there" in str(blocker.args[0])
        assert dialog.isVisible()
        assert dialog.focusWidget() is dialog.password_edit
    dialog.reject()


def test_cancel_during_a_test_closes_at_once(qtbot: QtBot, home: Path,
                                             silent_server: SilentServer) -> None:
    """The connection test of a server that never answers is not waited for: the dialog
    closes while the server still holds the connection (a 10 s connect timeout)."""
    dialog = _dialog(qtbot, home)
    dialog.url_edit.setText(f"postgresql://postgres@127.0.0.1:{silent_server.port}/hooks")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(silent_server.accepted), timeout=WAIT_MS)
    started = time.monotonic()
    dialog.reject()
    assert time.monotonic() - started < 2.0
    assert not dialog.isVisible()
    assert silent_server.thread.is_alive()  # the server has not answered yet
    silent_server.close()


def test_a_team_windows_engine_process_gets_the_url_in_its_environment_only(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str,
        receiver: Receiver) -> None:
    team = StoreLocation(home, postgres_url)
    with HookService(team) as team_service:
        hook = team_service.create_hook(url=receiver.url, events=("job",), name="team")
        receiver.set_secrets({"team": team_service.reveal_secret(hook.id)})
        team_service.publish("job.failed", resource("job.failed"))
    engine = engine_for(team)
    window = MainWindow(HookService(team, origin="window"), engine)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: engine.process_id is not None, timeout=WAIT_MS)
        pid = engine.process_id
        # Signed with the secret sealed by the team key, which the child read from the
        # same keyring; the URL came in its environment, never in its arguments.
        qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=WAIT_MS)
        assert receiver.requests()[0].verified_by == ("team",)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        assert postgres_url not in cmdline
        assert _password(postgres_url) not in cmdline
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert f"{DATABASE_ENV}={postgres_url}".encode() in environ
    finally:
        window.close()
        window.service.close()
    assert not engine.running


def test_the_engine_process_of_a_local_window_ignores_a_team_url_in_the_environment(
        qtbot: QtBot, home: Path, team_id: str, postgres_url: str, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    local = StoreLocation(home)
    with HookService(local) as service:
        service.create_hook(url=receiver.url, events=("job",))
        service.publish("job.failed", resource("job.failed"))
    monkeypatch.setenv(DATABASE_ENV, postgres_url)  # e.g. left from a shell profile
    engine = engine_for(local)
    window = MainWindow(HookService(local, origin="window"), engine)
    qtbot.addWidget(window)
    window.show()
    try:
        # Only the SQLite database has this hook: its delivery arriving says the child
        # opened the window's database, not the one in the environment.
        qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=WAIT_MS)
        pid = engine.process_id
        assert pid is not None
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert not any(v.startswith(f"{DATABASE_ENV}=".encode()) for v in environ)
    finally:
        window.close()
        window.service.close()
