"""The attempts of one delivery, structured like the ping viewer: a summary line, a
chooser of the attempt, and Response / Request tabs with header tables and the
pretty-printed body. Shared by the hook page and the Deliveries tab."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.store import Attempt, Delivery
from hookadmin.ui.display import delivery_result, local_time, status_color
from hookadmin.ui.ping_viewer import ERROR_TITLES, headers_table, pretty_body, text_view

PLACEHOLDER = "Select a delivery to see its attempts."


def attempt_result(a: Attempt) -> str:
    """"HTTP 500" for an answer, else what went wrong ("no answer in time")."""
    if a.status_code is not None:
        return f"HTTP {a.status_code}"
    return ERROR_TITLES.get(a.error_kind or "", a.error_kind or "error")


def delivery_state(d: Delivery, now: float | None = None) -> str:
    """The delivery's state in the words of the tables: "retrying (500) after 2
    attempts · next attempt 2026-12-04 18:40:00" (or "due now")."""
    n = d.attempts
    text = f"{delivery_result(d)} after {n} attempt{'s' if n != 1 else ''}" if n else "queued"
    if d.status == "pending" and d.next_attempt_at is not None:
        due = d.next_attempt_at <= (time.time() if now is None else now)
        text += " · next attempt " + ("due now" if due else local_time(d.next_attempt_at))
    return text


def describe_attempts(delivery: Delivery, attempts: list[Attempt], body: bytes) -> str:
    """A readable plain-text account of a delivery's attempts (request and response of
    each), local times throughout: what the structured view shows, for copying."""
    lines = [f"Delivery {delivery.id}", f"Event {delivery.event_type} · event id "
             f"{delivery.event_id}", f"Status {delivery_state(delivery)}", ""]
    for a in attempts:
        duration = "-" if a.duration_ms is None else f"{a.duration_ms:.0f} ms"
        lines.append(f"── Attempt {a.number} · {local_time(a.started_at)} · {attempt_result(a)}"
                     f" · {duration}")
        if a.error_message:
            lines.append(a.error_message)
        lines.append(f"POST {a.request_url}")
        lines += [f"{k}: {v}" for k, v in a.request_headers.items()]
        if a.request_body is not None:  # a Slack message, a PagerDuty event, an e-mail
            lines += ["", "Sent:", pretty_body(a.request_body)]
        if a.response_headers is not None:
            lines.append("")
            lines.append("Response headers:")
            lines += [f"{k}: {v}" for k, v in a.response_headers]
        if a.response_body:
            lines.append("")
            lines.append("Response body" + (" (truncated)" if a.response_truncated else "") + ":")
            lines.append(pretty_body(a.response_body))
        lines.append("")
    lines.append("Request body:")
    lines.append(pretty_body(body))
    return "\n".join(lines)


class AttemptView(QWidget):
    """One delivery's attempts. :meth:`show_delivery` fills it (and leaves it alone
    when nothing changed, so a refresh keeps the chosen attempt, tab and scroll
    position); :meth:`clear` empties it; :meth:`toPlainText` gives the whole account
    as text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown: tuple[Delivery, tuple[Attempt, ...], bytes] | None = None
        self._text = ""
        self.placeholder = QLabel(PLACEHOLDER)
        self.placeholder.setObjectName("attemptsPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.summary = QLabel()
        self.summary.setObjectName("deliverySummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chooser = QComboBox()
        self.chooser.setObjectName("attemptChooser")
        self.chooser.setAccessibleName("Attempt")
        self.outcome = QLabel()
        self.outcome.setObjectName("attemptOutcome")
        self.outcome.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("attemptTabs")
        self.no_response = QLabel()
        self.no_response.setObjectName("noResponse")
        self.no_response.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_response.setWordWrap(True)
        self.response_headers = headers_table([], "responseHeaders")
        self.response_headers.setAccessibleName("Response headers")
        self.response_body_label = QLabel("Body")
        self.response_body = text_view("", "responseBody")
        self.response_body.setAccessibleName("Response body")
        self.request_line = QLabel()
        self.request_line.setObjectName("requestLine")
        self.request_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.request_headers = headers_table([], "requestHeaders")
        self.request_headers.setAccessibleName("Request headers")
        self.request_body = text_view("", "requestBody")
        self.request_body.setAccessibleName("Request body")

        response = QWidget()
        answered = QWidget()
        alayout = QVBoxLayout(answered)
        alayout.setContentsMargins(0, 0, 0, 0)
        alayout.addWidget(QLabel("Headers"))
        alayout.addWidget(self.response_headers, 1)
        alayout.addWidget(self.response_body_label)
        alayout.addWidget(self.response_body, 2)
        self.response_stack = QStackedWidget()
        self.response_stack.addWidget(answered)
        self.response_stack.addWidget(self.no_response)
        rlayout = QVBoxLayout(response)
        rlayout.addWidget(self.response_stack)
        request = QWidget()
        qlayout = QVBoxLayout(request)
        qlayout.addWidget(self.request_line)
        qlayout.addWidget(self.request_headers, 1)
        qlayout.addWidget(QLabel("Body"))
        qlayout.addWidget(self.request_body, 2)
        self.tabs.addTab(response, "Response")
        self.tabs.addTab(request, "Request")

        self.details = QWidget()
        dlayout = QVBoxLayout(self.details)
        dlayout.setContentsMargins(0, 0, 0, 0)
        dlayout.addWidget(self.summary)
        dlayout.addWidget(self.chooser)
        dlayout.addWidget(self.outcome)
        dlayout.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.details)
        self._show_page(self.placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        # Room for three header rows and four lines of body under the summary: in a
        # short window the page scrolls rather than squeezing the attempt out of sight.
        for table in (self.response_headers, self.request_headers):
            table.setMinimumHeight(table.horizontalHeader().sizeHint().height()
                                   + 3 * table.verticalHeader().defaultSectionSize()
                                   + 2 * table.frameWidth() + 2)
        for body in (self.response_body, self.request_body):
            body.setMinimumHeight(4 * body.fontMetrics().lineSpacing()
                                  + 2 * body.frameWidth()
                                  + int(2 * body.document().documentMargin()) + 2)
        self.chooser.currentIndexChanged.connect(self._on_attempt_chosen)

    def toPlainText(self) -> str:
        """The whole account as plain text ("" when nothing is shown)."""
        return self._text

    def clear(self, message: str = PLACEHOLDER) -> None:
        """Show ``message`` (by default: select a delivery) instead of attempts."""
        self._shown = None
        self._text = ""
        self.placeholder.setText(message)
        self._show_page(self.placeholder)

    def show_delivery(self, delivery: Delivery, attempts: list[Attempt], body: bytes) -> None:
        """Show a delivery's attempts, the last one chosen (a refresh with the same
        data changes nothing on screen)."""
        shown = (delivery, tuple(attempts), body)
        if shown == self._shown:
            return
        same_delivery = self._shown is not None and self._shown[0].id == delivery.id
        chosen = self.chooser.currentIndex() if same_delivery else -1
        was_last = chosen == self.chooser.count() - 1
        self._shown = shown
        self._text = describe_attempts(delivery, attempts, body)
        self.summary.setText(f"Delivery {delivery.id} · {delivery.event_type} · event id "
                             f"{delivery.event_id}\n{delivery_state(delivery).capitalize()}")
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for a in attempts:
            duration = "" if a.duration_ms is None else f" · {a.duration_ms:.0f} ms"
            self.chooser.addItem(f"Attempt {a.number} · {local_time(a.started_at)} · "
                                 f"{attempt_result(a)}{duration}")
        if not attempts:
            self.chooser.addItem("Not attempted yet")
        index = len(attempts) - 1 if chosen < 0 or was_last else min(chosen, len(attempts) - 1)
        self.chooser.setCurrentIndex(max(0, index))
        self.chooser.setEnabled(len(attempts) > 1)
        self.chooser.blockSignals(False)
        _set_text(self.request_body, pretty_body(body))
        self._show_attempt(max(0, index))
        self._show_page(self.details)

    def _show_page(self, page: QWidget) -> None:
        """Show ``page`` (the placeholder or the details), sized by it alone: a stack
        takes the largest of its pages' sizes, so the empty state would keep the
        details' minimum height and scroll in a short hook page."""
        for widget in (self.placeholder, self.details):
            shown = widget is page
            widget.setSizePolicy(QSizePolicy.Policy.Preferred if shown else
                                 QSizePolicy.Policy.Ignored,
                                 QSizePolicy.Policy.Preferred if shown else
                                 QSizePolicy.Policy.Ignored)
        self.stack.setCurrentWidget(page)
        self.stack.updateGeometry()

    @Slot(int)
    def _on_attempt_chosen(self, index: int) -> None:
        self._show_attempt(index)

    def _show_attempt(self, index: int) -> None:
        """Fill the tabs with attempt number ``index + 1``."""
        attempts = self._shown[1] if self._shown is not None else ()
        if not 0 <= index < len(attempts):
            self.outcome.setText("No attempt yet: it is waiting to be sent.")
            self.outcome.setStyleSheet("")
            self.no_response.setText("No response yet.")
            self.response_stack.setCurrentWidget(self.no_response)
            self.request_line.setText("")
            _fill(self.request_headers, [])
            if self._shown is not None:
                _set_text(self.request_body, pretty_body(self._shown[2]))
            return
        a = attempts[index]
        outcome = attempt_result(a) + (f": {a.error_message}" if a.error_message else "")
        self.outcome.setText(outcome)
        self.outcome.setStyleSheet(
            f"color: {status_color('succeeded' if a.succeeded else 'failed').name()};")
        if a.status_code is None:
            self.no_response.setText(f"No response: {a.error_message or attempt_result(a)}")
            self.response_stack.setCurrentWidget(self.no_response)
        else:
            _fill(self.response_headers, a.response_headers or [])
            self.response_body_label.setText(
                "Body" + (" (truncated)" if a.response_truncated else "")
                + ("" if a.response_body else ": empty"))
            _set_text(self.response_body, pretty_body(a.response_body or b""))
            self.response_stack.setCurrentIndex(0)
        self.request_line.setText(f"POST {a.request_url}")
        _fill(self.request_headers, list(a.request_headers.items()))
        # What this attempt sent: a Slack message, a PagerDuty event or an e-mail's text
        # is recorded with the attempt; a web hook sends the delivery's body.
        sent = a.request_body if a.request_body is not None else self._shown[2] \
            if self._shown is not None else b""
        _set_text(self.request_body, pretty_body(sent))


def _fill(table: QTableWidget, pairs: list[tuple[str, str]]) -> None:
    """Replace a headers table's rows with ``pairs`` (name, value)."""
    table.setRowCount(len(pairs))
    for row, (name, value) in enumerate(pairs):
        table.setItem(row, 0, QTableWidgetItem(name))
        table.setItem(row, 1, QTableWidgetItem(value))


def _set_text(view: QPlainTextEdit, text: str) -> None:
    if view.toPlainText() != text:
        view.setPlainText(text)
