"""The response viewer of a ping: status, duration, response headers and body, and the
request that was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hookadmin.ui.sizing import fit_dialog

if TYPE_CHECKING:  # the HTTP stack is imported only when a ping is sent
    from hookadmin.delivery.ping import PingResult

ERROR_TITLES = {
    "timeout": "no answer in time",
    "dns": "host name not found",
    "connect": "connection refused or dropped",
    "tls": "TLS certificate or handshake problem",
    "redirect": "redirect (not followed)",
    "protocol": "invalid HTTP answer",
    "policy": "address refused by the network policy",
    "secret_unavailable": "secret unavailable",
}


def raw_body(body: bytes) -> str:
    """The body as received, decoded as UTF-8 (undecodable bytes replaced)."""
    return body.decode("utf-8", "replace")


def pretty_body(body: bytes) -> str:
    """The body as text: indented when it is JSON, else decoded as UTF-8 (replacing
    undecodable bytes)."""
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def headers_table(pairs: list[tuple[str, str]], name: str) -> QTableWidget:
    """A read-only two-column table (Header, Value) of ``pairs``, named ``name``."""
    table = QTableWidget(len(pairs), 2)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(["Header", "Value"])
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, (k, v) in enumerate(pairs):
        table.setItem(row, 0, QTableWidgetItem(k))
        table.setItem(row, 1, QTableWidgetItem(v))
    return table


def text_view(text: str, name: str) -> QPlainTextEdit:
    """A read-only monospaced text view of ``text``, named ``name``."""
    view = QPlainTextEdit(text)
    view.setObjectName(name)
    view.setReadOnly(True)
    view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return view


class PingViewer(QDialog):
    """Shows "Sending ping…" until :meth:`show_result` or :meth:`show_failure`."""

    def __init__(self, hook_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pingViewer")
        self.setWindowTitle(f"Ping {hook_label}")
        self.status_label = QLabel("Sending ping…")
        self.status_label.setObjectName("pingStatus")
        font = QFont(self.status_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.status_label.setFont(font)
        self.detail_label = QLabel()
        self.detail_label.setObjectName("pingDetail")
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pingTabs")
        self.tabs.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.cancel_button = buttons.addButton("Cancel ping",
                                               QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setObjectName("cancelPing")
        self.cancel_button.clicked.connect(self._on_cancel)
        self.pretty_box = QCheckBox("Pretty-print JSON bodies")
        self.pretty_box.setObjectName("prettyJson")
        self.pretty_box.setChecked(True)
        self.pretty_box.toggled.connect(self._on_pretty_toggled)
        self.on_cancel: Callable[[], None] | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.pretty_box)
        layout.addWidget(buttons)
        fit_dialog(self, 760, 560)
        self.ping_result: PingResult | None = None

    @Slot()
    def _on_cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling…")
        if self.on_cancel is not None:
            self.on_cancel()

    @Slot(bool)
    def _on_pretty_toggled(self, pretty: bool) -> None:
        result = self.ping_result
        if result is None:
            return
        show = pretty_body if pretty else raw_body
        for name, body in (("responseBody", result.attempt.response_body or b""),
                           ("requestBody", result.body)):
            view = self.findChild(QPlainTextEdit, name)
            if view is not None:
                view.setPlainText(show(body))

    def show_result(self, result: PingResult) -> None:
        """Fill the viewer with a finished ping."""
        self.ping_result = result
        self.cancel_button.hide()
        a = result.attempt
        if a.status_code is not None:
            verdict = "Delivered" if a.succeeded else "Failed"
            self.status_label.setText(f"{verdict}: HTTP {a.status_code}")
        else:
            self.status_label.setText(f"Failed: {ERROR_TITLES.get(a.error_kind or '', 'error')}")
        color = "#2e7d32" if a.succeeded else "#c62828"
        self.status_label.setStyleSheet(f"color: {color};")
        took = "Answered" if a.status_code is not None else "Gave up"
        detail = f"{took} after {a.duration_ms or 0:.0f} ms · delivery {result.delivery_id}"
        if a.error_message:
            detail = f"{a.error_message}\n{detail}"
        self.detail_label.setText(detail)

        self.tabs.clear()
        response = QWidget()
        rlayout = QVBoxLayout(response)
        answered = [QLabel("Headers"), headers_table(a.response_headers or [], "responseHeaders"),
                    QLabel("Body" + (" (truncated)" if a.response_truncated else ""))]
        show = pretty_body if self.pretty_box.isChecked() else raw_body
        answered.append(text_view(show(a.response_body or b""), "responseBody"))
        for widget, stretch in zip(answered, (0, 1, 0, 2), strict=True):
            rlayout.addWidget(widget, stretch)
            widget.setVisible(a.status_code is not None)
        if a.status_code is None:  # say so instead of an empty table and body
            nothing = QLabel(f"No response: {a.error_message or 'the receiver did not answer.'}")
            nothing.setObjectName("noResponse")
            nothing.setWordWrap(True)
            nothing.setAlignment(Qt.AlignmentFlag.AlignCenter)
            rlayout.addWidget(nothing, 1)
        self.tabs.addTab(response, "Response")

        request = QWidget()
        qlayout = QVBoxLayout(request)
        qlayout.addWidget(QLabel(f"POST {a.request_url}"))
        qlayout.addWidget(headers_table(list(a.request_headers.items()), "requestHeaders"), 1)
        qlayout.addWidget(QLabel("Body"))
        qlayout.addWidget(text_view(show(result.body), "requestBody"), 2)
        self.tabs.addTab(request, "Request")
        self.tabs.setEnabled(True)

    def show_failure(self, message: str) -> None:
        """Nothing was sent (or the wait was cancelled): say why."""
        self.cancel_button.hide()
        self.status_label.setText("Not sent")
        self.status_label.setStyleSheet("color: #c62828;")
        self.detail_label.setText(message)
