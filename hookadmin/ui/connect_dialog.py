"""File → Connect to team database…: a URL and an optional password, a connection
test off the GUI thread, one sentence for what is wrong.

The dialog checks the URL, then on its own thread connects (the server, the password,
that it is a hookadmin database of a schema this program knows) and looks for this
machine's team key; then it opens the service the window switches to and remembers
the choice (:mod:`hookadmin.core.team.database_choice`: the URL in the config folder,
a password in the OS keyring). A machine without the team key is told in one sentence
what it cannot do and may connect anyway."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.errors import HookadminError
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation
from hookadmin.core.team.database_choice import (
    TeamCheck,
    check_team_database,
    parse_team_url,
    remember_choice,
    split_password,
)
from hookadmin.ui.background import Lane

CONNECT = "&Connect"
CONNECT_ANYWAY = "&Connect without the key"


@dataclass(frozen=True)
class _Opened:
    """A team database checked and opened on the dialog's thread."""

    check: TeamCheck
    service: HookService


def _open(location: StoreLocation, cancelled: threading.Event) -> _Opened | None:
    """Check the database of ``location`` and open a window's service on it (on the
    dialog's thread). None when the dialog was closed meanwhile (the service opened is
    closed again, so no connection is left behind).

    Raises:
        StoreUnavailable, StoreError: see :func:`check_team_database`.
    """
    check = check_team_database(location)
    service = HookService(location, origin="window")
    if cancelled.is_set():
        service.close()
        return None
    return _Opened(check, service)


class ConnectDialog(QDialog):
    """Asks for a team database, tests the connection off the GUI thread, and on
    success holds the opened service in :attr:`service` and accepts.

    Args:
        home: this machine's data directory (team mode keeps local files there).
        current_url: the URL the window is on now (shown without its password), or
            None.
        parent: the window.

    Signals:
        tested(str): a connection test ended: "" when the database opened with the team
            key, else the sentence shown (an error, or what a machine without the key
            cannot do).
    """

    tested = Signal(str)

    def __init__(self, home: Path, current_url: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle("Connect to team database")
        self.setMinimumWidth(560)
        self._home = home
        self.service: HookService | None = None
        self._opened: _Opened | None = None
        self._location: StoreLocation | None = None
        self._lane: Lane[object] = Lane("hookadmin-connect", object, parent=self)
        self._cancelled = threading.Event()

        intro = QLabel("Every window and worker of a team shares one PostgreSQL database. "
                       "Its administrator gives you its URL; a password you enter here is "
                       "kept in this machine's keyring.")
        intro.setWordWrap(True)
        self.url_edit = QLineEdit(split_password(current_url)[0] if current_url else "")
        self.url_edit.setObjectName("databaseUrl")
        self.url_edit.setPlaceholderText("postgresql://USER@HOST:5432/DBNAME")
        self.url_edit.setAccessibleName("Database URL")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("databasePassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("optional: from ~/.pgpass or PGPASSWORD if empty")
        self.password_edit.setAccessibleName("Password")
        form = QFormLayout()
        form.addRow("&URL", self.url_edit)
        form.addRow("&Password", self.password_edit)
        self.message = QLabel()
        self.message.setObjectName("connectMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        # Ok renamed, so Return presses it (the default button) and it looks like the
        # platform's confirm button; its click tests the connection, accepting later.
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText(CONNECT)
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)  # Return never cancels, whatever has the focus
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.connect_button.clicked.connect(self._on_connect)
        self.buttons.rejected.connect(self.reject)
        self.url_edit.textEdited.connect(self._on_edited)
        self.password_edit.textEdited.connect(self._on_edited)

    @property
    def busy(self) -> bool:
        """True while a connection test or the saving of the choice runs."""
        return self._lane.pending > 0

    # -- the test -----------------------------------------------------------------------

    @Slot()
    def _on_connect(self) -> None:
        if self.busy:
            return
        if self._opened is not None:  # connect without the key, confirmed
            self._remember(self._opened)
            return
        try:
            url = parse_team_url(self.url_edit.text(), self.password_edit.text() or None)
        except HookadminError as err:
            self._show(str(err), error=True)
            self.tested.emit(str(err))
            return
        location = self._location = StoreLocation(self._home, url)
        self._set_busy(True, f"Connecting to {location.describe()}…")
        cancelled = self._cancelled
        self._lane.submit(lambda _: _open(location, cancelled), self._on_opened,
                          self._on_failed)

    def _on_opened(self, opened: _Opened | None) -> None:
        self._set_busy(False)
        if opened is None:
            return
        if not opened.check.key_problem:
            self._remember(opened)
            return
        self._opened = opened
        self.connect_button.setText(CONNECT_ANYWAY)
        self._show(opened.check.key_problem, error=False)
        self.tested.emit(opened.check.key_problem)

    def _on_failed(self, err: HookadminError) -> None:
        self._set_busy(False)
        self._show(str(err), error=True)
        self.tested.emit(str(err))

    def _remember(self, opened: _Opened) -> None:
        location = self._location
        assert location is not None
        assert location.url is not None
        url = location.url
        self._opened = opened  # kept (and closed on Cancel) if saving fails: Connect retries
        self._set_busy(True, "Saving the choice…")

        def done(_: None) -> None:
            self._set_busy(False)
            self.service, self._opened = opened.service, None
            if not opened.check.key_problem:
                self.tested.emit("")
            self.accept()

        self._lane.submit(lambda _: remember_choice(url), done, self._on_failed)

    # -- state --------------------------------------------------------------------------

    def _set_busy(self, busy: bool, text: str = "") -> None:
        # Read-only, not disabled: a disabled field would hand the focus to Cancel,
        # and Return would then cancel instead of trying again.
        for edit in (self.url_edit, self.password_edit):
            edit.setReadOnly(busy)
        self.connect_button.setEnabled(not busy)
        self.connect_button.setDefault(True)
        if busy:
            self._show(text, error=False)

    def _show(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c62828;" if error else "")
        self.message.setVisible(bool(text))
        # A wrapped sentence needs more height than the dialog had: grow to show it whole.
        layout = self.layout()
        needed = layout.totalHeightForWidth(self.width()) if layout is not None else -1
        if needed > self.height():
            self.resize(self.width(), needed)

    @Slot()
    def _on_edited(self) -> None:
        self._drop_opened()
        self.connect_button.setText(CONNECT)
        self.message.hide()

    def _drop_opened(self) -> None:
        if self._opened is not None:
            self._opened.service.close()
            self._opened = None

    def done(self, result: int) -> None:
        """Close the dialog at once; a service opened but not taken is closed, and so
        is the one a connection test still under way opens (its thread ends then)."""
        if result != QDialog.DialogCode.Accepted:
            self._drop_opened()
        self._cancelled.set()
        self._lane.close()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._drop_opened()
        super().closeEvent(event)
