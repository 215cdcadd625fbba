"""The Deliveries view: every hook's deliveries, newest first, filtered by status,
event type, hook and time, fetched page by page as the user scrolls (so it stays
quick with millions of deliveries), with the attempts of the selected one."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QItemSelection,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Attempt, Delivery, Repository
from hookadmin.core.store.ports import SEARCH_SCAN
from hookadmin.ui.attempt_view import AttemptView
from hookadmin.ui.background import Lane
from hookadmin.ui.delivery_pages import (
    DeliveryFilter,
    DeliveryPagesModel,
)
from hookadmin.ui.delivery_panel import delivery_panel, update_delivery_buttons
from hookadmin.ui.display import local_time
from hookadmin.ui.redeliver_since import RedeliverSinceDialog

SINCE_CHOICES = (("Any time", None), ("Last hour", 3600.0), ("Last 24 hours", 86400.0),
                 ("Last 7 days", 7 * 86400.0))


class DeliveriesPage(QWidget):
    """All deliveries with filters and details. Signals ask the window to act:
    ``delivery_selected(str)``, ``redeliver_requested(str)``,
    ``redeliver_many_requested(list)`` (delivery ids, several selected),
    ``copy_curl_requested(str)``, ``redeliver_failed_requested(object, float)`` (hook id
    or None for every hook, since in Unix seconds); ``read_failed(str)`` says a read of
    the list failed (one sentence).

    Args:
        reads: the window's reads lane: the list's pages and refreshes, and the count
            the "Redeliver all failed since…" dialog shows, are read there.
        parent: the Qt parent.
    """

    read_failed = Signal(str)
    delivery_selected = Signal(str)
    redeliver_requested = Signal(str)
    redeliver_many_requested = Signal(list)
    copy_curl_requested = Signal(str)
    redeliver_failed_requested = Signal(object, float)

    def __init__(self, reads: Lane[Repository], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reads = reads
        self._finding: tuple[str, Callable[[bool], None] | None] | None = None
        self.model = DeliveryPagesModel(reads, self)
        self.model.read_failed.connect(self.read_failed)
        self.model.loaded.connect(self._on_loaded)
        self.model.refreshed.connect(self._on_refreshed)
        self.status_box = QComboBox()
        self.status_box.setObjectName("statusFilter")
        self.status_box.setAccessibleName("Status")
        for label, value in (("All statuses", None), ("Pending", "pending"),
                             ("Succeeded", "succeeded"), ("Failed", "failed")):
            self.status_box.addItem(label, value)
        self.event_box = QComboBox()
        self.event_box.setObjectName("eventFilter")
        self.event_box.setAccessibleName("Event type")
        self.event_box.addItem("All event types", None)
        for e in catalog.EVENT_TYPES:
            self.event_box.addItem(e.id, e.id)
        self.event_box.addItem(catalog.PING, catalog.PING)
        self.hook_box = QComboBox()
        self._hook_choices: list[tuple[int, str]] | None = None
        self.hook_box.setObjectName("hookFilter")
        # Sized for about 18 characters, not for the longest hook name: a long name
        # must not widen the window past the screen.
        self.hook_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.hook_box.setMinimumContentsLength(18)
        self.hook_box.setAccessibleName("Hook")
        self.hook_box.addItem("All hooks", None)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("deliverySearch")
        self.search_edit.setAccessibleName("Search deliveries")
        self.search_edit.setPlaceholderText(
            "Delivery id, event id, event type, hook name or body text")
        self.search_edit.setToolTip("A delivery or event id finds it in the whole history; "
                                    "other text is looked for in the bodies (case-sensitive), "
                                    "event types and hook names (any case) of the newest "
                                    f"{SEARCH_SCAN:,} deliveries.")
        self.search_edit.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)  # search once typing pauses, not per keystroke
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(300)
        self.class_box = QComboBox()
        self.class_box.setObjectName("statusClassFilter")
        self.class_box.setAccessibleName("HTTP status")
        for label, value in (("Any HTTP status", None), ("2xx", "2xx"), ("3xx", "3xx"),
                             ("4xx", "4xx"), ("5xx", "5xx"), ("No response", "none")):
            self.class_box.addItem(label, value)
        self.since_box = QComboBox()
        self.since_box.setObjectName("sinceFilter")
        self.since_box.setAccessibleName("Time")
        for label, seconds in SINCE_CHOICES:
            self.since_box.addItem(label, seconds)

        self.view = QTableView()
        self.view.setObjectName("allDeliveries")
        self.view.setAccessibleName("Deliveries")
        self.view.setMinimumHeight(100)  # a few rows even in a small window
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSortIndicator(self.model.COLUMNS.index("Created"),
                                                      Qt.SortOrder.DescendingOrder)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setToolTip("Click a column to sort the loaded "
                                                "deliveries by it")
        self.empty_label = QLabel()
        self.empty_label.setObjectName("deliveriesEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)
        self.empty_label.hide()
        # Rows scrolled into view get their pending statuses refreshed (a refresh reads
        # only the rows on screen).
        self._scrolled = QTimer(self)
        self._scrolled.setSingleShot(True)
        self._scrolled.setInterval(150)
        self._scrolled.timeout.connect(self._update_visible)
        self.view.verticalScrollBar().valueChanged.connect(lambda _: self._scrolled.start())
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        hh = self.view.horizontalHeader()
        # "Next attempt" fits a date and time ("2026-12-05 08:45:12").
        next_width = self.view.fontMetrics().horizontalAdvance(local_time(time.time())) + 16
        for col, width in enumerate((28, 150, 160, 120, 70, 80, next_width, 90)):
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        self.details = AttemptView()
        self.details.setObjectName("deliveryDetails")
        self.details.setAccessibleName("Delivery attempts")

        self.redeliver_button = QPushButton("Redeliver")
        self.redeliver_button.setObjectName("redeliverSelected")
        self.curl_button = QPushButton("Copy as curl")
        self.curl_button.setObjectName("copyCurlSelected")
        self.redeliver_failed_button = QPushButton("Redeliver all failed since…")
        self.redeliver_failed_button.setObjectName("redeliverFailedSince")
        for button in (self.redeliver_button, self.curl_button):
            button.setEnabled(False)

        find = QHBoxLayout()  # two rows, so the window stays usable when narrow
        find.addWidget(self.search_edit, 1)
        find.addWidget(self.since_box)
        find.addWidget(self.redeliver_failed_button)
        filters = QHBoxLayout()
        for widget in (self.status_box, self.class_box, self.event_box, self.hook_box):
            filters.addWidget(widget)
        filters.addStretch(1)
        table = QWidget()
        table_layout = QVBoxLayout(table)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.empty_label)
        table_layout.addWidget(self.view, 1)
        split = delivery_panel(table, (self.redeliver_button, self.curl_button),
                               self.details, (330, 400), scroll_details=True)
        layout = QVBoxLayout(self)
        layout.addLayout(find)
        layout.addLayout(filters)
        layout.addWidget(split, 1)

        for box in (self.status_box, self.class_box, self.event_box, self.hook_box,
                    self.since_box):
            box.currentIndexChanged.connect(self._on_filter_changed)
        self.search_edit.textChanged.connect(lambda _: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._on_filter_changed)
        self._search_timer.timeout.connect(self._on_filter_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.redeliver_button.clicked.connect(self._on_redeliver_clicked)
        self.curl_button.clicked.connect(lambda: self._emit_selected(self.copy_curl_requested))
        self.redeliver_failed_button.clicked.connect(self._on_redeliver_failed)
        # Nothing is read yet: the first page is read on the reads lane when the tab is
        # first shown (its first refresh), and the empty state said once it is back.

    def current_filter(self) -> DeliveryFilter:
        """The filter the controls describe."""
        return DeliveryFilter(status=self.status_box.currentData(),
                              event_type=self.event_box.currentData(),
                              hook_id=self.hook_box.currentData(),
                              since_seconds=self.since_box.currentData(),
                              search=self.search_edit.text().strip() or None,
                              status_class=self.class_box.currentData())

    def set_hooks(self, hooks: list[Hook]) -> None:
        """Update the Hook filter and names (keeps the current choice when it exists)."""
        self.model.set_hook_names({h.id: h.display_name for h in hooks},
                                  {h.id for h in hooks if not h.active})
        choices = [(h.id, f"{h.id}: {h.display_name}") for h in hooks]
        if choices == self._hook_choices:
            return  # usually unchanged: refilling the box costs a relayout every 2 s
        self._hook_choices = choices
        chosen = self.hook_box.currentData()
        self.hook_box.blockSignals(True)
        self.hook_box.clear()
        self.hook_box.addItem("All hooks", None)
        for h in hooks:
            self.hook_box.addItem(f"{h.id}: {h.display_name}", h.id)
        index = self.hook_box.findData(chosen)
        self.hook_box.setCurrentIndex(max(0, index))
        self.hook_box.blockSignals(False)
        if chosen is not None and index < 0:
            self._on_filter_changed()

    def refresh(self) -> None:
        """Show new arrivals and status changes, the selected delivery's too (it may have
        been queued again), with its buttons and attempts: read on the reads lane, shown
        when they come back (the model's ``refreshed``)."""
        rows = self.view.selectionModel().selectedRows()
        self.model.refresh(self._visible_rows(), rows[0].row() if rows else None)

    @Slot()
    def _on_refreshed(self) -> None:
        if self.empty_label.isHidden() != (self.model.rowCount() > 0):
            self._show_empty_state()
        self._on_selection_changed()

    @Slot()
    def _on_loaded(self) -> None:
        self._show_empty_state()
        finding, self._finding = self._finding, None
        if finding is None:
            return
        delivery_id, then = finding
        found = False
        for row in range(self.model.rowCount()):
            if self.model.delivery_at(row).id == delivery_id:
                self.view.selectRow(row)
                self.view.setFocus()
                found = True
                break
        if then is not None:
            then(found)

    def _visible_rows(self) -> tuple[int, int]:
        """The first and last row on screen, with a margin of 20 either side."""
        first = self.view.rowAt(0)
        last = self.view.rowAt(self.view.viewport().height() - 1)
        first = 0 if first < 0 else first
        last = first + 100 if last < 0 else last
        return first - 20, last + 20

    @Slot()
    def _update_visible(self) -> None:
        if self.isVisible():  # not for a closed window (its store may be closed too)
            self.model.update_pending(*self._visible_rows())

    def stop(self) -> None:
        """Stop the pending look at rows scrolled into view (the window is closing and
        its store is about to be closed)."""
        self._scrolled.stop()

    def reload(self) -> None:
        """Load the deliveries again from the newest (the selection is dropped); the
        first page is read on the reads lane (the model's ``loaded``)."""
        self.details.clear()
        self.model.set_filter(self.current_filter())
        self._on_selection_changed()  # a model reset drops the selection without a signal

    def find_delivery(self, delivery_id: str,
                      then: Callable[[bool], None] | None = None) -> None:
        """Show one delivery by id, selected with its attempts: the filters are cleared
        and the id searched for (a delivery id is found in the whole history, on the
        reads lane). ``then(found)`` is called once the search is back: False when
        there is no such delivery (any more)."""
        for box in (self.status_box, self.class_box, self.event_box, self.hook_box,
                    self.since_box):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.search_edit.blockSignals(True)
        self.search_edit.setText(delivery_id)
        self.search_edit.blockSignals(False)
        self._search_timer.stop()
        self._finding = (delivery_id, then)
        self.reload()

    def selected_delivery(self) -> Delivery | None:
        """The selected delivery when exactly one is selected, else None."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.delivery_at(rows[0].row()) if len(rows) == 1 else None

    def selected_deliveries(self) -> list[Delivery]:
        """Every selected delivery, top to bottom."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.delivery_at(r) for r in rows]

    def show_delivery(self, delivery: Delivery, attempts: list[Attempt], body: bytes) -> None:
        """Show the selected delivery's attempts (see :class:`AttemptView`)."""
        self.details.show_delivery(delivery, attempts, body)

    def _emit_selected(self, signal: SignalInstance) -> None:
        selected = self.selected_delivery()
        if selected is not None:
            signal.emit(selected.id)

    @Slot()
    def _on_redeliver_clicked(self) -> None:
        chosen = self.selected_deliveries()
        if len(chosen) > 1:
            self.redeliver_many_requested.emit(
                [d.id for d in chosen if d.event_type != catalog.PING])
        else:
            self._emit_selected(self.redeliver_requested)

    @Slot()
    def _on_filter_changed(self) -> None:
        self._search_timer.stop()
        self._finding = None  # the user asked for something else meanwhile
        self.reload()

    def _show_empty_state(self) -> None:
        """Say why the list is empty, instead of showing a blank table."""
        empty = self.model.rowCount() == 0
        flt = self.current_filter()
        filtered = flt != DeliveryFilter()
        self.empty_label.setText(
            "No delivery matches these filters." if filtered else
            "No deliveries yet. They appear here as events are sent to your hooks.")
        self.empty_label.setVisible(empty)  # above the table, which keeps the focus

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, *_: object) -> None:
        d = self.selected_delivery()
        update_delivery_buttons(d, self.redeliver_button, self.curl_button)
        many = [x for x in self.selected_deliveries() if x.event_type != catalog.PING]
        if len(self.selected_deliveries()) > 1:
            self.redeliver_button.setText(f"Re&deliver {len(many)}")
            self.redeliver_button.setEnabled(bool(many))
            self.details.clear(f"{len(self.selected_deliveries())} deliveries selected. "
                               "Select one to see its attempts.")
        if d is not None:
            self.delivery_selected.emit(d.id)

    @Slot()
    def _on_redeliver_failed(self) -> None:
        hook_id = self.hook_box.currentData()
        label = "every hook" if hook_id is None else self.hook_box.currentText()
        dialog = RedeliverSinceDialog(label, hook_id, self._reads, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self.redeliver_failed_requested.emit(hook_id, dialog.since()))
        dialog.accepted.connect(self.reload)  # rows queued again anywhere in the list
        dialog.open()
