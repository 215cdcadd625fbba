"""The hook page: settings, events, health, the masked secret with Reveal, Ping, and
the hook's recent deliveries with their attempts (:mod:`hookadmin.ui.recent_deliveries`;
its health row is :mod:`hookadmin.ui.hook_health`, its ordered banner
:class:`~hookadmin.ui.banners.OrderedBanner`)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer, Signal, SignalInstance, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.core.addresses import host_is_internal
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Attempt, Delivery, HookHealth
from hookadmin.ui.banners import OrderedBanner
from hookadmin.ui.display import status_color
from hookadmin.ui.elided_label import ElidedLabel
from hookadmin.ui.hook_health import HookHealthRow
from hookadmin.ui.hook_type_details import HookTypeDetails
from hookadmin.ui.recent_deliveries import RecentDeliveries
from hookadmin.ui.url_elision import elide_url

MASK = "•" * 24
NOT_IN_THIS_KEYRING = ("This hook's secret is not in this keyring. Reset it, or import "
                       "the secrets export from the machine that created it.")
REVEAL_TIP = "Show the secret, with buttons to copy it"
RESET_TIP = "Replace the secret; the old one keeps signing webhook-signature for 24 hours"
PING_TIP = "Send a signed test notification now and show the response"
NO_TEAM_KEY_TIP = "This machine has no team key, so it cannot reveal, ping or sign."
SHORT_PAGE = 600
"""Pixels: a page shorter than this gives a selected delivery's attempts most of it."""


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

        self.url_label = ElidedLabel(elide=elide_url)  # the host stays in sight
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
        self.reset_button = QPushButton("Reset…")
        self.reset_button.setObjectName("resetSecret")
        # Why the secret cannot be used here, under its row (a hook made on another
        # machine, or its keyring entry removed): Reset stays, Reveal is off.
        self.secret_notice = QLabel(NOT_IN_THIS_KEYRING)
        self.secret_notice.setObjectName("secretNotHere")
        self.secret_notice.setWordWrap(True)
        self.secret_notice.hide()
        self._no_team_key = False
        self.secret_missing = False  # the shown hook's secret is not in this keyring
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
        self.health = HookHealthRow()
        self.health_label, self.health_spark = self.health.label, self.health.spark
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
        secret_col.addWidget(self.secret_notice)
        secret_col.addLayout(verify_row)
        secret_col.addWidget(self.rotation_label)
        details = QFormLayout()
        details.addRow("Payload URL", self.url_label)
        details.addRow("Events", self.events_label)
        details.addRow("Health", self.health.layout)
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

        self.recent = RecentDeliveries(self)
        self.deliveries, self.deliveries_view = self.recent.model, self.recent.view
        self.attempts_view, self.deliveries_empty = self.recent.attempts_view, self.recent.empty
        self.redeliver_button = self.recent.redeliver_button
        self.curl_button = self.recent.curl_button
        self.recent.delivery_selected.connect(self.delivery_selected)
        self.recent.delivery_selected.connect(self._make_room_for_attempts)
        self.recent.redeliver_requested.connect(self.redeliver_requested)
        self.recent.copy_curl_requested.connect(self.copy_curl_requested)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(header)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.ordered_banner)
        layout.addWidget(self.warnings)
        layout.addWidget(self.key_notice)
        layout.addLayout(details)
        layout.addLayout(actions)
        layout.addStretch(1)
        scroll = self._scroll = QScrollArea()  # a narrow window scrolls the page, not clips it
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        # The hook's settings above, its recent deliveries and their attempts below, in
        # a splitter: in a short window both keep a part of it (each scrolls on its
        # own), so a selected delivery's attempts are in sight without scrolling the
        # settings away.
        deliveries = QWidget()
        deliveries_layout = QVBoxLayout(deliveries)
        deliveries_layout.setContentsMargins(9, 6, 9, 0)
        deliveries_layout.addWidget(QLabel("Recent deliveries"))
        deliveries_layout.addWidget(self.recent.panel, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("pageSplit")
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(scroll)
        self.split.addWidget(deliveries)
        # The settings keep the height they need while there is room; a taller window
        # gives the rest to the deliveries, a short one takes from both.
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([content.sizeHint().height(), 10 * content.sizeHint().height()])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.split)
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
        self._update_secret_buttons()

    def set_signing_unavailable(self, sentence: str) -> None:
        """This machine cannot read the hooks' secrets (a team database without its
        team key): show ``sentence`` on the page and disable Reveal, Reset and Ping,
        their tooltips saying why. An empty ``sentence`` enables them again."""
        self.key_notice.setText(sentence)
        self.key_notice.setVisible(bool(sentence))
        self._no_team_key = bool(sentence)
        self._update_secret_buttons()

    def set_secret_missing(self, missing: bool) -> None:
        """Whether the shown hook's secret is missing from this keyring: when it is, the
        page says so and how to fix it (:data:`NOT_IN_THIS_KEYRING`), and Reveal is
        disabled with that sentence as its tooltip; Reset stays enabled (it writes a
        new secret here). Showing another hook clears it until told again."""
        self.secret_missing = missing
        shown = missing and not self._no_team_key
        if shown != self.secret_notice.isVisibleTo(self):
            if shown:  # the current palette's colour (light or dark theme)
                self.secret_notice.setStyleSheet(
                    f"color: {status_color('pending').name()};")
            self.secret_notice.setVisible(shown)
            if shown:  # a line more: the settings keep the height they need
                QTimer.singleShot(0, self._fit_split)
        self._update_secret_buttons()

    def _update_secret_buttons(self) -> None:
        """Enable Reveal, Reset and Ping for what this machine can do, each tooltip
        saying why when it cannot."""
        missing = self.secret_missing and not self._no_team_key
        self.reveal_button.setEnabled(not self._no_team_key and not missing)
        self.reveal_button.setToolTip(NO_TEAM_KEY_TIP if self._no_team_key else
                                      NOT_IN_THIS_KEYRING if missing else REVEAL_TIP)
        for button, tip in ((self.reset_button, RESET_TIP), (self.ping_button, PING_TIP)):
            button.setEnabled(not self._no_team_key)
            button.setToolTip(NO_TEAM_KEY_TIP if self._no_team_key else tip)

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
        if not same:  # whether its secret is here is told for this hook
            self.set_secret_missing(False)
        self.hook = hook
        expiry = hook.previous_secret_expires_at
        if expiry is not None and expiry > time.time():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(expiry))
            self.rotation_label.setText(f"The previous secret also signs webhook-signature "
                                        f"until {when}.")
            self.rotation_label.show()
        else:
            self.rotation_label.hide()
        self.recent.show_rows(deliveries, same_hook=same)
        if not same:  # another hook's page starts at its top
            self._scroll.verticalScrollBar().setValue(0)
            # Once the rest of this refresh (the health row) is shown too.
            QTimer.singleShot(0, self._fit_split)

    def _fit_split(self) -> None:
        """Give the settings the height they need while the recent deliveries and their
        attempts keep 400 px (at least two fifths of the page); those get the rest."""
        total = sum(self.split.sizes())
        content = self._scroll.widget()
        if total <= 0 or content is None:
            return
        need = content.heightForWidth(self._scroll.viewport().width())
        need = need if need > 0 else content.sizeHint().height()
        top = min(need, max(total - 400, total * 2 // 5))
        self.split.setSizes([top, total - top])

    @Slot()
    def _make_room_for_attempts(self) -> None:
        """In a short page (under 600 px) a selected delivery's attempts need most of
        it: the settings above give way to a quarter (they scroll)."""
        top, lower = self.split.sizes()
        total = top + lower
        if 0 < total < SHORT_PAGE and top > total // 4:
            self.split.setSizes([total // 4, total - total // 4])

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
        self.health.show(health)

    def selected_delivery_id(self) -> str | None:
        """The id of the selected delivery, if any."""
        return self.recent.selected_delivery_id()

    def show_delivery(self, delivery: Delivery, attempts: list[Attempt], body: bytes) -> None:
        """Show the selected delivery's attempts (unchanged data leaves the view as it
        is: the 2 s refresh must not scroll it or switch its tab)."""
        self.recent.show_delivery(delivery, attempts, body)

    @Slot(bool)
    def _on_ordered_clicked(self, on: bool) -> None:
        if self.hook is not None:
            self.ordered_toggle_requested.emit(self.hook.id, on)

    @Slot()
    def _on_toggle_clicked(self) -> None:
        if self.hook is not None:
            self.active_toggle_requested.emit(self.hook.id, not self.hook.active)
