"""The main window: hooks table on the left; the hook page or the hook form on the
right; the delivery engine's state in the status bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QObject,
    QPoint,
    QSettings,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.errors import HookadminError, InputError, NotFoundError
from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.ui.activity_page import ActivityPage
from hookadmin.ui.audit_page import AuditPage
from hookadmin.ui.deliveries_page import DeliveriesPage
from hookadmin.ui.dialogs import SettingsDialog, TestEventDialog, VerifyDialog
from hookadmin.ui.hook_form import HookForm
from hookadmin.ui.hook_page import HookPage, curl_command, describe_attempts
from hookadmin.ui.models import HooksModel, Roles
from hookadmin.ui.notify import Notifier
from hookadmin.ui.ping_viewer import PingViewer
from hookadmin.ui.rotation import overlap_choice
from hookadmin.ui.secret_dialog import SecretDialog
from hookadmin.ui.workers import EngineHost, PingTask, StartupChecks

if TYPE_CHECKING:  # the HTTP stack and the keyring are imported after the first paint
    from hookadmin.delivery.engine import AttemptOutcome
    from hookadmin.delivery.ping import PingResult

DELIVERIES_SHOWN = 200
STATUS_COUNT_CAP = 100_000  # counting further would slow the 2 s refresh
RATE_WINDOW = 10.0  # seconds of attempts the status bar's deliveries/s is averaged over
KEYRING_ADVICE = ("Hooks still list; deliveries wait until the keyring can be read and are "
                  "never sent unsigned.")


class _AfterFirstPaint(QObject):
    """Calls ``callback`` once, from the event loop, after ``widget``'s first paint."""

    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._callback)
        return False


class MainWindow(QMainWindow):
    """The admin window.

    Args:
        service: the service layer of one data directory (used on the GUI thread only).
        engine: the delivery engine host; the window starts it when shown and stops it
            when closed. None runs the window without delivering (tests).
        ping_settings: timeouts for pings.

    Signals:
        keyring_checked(bool): the check of the OS keyring made after the first paint is
            done: True when the keyring can be used (else the banner says why).
    """

    keyring_checked = Signal(bool)

    def __init__(self, service: HookService, engine: EngineHost | None = None,
                 ping_settings: DeliverySettings | None = None) -> None:
        super().__init__()
        self.service = service
        self.engine = engine
        self.ping_settings = ping_settings or DeliverySettings()
        self._pings: list[PingTask] = []
        self.setWindowTitle("hookadmin — service hooks")
        self.setObjectName("mainWindow")
        self.resize(1280, 820)

        self.banner_box = QFrame()
        self.banner_box.setObjectName("bannerBox")
        self.banner_box.setStyleSheet("#bannerBox { background: #fdecea; border: 1px solid "
                                      "#f5c2c0; border-radius: 4px; }")
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color: #8a1c1c; padding: 4px;")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner_close = QPushButton("Dismiss")
        self.banner_close.setObjectName("dismissBanner")
        self.banner_close.clicked.connect(self.clear_banner)
        banner_layout = QHBoxLayout(self.banner_box)
        banner_layout.addWidget(self.banner, 1)
        banner_layout.addWidget(self.banner_close)
        self.banner_box.hide()

        self.hooks_model = HooksModel(self)
        self.hooks_view = QTableView()
        self.hooks_view.setObjectName("hooks")
        self.hooks_view.setAccessibleName("Hooks")
        self.hooks_proxy = QSortFilterProxyModel(self)
        self.hooks_proxy.setSourceModel(self.hooks_model)
        self.hooks_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.hooks_proxy.setFilterKeyColumn(-1)
        self.hooks_view.setModel(self.hooks_proxy)
        self.hooks_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.hooks_view.customContextMenuRequested.connect(self._on_hooks_context_menu)
        delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete),
                                    self.hooks_view)
        delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_shortcut.activated.connect(self._on_delete_key)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("hookFilter")
        self.filter_edit.setPlaceholderText("Filter by name, URL or event (Ctrl+F)")
        self.filter_edit.setAccessibleName("Filter hooks")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.hooks_proxy.setFilterFixedString)
        self.hooks_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.hooks_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.hooks_view.verticalHeader().hide()
        self.hooks_view.setWordWrap(False)
        self.hooks_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.hooks_view.setAlternatingRowColors(True)
        hh = self.hooks_view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(1, 150)
        for col in (2, 3):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Rows of one height, with room for two lines (name, then URL): rows sized to
        # their contents were all measured again whenever a cell changed (every 2 s).
        rows = self.hooks_view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(2 * self.hooks_view.fontMetrics().lineSpacing() + 10)

        self.new_button = QPushButton("&New hook")
        self.new_button.setObjectName("newHook")
        self.new_button.setToolTip("Create a webhook (Ctrl+N)")
        left_header = QHBoxLayout()
        hooks_title = QLabel("Webhooks")
        font = hooks_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        hooks_title.setFont(font)
        left_header.addWidget(hooks_title)
        left_header.addStretch(1)
        left_header.addWidget(self.new_button)
        self.empty_hint = QLabel("No hooks yet. Click “New hook” to send job and cluster "
                                 "notifications to a URL.")
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(left_header)
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.empty_hint)
        left_layout.addWidget(self.hooks_view, 1)

        self.placeholder = QLabel("Select a hook to see its settings and deliveries.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.form = HookForm()
        self.page = HookPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("formScroll")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setWidget(self.form)
        self.stack.addWidget(self.form_scroll)
        self.stack.addWidget(self.page)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 720])

        self.deliveries_page = DeliveriesPage(service.store)
        self.activity_page = ActivityPage(service.store)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.addTab(self.splitter, "&Webhooks")
        self.tabs.addTab(self.deliveries_page, "&Deliveries")
        self.tabs.addTab(self.activity_page, "&Activity")
        self.tabs.addTab(AuditPage(service), "A&udit")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.addWidget(self.banner_box)
        central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.notifier = Notifier(self)
        self._last_outcome: dict[int, str] = {}
        self._activity_drawn = 0.0

        self.rate_label = QLabel()
        self.rate_label.setObjectName("deliveryRate")
        self.engine_label = QLabel()
        self.engine_label.setObjectName("engineState")
        self.queue_label = QLabel()
        self.queue_label.setObjectName("queueDepth")
        self.statusBar().addWidget(self.engine_label)
        self.statusBar().addPermanentWidget(self.rate_label)
        self.statusBar().addPermanentWidget(self.queue_label)

        file_menu = self.menuBar().addMenu("&File")
        settings_action = file_menu.addAction("&Settings…")
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.triggered.connect(self.open_settings)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        delivery_menu = self.menuBar().addMenu("De&livery")
        self.pause_action = delivery_menu.addAction("&Pause delivery")
        self.pause_action.setObjectName("pauseDelivery")
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.pause_action.setEnabled(engine is not None)
        self.pause_action.toggled.connect(self.set_paused)
        hooks_menu = self.menuBar().addMenu("&Hooks")
        new_action = hooks_menu.addAction("&New hook")
        new_action.setShortcut(QKeySequence.StandardKey.New)
        new_action.triggered.connect(self.start_new_hook)
        ping_action = hooks_menu.addAction("&Ping")
        ping_action.setShortcut(QKeySequence("Ctrl+P"))
        ping_action.triggered.connect(self._on_ping_shortcut)
        find_action = hooks_menu.addAction("&Find")
        find_action.setShortcut(QKeySequence.StandardKey.Find)
        find_action.triggered.connect(self._on_find)
        dup_action = hooks_menu.addAction("&Duplicate")
        dup_action.setShortcut(QKeySequence("Ctrl+D"))
        dup_action.triggered.connect(self._on_duplicate_shortcut)
        test_action = hooks_menu.addAction("Send &test event…")
        test_action.setShortcut(QKeySequence("Ctrl+T"))
        test_action.triggered.connect(self._on_test_event_shortcut)

        self.new_button.clicked.connect(self.start_new_hook)
        self.hooks_view.selectionModel().selectionChanged.connect(self._on_hook_selection)
        self.form.submitted.connect(self._on_form_submitted)
        self.form.cancelled.connect(self._on_form_cancelled)
        self.page.reveal_requested.connect(self.reveal_secret)
        self.page.ping_requested.connect(self.ping_hook)
        self.page.edit_requested.connect(self._on_edit_requested)
        self.page.delete_requested.connect(self._on_delete_requested)
        self.page.reset_requested.connect(self._on_reset_requested)
        self.page.verify_requested.connect(self.show_verify_snippets)
        self.page.test_event_requested.connect(self.send_test_event)
        self.page.active_toggle_requested.connect(self._on_active_toggle)
        self.page.delivery_selected.connect(self._on_delivery_selected)
        self.page.redeliver_requested.connect(self.redeliver)
        self.deliveries_page.delivery_selected.connect(self._on_all_deliveries_selected)
        self.deliveries_page.redeliver_requested.connect(self.redeliver)
        self.deliveries_page.copy_curl_requested.connect(self.copy_as_curl)
        self.deliveries_page.redeliver_failed_requested.connect(self.redeliver_failed_since)
        self.page.copy_curl_requested.connect(self.copy_as_curl)

        # An attempt refreshes the window 1 s later, so while the engine delivers at
        # full speed the tables are reloaded and repainted once a second (a full repaint
        # of the deliveries table costs ~25 ms), not on every batch of attempts.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(1000)
        self._refresh_timer.timeout.connect(self.refresh)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(2000)
        self._poll_timer.timeout.connect(self.refresh)
        self._poll_timer.start()
        if engine is not None:
            engine.attempt_recorded.connect(self._on_attempt_recorded)
            engine.running_changed.connect(self._update_status)
            engine.errored.connect(self.show_banner)

        self._restore_state()
        self.refresh()
        # The keyring is checked (and the HTTP stack imported) in the background once
        # the window is on screen: neither holds up the first frame.
        self.startup = StartupChecks(lambda: self.service.secrets.check(), self)
        self.startup.keyring_checked.connect(self._on_keyring_checked)
        _AfterFirstPaint(self, self.startup.start)

    def check_keyring(self) -> bool:
        """Check the OS keyring now (blocking) and show the banner when it cannot be
        used; True when it can."""
        try:
            self.service.secrets.check()
        except HookadminError as err:
            self._on_keyring_checked(str(err))
            return False
        self._on_keyring_checked("")
        return True

    @Slot(str)
    def _on_keyring_checked(self, problem: str) -> None:
        if problem:
            self.show_banner(f"{problem} {KEYRING_ADVICE}")
        self.keyring_checked.emit(not problem)

    # -- state ------------------------------------------------------------------------

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())
        self._poll_timer.stop()
        self._refresh_timer.stop()
        self.deliveries_page.stop()
        if self.engine is not None:
            self.engine.stop()
        for task in self._pings:
            task.wait(int(self.ping_settings.attempt_timeout * 1000) + 2000)
        super().closeEvent(event)

    def showEvent(self, event: object) -> None:
        if self.engine is not None and not self.engine.running:
            self.engine.start()
        super().showEvent(event)  # type: ignore[arg-type]

    # -- refresh ------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Reload hooks, the shown hook's deliveries and the status bar."""
        selected = self.selected_hook_id()
        hooks = self.service.hooks()
        self.hooks_model.set_data(hooks, self.service.store.last_deliveries())
        self.empty_hint.setVisible(not hooks)
        if selected is not None:
            row = self._view_row(selected)
            if row >= 0:
                self.hooks_view.selectionModel().blockSignals(True)
                self.hooks_view.selectRow(row)
                self.hooks_view.selectionModel().blockSignals(False)
        if self.stack.currentWidget() is self.page and self.page.hook is not None:
            self._show_page(self.page.hook.id)
        self.deliveries_page.set_hooks(hooks)
        self.activity_page.set_hooks(hooks)
        if self.tabs.currentWidget() is self.deliveries_page:
            self.deliveries_page.refresh()
        elif self.tabs.currentWidget() is self.activity_page \
                and time.monotonic() - self._activity_drawn > 10.0:
            self._activity_drawn = time.monotonic()
            self.activity_page.refresh()
        self._update_status()

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.deliveries_page:
            self.deliveries_page.refresh()
        elif self.tabs.currentWidget() is self.activity_page:
            self._activity_drawn = time.monotonic()  # else the next 2 s refresh redraws it
            self.activity_page.refresh()

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Pause (stop the engine; queued deliveries wait) or resume delivery."""
        if self.engine is None:
            return
        if paused:
            self.engine.stop()
        else:
            self.engine.start()
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)
        self._update_status()

    @Slot()
    def _update_status(self) -> None:
        if self.engine is None:
            self.engine_label.setText("Delivery engine: off")
        else:
            if self.pause_action.isChecked():
                self.engine_label.setText("Delivery engine: paused")
            else:
                self.engine_label.setText("Delivery engine: running" if self.engine.running
                                          else "Delivery engine: stopped")
        # Everything in the status bar comes from the database, not from the engine's
        # reports (another channel, in no fixed order with it), and the queue is read
        # before the attempts: an attempt is committed with its delivery's new state,
        # so a delivery no longer counted as pending is already counted in the rate.
        store = self.service.store
        pending = store.pending_count(cap=STATUS_COUNT_CAP)
        waiting = store.outbox_waiting()
        attempts = sum(ok + bad for _, ok, bad, _ in
                       store.activity(since=time.time() - RATE_WINDOW, bucket=RATE_WINDOW))
        self.rate_label.setText(f"{attempts / RATE_WINDOW:.1f} deliveries/s")
        shown = f"{STATUS_COUNT_CAP:,}+" if pending >= STATUS_COUNT_CAP else f"{pending:,}"
        self.queue_label.setText(f"{waiting:,} events waiting · "
                                 f"{shown} deliveries pending")

    @Slot(object)
    def _on_attempt_recorded(self, outcome: AttemptOutcome) -> None:
        self._notify_about(outcome)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _notify_about(self, outcome: AttemptOutcome) -> None:
        """Tell the administrator when a hook starts failing or was deactivated."""
        failed = outcome.error_kind is not None or outcome.status == "failed"
        before = self._last_outcome.get(outcome.hook_id)
        self._last_outcome[outcome.hook_id] = "failed" if failed else "ok"
        if not failed:
            return
        try:
            hook = self.service.hook(outcome.hook_id)
        except NotFoundError:
            return
        if not hook.active and hook.deactivated_reason:
            if before != "deactivated":
                self._last_outcome[outcome.hook_id] = "deactivated"
                self.notifier.notify(f"Hook {hook.display_name} was deactivated",
                                     hook.deactivated_reason)
        elif before != "failed":
            result = (f"HTTP {outcome.status_code}" if outcome.status_code is not None
                      else outcome.error_kind)
            self.notifier.notify(f"Hook {hook.display_name} is failing",
                                 f"A {outcome.event_type} delivery failed ({result}); "
                                 "hookadmin will retry it.")

    def selected_hook_id(self) -> int | None:
        """The id of the hook selected in the table, if any."""
        rows = self.hooks_view.selectionModel().selectedRows()
        return int(rows[0].data(Roles.HOOK_ID)) if rows else None

    def _view_row(self, hook_id: int) -> int:
        """The row of a hook in the (filtered) table, or -1."""
        row = self.hooks_model.row_of(hook_id)
        if row < 0:
            return -1
        return self.hooks_proxy.mapFromSource(self.hooks_model.index(row, 0)).row()

    def select_hook(self, hook_id: int) -> None:
        """Select a hook in the table and show its page."""
        row = self._view_row(hook_id)
        if row < 0 and self.hooks_model.row_of(hook_id) >= 0:
            self.filter_edit.clear()  # the hook is hidden by the filter: show everything
            row = self._view_row(hook_id)
        if row >= 0:
            self.hooks_view.selectRow(row)
            self._show_page(hook_id)

    def _show_page(self, hook_id: int) -> None:
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError:
            self.stack.setCurrentWidget(self.placeholder)
            return
        rows = self.service.store.list_deliveries(hook_id=hook_id, limit=DELIVERIES_SHOWN)
        self.page.show_hook(hook, rows)
        self.stack.setCurrentWidget(self.page)

    @Slot(QItemSelection, QItemSelection)
    def _on_hook_selection(self, *_: object) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is None:
            if self.stack.currentWidget() is self.page:
                self.stack.setCurrentWidget(self.placeholder)
            return
        self._show_page(hook_id)

    # -- messages -----------------------------------------------------------------------

    @Slot(str)
    def show_banner(self, message: str) -> None:
        """Show a problem above everything until it is resolved."""
        self.banner.setText(message)
        self.banner_box.show()

    def clear_banner(self) -> None:
        """Hide the banner."""
        self.banner_box.hide()

    # -- create / edit / delete ---------------------------------------------------------

    @Slot()
    def start_new_hook(self) -> None:
        """Open an empty form."""
        self.hooks_view.clearSelection()
        self.form.reset()
        self.stack.setCurrentWidget(self.form_scroll)
        self.form.url_edit.setFocus()

    @Slot()
    def _on_find(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    @Slot()
    def _on_duplicate_shortcut(self) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is not None:
            self.duplicate_hook(hook_id)

    @Slot(int)
    def duplicate_hook(self, hook_id: int) -> None:
        """Open the form filled with a copy of a hook's settings (a new secret is made
        when it is created)."""
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self._on_hook_gone(err)
            return
        self.hooks_view.clearSelection()
        self.form.reset_as_copy(hook)
        self.stack.setCurrentWidget(self.form_scroll)
        self.form.url_edit.setFocus()

    @Slot()
    def _on_delete_key(self) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is not None:
            self._on_delete_requested(hook_id)

    @Slot(QPoint)
    def _on_hooks_context_menu(self, pos: QPoint) -> None:
        index = self.hooks_view.indexAt(pos)
        if not index.isValid():
            return
        hook_id = int(index.data(Roles.HOOK_ID))
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self._on_hook_gone(err)
            return
        menu = QMenu(self)
        menu.setObjectName("hookContextMenu")
        menu.addAction("Deactivate" if hook.active else "Activate",
                       lambda: self._on_active_toggle(hook_id, not hook.active))
        menu.addAction("Ping", lambda: self.ping_hook(hook_id))
        menu.addAction("Send test event…", lambda: self.send_test_event(hook_id))
        menu.addAction("Duplicate", lambda: self.duplicate_hook(hook_id))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self._on_delete_requested(hook_id))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.hooks_view.viewport().mapToGlobal(pos))

    @Slot(int)
    def _on_edit_requested(self, hook_id: int) -> None:
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self.show_banner(str(err))
            return
        self.form.reset(hook)
        self.stack.setCurrentWidget(self.form_scroll)
        self.form.url_edit.setFocus()

    @Slot(dict)
    def _on_form_submitted(self, values: dict[str, object]) -> None:
        editing = self.form.editing
        try:
            if editing is None:
                hook = self.service.create_hook(
                    url=values["url"], name=str(values["name"]),  # type: ignore[arg-type]
                    events=list(values["events"]),  # type: ignore[call-overload]
                    active=bool(values["active"]),
                    ca_bundle=str(values["ca_bundle"]) or None,
                    insecure_ssl=bool(values["insecure_ssl"]),
                    type=str(values["type"]),
                    options=values["options"],  # type: ignore[arg-type]
                    option_secrets=values["option_secrets"])  # type: ignore[arg-type]
            else:
                # Only a changed Active box is sent: re-sending "inactive" would erase
                # the engine's deactivated_reason (e.g. after a 410) on any edit.
                active = bool(values["active"])
                hook = self.service.edit_hook(
                    editing.id, url=values["url"], name=str(values["name"]),  # type: ignore[arg-type]
                    events=list(values["events"]),  # type: ignore[call-overload]
                    active=None if active == editing.active else active,
                    ca_bundle=str(values["ca_bundle"]),
                    insecure_ssl=bool(values["insecure_ssl"]),
                    options=values["options"],  # type: ignore[arg-type]
                    option_secrets=values["option_secrets"])  # type: ignore[arg-type]
        except InputError as err:
            self.form.show_error(err)
            return
        except HookadminError as err:
            self.show_banner(str(err))
            return
        self.clear_banner()
        self.refresh()
        self.select_hook(hook.id)
        self.statusBar().showMessage(
            f"Created hook {hook.id}." if editing is None else f"Saved hook {hook.id}.", 5000)

    @Slot()
    def _on_form_cancelled(self) -> None:
        if self.form.editing is not None:
            self.select_hook(self.form.editing.id)
        else:
            self.stack.setCurrentWidget(self.placeholder)

    @Slot(int)
    def _on_delete_requested(self, hook_id: int) -> None:
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:  # deleted elsewhere (CLI) since the last refresh
            self._on_hook_gone(err)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete hook",
                          f"Delete hook {hook.id} ({hook.display_name})?\n\nIts delivery "
                          "history and its secret are deleted too; queued deliveries to it "
                          "are dropped.",
                          QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("confirmDelete")

        def finished() -> None:
            if box.clickedButton() is delete:
                try:
                    kept = self.service.delete_hook(hook_id)
                except NotFoundError as err:
                    self._on_hook_gone(err)
                else:
                    self.stack.setCurrentWidget(self.placeholder)
                    self.refresh()
                    self.statusBar().showMessage(
                        f"Deleted hook {hook_id}." if kept is None else
                        f"Deleted hook {hook_id}; its secret stays in the OS keyring until "
                        "hookadmin can use the keyring again.", 5000 if kept is None else 0)
            box.deleteLater()

        box.finished.connect(finished)
        box.open()

    @Slot(int, bool)
    def _on_active_toggle(self, hook_id: int, active: bool) -> None:
        try:
            self.service.edit_hook(hook_id, active=active)
        except NotFoundError as err:
            self._on_hook_gone(err)
            return
        self.refresh()

    def _on_hook_gone(self, err: NotFoundError) -> None:
        """The shown hook no longer exists: say so and show what does."""
        self.show_banner(str(err))
        self.refresh()

    # -- secret -------------------------------------------------------------------------

    @Slot(int)
    def reveal_secret(self, hook_id: int) -> SecretDialog | None:
        """Open the Reveal dialog of a hook (non-blocking). Returns it, or None when
        the secret cannot be read (the banner says why)."""
        try:
            hook = self.service.hook(hook_id)
            secret = self.service.reveal_secret(hook_id)
        except HookadminError as err:
            self.show_banner(str(err))
            return None
        dialog = SecretDialog(hook.display_name, secret, self)
        dialog.copied.connect(lambda: self.service.audit("secret.copied", hook_id=hook_id))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @Slot(int)
    def _on_reset_requested(self, hook_id: int) -> None:
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self._on_hook_gone(err)
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Reset secret",
                          f"Replace the secret of {hook.display_name}?\n\nX-Hook-Signature "
                          "uses the new secret at once. For 24 hours (or the overlap chosen "
                          "below) the old secret also signs webhook-signature, so receivers "
                          "can switch over.",
                          QMessageBox.StandardButton.Cancel, self)
        reset = box.addButton("Reset secret", QMessageBox.ButtonRole.AcceptRole)
        expire = box.addButton("Expire old secret now", QMessageBox.ButtonRole.ActionRole) \
            if (hook.previous_secret_expires_at or 0) > time.time() else None
        overlap = overlap_choice(box)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("confirmReset")

        def finished() -> None:
            box.deleteLater()
            if expire is not None and box.clickedButton() is expire:
                try:
                    self.service.expire_previous_secret(hook_id)
                except HookadminError as err:
                    self.show_banner(str(err))
                self.refresh()
                return
            if box.clickedButton() is not reset:
                return
            try:
                secret = self.service.reset_secret(hook_id, overlap=overlap.currentData())
            except HookadminError as err:
                self.show_banner(str(err))
                return
            self.refresh()
            dialog = SecretDialog(hook.display_name, secret, self,
                                  note="This is the new secret. Give it to the receiver now: "
                                       "it is shown this once (Reveal shows it again).")
            dialog.setObjectName("newSecretDialog")
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.open()

        box.finished.connect(finished)
        box.open()

    # -- test events and settings -------------------------------------------------------

    @Slot()
    def _on_test_event_shortcut(self) -> None:
        if self.stack.currentWidget() is self.page and self.page.hook is not None:
            self.send_test_event(self.page.hook.id)

    @Slot(int)
    def send_test_event(self, hook_id: int) -> TestEventDialog | None:
        """Open the "Send test event" dialog for a hook (non-blocking)."""
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self._on_hook_gone(err)
            return None
        dialog = TestEventDialog(self.service, hook, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sent.connect(lambda event_id: self.statusBar().showMessage(
            f"Queued test event {event_id} for {hook.display_name}.", 5000))
        dialog.sent.connect(self.refresh)
        dialog.open()
        return dialog

    @Slot(int)
    def show_verify_snippets(self, hook_id: int) -> VerifyDialog | None:
        """Open the "Verify on your side" snippets of a hook (non-blocking)."""
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self._on_hook_gone(err)
            return None
        dialog = VerifyDialog(hook, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @Slot()
    def open_settings(self) -> SettingsDialog:
        """Open the Settings dialog (non-blocking)."""
        dialog = SettingsDialog(self.service, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- ping ---------------------------------------------------------------------------

    @Slot()
    def _on_ping_shortcut(self) -> None:
        if self.stack.currentWidget() is self.page and self.page.hook is not None:
            self.ping_hook(self.page.hook.id)

    @Slot(int)
    def ping_hook(self, hook_id: int) -> PingViewer | None:
        """Send a ping in the background and open its response viewer."""
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            self.show_banner(str(err))
            return None
        from hookadmin.delivery.ping import ping_settings as effective_ping_settings

        viewer = PingViewer(hook.display_name, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        task = PingTask(hook, self.service.secrets,
                        effective_ping_settings(self.service, self.ping_settings),
                        self)
        self._pings.append(task)

        def done(result: PingResult) -> None:
            self.service.store.record_ping(hook_id, result.delivery_id, result.body,
                                           result.attempt)
            if viewer_alive():
                viewer.show_result(result)
            self.refresh()

        def failed(message: str) -> None:
            if viewer_alive():
                viewer.show_failure(message)

        closed = []
        viewer.destroyed.connect(lambda: closed.append(True))

        def viewer_alive() -> bool:
            return not closed

        def forget() -> None:
            if task in self._pings:
                self._pings.remove(task)

        task.done.connect(done)
        task.failed.connect(failed)
        viewer.on_cancel = task.cancel
        task._thread.finished.connect(forget)
        viewer.open()
        task.start()
        return viewer

    @Slot(str)
    def redeliver(self, delivery_id: str) -> None:
        """Queue a delivery again (new attempts, same id and body)."""
        try:
            self.service.redeliver(delivery_id)
        except HookadminError as err:
            self.show_banner(str(err))
            return
        self.statusBar().showMessage(f"Delivery {delivery_id} is queued again.", 5000)
        self.refresh()

    @Slot(object, float)
    def redeliver_failed_since(self, hook_id: int | None, since: float) -> int:
        """Queue every failed delivery of a hook (or of every hook) since ``since``
        (Unix seconds) again. Returns how many."""
        hooks = [hook_id] if hook_id is not None else [h.id for h in self.service.hooks()]
        count = 0
        try:
            for one in hooks:
                count += self.service.redeliver_failed(one, since)
        except HookadminError as err:
            self.show_banner(str(err))
        self.statusBar().showMessage(f"Queued {count} failed deliveries again.", 5000)
        self.refresh()
        return count

    @Slot(str)
    def _on_all_deliveries_selected(self, delivery_id: str) -> None:
        store = self.service.store
        try:
            delivery = store.get_delivery(delivery_id)
        except NotFoundError:
            return
        self.deliveries_page.show_details(describe_attempts(
            delivery, store.list_attempts(delivery.seq), store.delivery_body(delivery_id)))

    @Slot(str)
    def copy_as_curl(self, delivery_id: str) -> None:
        """Put a curl command repeating the delivery's last request on the clipboard."""
        store = self.service.store
        try:
            delivery = store.get_delivery(delivery_id)
        except NotFoundError as err:
            self.show_banner(str(err))
            return
        attempts = store.list_attempts(delivery.seq)
        body = store.delivery_body(delivery_id)
        if attempts and attempts[-1].request_headers:
            url, headers = attempts[-1].request_url, attempts[-1].request_headers
            body = attempts[-1].request_body or body  # a Slack message, a PagerDuty event
        else:
            hook = self.service.hook(delivery.hook_id)
            url, headers = hook.url, {"Content-Type": "application/json",
                                      "X-Hook-Event": delivery.event_type,
                                      "X-Hook-Delivery": delivery.id}
        QGuiApplication.clipboard().setText(curl_command(url, headers, body))
        self.statusBar().showMessage("Copied a curl command for this delivery.", 5000)

    @Slot(str)
    def _on_delivery_selected(self, delivery_id: str) -> None:
        store = self.service.store
        try:
            delivery = store.get_delivery(delivery_id)
        except NotFoundError:
            return
        text = describe_attempts(delivery, store.list_attempts(delivery.seq),
                                 store.delivery_body(delivery_id))
        self.page.show_attempts(text)
