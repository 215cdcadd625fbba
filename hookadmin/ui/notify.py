"""Desktop notifications: the system tray where there is one, else the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon

from hookadmin.core.hooks import Hook
from hookadmin.ui.status_bar import StatusBar

if TYPE_CHECKING:
    from hookadmin.delivery.engine import AttemptOutcome

ReadHook = Callable[[int, Callable[[Hook | None], None]], None]
SHOWN_MS = 15000  # how long a notification stays in the status bar


class Notifier:
    """Shows short notifications for one window.

    Uses a :class:`QSystemTrayIcon` balloon when the desktop has a system tray, and
    says it in the status bar too (through :meth:`StatusBar.show_message`: elided to the
    room left of the permanent labels, the whole text in the tooltip); the notification
    is kept in :attr:`history` as ``(title, message)``.

    Args:
        window: the window whose icon the tray shows.
        status: the window's status bar controller.
    """

    def __init__(self, window: QMainWindow, status: StatusBar) -> None:
        self._status = status
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
        self._status.show_message(f"{title}: {message}", SHOWN_MS)


class FailureNotices:
    """Tells the administrator, once per change, when a hook starts failing or was
    deactivated by the engine.

    Args:
        notifier: where notices go.
        read_hook: ``read_hook(hook_id, then)`` reads a hook off the GUI thread and
            calls ``then(hook)`` (``None`` when it is gone) in the GUI thread.
    """

    def __init__(self, notifier: Notifier, read_hook: ReadHook) -> None:
        self._notifier = notifier
        self._read_hook = read_hook
        self._last: dict[int, str] = {}

    def attempt_recorded(self, outcome: AttemptOutcome) -> None:
        """Look at one attempt's outcome (in the GUI thread). A secret the keyring could
        not give is no hook failing: the status bar says delivery waits for the keyring."""
        if outcome.error_kind == "secret_unavailable":
            return
        failed = outcome.error_kind is not None or outcome.status == "failed"
        before = self._last.get(outcome.hook_id)
        self._last[outcome.hook_id] = "failed" if failed else "ok"
        if failed:
            self._read_hook(outcome.hook_id,
                            lambda hook: self._failed(outcome, before, hook))

    def _failed(self, outcome: AttemptOutcome, before: str | None, hook: Hook | None) -> None:
        if hook is None:
            return
        if not hook.active and hook.deactivated_reason:
            if before != "deactivated" and self._last.get(hook.id) != "deactivated":
                self._last[hook.id] = "deactivated"
                self._notifier.notify(f"Hook {hook.display_name} was deactivated",
                                      hook.deactivated_reason)
        elif before != "failed":
            result = (f"HTTP {outcome.status_code}" if outcome.status_code is not None
                      else outcome.error_kind)
            self._notifier.notify(f"Hook {hook.display_name} is failing",
                                  f"A {outcome.event_type} delivery failed ({result}); "
                                  "hookadmin will retry it.")
