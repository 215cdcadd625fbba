"""Desktop notifications: the system tray where there is one, else the status bar."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon


class Notifier:
    """Shows short notifications for one window.

    Uses a :class:`QSystemTrayIcon` balloon when the desktop has a system tray,
    otherwise a status bar message; either way the notification is kept in
    :attr:`history` as ``(title, message)``.
    """

    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        self.history: list[tuple[str, str]] = []
        self._tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._tray = QSystemTrayIcon(window.windowIcon() or QIcon(), window)
            self._tray.setToolTip("hookadmin")
            self._tray.show()

    def notify(self, title: str, message: str) -> None:
        """Show one notification (title: one line; message: one or two sentences)."""
        self.history.append((title, message))
        if self._tray is not None and QSystemTrayIcon.supportsMessages():
            self._tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Warning, 10000)
        self._window.statusBar().showMessage(f"{title}: {message}", 15000)
