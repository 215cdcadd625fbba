"""The tables of deliveries (a hook page's recent deliveries, the Deliveries tab) as
Qt's own :class:`QStandardItemModel`, filled when rows arrive or change, so that a
repaint reads every cell in C++ and never enters Python.

A Python model answered each painted cell through three calls into Python (``index``
asks ``rowCount`` and ``columnCount``, then ``multiData``): some 600 per repaint of
the Deliveries tab, each one waiting for the GIL while the window's engine thread held
it (docs/decisions.md). Here a row's cells are built once, when the row is added or
its delivery changed; the texts that move on with the clock ("12 s ago", "due now")
are set again by :meth:`DeliveryRowsModel.retime` for the rows a refresh covers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from hookadmin.core.ordering import waits_in_order
from hookadmin.core.store import Delivery
from hookadmin.ui.models import DISPLAY, FOREGROUND, TOOLTIP, ago, delivery_result, status_brush

Cell = dict[int, object]  # {role: value} of one cell; roles without a value left out
CELL_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled  # not editable
SORT = int(Qt.ItemDataRole.UserRole) + 10  # a cell's sort key (str, int or float)


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
    step.

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
        self._cells: list[tuple[Cell, ...]] = []
        self._heads: dict[int, int] = {}

    def delivery_at(self, row: int) -> Delivery:
        """The delivery shown in ``row`` (0-based; IndexError past the end)."""
        return self._rows[row]

    def set_order_heads(self, heads: Mapping[int, int]) -> None:
        """Each ordered hook's oldest pending delivery's ``seq`` by hook id: the later
        pending ones show "waits in order" (see :func:`waits_in_order`)."""
        if dict(heads) != self._heads:
            self._heads = dict(heads)
            self._update(i for i, d in enumerate(self._rows) if d.status == "pending")

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
        """Insert rows for ``deliveries`` before row ``pos``: one ``rowsInserted``,
        then the items, then one ``dataChanged`` over them."""
        if not deliveries:
            return
        cells = [self._row_cells(d) for d in deliveries]
        self._rows[pos:pos] = deliveries
        self._cells[pos:pos] = cells
        self.insertRows(pos, len(deliveries))
        blocked = self.blockSignals(True)  # one dataChanged below, not one per item
        try:
            for offset, row in enumerate(cells):
                for col, cell in enumerate(row):
                    self.setItem(pos + offset, col, make_item(cell))
        finally:
            self.blockSignals(blocked)
        self.dataChanged.emit(self.index(pos, 0),
                              self.index(pos + len(deliveries) - 1, len(self.COLUMNS) - 1))

    def _remove(self, first: int, count: int) -> None:
        """Remove ``count`` rows from row ``first``."""
        if count > 0:
            del self._rows[first:first + count]
            del self._cells[first:first + count]
            self.removeRows(first, count)

    def _clear(self) -> None:
        """Remove every row."""
        self._rows, self._cells = [], []
        self.setRowCount(0)

    def _replace(self, row: int, d: Delivery) -> None:
        """Show ``d`` in ``row`` (its delivery changed); only changed cells are set."""
        self._rows[row] = d
        self._update((row,))

    def _update(self, rows: Iterable[int]) -> None:
        """Build the cells of ``rows`` again and set those that changed."""
        for row in rows:
            new, old = self._row_cells(self._rows[row]), self._cells[row]
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
            cell, cells = self._cell(self._rows[row], name), self._cells[row]
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
