"""File → Connect to team database… and File → Use local database: open the service of
the database chosen and hand it to the window's host, which switches the window to it
(:class:`~hookadmin.ui.window_host.WindowHost`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from hookadmin.core.errors import HookadminError
from hookadmin.core.paths import window_sentence
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation
from hookadmin.core.team.database_choice import forget_choice
from hookadmin.ui.connect_dialog import ConnectDialog

if TYPE_CHECKING:
    from hookadmin.ui.main_window import MainWindow


class DatabaseActions(QObject):
    """The window's database menu items.

    Args:
        window: the main window; the service of the database chosen goes out through
            its ``switch_requested`` signal.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: ConnectDialog | None = None
        self.connect_action = QAction("Connect to &team database…", window)
        self.connect_action.setObjectName("connectTeamDatabase")
        self.connect_action.triggered.connect(self.connect_asked)
        self.local_action = QAction("Use &local database", window)
        self.local_action.setObjectName("useLocalDatabase")
        self.local_action.setEnabled(window.service.location.team)
        self.local_action.triggered.connect(self.use_local)

    def add_to(self, menu: QMenu) -> None:
        """Put both items in ``menu`` (File)."""
        menu.addAction(self.connect_action)
        menu.addAction(self.local_action)

    @Slot()
    def connect_asked(self) -> None:
        """*Connect to team database…*: the form with unsaved edits asks first (Save /
        Discard / Cancel; connecting replaces the window, and the form with it). Save
        or Discard leave the form, then the connect dialog opens; Cancel keeps the
        edits."""
        w = self.window
        if w.stack.currentWidget() is w.form_scroll and not w.form.confirm_leave(
                self._leave_form_and_connect, lambda: None):
            return
        self.ask_connect()

    def _leave_form_and_connect(self) -> None:
        self.window.hook_actions.cancel_form()
        self.ask_connect()

    @Slot()
    def ask_connect(self) -> ConnectDialog:
        """Open the connect dialog (window-modal) and return it; once it has connected,
        the window is switched to that database."""
        location = self.window.service.location
        dialog = ConnectDialog(location.home, location.url, self.window)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._connected(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _connected(self, dialog: ConnectDialog) -> None:
        self.dialog = None
        if dialog.service is not None:
            self.window.switch_requested.emit(dialog.service)

    @Slot()
    def use_local(self) -> None:
        """Switch to the SQLite database in this machine's data directory and use it at
        the next start too."""
        try:
            forget_choice()
            service = HookService(StoreLocation(self.window.service.home), origin="window")
        except HookadminError as err:
            self.window.show_banner(window_sentence(err))
            return
        self.window.switch_requested.emit(service)
