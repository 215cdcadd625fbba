"""The window's refresh: every 2 s, and 1 s after the engine records an attempt, the
hooks, the shown hook's page and the status bar's figures are read on the reads lane
and applied in the GUI thread; the Deliveries and Activity tabs follow while shown."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

from hookadmin.core.errors import HookadminError, NotFoundError
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Repository
from hookadmin.ui.queries import WindowQuery, WindowRows

if TYPE_CHECKING:
    from hookadmin.ui.main_window import MainWindow

DELIVERIES_SHOWN = 200
POLL_INTERVAL_MS = 2000
AFTER_ATTEMPT_MS = 1000
ACTIVITY_REDRAW_S = 10.0  # the Activity tab's charts are redrawn at most this often


class WindowRefresh(QObject):
    """Keeps one window's views in step with the database.

    Args:
        window: the main window (its reads lane, hooks table, page, tabs and status bar).

    Attributes:
        poll_timer: the 2 s poll (stopped while a benchmark times its own refreshes).
        activity_drawn: ``time.monotonic()`` of the Activity tab's last redraw.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._in_flight = self._wanted = False
        self._after_next: list[Callable[[], None]] = []
        self.activity_drawn = 0.0
        self.last_rows: WindowRows | None = None  # for the tabs built after a refresh
        # An attempt refreshes the window 1 s later, so while the engine delivers at
        # full speed the tables are reloaded and repainted once a second (a full repaint
        # of the deliveries table costs ~25 ms), not on every batch of attempts.
        self.after_attempt = QTimer(self)
        self.after_attempt.setSingleShot(True)
        self.after_attempt.setInterval(AFTER_ATTEMPT_MS)
        self.after_attempt.timeout.connect(self.refresh)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_INTERVAL_MS)
        self.poll_timer.timeout.connect(self.refresh)
        self.poll_timer.start()

    def stop(self) -> None:
        """Stop both timers (the window is closing)."""
        self.poll_timer.stop()
        self.after_attempt.stop()

    def attempt_recorded(self) -> None:
        """The engine recorded an attempt: refresh within a second."""
        if not self.after_attempt.isActive():
            self.after_attempt.start()

    @Slot()
    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Reload hooks, the shown hook's deliveries and the status bar: the reads run
        on the reads lane and their rows are applied when they come back (``then``
        is called after that). A refresh asked for while one is under way runs once
        that one is back."""
        if then is not None:
            self._after_next.append(then)
        if self._in_flight:
            self._wanted = True
            return
        self._in_flight, self._wanted = True, False
        callbacks, self._after_next = self._after_next, []
        w = self.window
        shown = (w.page.hook.id if w.stack.currentWidget() is w.page
                 and w.page.hook is not None else None)
        query = WindowQuery(shown_hook_id=shown, limit=DELIVERIES_SHOWN,
                            health=w.hooks_model.health_due())
        w.reads.submit(query.run, lambda rows: self._apply(rows, callbacks),
                       lambda err: self._failed(err, callbacks))

    def is_idle(self) -> bool:
        """True when no read or keyring call the window started is still under way
        (what it shows is what it last read)."""
        w = self.window
        return (not self._in_flight and not self._wanted
                and w.reads.pending == 0 and w.keyring_lane.pending == 0)

    def _apply(self, rows: WindowRows, callbacks: list[Callable[[], None]]) -> None:
        self._in_flight = False
        w = self.window
        selected = w.selection.selected_hook_id()
        w.hooks_model.set_data(rows.hooks, rows.last, rows.health)
        w.empty_hint.setVisible(not rows.hooks)
        if selected is not None:
            row = w.selection.view_row(selected)
            if row >= 0:
                w.hooks_view.selectionModel().blockSignals(True)
                w.hooks_view.selectRow(row)
                w.hooks_view.selectionModel().blockSignals(False)
        if rows.page is not None:
            w.selection.apply_page(rows.page)
        self.last_rows = rows
        if w.pages_built:  # else they are built later (MainWindow.build_pages)
            self._apply_to_pages(rows)
            if w.tabs.currentWidget() is w.deliveries_page:
                w.deliveries_page.refresh()
            elif w.tabs.currentWidget() is w.activity_page \
                    and time.monotonic() - self.activity_drawn > ACTIVITY_REDRAW_S:
                self.activity_drawn = time.monotonic()
                w.activity_page.refresh()
        w.engine_control.show_state()
        w.status.show_counts(rows.counts)
        self._done(callbacks)

    def apply_to_new_pages(self) -> None:
        """The Deliveries and Activity tabs were just built: give them the hooks (and
        the heads of ordered hooks) of the last refresh, if one is back."""
        rows = self.last_rows
        if rows is not None:
            self._apply_to_pages(rows)

    def _apply_to_pages(self, rows: WindowRows) -> None:
        w = self.window
        w.deliveries_page.set_hooks(rows.hooks)
        w.deliveries_page.model.set_order_heads(rows.order_heads)
        w.activity_page.set_hooks(rows.hooks)

    def _failed(self, err: HookadminError, callbacks: list[Callable[[], None]]) -> None:
        self._in_flight = False
        self.window.show_banner(str(err))
        self._done(callbacks)

    def _done(self, callbacks: list[Callable[[], None]]) -> None:
        for callback in callbacks:
            callback()
        self.window.refreshed.emit()
        if self._wanted:
            self.refresh()

    @Slot(int)
    def tab_changed(self, _index: int) -> None:
        """Draw the tab just selected."""
        w = self.window
        if not w.pages_built:
            return
        if w.tabs.currentWidget() is w.deliveries_page:
            w.deliveries_page.refresh()
        elif w.tabs.currentWidget() is w.activity_page:
            self.activity_drawn = time.monotonic()  # else the next 2 s refresh redraws it
            w.activity_page.refresh()

    def read_hook(self, hook_id: int, then: Callable[[Hook | None], None]) -> None:
        """Read one hook on the reads lane; ``then(hook)`` (None: gone) in the GUI thread."""

        def read(store: Repository) -> Hook | None:
            try:
                return store.get_hook(hook_id)
            except NotFoundError:
                return None

        self.window.reads.submit(read, then, lambda err: self.window.show_banner(str(err)))
