"""Opening the remembered team database after the window's first paint, when its
password has to come from the OS keyring.

The password is read on a thread of its own: a locked keyring makes the Secret Service
show its own unlock prompt, and the window keeps painting meanwhile. When the keyring
stays locked (the prompt was refused or could not be shown) or cannot be used, the
window stays open on its frame with :class:`KeyringBanner`: what is wrong, *Try again*
(after unlocking) and *Use this computer's database* (the local SQLite one, for this
run: the team database stays remembered)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.store import StoreLocation
from hookadmin.core.team.database_choice import PASSWORD_ENTRY, with_password
from hookadmin.ui.banners import BANNER_MARGINS

if TYPE_CHECKING:
    from hookadmin.core.service import HookService
    from hookadmin.ui.main_window import MainWindow

# Opens a location: the service, or None when it could not be opened (said already).
Opener = Callable[[StoreLocation, bool], "HookService | None"]

WAITING = "Waiting for the OS keyring…"
NOT_OPEN = "No database is open yet."


def locked_sentence(location: StoreLocation, err: SecretStoreError) -> str:
    """The banner's sentence: the team database ``location`` (its URL without a
    password) cannot be opened because its password cannot be read (``err``), and
    what to do."""
    where = location.describe()
    if err.cause == "locked":
        return (f"The OS keyring is locked, so the team's {where} cannot be opened "
                "(its password is kept there); unlock the keyring and click Try again, "
                "or use this computer's database for now.")
    return (f"The password of the team's {where} cannot be read from the OS keyring, "
            f"so it cannot be opened: {err} Then click Try again, or use this computer's "
            "database for now.")


class KeyringBanner(QFrame):
    """The remembered team database waits for the keyring: a sentence with *Try
    again* and *Use this computer's database*. Hidden until :meth:`show_message`."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("keyringLockedBanner")
        self.setStyleSheet("#keyringLockedBanner { background: #fdecea; border: 1px solid "
                           "#f5c2c0; border-radius: 4px; }")
        self.label = QLabel()
        self.label.setObjectName("keyringLockedText")
        self.label.setWordWrap(True)
        self.label.setStyleSheet("color: #8a1c1c; padding: 4px;")
        self.try_again = QPushButton("&Try again")
        self.try_again.setObjectName("tryKeyringAgain")
        self.try_again.setToolTip("Read the team database's password from the keyring "
                                  "again (the keyring may ask to be unlocked)")
        self.use_local = QPushButton("Use this computer's &database")
        self.use_local.setObjectName("useLocalDatabaseNow")
        self.use_local.setToolTip("Open the local database for now; the team database "
                                  "stays the one opened at the next start")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(*BANNER_MARGINS)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.try_again)
        layout.addWidget(self.use_local)
        self.hide()

    def show_message(self, message: str) -> None:
        """Show ``message`` with both buttons enabled."""
        self.label.setText(message)
        self.set_waiting(False)
        self.show()

    def set_waiting(self, waiting: bool) -> None:
        """Disable both buttons while the keyring is being asked."""
        self.try_again.setEnabled(not waiting)
        self.use_local.setEnabled(not waiting)


@dataclass(frozen=True)
class _Answer:
    """What the keyring gave for the password: it (None: no password kept), or why
    it could not be read."""

    password: str | None = None
    error: SecretStoreError | None = None


class RememberedStart(QObject):
    """Opens the remembered team database on ``window`` (a frame not yet complete),
    its password read off the GUI thread, or the local database when asked to.

    Args:
        window: the window's frame; the banner goes above its tabs.
        location: the remembered team database, its URL without a password.
        open_location: opens a location (``remembered`` True for the team one: a
            server that cannot be reached falls back to the local database there).

    Signals:
        opened(object): the :class:`HookService` the window completes on, or None when
            nothing could be opened (said already): emitted once.
        asked(): the keyring was asked for the password (once per attempt).
    """

    opened = Signal(object)
    asked = Signal()
    _answered = Signal(object)  # an _Answer, emitted in the reading thread

    def __init__(self, window: MainWindow, location: StoreLocation,
                 open_location: Opener) -> None:
        super().__init__(window)
        self.window = window
        self.location = location
        self._open = open_location
        self._done = False
        self.banner = KeyringBanner()
        self.banner.try_again.clicked.connect(self.start)
        self.banner.use_local.clicked.connect(self.use_local)
        self._answered.connect(self._on_answer)
        # What the empty central area says until the database opens.
        self.note = QLabel(WAITING)
        self.note.setObjectName("startNote")
        self.note.setEnabled(False)
        box = window.central_box()
        box.insertWidget(0, self.banner)
        box.addWidget(self.note, 1, Qt.AlignmentFlag.AlignCenter)

    @Slot()
    def start(self) -> None:
        """Ask the keyring for the password on a thread of its own (the Secret Service
        may show its unlock prompt); the answer comes back on the GUI thread."""
        self.banner.set_waiting(True)
        self.note.setText(WAITING)
        self.window.status.show_database(WAITING, self.location.describe())
        entry = PASSWORD_ENTRY.format(url=self.location.url)
        threading.Thread(target=self._read, args=(entry,), daemon=True,
                         name="hookadmin-start-keyring").start()
        self.asked.emit()

    def _read(self, entry: str) -> None:
        from hookadmin.core.keyring_access import read_entry

        try:
            answer = _Answer(password=read_entry(entry))
        except SecretStoreError as err:
            answer = _Answer(error=err)
        with contextlib.suppress(RuntimeError):  # the window was closed and deleted
            self._answered.emit(answer)

    @Slot(object)
    def _on_answer(self, answer: _Answer) -> None:
        if self._done:
            return
        if answer.error is not None:
            self.note.setText(NOT_OPEN)
            self.window.status.show_database("Opening…")
            self.banner.show_message(locked_sentence(self.location, answer.error))
            return
        url = with_password(str(self.location.url), answer.password)
        self._finish(self._open(StoreLocation(self.location.home, url), True))

    @Slot()
    def use_local(self) -> None:
        """Open this computer's database (the remembered choice is kept)."""
        if not self._done:
            self._finish(self._open(StoreLocation(self.location.home), False))

    def _finish(self, service: HookService | None) -> None:
        self._done = True
        self.banner.hide()
        self.banner.deleteLater()
        self.note.hide()
        self.note.deleteLater()
        self.opened.emit(service)
