"""The hook page: settings, events, the masked secret with Reveal, Ping, and the
hook's recent deliveries with their attempts."""

from __future__ import annotations

import shlex
import time
from urllib.parse import urlsplit

from PySide6.QtCore import QItemSelection, QSize, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.core.addresses import host_is_internal
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Attempt, Delivery, HookHealth
from hookadmin.ui.attempt_view import AttemptView
from hookadmin.ui.banners import OrderedBanner
from hookadmin.ui.hook_type_details import HookTypeDetails
from hookadmin.ui.models import DeliveriesModel, health_summary, sparkline, status_color

MASK = "•" * 24


def curl_command(url: str, headers: dict[str, str], body: bytes,
                 proxy: tuple[str, str | None] | None = None) -> str:
    """A shell command that repeats a request with curl (POSIX shell quoting); through
    ``proxy`` (its URL and user, :func:`hookadmin.delivery.proxy.shown_proxy`) when
    given, its password as ``***`` to fill in."""
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url)]
    if proxy is not None:
        parts += ["--proxy", shlex.quote(proxy[0])]
        if proxy[1] is not None:
            parts += ["--proxy-user", shlex.quote(f"{proxy[1]}:***")]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts += ["--data-binary", shlex.quote(body.decode("utf-8", "replace"))]
    return " ".join(parts)


def delivery_panel(table: QWidget, buttons: tuple[QWidget, ...], details: QWidget,
                   sizes: tuple[int, int], *, scroll_details: bool = False) -> QSplitter:
    """Deliveries above, the selected one's actions (a row of ``buttons``) and
    ``details`` below, in a vertical splitter of ``sizes`` pixels: the hook page's and
    the Deliveries tab's shared layout. With ``scroll_details`` the lower part scrolls
    when the window is too short for the details (for a view that does not scroll as
    a whole)."""
    actions = QHBoxLayout()
    for button in buttons:
        actions.addWidget(button)
    actions.addStretch(1)
    lower = QWidget()
    lower_layout = QVBoxLayout(lower)
    lower_layout.setContentsMargins(0, 0, 0, 0)
    lower_layout.addLayout(actions)
    lower_layout.addWidget(details, 1)
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(table)
    if scroll_details:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(lower)
        split.addWidget(scroll)
    else:
        split.addWidget(lower)
    split.setSizes(list(sizes))
    return split

def update_delivery_buttons(selected: Delivery | None, redeliver: QPushButton,
                            curl: QPushButton) -> None:
    """Enable Redeliver and Copy as curl for the ``selected`` delivery (both off with
    none). A delivery waiting for its next retry gets "Retry now" instead of
    "Redeliver" (the same action: due again now); a ping is never redelivered."""
    curl.setEnabled(selected is not None)
    waiting = selected is not None and selected.status == "pending"
    redeliver.setText("Retry &now" if waiting else "Re&deliver")
    redeliver.setToolTip("Attempt the selected delivery now instead of waiting for its "
                         "next retry" if waiting else
                         "Send the selected delivery again: new attempts, same delivery id "
                         "and body")
    redeliver.setEnabled(selected is not None and selected.event_type != catalog.PING)


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…", with
    the whole text as its tooltip: a long hook name must not widen the page past the
    window (and push Delete… and the badges off-screen)."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        """Show ``text``, elided to the label's width."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance(self._full) + 4),
                     hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, self._mode,
                                              max(0, self.width()))
        super().setText(shown)


class HookPage(QWidget):
    """One hook. Signals ask the window to act: ``reveal_requested``,
    ``ping_requested``, ``edit_requested``, ``delete_requested`` (each with the hook
    id), ``active_toggle_requested(int, bool)``, ``delivery_selected(str)`` and
    ``open_delivery_requested(str)`` (the delivery an ordered hook waits behind) and
    ``ordered_toggle_requested(int, bool)``."""

    reveal_requested = Signal(int)
    ping_requested = Signal(int)
    edit_requested = Signal(int)
    delete_requested = Signal(int)
    reset_requested = Signal(int)
    verify_requested = Signal(int)
    test_event_requested = Signal(int)
    active_toggle_requested = Signal(int, bool)
    delivery_selected = Signal(str)
    redeliver_requested = Signal(str)
    copy_curl_requested = Signal(str)
    open_delivery_requested = Signal(str)
    ordered_toggle_requested = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hook: Hook | None = None
        self._health: HookHealth | None = None
        self.title = ElidedLabel()
        self.title.setObjectName("hookTitle")
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.state_label = QLabel()
        self.state_label.setObjectName("hookState")
        self.reason_label = QLabel()
        self.reason_label.setObjectName("deactivatedReason")
        self.reason_label.setWordWrap(True)
        self.ordered_banner = OrderedBanner()
        self.ordered_banner.open_requested.connect(self.open_delivery_requested)

        self.url_label = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.url_label.setObjectName("hookUrl")
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.events_label = QLabel()
        self.events_label.setObjectName("hookEvents")
        self.events_label.setWordWrap(True)
        self.secret_label = QLabel(MASK)
        self.secret_label.setObjectName("maskedSecret")
        self.secret_label.setAccessibleName("Secret (hidden)")
        self.reveal_button = QPushButton("&Reveal…")
        self.reveal_button.setObjectName("reveal")
        self.reveal_button.setToolTip("Show the secret, with buttons to copy it")
        self.reset_button = QPushButton("Reset…")
        self.reset_button.setObjectName("resetSecret")
        self.reset_button.setToolTip("Replace the secret; the old one keeps signing "
                                     "webhook-signature for 24 hours")
        self.verify_button = QPushButton("Verify on your side…")
        self.verify_button.setObjectName("verifySnippets")
        self.verify_button.setToolTip("Receiver code (Python, Node.js, Go, shell) that checks "
                                      "this hook's signatures")
        self.key_notice = QLabel()
        self.key_notice.setObjectName("teamKeyMissing")
        self.key_notice.setWordWrap(True)
        self.key_notice.setStyleSheet("color: #a15c00;")
        self.key_notice.hide()
        self.rotation_label = QLabel()
        self.rotation_label.setObjectName("secretRotation")
        self.rotation_label.setWordWrap(True)
        self.badges = QLabel()
        self.badges.setObjectName("hookBadges")
        self.warnings = QLabel()
        self.warnings.setObjectName("hookWarnings")
        self.warnings.setWordWrap(True)
        self.health_label = QLabel()
        self.health_label.setObjectName("hookHealth")
        self.health_label.setWordWrap(True)
        self.health_spark = QLabel()
        self.health_spark.setObjectName("hookSparkline")
        self.health_spark.setToolTip("Attempts per hour over the last 24 hours: succeeded "
                                     "below, failed stacked above")
        self.ordered_box = QCheckBox("One at a time, in publish order")
        self.ordered_box.setToolTip("Ordered delivery: one request at a time, and a later "
                                    "delivery waits while an earlier one is retried")
        self.ordered_box.setObjectName("orderedHook")
        self.ordered_box.setAccessibleName("Ordered delivery")
        self.tls_label = QLabel()
        self.tls_label.setObjectName("hookTls")
        self.tls_label.setWordWrap(True)

        self.ping_button = QPushButton("&Ping")
        self.ping_button.setObjectName("ping")
        self.ping_button.setToolTip("Send a signed test notification now and show the response")
        self.edit_button = QPushButton("&Edit")
        self.edit_button.setObjectName("edit")
        self.toggle_button = QPushButton()
        self.toggle_button.setObjectName("toggleActive")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("delete")
        self.test_event_button = QPushButton("Send &test event…")
        self.test_event_button.setObjectName("testEvent")
        self.test_event_button.setToolTip("Send any event type to this hook only, with a "
                                          "realistic sample resource")

        secret_row = QHBoxLayout()
        secret_row.addWidget(self.secret_label)
        secret_row.addWidget(self.reveal_button)
        secret_row.addWidget(self.reset_button)
        secret_row.addStretch(1)
        verify_row = QHBoxLayout()  # its own line: the page stays usable when narrow
        verify_row.addWidget(self.verify_button)
        verify_row.addStretch(1)
        secret_col = QVBoxLayout()
        secret_col.addLayout(secret_row)
        secret_col.addLayout(verify_row)
        secret_col.addWidget(self.rotation_label)
        details = QFormLayout()
        details.addRow("Payload URL", self.url_label)
        details.addRow("Events", self.events_label)
        health_row = QHBoxLayout()
        health_row.addWidget(self.health_spark)
        health_row.addWidget(self.health_label, 1)
        details.addRow("Health", health_row)
        details.addRow("TLS", self.tls_label)
        details.addRow("Ordered", self.ordered_box)
        details.addRow("Secret", secret_col)
        self.type_details = HookTypeDetails(details, self.tls_label)

        actions = QHBoxLayout()
        actions.addWidget(self.ping_button)
        actions.addWidget(self.test_event_button)
        actions.addWidget(self.edit_button)
        actions.addWidget(self.toggle_button)
        actions.addStretch(1)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addSpacing(12)
        header.addWidget(self.state_label)
        header.addSpacing(8)
        header.addWidget(self.badges)
        header.addSpacing(8)
        header.addWidget(self.delete_button)

        self.deliveries = DeliveriesModel(self)
        self.deliveries_view = QTableView()
        self.deliveries_view.setObjectName("deliveries")
        self.deliveries_view.setModel(self.deliveries)
        self.deliveries_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.deliveries_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.deliveries_view.verticalHeader().hide()
        self.deliveries_view.verticalHeader().setDefaultSectionSize(
            self.deliveries_view.fontMetrics().height() + 8)
        self.deliveries_view.setAlternatingRowColors(True)
        hh = self.deliveries_view.horizontalHeader()
        # Fixed starting widths, not ResizeToContents: that measured all 200 rows (some
        # 8,000 data() calls) on every refresh and stalled the window while delivering.
        for col, width in enumerate((150, 120, 70, 80, 90)):
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        self.deliveries_view.setAccessibleName("Recent deliveries")
        self.deliveries_view.setMinimumHeight(120)
        self.attempts_view = AttemptView()
        self.attempts_view.setObjectName("attempts")
        self.attempts_view.setAccessibleName("Delivery attempts")
        self.deliveries_empty = QLabel("No deliveries yet. Ping the hook or send a test "
                                       "event to see one here.")
        self.deliveries_empty.setObjectName("hookDeliveriesEmpty")
        self.deliveries_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.deliveries_empty.setEnabled(False)
        self.deliveries_empty.hide()
        self.redeliver_button = QPushButton("Re&deliver")
        self.redeliver_button.setObjectName("redeliver")
        self.redeliver_button.setToolTip("Send the selected delivery again: new attempts, "
                                         "same delivery id and body")
        self.curl_button = QPushButton("Copy as c&url")
        self.curl_button.setObjectName("copyCurl")
        self.curl_button.setToolTip("Copy a curl command that repeats the selected delivery's "
                                    "last request, signature included")
        for button in (self.redeliver_button, self.curl_button):
            button.setEnabled(False)
        table = QWidget()
        table_layout = QVBoxLayout(table)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.deliveries_empty)
        table_layout.addWidget(self.deliveries_view, 1)
        split = delivery_panel(table, (self.redeliver_button, self.curl_button),
                               self.attempts_view, (220, 300))
        # The page's word-wrapped labels make the scroll area size it by height-for-width,
        # which counts each part's preferred height: the deliveries and attempts would
        # push the page past the window. They take the room left, at least their minimum.
        split.setMinimumHeight(split.minimumSizeHint().height())
        split.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(header)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.ordered_banner)
        layout.addWidget(self.warnings)
        layout.addWidget(self.key_notice)
        layout.addLayout(details)
        layout.addLayout(actions)
        layout.addSpacing(6)
        layout.addWidget(QLabel("Recent deliveries"))
        layout.addWidget(split, 1)
        scroll = self._scroll = QScrollArea()  # a narrow window scrolls the page, not clips it
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        # The splitter gives the page at least the width its rows need, so the buttons
        # stay on screen; the hooks list gives way instead.
        self.setMinimumWidth(content.minimumSizeHint().width()
                             + scroll.verticalScrollBar().sizeHint().width())

        self.reveal_button.clicked.connect(lambda: self._emit(self.reveal_requested))
        self.ping_button.clicked.connect(lambda: self._emit(self.ping_requested))
        self.edit_button.clicked.connect(lambda: self._emit(self.edit_requested))
        self.delete_button.clicked.connect(lambda: self._emit(self.delete_requested))
        self.reset_button.clicked.connect(lambda: self._emit(self.reset_requested))
        self.verify_button.clicked.connect(lambda: self._emit(self.verify_requested))
        self.test_event_button.clicked.connect(lambda: self._emit(self.test_event_requested))
        self.toggle_button.clicked.connect(self._on_toggle_clicked)
        self.ordered_box.clicked.connect(self._on_ordered_clicked)
        self.redeliver_button.clicked.connect(
            lambda: self._selected_emit(self.redeliver_requested))
        self.curl_button.clicked.connect(lambda: self._selected_emit(self.copy_curl_requested))
        self.deliveries_view.selectionModel().selectionChanged.connect(
            self._on_selection_changed)

    def set_signing_unavailable(self, sentence: str) -> None:
        """This machine cannot read the hooks' secrets (a team database without its
        team key): show ``sentence`` on the page and disable Reveal, Reset and Ping,
        their tooltips saying why. An empty ``sentence`` enables them again."""
        self.key_notice.setText(sentence)
        self.key_notice.setVisible(bool(sentence))
        for button, tip in ((self.reveal_button, "Show the secret, with buttons to copy it"),
                            (self.reset_button, "Replace the secret; the old one keeps "
                             "signing webhook-signature for 24 hours"),
                            (self.ping_button, "Send a signed test notification now and "
                             "show the response")):
            button.setEnabled(not sentence)
            button.setToolTip("This machine has no team key, so it cannot reveal, ping "
                              "or sign." if sentence else tip)

    def _emit(self, signal: SignalInstance) -> None:
        if self.hook is not None:
            signal.emit(self.hook.id)

    def show_hook(self, hook: Hook, deliveries: list[Delivery],
                  blocking: Delivery | None = None, head_seq: int | None = None,
                  ordered: bool = False) -> None:
        """Show ``hook`` and its recent deliveries (newest first); whether it is
        ``ordered``, and for an ordered hook the delivery the others wait behind while
        it is retried (``blocking``, shown in a banner) and its oldest pending
        delivery's ``seq`` (``head_seq``: the later pending ones say "waits in
        order")."""
        same = self.hook is not None and self.hook.id == hook.id
        self.ordered_box.setChecked(ordered)  # clicked, not toggled: no signal
        self.ordered_banner.show_blocking(blocking)
        self.deliveries.set_order_heads({} if head_seq is None else {hook.id: head_seq})
        if hook != self.hook:  # the same hook on most refreshes: style sheets cost a relayout
            self._show_settings(hook)
        self.hook = hook
        expiry = hook.previous_secret_expires_at
        if expiry is not None and expiry > time.time():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(expiry))
            self.rotation_label.setText(f"The previous secret also signs webhook-signature "
                                        f"until {when}.")
            self.rotation_label.show()
        else:
            self.rotation_label.hide()
        selected = self.selected_delivery_id() if same else None
        self.deliveries.set_rows(deliveries)
        self.deliveries_empty.setVisible(not deliveries)  # the table stays: it takes focus
        if selected is not None:
            for row in range(self.deliveries.rowCount()):
                if self.deliveries.delivery_at(row).id == selected:
                    if self.selected_delivery_id() == selected:  # updated in place: no
                        self._on_selection_changed()  # signal, but buttons and attempts follow
                    else:
                        self.deliveries_view.selectRow(row)
                    break
        elif not same:
            self.attempts_view.clear()
        if not same:  # another hook's page starts at its top
            self._scroll.verticalScrollBar().setValue(0)
        self._update_actions()

    def _show_settings(self, hook: Hook) -> None:
        """The hook's name, state, URL, badges, warnings, TLS and events."""
        self.title.setText(hook.display_name)
        self.state_label.setText("● Active" if hook.active else "○ Inactive")
        # Colours of the current palette (light or dark), read at each show: the
        # window follows the system's theme.
        self.state_label.setStyleSheet(
            f"color: {status_color('succeeded' if hook.active else 'inactive').name()};")
        self.reason_label.setStyleSheet(f"color: {status_color('failed').name()};")
        self.warnings.setStyleSheet(f"color: {status_color('pending').name()};")
        self.reason_label.setText(hook.deactivated_reason or "")
        self.reason_label.setVisible(bool(hook.deactivated_reason))
        self.url_label.setText(hook.url)
        host = urlsplit(hook.url).hostname or ""
        internal = host_is_internal(host)
        self.badges.setText("⌂ internal address" if internal else "")
        self.badges.setToolTip("The URL points inside this machine or network; strict network "
                               "mode in Settings refuses such addresses." if internal else "")
        self.badges.setStyleSheet("color: #1f6feb; border: 1px solid #1f6feb; "
                                  "border-radius: 8px; padding: 0 6px;" if internal else "")
        self.badges.setVisible(internal)
        warnings = []
        if hook.url.startswith("http://"):
            warnings.append("⚠ Plain http: deliveries and their signatures travel unencrypted.")
        if hook.insecure_ssl:
            warnings.append("⚠ TLS certificates are not verified for this hook; anyone on the "
                            "path could read or alter deliveries.")
        self.warnings.setText("\n".join(warnings))
        self.warnings.setVisible(bool(warnings))
        if hook.insecure_ssl:
            self.tls_label.setText("Certificates not verified (insecure)")
        elif hook.ca_bundle:
            self.tls_label.setText(f"Verified; also trusts the CAs in {hook.ca_bundle}")
        else:
            self.tls_label.setText("Verified against the system's trusted CAs")
        labels = []
        for item in hook.events:
            if item in catalog.GROUP_IDS:
                labels.append(next(g.label for g in catalog.GROUPS if g.id == item))
            else:
                labels.append(catalog.event_type(item).label)
        self.events_label.setText(", ".join(labels))
        self.toggle_button.setText("&Deactivate" if hook.active else "&Activate")
        self.type_details.show_hook(hook)

    def show_health(self, health: HookHealth | None) -> None:
        """Show the hook's success rate, last success, failing clock and hourly
        attempts (None: not known yet)."""
        if health is None:
            self.health_label.setText("Not known yet.")
            self.health_spark.clear()
            self._health = None
            return
        if health == self._health:
            return  # unchanged on most 2 s refreshes
        self._health = health
        self.health_label.setText(health_summary(health))
        failing = health.failing_since is not None
        self.health_label.setStyleSheet(
            f"color: {status_color('failed').name()};" if failing else "")
        self.health_spark.setPixmap(sparkline(health.hourly, 120, 24))

    def selected_delivery_id(self) -> str | None:
        """The id of the selected delivery, if any."""
        rows = self.deliveries_view.selectionModel().selectedRows()
        return self.deliveries.delivery_at(rows[0].row()).id if rows else None

    def show_delivery(self, delivery: Delivery, attempts: list[Attempt], body: bytes) -> None:
        """Show the selected delivery's attempts (unchanged data leaves the view as it
        is: the 2 s refresh must not scroll it or switch its tab)."""
        self.attempts_view.show_delivery(delivery, attempts, body)

    @Slot(bool)
    def _on_ordered_clicked(self, on: bool) -> None:
        if self.hook is not None:
            self.ordered_toggle_requested.emit(self.hook.id, on)

    @Slot()
    def _on_toggle_clicked(self) -> None:
        if self.hook is not None:
            self.active_toggle_requested.emit(self.hook.id, not self.hook.active)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, *_: object) -> None:
        delivery_id = self._update_actions()
        if delivery_id is not None:
            self.delivery_selected.emit(delivery_id)

    def _update_actions(self) -> str | None:
        """Enable the delivery buttons for the selection (a model reset drops it without
        a signal); returns the selected delivery's id."""
        rows = self.deliveries_view.selectionModel().selectedRows()
        selected = self.deliveries.delivery_at(rows[0].row()) if rows else None
        update_delivery_buttons(selected, self.redeliver_button, self.curl_button)
        return None if selected is None else selected.id

    def _selected_emit(self, signal: SignalInstance) -> None:
        delivery_id = self.selected_delivery_id()
        if delivery_id is not None:
            signal.emit(delivery_id)
