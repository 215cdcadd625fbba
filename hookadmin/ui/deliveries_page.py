"""The Deliveries view: every hook's deliveries, newest first, filtered by status,
event type, hook and time, fetched page by page as the user scrolls (so it stays
quick with millions of deliveries), with the attempts of the selected one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QDateTime,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
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
from hookadmin.core.store import Attempt, Delivery, DeliveryHistory
from hookadmin.core.store.ports import SEARCH_SCAN
from hookadmin.ui.attempt_view import AttemptView
from hookadmin.ui.hook_page import delivery_panel, update_delivery_buttons
from hookadmin.ui.models import (
    ACCESSIBLE,
    DISPLAY,
    FOREGROUND,
    TOOLTIP,
    DeliveryRowsModel,
    Roles,
    ago,
    local_time,
    status_brush,
)

_Index = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 200
NEW_ROWS_LIMIT = 2000  # new arrivals added in one refresh; more start the list again
MAX_ROWS = 5000  # rows kept loaded while new ones arrive at the top
STATUS_ICONS = {"succeeded": "✓", "failed": "✗", "pending": "↻"}
SINCE_CHOICES = (("Any time", None), ("Last hour", 3600.0), ("Last 24 hours", 86400.0),
                 ("Last 7 days", 7 * 86400.0))
@dataclass(frozen=True)
class DeliveryFilter:
    """What the Deliveries view shows; ``None`` fields do not filter."""

    status: str | None = None
    event_type: str | None = None
    hook_id: int | None = None
    since_seconds: float | None = None
    search: str | None = None
    status_class: str | None = None


class DeliveryPagesModel(DeliveryRowsModel):
    """Deliveries newest first, fetched :data:`PAGE_SIZE` rows at a time through
    ``canFetchMore``/``fetchMore`` (keyset paging on ``seq``).

    Sorting by another column (:meth:`sort`) orders the rows loaded so far (at most
    :data:`MAX_ROWS`, plus those fetched by scrolling on), never the whole history: a
    sort over millions of deliveries would stall the window."""

    COLUMNS = ("", "Event", "Hook", "Result", "Attempts", "Duration", "Next attempt",
               "Created", "Delivery")

    def __init__(self, store: DeliveryHistory, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._more = True
        self._filter = DeliveryFilter()
        self._hook_names: dict[int, str] = {}
        self._sort: tuple[str, bool] | None = None  # (column, descending); None: newest first

    def set_hook_names(self, names: dict[int, str]) -> None:
        """Names shown in the Hook column."""
        self._hook_names = dict(names)

    def set_filter(self, flt: DeliveryFilter) -> None:
        """Show deliveries matching ``flt`` from the newest."""
        self.beginResetModel()
        self._filter = flt
        self._rows = []
        self._more = True
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def _query(self, **extra: Any) -> list[Delivery]:
        f = self._filter
        since = None if f.since_seconds is None else time.time() - f.since_seconds
        return self._store.list_deliveries(hook_id=f.hook_id, status=f.status,
                                           event_type=f.event_type, since=since,
                                           search=f.search, status_class=f.status_class,
                                           **extra)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        if parent.isValid() or not self._more:
            return
        before = min(d.seq for d in self._rows) if self._rows else None
        page = self._query(limit=PAGE_SIZE, before_seq=before)
        self._more = len(page) == PAGE_SIZE
        if page:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
            self._rows += page
            self.endInsertRows()
            self._apply_sort()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the loaded rows by ``column``; "Created" newest first is the list's own
        order (new arrivals on top)."""
        name = self.COLUMNS[column] if 0 <= column < len(self.COLUMNS) else "Created"
        descending = order == Qt.SortOrder.DescendingOrder
        self._sort = None if name == "Created" and descending else (name, descending)
        self._apply_sort(always=True)

    def _sort_key(self, column: str) -> Any:
        keys: dict[str, Any] = {
            "": lambda d: d.status,
            "Event": lambda d: d.event_type,
            "Hook": lambda d: self._hook_names.get(d.hook_id, "").casefold(),
            "Result": lambda d: (d.status, d.last_status_code or 0, d.last_error_kind or ""),
            "Attempts": lambda d: d.attempts,
            "Duration": lambda d: -1.0 if d.last_duration_ms is None else d.last_duration_ms,
            "Next attempt": lambda d: (d.status != "pending", d.next_attempt_at or 0.0),
            "Delivery": lambda d: d.id,
        }
        return keys.get(column, lambda d: d.seq)

    def _apply_sort(self, *, always: bool = False) -> None:
        """Re-order the rows for the chosen sort (newest first when none)."""
        if self._sort is None and not always:
            return
        column, descending = self._sort or ("Created", True)
        self.layoutAboutToBeChanged.emit()
        self._rows.sort(key=lambda d: d.seq, reverse=True)  # ties stay newest first
        if column != "Created":
            self._rows.sort(key=self._sort_key(column), reverse=descending)
        elif not descending:
            self._rows.reverse()
        self.layoutChanged.emit()

    def refresh(self, visible: tuple[int, int] = (0, PAGE_SIZE - 1)) -> None:
        """Add deliveries that arrived since, and update the loaded ones still pending in
        the ``visible`` rows (first, last; the rest are updated when scrolled to, see
        :meth:`update_pending`)."""
        if self._rows and self._sort is not None:  # sorted: add arrivals, then re-sort
            new = self._query(limit=NEW_ROWS_LIMIT, after_seq=max(d.seq for d in self._rows))
            if new:
                self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
                self._rows[0:0] = new
                self.endInsertRows()
                self._apply_sort()
            self.update_pending(*visible)
        elif self._rows:
            new = self._query(limit=NEW_ROWS_LIMIT, after_seq=self._rows[0].seq)
            if len(new) == NEW_ROWS_LIMIT:  # a flood: start again from the newest
                self.set_filter(self._filter)
                return
            if new:
                # Inserted, not reset: a reset re-lays out the whole view (a visible
                # freeze when deliveries stream in).
                self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
                self._rows[0:0] = new
                self.endInsertRows()
            if len(self._rows) > MAX_ROWS:  # older ones are fetched again on scrolling
                self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self._rows) - 1)
                del self._rows[MAX_ROWS:]
                self._more = True
                self.endRemoveRows()
            first, last = visible
            self.update_pending(first + len(new), last + len(new))
        else:
            self.set_filter(self._filter)

    def update_pending(self, first: int, last: int) -> None:
        """Re-read the pending deliveries among rows ``first`` to ``last`` (the ones on
        screen, give or take): re-reading every loaded pending row each refresh took
        tens of milliseconds with thousands in flight."""
        first = max(0, first)
        pending = {d.seq: i for i, d in enumerate(self._rows[first:last + 1], start=first)
                   if d.status == "pending"}
        changed = []
        for fresh in self._store.deliveries_by_seq(list(pending)):
            row = pending[fresh.seq]
            if fresh != self._rows[row]:
                self._rows[row] = fresh
                changed.append(row)
        if changed:  # one signal: at full speed hundreds of rows change between refreshes
            self.dataChanged.emit(self.index(min(changed), 0),
                                  self.index(max(changed), len(self.COLUMNS) - 1))

    def reload_row(self, row: int) -> None:
        """Re-read one loaded delivery (it may have been queued again)."""
        for fresh in self._store.deliveries_by_seq([self._rows[row].seq]):
            if fresh != self._rows[row]:
                self._rows[row] = fresh
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def _own_cell(self, d: Delivery, column: str) -> dict[int, Any]:
        if column == "":
            return {DISPLAY: STATUS_ICONS.get(d.status, "?"), TOOLTIP: d.status,
                    FOREGROUND: status_brush(d.status), ACCESSIBLE: d.status,
                    Roles.DELIVERY_ID: d.id}
        if column == "Created":
            return {DISPLAY: ago(d.created_at), TOOLTIP: local_time(d.created_at),
                    Roles.DELIVERY_ID: d.id}
        if column == "Hook":
            text = self._hook_names.get(d.hook_id, f"hook {d.hook_id}")
        else:  # "Next attempt"
            if d.status != "pending" or d.next_attempt_at is None:
                text = "-"
            elif d.next_attempt_at <= time.time():  # due, held back by the in-flight limit
                text = "due now"
            else:
                text = local_time(d.next_attempt_at)
        return {DISPLAY: text, Roles.DELIVERY_ID: d.id}


class RedeliverSinceDialog(QDialog):
    """Asks from when failed deliveries should be sent again."""

    def __init__(self, hook_label: str, count: Callable[[float], int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count = count
        self.setObjectName("redeliverSinceDialog")
        self.setWindowTitle("Redeliver failed deliveries")
        self.since_edit = QDateTimeEdit(QDateTime.currentDateTime().addDays(-1))
        self.since_edit.setObjectName("redeliverSince")
        self.since_edit.setCalendarPopup(True)
        self.since_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.since_edit.setAccessibleName("Failed since")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.addButton("Redeliver", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setObjectName("confirmRedeliverSince")
        self.ok_button = ok
        self.count_label = QLabel()
        self.count_label.setObjectName("redeliverCount")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Failed &since", self.since_edit)
        layout = QVBoxLayout(self)
        note = QLabel(f"Every failed delivery of {hook_label} since this time gets new "
                      "attempts, with its delivery id and body unchanged.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addWidget(buttons)
        self.since_edit.dateTimeChanged.connect(self._on_since_changed)
        self._on_since_changed()

    @Slot()
    def _on_since_changed(self) -> None:
        """Say how many deliveries the chosen time would send again."""
        n = self._count(self.since())
        self.count_label.setText(
            "No failed deliveries since then." if n == 0 else
            f"{n:,} failed deliver{'y' if n == 1 else 'ies'} will be sent again.")
        self.ok_button.setText("Redeliver" if n == 0 else f"Redeliver {n:,}")
        self.ok_button.setEnabled(n > 0)

    def since(self) -> float:
        """The chosen time, Unix seconds."""
        return self.since_edit.dateTime().toSecsSinceEpoch()


class DeliveriesPage(QWidget):
    """All deliveries with filters and details. Signals ask the window to act:
    ``delivery_selected(str)``, ``redeliver_requested(str)``,
    ``redeliver_many_requested(list)`` (delivery ids, several selected),
    ``copy_curl_requested(str)``, ``redeliver_failed_requested(object, float)`` (hook id
    or None for every hook, since in Unix seconds)."""

    delivery_selected = Signal(str)
    redeliver_requested = Signal(str)
    redeliver_many_requested = Signal(list)
    copy_curl_requested = Signal(str)
    redeliver_failed_requested = Signal(object, float)

    def __init__(self, store: DeliveryHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.model = DeliveryPagesModel(store, self)
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
        self.search_edit.setPlaceholderText("Delivery id, event id or text in the body")
        self.search_edit.setToolTip("A delivery or event id finds it in the whole history; "
                                    "other text is looked for (case-sensitive) in the bodies "
                                    f"of the newest {SEARCH_SCAN:,} deliveries.")
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
        for col, width in enumerate((28, 150, 160, 120, 70, 80, 100, 90)):
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
        table_layout.addWidget(self.view, 1)
        table_layout.addWidget(self.empty_label, 1)
        split = delivery_panel(table, (self.redeliver_button, self.curl_button),
                               self.details, (330, 400))
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
        self.model.set_filter(self.current_filter())
        self._show_empty_state()

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
        choices = [(h.id, f"{h.id}: {h.display_name}") for h in hooks]
        if choices == self._hook_choices:
            return  # usually unchanged: refilling the box costs a relayout every 2 s
        self._hook_choices = choices
        chosen = self.hook_box.currentData()
        self.model.set_hook_names({h.id: h.display_name for h in hooks})
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
        been queued again), with its buttons and attempts."""
        self.model.refresh(self._visible_rows())
        if self.empty_label.isVisible() == (self.model.rowCount() > 0):
            self._show_empty_state()
        rows = self.view.selectionModel().selectedRows()
        if rows:
            self.model.reload_row(rows[0].row())
        self._on_selection_changed()

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

    def reload(self) -> None:
        """Load the deliveries again from the newest (the selection is dropped)."""
        self.details.clear()
        self.model.set_filter(self.current_filter())
        self._on_selection_changed()  # a model reset drops the selection without a signal
        self._show_empty_state()

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

    def _emit_selected(self, signal: Any) -> None:
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
        self.reload()

    def _show_empty_state(self) -> None:
        """Say why the list is empty, instead of showing a blank table."""
        empty = self.model.rowCount() == 0
        flt = self.current_filter()
        filtered = flt != DeliveryFilter()
        self.empty_label.setText(
            "No delivery matches these filters." if filtered else
            "No deliveries yet. They appear here as events are sent to your hooks.")
        self.empty_label.setVisible(empty)
        self.view.setVisible(not empty)

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
        dialog = RedeliverSinceDialog(
            label, lambda since: self._store.count_failed(hook_id=hook_id, since=since), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self.redeliver_failed_requested.emit(hook_id, dialog.since()))
        dialog.accepted.connect(self.reload)  # rows queued again anywhere in the list
        dialog.open()
