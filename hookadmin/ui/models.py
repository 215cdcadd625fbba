"""Qt models: thin adapters over the service layer's plain data (the hooks table, a
hook's recent deliveries and the Deliveries tab), with the delegates that draw their
cells; their texts and colours come from :mod:`hookadmin.ui.display`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from hookadmin.core.hooks import Hook
from hookadmin.core.ordering import waits_in_order
from hookadmin.core.store import Delivery, HookHealth
from hookadmin.ui.display import (
    ago,
    delivery_result,
    events_summary,
    health_summary,
    health_text,
    sparkline,
    status_brush,
)
from hookadmin.ui.url_elision import elide_url

_Index = QModelIndex | QPersistentModelIndex


class Roles(IntEnum):
    """Custom item data roles."""

    HOOK_ID = Qt.ItemDataRole.UserRole + 1
    DELIVERY_ID = Qt.ItemDataRole.UserRole + 2


class ElideEndDelegate(QStyledItemDelegate):
    """Draws its column's text elided at the end ("Job Notifications, Clus…") whatever
    the view's elide mode: for lists, whose start matters most."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight


class HookCellDelegate(QStyledItemDelegate):
    """Draws the hooks list's Hook cell ("name" over "URL") with the name elided at its
    end (its start names the hook) and the URL in its path, so its host stays in sight
    (:func:`~hookadmin.ui.url_elision.elide_url`), each to the cell's width; the whole
    URL is the cell's tooltip."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:
        super().initStyleOption(option, index)
        lines = option.text.replace("\u2028", "\n").split("\n")
        if option.rect.width() <= 0:
            return
        metrics = option.fontMetrics
        width = option.rect.width() - 8  # the view's text margins on both sides
        url = elide_url(lines[-1], metrics, width)  # a hook without a name: its URL only
        names = [metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)
                 for line in lines[:-1]]
        option.text = "\u2028".join([*names, url])


DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)


class TableModel(QAbstractTableModel):
    """A flat table with fixed ``COLUMNS`` headers; subclasses give ``_row_count`` and
    ``_cell``, every role a cell answers in one mapping.

    Qt asks a painted cell for about seven roles at once (``multiData``). Answering
    them from one ``_cell`` call, and leaving unanswered roles unset, keeps the calls
    between C++ and Python per cell few: a repaint of a page of rows is mostly those.
    """

    def _cell(self, row: int, col: int) -> dict[int, Any]:
        """``{role: value}`` of a cell (roles without a value left out); ``row`` and
        ``col`` are valid."""
        raise NotImplementedError

    def data(self, index: _Index, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._row_count():
            return None
        return self._cell(index.row(), index.column()).get(int(role))

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData,
                  ) -> None:
        if isinstance(roleDataSpan, QModelRoleData):
            roleDataSpan.setData(self.data(index, roleDataSpan.role()))
            return
        row = index.row()
        if not index.isValid() or not 0 <= row < self._row_count():
            return
        values = self._cell(row, index.column())
        for i in range(roleDataSpan.size()):
            # __getitem__ exists at run time; PySide6's stubs leave it out.
            item: QModelRoleData = roleDataSpan[i]  # type: ignore[index]
            # The delegate reuses one span for every cell it paints: a role this cell
            # does not answer must be cleared, or the previous cell's colour bleeds in.
            item.setData(values.get(item.role()))

    COLUMNS: tuple[str, ...] = ()

    def _row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._row_count()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role in (
                Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.COLUMNS[section]  # the tooltip: the whole name of a narrow column
        return None


class HooksModel(TableModel):
    """The hooks table: Hook (name and URL), Events, Active, Last delivery, Health (the
    24 h success rate with an hourly attempts sparkline)."""

    COLUMNS = ("Hook", "Events", "Active", "Last delivery", "Health (24 h)")

    EVENTS = 1  # the "Events" column
    ACTIVE = 2  # the "Active" column
    LAST = 3  # the "Last delivery" column
    HEALTH = 4  # the "Health (24 h)" column
    SPARK = (36, 14)  # the sparkline's width and height, pixels
    HEALTH_SECONDS = 30.0  # health is read again after this long (it moves slowly)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._hooks: list[Hook] = []
        self._last: dict[int, Delivery] = {}
        self._last_texts: list[str] = []
        self._health: dict[int, HookHealth] = {}
        self._health_read = -1e9  # time.monotonic() of the last health given
        self._sparks: dict[int, tuple[HookHealth, QPixmap]] = {}

    def health_due(self) -> bool:
        """True when the health should be read again: :data:`HEALTH_SECONDS` have passed
        since the last, or a hook has none yet. Reading it takes 15-20 ms with 20 busy
        hooks, too much for every 2 s refresh."""
        return (time.monotonic() - self._health_read > self.HEALTH_SECONDS
                or any(h.id not in self._health or self._contradicted(h.id)
                       for h in self._hooks))

    def _contradicted(self, hook_id: int) -> bool:
        """True when the hook's last delivery is an outcome its health does not count
        (a success with no success counted, a failure with no failure counted): the
        health was read before that attempt, and "never succeeded" or "100 %" beside
        "✓ 200" or "✗ 500" must not stay on screen until the next 30 s read."""
        last, health = self._last.get(hook_id), self._health.get(hook_id)
        if last is None or health is None or last.attempts == 0:
            return False
        if time.time() - last.updated_at >= len(health.hourly) * 3600:
            return False  # older than the health's window: it rightly does not count it
        if last.status == "succeeded":
            return health.succeeded == 0
        return health.failed == 0

    def set_data(self, hooks: list[Hook], last: dict[int, Delivery],
                 health: dict[int, HookHealth] | None = None) -> None:
        """Replace the rows (``health`` by hook id, from ``hook_health``; None keeps
        the last). When the same hooks are listed, the rows are updated in
        place: ``dataChanged`` covers only the rows whose hook or last delivery changed,
        and the "Last delivery" cells whose text moved on ("12 s ago"). A reset would drop
        the selection, and a change over every cell made the table measure every cell
        again on each 2 s refresh."""
        old_health = self._health
        if health is not None:
            self._health = dict(health)
            self._health_read = time.monotonic()
        if self._hooks and [h.id for h in hooks] == [h.id for h in self._hooks]:
            changed = [i for i, (new, old) in enumerate(zip(hooks, self._hooks, strict=True))
                       if new != old or last.get(new.id) != self._last.get(new.id)]
            self._hooks, self._last = list(hooks), dict(last)
            texts = [self._last_text(h) for h in self._hooks]
            moved = [i for i, (new_text, old_text) in enumerate(
                zip(texts, self._last_texts, strict=True)) if new_text != old_text]
            self._last_texts = texts
            if changed:
                self.dataChanged.emit(self.index(changed[0], 0),
                                      self.index(changed[-1], len(self.COLUMNS) - 1))
            moved = [i for i in moved if not changed or not changed[0] <= i <= changed[-1]]
            if moved:
                self.dataChanged.emit(self.index(moved[0], self.LAST),
                                      self.index(moved[-1], self.LAST))
            healthier = [i for i, h in enumerate(self._hooks)
                         if old_health.get(h.id) != self._health.get(h.id)]
            if healthier:
                self.dataChanged.emit(self.index(healthier[0], self.HEALTH),
                                      self.index(healthier[-1], self.HEALTH))
            return
        self.beginResetModel()
        self._hooks = list(hooks)
        self._last = dict(last)
        self._last_texts = [self._last_text(h) for h in self._hooks]
        self.endResetModel()

    def health_of(self, hook_id: int) -> HookHealth | None:
        """The last health given for a hook, or None."""
        return self._health.get(hook_id)

    def _last_text(self, hook: Hook) -> str:
        last = self._last.get(hook.id)
        # Two lines, as the Hook column's name and URL: one line made the column wide
        # enough to squeeze the hook's name to a few letters.
        return "never" if last is None else f"{delivery_result(last)}\n{ago(last.updated_at)}"

    def hook_at(self, row: int) -> Hook:
        """The hook shown in ``row``."""
        return self._hooks[row]

    def row_of(self, hook_id: int) -> int:
        """The row of a hook, or -1."""
        return next((i for i, h in enumerate(self._hooks) if h.id == hook_id), -1)

    def _row_count(self) -> int:
        return len(self._hooks)

    def _spark(self, hook_id: int, health: HookHealth) -> QPixmap:
        """The hook's sparkline, drawn again only when its health changed."""
        cached = self._sparks.get(hook_id)
        if cached is None or cached[0] != health:
            cached = self._sparks[hook_id] = (health, sparkline(health.hourly, *self.SPARK))
        return cached[1]

    def _cell(self, row: int, col: int) -> dict[int, Any]:
        hook = self._hooks[row]
        out: dict[int, Any] = {Roles.HOOK_ID: hook.id}
        if col == 0:
            out[DISPLAY] = f"{hook.display_name}\n{hook.url}" if hook.name else hook.url
            out[TOOLTIP] = hook.url
        elif col == 1:
            out[DISPLAY] = out[TOOLTIP] = events_summary(hook.events)
        elif col == 2:
            out[DISPLAY] = "Active" if hook.active else "Inactive"
            if hook.deactivated_reason:
                out[TOOLTIP] = hook.deactivated_reason
            # Switched off by hand is a choice (grey); by the engine, a failure (red).
            out[FOREGROUND] = status_brush("succeeded" if hook.active else
                                           "failed" if hook.deactivated_reason else "inactive")
        elif col == self.LAST:
            out[DISPLAY] = self._last_text(hook)
            last = self._last.get(hook.id)
            if last is not None:
                out[FOREGROUND] = status_brush(last.status)
        elif col == self.HEALTH:
            health = self._health.get(hook.id)
            if health is not None:
                out[DISPLAY] = health_text(health)
                out[TOOLTIP] = health_summary(health)
                out[DECORATION] = self._spark(hook.id, health)
                rate = health.success_rate
                if health.failing_since is not None or (rate is not None and rate < 0.9):
                    out[FOREGROUND] = status_brush("failed")
                elif rate is not None and rate < 0.99:
                    out[FOREGROUND] = status_brush("pending")
        return out


class DeliveryRowsModel(TableModel):
    """A table of deliveries, one per row (the hook page's and the Deliveries tab's)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Delivery] = []
        self._heads: dict[int, int] = {}

    def delivery_at(self, row: int) -> Delivery:
        """The delivery shown in ``row``."""
        return self._rows[row]

    def set_order_heads(self, heads: Mapping[int, int]) -> None:
        """Each ordered hook's oldest pending delivery's ``seq`` by hook id: the later
        pending ones show "waits in order" (see :func:`waits_in_order`)."""
        if dict(heads) != self._heads:
            self._heads = dict(heads)
            if self._rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1,
                                                                   len(self.COLUMNS) - 1))

    def waits_in_order(self, d: Delivery) -> bool:
        """True when ``d`` is pending behind an earlier delivery of its ordered hook."""
        return waits_in_order(d, self._heads)

    def _row_count(self) -> int:
        return len(self._rows)

    def _cell(self, row: int, col: int) -> dict[int, Any]:
        """The columns both tables have, by name; the others from :meth:`_own_cell`."""
        d = self._rows[row]
        name = self.COLUMNS[col]
        if name == "Result":
            if self.waits_in_order(d):
                return {DISPLAY: "waits in order", FOREGROUND: status_brush(d.status),
                        TOOLTIP: "This ordered hook sends one delivery at a time: this one "
                                 "waits until the earlier ones have succeeded or failed",
                        Roles.DELIVERY_ID: d.id}
            return {DISPLAY: delivery_result(d), FOREGROUND: status_brush(d.status),
                    Roles.DELIVERY_ID: d.id}
        if name == "Event":
            text = d.event_type
        elif name == "Attempts":
            text = str(d.attempts)
        elif name == "Duration":
            text = "-" if d.last_duration_ms is None else f"{d.last_duration_ms:.0f} ms"
        elif name == "Delivery":
            text = d.id
        else:
            return self._own_cell(d, name)
        return {DISPLAY: text, Roles.DELIVERY_ID: d.id}

    def _own_cell(self, d: Delivery, column: str) -> dict[int, Any]:
        """A column only this table has."""
        raise NotImplementedError(column)


class DeliveriesModel(DeliveryRowsModel):
    """Recent deliveries, newest first: Event, Result, Attempts, Duration, When, Id."""

    COLUMNS = ("Event", "Result", "Attempts", "Duration", "When", "Delivery")

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
            self.beginResetModel()
            self._rows = list(rows)
            self.endResetModel()
            return
        if kept < len(self._rows):  # the oldest fell off the end
            self.beginRemoveRows(QModelIndex(), kept, len(self._rows) - 1)
            del self._rows[kept:]
            self.endRemoveRows()
        if top:
            self.beginInsertRows(QModelIndex(), 0, top - 1)
            self._rows[0:0] = rows[:top]
            self.endInsertRows()
        changed = [i for i in range(top, len(rows)) if rows[i] != self._rows[i]]
        self._rows = list(rows)
        if changed:
            self.dataChanged.emit(self.index(changed[0], 0),
                                  self.index(changed[-1], len(self.COLUMNS) - 1))
        if self._rows:
            when = self.COLUMNS.index("When")  # "12 s ago" moves on
            self.dataChanged.emit(self.index(0, when), self.index(len(self._rows) - 1, when))

    def _own_cell(self, d: Delivery, column: str) -> dict[int, Any]:
        return {DISPLAY: ago(d.created_at), Roles.DELIVERY_ID: d.id}  # "When"
