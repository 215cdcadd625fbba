"""Qt models: thin adapters over the service layer's plain data."""

from __future__ import annotations

import time
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
from PySide6.QtGui import QBrush, QColor

from hookadmin.core import events as catalog
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Delivery

_Index = QModelIndex | QPersistentModelIndex
GREEN, RED, AMBER = QColor("#2e7d32"), QColor("#c62828"), QColor("#a15c00")


class Roles(IntEnum):
    """Custom item data roles."""

    HOOK_ID = Qt.ItemDataRole.UserRole + 1
    DELIVERY_ID = Qt.ItemDataRole.UserRole + 2


def events_summary(events: tuple[str, ...]) -> str:
    """"All Job Notifications, Cluster Error" style summary of a subscription."""
    labels = {g.id: g.label for g in catalog.GROUPS}
    return ", ".join(labels[item] if item in labels else catalog.event_type(item).label
                     for item in events)


def ago(ts: float, now: float | None = None) -> str:
    """"12 s ago", "5 min ago", "3 h ago", or a date."""
    delta = (time.time() if now is None else now) - ts
    if delta < 60:
        return f"{max(0, int(delta))} s ago"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def delivery_result(d: Delivery) -> str:
    """A short result text: "200 OK", "500", "timeout", "pending"."""
    if d.attempts == 0:
        return "queued"
    code = str(d.last_status_code) if d.last_status_code is not None else d.last_error_kind or "?"
    if d.status == "succeeded":
        return f"✓ {code}"
    if d.status == "pending":
        return f"retrying ({code})"
    return f"✗ {code}"


def status_brush(status: str) -> QBrush:
    """Green for succeeded, red for failed, amber for pending."""
    return QBrush({"succeeded": GREEN, "failed": RED}.get(status, AMBER))


class TableModel(QAbstractTableModel):
    """A flat table with fixed ``COLUMNS`` headers (subclasses give ``_row_count``)
    that answers a painted cell's roles in one call into Python.

    Qt asks a cell for about seven roles at once (``multiData``); the default answer
    calls :meth:`data` once per role, each a call from C++ into Python that may wait
    for the GIL while the engine thread delivers. One call per cell keeps a repaint
    short.
    """

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData,
                  ) -> None:
        if isinstance(roleDataSpan, QModelRoleData):
            roleDataSpan.setData(self.data(index, roleDataSpan.role()))
            return
        for i in range(roleDataSpan.size()):
            # __getitem__ exists at run time; PySide6's stubs leave it out.
            item: QModelRoleData = roleDataSpan[i]  # type: ignore[index]
            item.setData(self.data(index, item.role()))

    COLUMNS: tuple[str, ...] = ()

    def _row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._row_count()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


class HooksModel(TableModel):
    """The hooks table: Hook (name and URL), Events, Active, Last delivery."""

    COLUMNS = ("Hook", "Events", "Active", "Last delivery")

    LAST = 3  # the "Last delivery" column

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._hooks: list[Hook] = []
        self._last: dict[int, Delivery] = {}
        self._last_texts: list[str] = []

    def set_data(self, hooks: list[Hook], last: dict[int, Delivery]) -> None:
        """Replace the rows. When the same hooks are listed, the rows are updated in
        place: ``dataChanged`` covers only the rows whose hook or last delivery changed,
        and the "Last delivery" cells whose text moved on ("12 s ago"). A reset would drop
        the selection, and a change over every cell made the table measure every cell
        again on each 2 s refresh."""
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
            return
        self.beginResetModel()
        self._hooks = list(hooks)
        self._last = dict(last)
        self._last_texts = [self._last_text(h) for h in self._hooks]
        self.endResetModel()

    def _last_text(self, hook: Hook) -> str:
        last = self._last.get(hook.id)
        return "never" if last is None else f"{delivery_result(last)} · {ago(last.updated_at)}"

    def hook_at(self, row: int) -> Hook:
        """The hook shown in ``row``."""
        return self._hooks[row]

    def row_of(self, hook_id: int) -> int:
        """The row of a hook, or -1."""
        return next((i for i, h in enumerate(self._hooks) if h.id == hook_id), -1)

    def _row_count(self) -> int:
        return len(self._hooks)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hooks):
            return None
        hook = self._hooks[index.row()]
        col = index.column()
        last = self._last.get(hook.id)
        if role == Roles.HOOK_ID:
            return hook.id
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{hook.display_name}\n{hook.url}" if hook.name else hook.url
            if col == 1:
                return events_summary(hook.events)
            if col == 2:
                return "Active" if hook.active else "Inactive"
            if col == self.LAST:
                return self._last_text(hook)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 2 and hook.deactivated_reason:
                return hook.deactivated_reason
            if col == 0:
                return hook.url
            if col == 1:
                return events_summary(hook.events)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2:
                return status_brush("succeeded" if hook.active else "failed")
            if col == 3 and last is not None:
                return status_brush(last.status)
        return None


class DeliveriesModel(TableModel):
    """Recent deliveries, newest first: Event, Result, Attempts, Duration, When, Id."""

    COLUMNS = ("Event", "Result", "Attempts", "Duration", "When", "Delivery")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Delivery] = []

    def set_rows(self, rows: list[Delivery]) -> None:
        """Replace the rows. When the same deliveries are listed, only the changed rows
        and the "When" column are updated: a reset on every refresh repainted the whole
        table (and dropped the selection) even when nothing had changed."""
        if self._rows and [d.seq for d in rows] == [d.seq for d in self._rows]:
            changed = [i for i, (new, old) in enumerate(zip(rows, self._rows, strict=True))
                       if new != old]
            self._rows = list(rows)
            if changed:
                self.dataChanged.emit(self.index(changed[0], 0),
                                      self.index(changed[-1], len(self.COLUMNS) - 1))
            when = self.COLUMNS.index("When")  # "12 s ago" moves on
            self.dataChanged.emit(self.index(0, when), self.index(len(self._rows) - 1, when))
            return
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def delivery_at(self, row: int) -> Delivery:
        """The delivery shown in ``row``."""
        return self._rows[row]

    def _row_count(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        d = self._rows[index.row()]
        col = index.column()
        if role == Roles.DELIVERY_ID:
            return d.id
        if role == Qt.ItemDataRole.DisplayRole:  # only the asked-for cell: called a lot
            if col == 0:
                return d.event_type
            if col == 1:
                return delivery_result(d)
            if col == 2:
                return str(d.attempts)
            if col == 3:
                return "-" if d.last_duration_ms is None else f"{d.last_duration_ms:.0f} ms"
            if col == 4:
                return ago(d.created_at)
            return d.id
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return status_brush(d.status)
        return None
