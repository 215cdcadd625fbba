"""The tables of deliveries (a hook page's recent deliveries, the Deliveries tab) as
Qt's own :class:`QStandardItemModel`, filled when rows arrive or change, so that a
repaint reads every cell in C++ and never enters Python.

A Python model answered each painted cell through three calls into Python (``index``
asks ``rowCount`` and ``columnCount``, then ``multiData``): some 600 per repaint of
the Deliveries tab, each one waiting for the GIL while the window's engine thread held
it (docs/decisions.md). Here a row's cells are built once, when the row is added or
its delivery changed; the texts that move on with the clock ("12 s ago", "due now")
are set again by :meth:`DeliveryRowsModel.retime` for the rows a refresh covers.

Building a row's items costs about 40 µs, and at full speed a refresh brings hundreds
of new rows: built at once, they held the GUI thread for 10-20 ms. New rows are
therefore inserted empty (Qt paints an empty cell without asking Python) and built
:data:`FILL_SLICE` seconds of work at a time, the rows on screen first, one slice per
turn of the event loop."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel

from hookadmin.core.ordering import waits_in_order
from hookadmin.core.store import Delivery
from hookadmin.ui.models import DISPLAY, FOREGROUND, TOOLTIP, ago, delivery_result, status_brush

Cell = dict[int, object]  # {role: value} of one cell; roles without a value left out
CELL_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled  # not editable
SORT = int(Qt.ItemDataRole.UserRole) + 10  # a cell's sort key (str, int or float)
FILL_SLICE = 0.002  # seconds of item building per turn of the event loop
FIRST_ROWS = 25  # rows built at once until a view says which rows it shows


def make_item(cell: Cell) -> QStandardItem:
    """A read-only item answering the roles of ``cell``."""
    item = QStandardItem()
    item.setFlags(CELL_FLAGS)
    for role, value in cell.items():
        item.setData(value, role)
    return item


class DeliveryRowsModel(QStandardItemModel):
    """A table of deliveries, one per row, ``COLUMNS`` wide. Subclasses give the cells
    of their own columns (:meth:`_own_cell`) and name the columns whose text depends
    on the clock (``TIMED``).

    Rows change only through :meth:`_insert`, :meth:`_remove`, :meth:`_clear` and
    :meth:`_replace`, which keep the deliveries (:meth:`delivery_at`) and the items in
    step. An inserted row's items are built later (:attr:`filling` until they all
    are), the rows of :meth:`show_first` first.

    Args:
        parent: the Qt parent.
    """

    COLUMNS: tuple[str, ...] = ()
    TIMED: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.setSortRole(SORT)
        self._rows: list[Delivery] = []
        self._cells: list[tuple[Cell, ...] | None] = []  # None: items not built yet
        self._unbuilt = 0
        self._first = (0, FIRST_ROWS - 1)  # rows built before the others (first, last)
        self._heads: dict[int, int] = {}
        self._filler = QTimer(self)
        self._filler.setSingleShot(True)
        self._filler.setInterval(0)
        self._filler.timeout.connect(self._fill)

    @property
    def filling(self) -> bool:
        """True while some rows' items are still to be built (they show empty)."""
        return self._unbuilt > 0

    def show_first(self, first: int, last: int) -> None:
        """Build the items of rows ``first`` to ``last`` (those on screen) before the
        others; the ones of that range still missing are built now."""
        self._first = (first, last)
        if self._unbuilt:
            self._build_range(first, last, deadline=None)

    def fill_all(self) -> None:
        """Build every row's items now."""
        if self._unbuilt:
            self._build_range(0, len(self._rows) - 1, deadline=None)

    @Slot()
    def _fill(self) -> None:
        deadline = time.perf_counter() + FILL_SLICE
        if self._build_range(*self._first, deadline=deadline):
            self._build_range(0, len(self._rows) - 1, deadline=deadline)
        if self._unbuilt:
            self._filler.start()

    def _build_range(self, first: int, last: int, *, deadline: float | None) -> bool:
        """Build the missing items of rows ``first`` to ``last`` until ``deadline``
        (``time.perf_counter()``; None: all); True when none is missing there."""
        cells, end = self._cells, min(last, len(self._rows) - 1)
        row = max(0, first)
        while row <= end:
            try:
                row = cells.index(None, row, end + 1)
            except ValueError:
                return True
            built = self._row_cells(self._rows[row])
            cells[row] = built
            self._unbuilt -= 1
            for col, cell in enumerate(built):
                self.setItem(row, col, make_item(cell))
            row += 1
            if deadline is not None and time.perf_counter() > deadline:
                return row > end
        return True

    def delivery_at(self, row: int) -> Delivery:
        """The delivery shown in ``row`` (0-based; IndexError past the end)."""
        return self._rows[row]

    def set_order_heads(self, heads: Mapping[int, int]) -> None:
        """Each ordered hook's oldest pending delivery's ``seq`` by hook id: the later
        pending ones show "waits in order" (see :func:`waits_in_order`)."""
        if dict(heads) != self._heads:
            self._heads = dict(heads)
            self._update(i for i, d in enumerate(self._rows) if d.status == "pending"
                         and self._cells[i] is not None)

    def waits_in_order(self, d: Delivery) -> bool:
        """True when ``d`` is pending behind an earlier delivery of its ordered hook."""
        return waits_in_order(d, self._heads)

    def retime(self, first: int = 0, last: int | None = None) -> None:
        """Set again the clock-dependent cells (``TIMED``) of rows ``first`` to ``last``
        (inclusive; None: to the end) where their text moved on."""
        end = len(self._rows) if last is None else min(len(self._rows), last + 1)
        for name in self.TIMED:
            self._update_column(name, range(max(0, first), end))

    # Rows in and out -----------------------------------------------------------

    def _row_cells(self, d: Delivery) -> tuple[Cell, ...]:
        return tuple(self._cell(d, name) for name in self.COLUMNS)

    def _insert(self, pos: int, deliveries: Sequence[Delivery]) -> None:
        """Insert empty rows for ``deliveries`` before row ``pos`` (one
        ``rowsInserted``); their items are built by the next slices, the rows of
        :meth:`show_first` at once."""
        if not deliveries:
            return
        self._rows[pos:pos] = deliveries
        self._cells[pos:pos] = [None] * len(deliveries)
        self._unbuilt += len(deliveries)
        self.insertRows(pos, len(deliveries))
        self._build_range(*self._first, deadline=None)
        if self._unbuilt:
            self._filler.start()

    def _remove(self, first: int, count: int) -> None:
        """Remove ``count`` rows from row ``first``."""
        if count > 0:
            self._unbuilt -= self._cells[first:first + count].count(None)
            del self._rows[first:first + count]
            del self._cells[first:first + count]
            self.removeRows(first, count)

    def _clear(self) -> None:
        """Remove every row."""
        self._rows, self._cells, self._unbuilt = [], [], 0
        self.setRowCount(0)

    def _replace(self, row: int, d: Delivery) -> None:
        """Show ``d`` in ``row`` (its delivery changed); only changed cells are set."""
        self._rows[row] = d
        self._update((row,))

    def _update(self, rows: Iterable[int]) -> None:
        """Build the cells of ``rows`` again and set those that changed."""
        for row in rows:
            old = self._cells[row]
            if old is None:
                continue  # built from its delivery when its turn comes
            new = self._row_cells(self._rows[row])
            if new != old:
                self._cells[row] = new
                for col, (cell, was) in enumerate(zip(new, old, strict=True)):
                    if cell != was:
                        self.setItem(row, col, make_item(cell))

    def _update_column(self, name: str, rows: Iterable[int] | None = None) -> None:
        """Build column ``name``'s cells of ``rows`` (None: every row) again and set
        those that changed."""
        col = self.COLUMNS.index(name)
        for row in range(len(self._rows)) if rows is None else rows:
            cells = self._cells[row]
            if cells is None:
                continue
            cell = self._cell(self._rows[row], name)
            if cell != cells[col]:
                self._cells[row] = (*cells[:col], cell, *cells[col + 1:])
                self.setItem(row, col, make_item(cell))

    # Cells ---------------------------------------------------------------------

    def _cell(self, d: Delivery, name: str) -> Cell:
        """The columns both tables have, by name; the others from :meth:`_own_cell`."""
        if name == "Result":
            key = f"{d.status}\0{d.last_status_code or 0:06d}\0{d.last_error_kind or ''}"
            if self.waits_in_order(d):
                return {DISPLAY: "waits in order", FOREGROUND: status_brush(d.status),
                        TOOLTIP: "This ordered hook sends one delivery at a time: this one "
                                 "waits until the earlier ones have succeeded or failed",
                        SORT: key}
            return {DISPLAY: delivery_result(d), FOREGROUND: status_brush(d.status),
                    SORT: key}
        if name == "Event":
            return {DISPLAY: d.event_type, SORT: d.event_type}
        if name == "Attempts":
            return {DISPLAY: str(d.attempts), SORT: d.attempts}
        if name == "Duration":
            return {DISPLAY: "-" if d.last_duration_ms is None else
                    f"{d.last_duration_ms:.0f} ms",
                    SORT: -1.0 if d.last_duration_ms is None else d.last_duration_ms}
        if name == "Delivery":
            return {DISPLAY: d.id, SORT: d.id}
        return self._own_cell(d, name)

    def _own_cell(self, d: Delivery, column: str) -> Cell:
        """A column only this table has."""
        raise NotImplementedError(column)


class DeliveriesModel(DeliveryRowsModel):
    """Recent deliveries, newest first: Event, Result, Attempts, Duration, When, Id."""

    COLUMNS = ("Event", "Result", "Attempts", "Duration", "When", "Delivery")
    TIMED = ("When",)

    def set_rows(self, rows: list[Delivery]) -> None:
        """Replace the rows (newest first). When the list only moved on (newer deliveries
        on top, the oldest dropped at the bottom), rows are inserted and removed and only
        changed rows and the "When" column are updated: a reset on every refresh
        repainted and re-laid out the whole table (and dropped the selection)."""
        old_seqs = [d.seq for d in self._rows]
        new_seqs = [d.seq for d in rows]
        top = new_seqs.index(old_seqs[0]) if old_seqs and old_seqs[0] in new_seqs else -1
        kept = len(new_seqs) - top if top >= 0 else 0
        if top < 0 or new_seqs[top:] != old_seqs[:kept]:
            self._clear()
            self._insert(0, rows)
            return
        self._remove(kept, len(self._rows) - kept)  # the oldest fell off the end
        self._insert(0, rows[:top])
        for i in range(top, len(rows)):
            if rows[i] != self._rows[i]:
                self._replace(i, rows[i])
        self.retime()  # "12 s ago" moves on

    def _own_cell(self, d: Delivery, column: str) -> Cell:
        return {DISPLAY: ago(d.created_at), SORT: d.seq}  # "When"
