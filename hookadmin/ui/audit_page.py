"""The Audit tab: who did what, when and from where (the audit log), filtered by time
and hook, newest first, with a check of its hash chain."""

from __future__ import annotations

import time

from PySide6.QtCore import Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import audit
from hookadmin.core.errors import HookadminError
from hookadmin.core.service import HookService
from hookadmin.core.store import iso

MAX_ROWS = 2000
"""Entries shown at most (the newest); `hookadmin audit` lists them all."""
PERIODS: tuple[tuple[str, float | None], ...] = (
    ("Last 24 hours", 86400.0), ("Last 7 days", 7 * 86400.0),
    ("Last 30 days", 30 * 86400.0), ("Everything", None))
COLUMNS = ("Time (UTC)", "Who", "From", "Action", "Hook", "Details")


class AuditPage(QWidget):
    """The audit log as a table with a period and a hook filter; re-read each time the
    tab is shown or a filter changes. ``Verify`` checks the hash chain.

    Args:
        service: the service (its store's audit log, and the hooks for the filter).
    """

    def __init__(self, service: HookService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditPage")
        self._service = service
        self.period = QComboBox()
        self.period.setObjectName("auditPeriod")
        self.period.setAccessibleName("Period")
        for label, seconds in PERIODS:
            self.period.addItem(label, seconds)
        self.period.setCurrentIndex(1)
        self._hook_names: dict[int, str] | None = None  # by id, as the filter names them
        self.hook = QComboBox()
        self.hook.setObjectName("auditHook")
        self.hook.setAccessibleName("Hook")
        self.hook.setSizeAdjustPolicy(  # a long hook name must not widen the window
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.hook.setMinimumContentsLength(18)
        self.verify_button = QPushButton("&Verify log")
        self.verify_button.setObjectName("auditVerify")
        self.verify_button.setToolTip("Check that no entry was changed or removed")
        self.status = QLabel()
        self.status.setObjectName("auditStatus")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("auditTable")
        self.table.setAccessibleName("Audit log entries, newest first")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        bar = QHBoxLayout()
        period_label = QLabel("&Period")
        period_label.setBuddy(self.period)
        bar.addWidget(period_label)
        bar.addWidget(self.period)
        hook_label = QLabel("&Hook")
        hook_label.setBuddy(self.hook)
        bar.addWidget(hook_label)
        bar.addWidget(self.hook)
        bar.addStretch(1)
        bar.addWidget(self.status)
        bar.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.period.currentIndexChanged.connect(self.refresh)
        self.hook.currentIndexChanged.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify)
        self._fill_hooks()

    def showEvent(self, event: QShowEvent) -> None:
        """Re-read the log whenever the tab is shown."""
        super().showEvent(event)
        self._fill_hooks()
        self.refresh()

    def _fill_hooks(self) -> None:
        current = self.hook.currentData()
        self.hook.blockSignals(True)
        self.hook.clear()
        self.hook.addItem("All hooks", None)
        try:
            hooks = self._service.hooks()
        except HookadminError:
            hooks = None
        self._hook_names = None if hooks is None else {
            h.id: f"{h.id}: {h.display_name}" for h in hooks}
        for h in hooks or []:
            self.hook.addItem(f"{h.id}: {h.display_name}", h.id)
        index = self.hook.findData(current)
        self.hook.setCurrentIndex(max(0, index))
        self.hook.blockSignals(False)

    @Slot()
    def refresh(self) -> None:
        """Read the entries matching the filters, newest first."""
        seconds = self.period.currentData()
        since = None if seconds is None else time.time() - float(seconds)
        try:
            entries = self._service.store.list_audit(since=since,
                                                     hook_id=self.hook.currentData())
        except HookadminError as err:
            self.status.setText(str(err))
            return
        shown = entries[-MAX_ROWS:][::-1]
        self.table.setRowCount(len(shown))
        for row, e in enumerate(shown):
            who = f"{e.user}@{e.host}" + (f" ({e.role})" if e.role else "")
            values = (iso(e.at) or "", who, e.origin, e.action, self._hook_name(e.hook_id),
                      audit.describe(e.details))
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        more = f" (newest {MAX_ROWS} shown)" if len(entries) > MAX_ROWS else ""
        self.status.setText(f"{len(entries)} entries{more}")

    def _hook_name(self, hook_id: int | None) -> str:
        """The Hook column's text: "7: ops" as in the filter, "7 (deleted)" for a hook
        no longer there, the bare id when the hooks could not be read, "" for none."""
        if hook_id is None:
            return ""
        if self._hook_names is None:
            return str(hook_id)
        return self._hook_names.get(hook_id, f"{hook_id} (deleted)")

    @Slot()
    def verify(self) -> audit.ChainReport:
        """Check the hash chain and say what was found."""
        report = audit.verify(self._service.store)
        if report.ok:
            self.status.setText(f"The log is intact: {report.checked} entries checked.")
        else:
            self.status.setText(f"The log was tampered with: {report.problem}")
        return report

