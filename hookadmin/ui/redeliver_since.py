"""The dialog of *Redeliver failed since…* on the Deliveries tab: from when failed
deliveries are sent again, and how many that is, counted on the window's reads lane."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Slot
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.errors import HookadminError
from hookadmin.core.store import Repository
from hookadmin.ui.background import Lane
from hookadmin.ui.tab_queries import FailedCountQuery


class RedeliverSinceDialog(QDialog):
    """Asks from when failed deliveries should be sent again, and says how many that
    is: counted on the window's reads lane (``FailedCountQuery``), never on the GUI
    thread; until the count for the time shown is back, Redeliver is disabled.

    Args:
        hook_label: "every hook" or the hook's label, for the dialog's note.
        hook_id: the hook whose failed deliveries are counted (None: every hook).
        reads: the window's reads lane.
        parent: the Qt parent.
    """

    def __init__(self, hook_label: str, hook_id: int | None, reads: Lane[Repository],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hook_id, self._reads = hook_id, reads
        self._asked: float | None = None  # the time of the newest count asked for
        self._closed = False
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
        self.finished.connect(self._on_finished)
        self.since_edit.dateTimeChanged.connect(self._on_since_changed)
        self._on_since_changed()

    @Slot()
    def _on_since_changed(self) -> None:
        """Count, on the reads lane, the deliveries the chosen time would send again."""
        since = self.since()
        self._asked = since
        self.count_label.setText("Counting failed deliveries…")
        self.ok_button.setText("Redeliver")
        self.ok_button.setEnabled(False)
        self._reads.submit(FailedCountQuery(since, self._hook_id).run,
                           lambda n: self._show_count(since, n), self._count_failed)

    def _show_count(self, since: float, n: int) -> None:
        if self._closed or since != self._asked:
            return  # the dialog is gone, or a newer time was chosen meanwhile
        self.count_label.setText(
            "No failed deliveries since then." if n == 0 else
            f"{n:,} failed deliver{'y' if n == 1 else 'ies'} will be sent again.")
        self.ok_button.setText("Redeliver" if n == 0 else f"Redeliver {n:,}")
        self.ok_button.setEnabled(n > 0)

    def _count_failed(self, err: HookadminError) -> None:
        if not self._closed:
            self.count_label.setText(str(err))

    @Slot()
    def _on_finished(self) -> None:
        self._closed = True

    def since(self) -> float:
        """The chosen time, Unix seconds."""
        return self.since_edit.dateTime().toSecsSinceEpoch()
