"""The Deliveries view's model: every hook's deliveries, newest first, filtered, fetched
page by page as the view scrolls (so it stays quick with millions of deliveries), and
sorted by any column among the rows loaded.

Every read runs on the window's reads lane as a query object
(:mod:`hookadmin.ui.tab_queries`); the model applies the rows in the GUI thread when they
come back, and drops those a newer reset or refresh has made stale."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from hookadmin.core.errors import HookadminError
from hookadmin.core.store import Delivery, Repository
from hookadmin.ui.background import Lane
from hookadmin.ui.display import ago, local_time, status_brush
from hookadmin.ui.models import ACCESSIBLE, DISPLAY, FOREGROUND, TOOLTIP, DeliveryRowsModel, Roles
from hookadmin.ui.tab_queries import (
    DeliveryFilter,
    DeliveryPageQuery,
    DeliveryUpdates,
    DeliveryUpdatesQuery,
)

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["MAX_ROWS", "NEW_ROWS_LIMIT", "PAGE_SIZE", "DeliveryFilter", "DeliveryPagesModel"]

_Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")
SortKey = Callable[[Delivery], "SupportsRichComparison"]
PAGE_SIZE = 200
NEW_ROWS_LIMIT = 2000  # new arrivals added in one refresh; more start the list again
MAX_ROWS = 5000  # rows kept loaded while new ones arrive at the top
STATUS_ICONS = {"succeeded": "✓", "failed": "✗", "pending": "↻"}


class DeliveryPagesModel(DeliveryRowsModel):
    """Deliveries newest first, fetched :data:`PAGE_SIZE` rows at a time through
    ``canFetchMore``/``fetchMore`` (keyset paging on ``seq``).

    Sorting by another column (:meth:`sort`) orders the rows loaded so far (at most
    :data:`MAX_ROWS`, plus those fetched by scrolling on), never the whole history: a
    sort over millions of deliveries would stall the window.

    Args:
        reads: the window's reads lane; every read of the model runs there.
        parent: the Qt parent.

    Signals:
        loaded(): a page's rows (the first after :meth:`set_filter`, or one fetched by
            scrolling) have been applied.
        refreshed(): the rows of a :meth:`refresh` have been applied (not emitted for a
            refresh dropped because a newer one was asked for).
        read_failed(str): a read failed (one sentence); the rows stay as they were.
    """

    loaded = Signal()
    refreshed = Signal()
    read_failed = Signal(str)

    COLUMNS = ("", "Event", "Hook", "Result", "Attempts", "Duration", "Next attempt",
               "Created", "Delivery")

    def __init__(self, reads: Lane[Repository], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reads = reads
        self._more = True
        self._fetching = False  # a page is being read
        self._generation = 0  # moves on with every reset: older reads are dropped
        self._refresh_asked = 0  # the latest refresh asked for; older ones are dropped
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

    @property
    def filter(self) -> DeliveryFilter:
        """The filter of the rows shown."""
        return self._filter

    def set_filter(self, flt: DeliveryFilter) -> None:
        """Show deliveries matching ``flt`` from the newest: the rows are cleared at once
        and the first page is read on the reads lane (``loaded`` once it is applied)."""
        self.beginResetModel()
        self._filter = flt
        self._rows = []
        self._more = True
        self._fetching = False
        self._generation += 1
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def _submit(self, job: Callable[[Repository], T], apply: Callable[[T], None]) -> None:
        """Run ``job`` on the reads lane; ``apply(rows)`` in the GUI thread unless a
        reset came in between."""
        generation = self._generation

        def done(rows: T) -> None:
            if generation == self._generation:
                apply(rows)

        self._reads.submit(job, done, self._failed)

    def _failed(self, err: HookadminError) -> None:
        self._fetching = False
        self.read_failed.emit(str(err))

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        """Read the next page on the reads lane; it is added when it comes back."""
        if parent.isValid() or not self._more or self._fetching:
            return
        before = min(d.seq for d in self._rows) if self._rows else None
        self._fetching = True
        query = DeliveryPageQuery(self._filter, PAGE_SIZE, before)
        self._submit(query.run, lambda page: self._add_page(page, before))

    def _add_page(self, page: tuple[Delivery, ...], before: int | None) -> None:
        self._fetching = False
        if before != (min(d.seq for d in self._rows) if self._rows else None):
            return  # the bottom moved meanwhile (rows dropped): read it again when asked
        self._more = len(page) == PAGE_SIZE
        if page:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
            self._rows += page
            self.endInsertRows()
            self._apply_sort()
        self.loaded.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the loaded rows by ``column``; "Created" newest first is the list's own
        order (new arrivals on top)."""
        name = self.COLUMNS[column] if 0 <= column < len(self.COLUMNS) else "Created"
        descending = order == Qt.SortOrder.DescendingOrder
        self._sort = None if name == "Created" and descending else (name, descending)
        self._apply_sort(always=True)

    def _sort_key(self, column: str) -> SortKey:
        """The key that orders rows by ``column`` (by ``seq`` for "Created")."""
        def hook_name(d: Delivery) -> str:
            return self._hook_names.get(d.hook_id, "").casefold()

        keys: dict[str, SortKey] = {
            "": lambda d: d.status,
            "Event": lambda d: d.event_type,
            "Hook": hook_name,
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

    def _top_seq(self) -> int | None:
        """The newest loaded delivery's ``seq`` (None without rows)."""
        if not self._rows:
            return None
        return self._rows[0].seq if self._sort is None else max(d.seq for d in self._rows)

    def _pending_seqs(self, first: int, last: int) -> list[int]:
        return [d.seq for d in self._rows[max(0, first):last + 1] if d.status == "pending"]

    def refresh(self, visible: tuple[int, int] = (0, PAGE_SIZE - 1),
                selected: int | None = None) -> None:
        """Read, on the reads lane, the deliveries that arrived since and the loaded
        ones still pending in the ``visible`` rows (first, last; the rest are updated
        when scrolled to, see :meth:`update_pending`) and the ``selected`` row's (it may
        have been queued again); they are added and updated when they come back
        (``refreshed``). A refresh asked for before the last one came back replaces it:
        the older one's rows are dropped."""
        if not self._rows:
            if not self._fetching:  # nothing loaded yet: the first page is the refresh
                self._more = True
                self.fetchMore(QModelIndex())
            return
        seqs = self._pending_seqs(*visible)
        if selected is not None and 0 <= selected < len(self._rows):
            seqs.append(self._rows[selected].seq)
        self._refresh_asked += 1
        asked, after = self._refresh_asked, self._top_seq()
        query = DeliveryUpdatesQuery(self._filter, after, NEW_ROWS_LIMIT, tuple(seqs))

        def apply(updates: DeliveryUpdates) -> None:
            if asked == self._refresh_asked and after == self._top_seq():
                self._apply_updates(updates)

        self._submit(query.run, apply)

    def _apply_updates(self, updates: DeliveryUpdates) -> None:
        """Add a refresh's arrivals on top (dropping the oldest beyond :data:`MAX_ROWS`)
        and put its fresh rows in place."""
        new = updates.arrivals
        if len(new) == NEW_ROWS_LIMIT:  # a flood: start again from the newest
            self.set_filter(self._filter)
            return
        if new:
            # Inserted, not reset: a reset re-lays out the whole view (a visible
            # freeze when deliveries stream in).
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows[0:0] = new
            self.endInsertRows()
        if self._sort is not None:
            self._apply_sort()
        elif len(self._rows) > MAX_ROWS:  # older ones are fetched again on scrolling
            self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self._rows) - 1)
            del self._rows[MAX_ROWS:]
            self._more = True
            self.endRemoveRows()
        self._put_fresh(updates.fresh)
        self.refreshed.emit()

    def _put_fresh(self, fresh: tuple[Delivery, ...]) -> None:
        """Replace the loaded rows of these deliveries (by ``seq``) where they changed;
        one ``dataChanged`` over the rows changed (at full speed hundreds of rows change
        between refreshes)."""
        if not fresh:
            return
        wanted = {d.seq: d for d in fresh}
        changed = []
        for row, d in enumerate(self._rows):
            now = wanted.get(d.seq)
            if now is not None and now != d:
                self._rows[row] = now
                changed.append(row)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0),
                                  self.index(max(changed), len(self.COLUMNS) - 1))

    def update_pending(self, first: int, last: int) -> None:
        """Re-read, on the reads lane, the pending deliveries among rows ``first`` to
        ``last`` (the ones on screen, give or take): re-reading every loaded pending row
        each refresh took tens of milliseconds with thousands in flight."""
        seqs = self._pending_seqs(first, last)
        if seqs:
            query = DeliveryUpdatesQuery(self._filter, None, 0, tuple(seqs))
            self._submit(query.run, lambda updates: self._put_fresh(updates.fresh))

    def reload_row(self, row: int) -> None:
        """Re-read one loaded delivery on the reads lane (it may have been queued
        again); its row is updated when it comes back."""
        if 0 <= row < len(self._rows):
            query = DeliveryUpdatesQuery(self._filter, None, 0, (self._rows[row].seq,))
            self._submit(query.run, lambda updates: self._put_fresh(updates.fresh))

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
