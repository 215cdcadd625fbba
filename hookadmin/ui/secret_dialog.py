"""The Reveal dialog: a hook's secret, its Standard Webhooks form and Copy buttons."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.signing import standard_webhooks_secret

CLIPBOARD_CLEAR_MS = 30_000


class SecretDialog(QDialog):
    """Shows a secret once asked for. Copy puts it on the clipboard and clears the
    clipboard after 30 s if it still holds the secret; ``copied`` is emitted then (for
    the audit log)."""

    copied = Signal()

    def __init__(self, hook_label: str, secret: str, parent: QWidget | None = None, *,
                 note: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Secret of {hook_label}")
        self.setObjectName("secretDialog")
        self._copied: str | None = None
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        intro = QLabel(note or "Receivers use this secret to check the X-Hook-Signature header "
                       "(HMAC-SHA256 of the raw body, hex). Keep it private.")
        intro.setWordWrap(True)
        self.secret_edit = QLineEdit(secret)
        self.secret_edit.setObjectName("secret")
        self.secret_edit.setReadOnly(True)
        self.secret_edit.setFont(mono)
        self.secret_edit.setAccessibleName("Secret")
        self.secret_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("0" * 70))
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setObjectName("copySecret")
        self.whsec_edit = QLineEdit(standard_webhooks_secret(secret))
        self.whsec_edit.setObjectName("whsec")
        self.whsec_edit.setReadOnly(True)
        self.whsec_edit.setFont(mono)
        self.whsec_edit.setAccessibleName("Standard Webhooks secret")
        for edit in (self.secret_edit, self.whsec_edit):
            edit.setCursorPosition(0)  # open at the start ("whsec_…"), not scrolled to the end
        self.copy_whsec_button = QPushButton("Copy")
        self.copy_whsec_button.setObjectName("copyWhsec")
        self.status = QLabel()
        self.status.setObjectName("copyStatus")

        grid = QGridLayout()
        grid.addWidget(QLabel("Secret"), 0, 0)
        grid.addWidget(self.secret_edit, 0, 1)
        grid.addWidget(self.copy_button, 0, 2)
        grid.addWidget(QLabel("Standard Webhooks"), 1, 0)
        grid.addWidget(self.whsec_edit, 1, 1)
        grid.addWidget(self.copy_whsec_button, 1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self.copy_button.clicked.connect(lambda: self._copy(self.secret_edit.text()))
        self.copy_whsec_button.clicked.connect(lambda: self._copy(self.whsec_edit.text()))
        self._clear_timer = QTimer(self)
        self._clear_timer.setSingleShot(True)
        self._clear_timer.setInterval(CLIPBOARD_CLEAR_MS)
        self._clear_timer.timeout.connect(self._on_clear_timeout)

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self._copied = text
        self.copied.emit()
        self.status.setText("Copied. The clipboard is cleared in 30 seconds.")
        self._clear_timer.start()

    @Slot()
    def _on_clear_timeout(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if self._copied is not None and clipboard.text() == self._copied:
            clipboard.clear()
            self.status.setText("Clipboard cleared.")
        self._copied = None

    def done(self, result: int) -> None:
        """Closing keeps the clear-clipboard promise: the timer is moved to the app."""
        if self._clear_timer.isActive() and self._copied is not None:
            copied = self._copied
            remaining = self._clear_timer.remainingTime()

            def clear_later() -> None:
                clipboard = QGuiApplication.clipboard()
                if clipboard.text() == copied:
                    clipboard.clear()

            app = QGuiApplication.instance()
            assert app is not None
            QTimer.singleShot(max(0, remaining), app, clear_later)
            self._clear_timer.stop()
        self.secret_edit.clear()
        self.whsec_edit.clear()
        super().done(result)
