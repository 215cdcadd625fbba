"""The window of the application, kept across database switches: *File → Connect to
team database…* and *Use local database* hand over the service of another database,
and the host swaps the window for one on it, stopping the old window's engine before
the new one starts (two engines of one window never run side by side)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from PySide6.QtCore import QObject, Signal, Slot

from hookadmin.ui.main_window import MainWindow

if TYPE_CHECKING:  # imported after the window's first paint
    from hookadmin.core.service import HookService
    from hookadmin.core.store import StoreLocation
    from hookadmin.delivery.policy import DeliverySettings
    from hookadmin.ui.engine_host import EngineHost
    from hookadmin.ui.engine_thread import ThreadEngineHost

EngineFactory: TypeAlias = "Callable[[StoreLocation], EngineHost | ThreadEngineHost | None]"


class WindowHost(QObject):
    """Owns the main window and its service, and switches both to another database.

    Args:
        make_engine: the delivery engine for a location (None: a window without one).
        ping_settings: timeouts for the window's pings.

    Signals:
        switched(MainWindow): a window on another database is shown (the old one is
            closed, its engine stopped and its service closed).
    """

    switched = Signal(object)

    def __init__(self, make_engine: EngineFactory,
                 ping_settings: DeliverySettings | None = None) -> None:
        super().__init__()
        self._make_engine = make_engine
        self._ping_settings = ping_settings
        self.window: MainWindow | None = None

    def open_frame(self) -> MainWindow:
        """Show the window's frame (see :class:`MainWindow`) at once; :meth:`complete`
        finishes it on the service opened after its first paint."""
        window = MainWindow(ping_settings=self._ping_settings)
        window.switch_requested.connect(self.switch)
        self.window = window
        window.show()
        return window

    def complete(self, service: HookService) -> MainWindow:
        """Finish the frame shown by :meth:`open_frame` on ``service`` (which the host
        closes with the window) and start its engine.

        Raises:
            RuntimeError: no frame is waiting to be completed.
        """
        window = self.window
        if window is None or window.completed:
            raise RuntimeError("no window frame is waiting to be completed")
        window.complete(service, self._make_engine(service.location), self._ping_settings)
        return window

    def open(self, service: HookService, like: MainWindow | None = None) -> MainWindow:
        """Show the window on ``service`` (which the host closes with the window),
        where ``like`` is and in its state, paused if it is (default: where it was last
        closed)."""
        window = MainWindow(service, self._make_engine(service.location),
                            ping_settings=self._ping_settings)
        if like is not None:
            window.setGeometry(like.geometry())
            window.setWindowState(like.windowState())
            window.splitter.setSizes(like.splitter.sizes())
            window.tabs.setCurrentIndex(like.tabs.currentIndex())
            if like.pause_action.isChecked():
                window.set_paused(True)  # paused stays paused on the other database
        window.switch_requested.connect(self.switch)
        self.window = window
        window.show()
        return window

    @Slot(object)
    def switch(self, service: HookService) -> None:
        """Replace the window with one on ``service``: the old window's engine stops
        (in-flight deliveries stay pending, as at any stop), then the new window opens
        and starts its engine (a paused window's stays paused), then the old window
        closes with its service."""
        old = self.window
        if old is not None and old.engine is not None:
            old.engine.stop()
        self.open(service, old)
        if old is not None:
            old.close()
            old.service.close()
            old.deleteLater()
        self.switched.emit(self.window)

    def close(self) -> None:
        """Close the window and its service; the window is deleted (``deleteLater``)
        when the event loop next runs, not whenever a garbage collection finds it."""
        if self.window is not None:
            if self.window.isVisible():
                self.window.close()
            if self.window.completed:
                self.window.service.close()
            self.window.deleteLater()
            self.window = None
