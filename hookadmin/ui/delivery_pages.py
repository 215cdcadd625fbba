"""The Deliveries view's model: every hook's deliveries, newest first, filtered, fetched
page by page as the view scrolls (so it stays quick with millions of deliveries), and
sorted by any column among the rows loaded."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from hookadmin.core.store import Delivery, DeliveryHistory
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
        self._inactive: set[int] = set()
        self._sort: tuple[str, bool] | None = None  # (column, descending); None: newest first

    def set_hook_names(self, names: dict[int, str],
                       inactive: set[int] | frozenset[int] = frozenset()) -> None:
        """Names shown in the Hook column, by hook id; ``inactive``: ids of inactive
        hooks, whose waiting deliveries are held until the hook is active again."""
        self._hook_names = dict(names)
        if set(inactive) != self._inactive:
            self._inactive = set(inactive)
            if self._rows:
                col = self.COLUMNS.index("Next attempt")
                self.dataChanged.emit(self.index(0, col), self.index(len(self._rows) - 1, col))

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
            elif self.waits_in_order(d):
                text = "waits in order"
            elif d.hook_id in self._inactive:  # the engine sends nothing to it
                return {DISPLAY: "hook inactive", Roles.DELIVERY_ID: d.id,
                        TOOLTIP: "The hook is inactive: this delivery waits until the "
                                 "hook is activated again."}
            elif d.next_attempt_at <= time.time():  # due, held back by the in-flight limit
                text = "due now"
            else:
                text = local_time(d.next_attempt_at)
        return {DISPLAY: text, Roles.DELIVERY_ID: d.id}
