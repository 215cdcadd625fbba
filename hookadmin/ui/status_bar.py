"""The window's status bar: the delivery engine's state, deliveries per second and
how much is waiting, all read from the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore  # QtCore.Qt where used: see hookadmin.ui.main_window
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QStatusBar

if TYPE_CHECKING:  # the window's reads are imported after its first paint
    from hookadmin.ui.queries import StatusCounts

class StatusBar(QObject):
    """The three labels of the status bar and what they say.

    Args:
        bar: the window's status bar; the labels are added to it.
    """

    def __init__(self, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.bar = bar
        self.engine_label = QLabel()
        self.engine_label.setObjectName("engineState")
        self.database_label = QLabel()
        self.database_label.setObjectName("databaseName")
        self.rate_label = QLabel()
        self.rate_label.setObjectName("deliveryRate")
        self.queue_label = QLabel()
        self.queue_label.setObjectName("queueDepth")
        for label in (self.database_label, self.rate_label):
            label.setContentsMargins(0, 0, 12, 0)  # room between the permanent figures
        bar.addWidget(self.engine_label)
        bar.addPermanentWidget(self.database_label)
        bar.addPermanentWidget(self.rate_label)
        bar.addPermanentWidget(self.queue_label)
        bar.messageChanged.connect(lambda text: None if text else bar.setToolTip(""))

    def _fit(self) -> None:
        """Keep the window at least as wide as the labels' texts, so none is cut off
        at the window's minimum size."""
        labels = (self.engine_label, self.database_label, self.rate_label, self.queue_label)
        spacing = 3 * self.bar.fontMetrics().averageCharWidth()
        self.bar.setMinimumWidth(sum(label.sizeHint().width() + spacing for label in labels))

    def show_engine_state(self, state: str) -> None:
        """Say what the engine does: ``running``, ``paused``, ``off``, ``stopped``,
        ``waiting for the keyring`` or ``not sending: no team key on this machine``."""
        self.engine_label.setText(f"Delivery: {state}")
        self._fit()

    def show_database(self, name: str, where: str = "") -> None:
        """Say which database the window is on: ``name`` (``Local (SQLite)`` or
        ``Team: HOST/DBNAME``), with ``where`` (its full description, never a password)
        as the tooltip."""
        self.database_label.setText(name)
        self.database_label.setToolTip(where)
        self._fit()

    def show_counts(self, counts: StatusCounts) -> None:
        """Show figures read by :func:`~hookadmin.ui.queries.read_status_counts`."""
        self.rate_label.setText(f"{counts.rate:.1f} deliveries/s")
        shown = f"{counts.pending:,}+" if counts.capped else f"{counts.pending:,}"
        events = "event" if counts.waiting == 1 else "events"
        deliveries = "delivery" if shown == "1" else "deliveries"
        self.queue_label.setText(f"{counts.waiting:,} {events} waiting · "
                                 f"{shown} {deliveries} pending")
        self._fit()

    def show_message(self, text: str, timeout_ms: int = 5000) -> None:
        """A passing message on the left of the bar for ``timeout_ms`` milliseconds,
        elided at its end where it would run under the permanent labels; the whole text
        is then the bar's tooltip until the message goes."""
        room = self._message_room()
        shown = self.bar.fontMetrics().elidedText(text, QtCore.Qt.TextElideMode.ElideRight, room)
        self.bar.setToolTip(text if shown != text else "")
        self.bar.showMessage(shown, timeout_ms)

    def _message_room(self) -> int:
        """The width in pixels a message has: up to the leftmost permanent label."""
        lefts = [label.x() for label in (self.database_label, self.rate_label,
                                         self.queue_label) if label.isVisible()]
        right = min(lefts) if lefts else self.bar.width()
        return max(0, right - 4 * self.bar.fontMetrics().averageCharWidth())
