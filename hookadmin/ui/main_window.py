"""The main window: hooks table on the left; the hook page or the hook form on the
right; the delivery engine's state in the status bar.

The window keeps the layout, the menus and the wiring; what its buttons and menus do
is in small controllers: :class:`HookActions`, :class:`DeliveryActions`,
:class:`Pings` and :class:`StatusBar`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QObject,
    QSettings,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.errors import HookadminError, NotFoundError
from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.core.store import Repository, StoreLocation, open_store
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.ui.activity_page import ActivityPage
from hookadmin.ui.audit_page import AuditPage
from hookadmin.ui.background import Lane
from hookadmin.ui.banners import PausedBanner, ProblemBanner
from hookadmin.ui.database_actions import DatabaseActions
from hookadmin.ui.deliveries_page import DeliveriesPage
from hookadmin.ui.delivery_actions import DeliveryActions
from hookadmin.ui.engine_thread import ThreadEngineHost
from hookadmin.ui.event_catalog import EventCatalogDialog
from hookadmin.ui.help_menu import HelpMenu
from hookadmin.ui.hook_actions import HookActions
from hookadmin.ui.hook_form import HookForm
from hookadmin.ui.hook_page import HookPage
from hookadmin.ui.hooks_panel import HooksPanel
from hookadmin.ui.models import Roles
from hookadmin.ui.notify import FailureNotices, Notifier
from hookadmin.ui.pings import Pings
from hookadmin.ui.queries import HookPageQuery, HookPageRows, WindowQuery, WindowRows
from hookadmin.ui.status_bar import StatusBar
from hookadmin.ui.transfer_actions import TransferActions
from hookadmin.ui.workers import EngineHost, StartupChecks

if TYPE_CHECKING:  # the HTTP stack and the keyring are imported after the first paint
    from hookadmin.delivery.engine import AttemptOutcome

DELIVERIES_SHOWN = 200
TEAM_KEY_CAUSES = ("team_key_missing", "team_key_mismatch", "team_key_invalid")
KEYRING_ADVICE = ("Hooks still list; deliveries wait until the keyring can be read and are "
                  "never sent unsigned.")


def database_name(location: StoreLocation) -> str:
    """Which database the window is on, for its title and status bar: ``Local
    (SQLite)``, or ``Team: HOST/DBNAME`` for a team database (never a password)."""
    if location.url is None:
        return "Local (SQLite)"
    parts = urlsplit(location.url)
    host = parts.hostname or "local socket"
    dbname = unquote(parts.path.lstrip("/")) or "default"
    return f"Team: {host}/{dbname}"


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
        refreshed(): the rows of a refresh have been read and applied.
        switch_requested(HookService): *File → Connect to team database…* or *Use local
            database* opened the service of another database, for the window's host to
            switch to (:class:`~hookadmin.ui.window_host.WindowHost`).
    """

    keyring_checked = Signal(bool)
    refreshed = Signal()
    switch_requested = Signal(object)

    def __init__(self, service: HookService, engine: EngineHost | ThreadEngineHost | None = None,
                 ping_settings: DeliverySettings | None = None) -> None:
        super().__init__()
        self.service = service
        self.engine = engine
        self._keeping_selection = False  # True while the form's hook is selected again
        self.ping_settings = ping_settings or DeliverySettings()
        self.status = StatusBar(self.statusBar())
        self.engine_label = self.status.engine_label
        self.rate_label = self.status.rate_label
        self.queue_label = self.status.queue_label
        # Every keyring call runs on this lane, one at a time, with a service of its
        # own (its own database connection): a locked keyring prompts once and the
        # window goes on painting meanwhile.
        self.keyring_lane: Lane[HookService] = Lane(
            "hookadmin-keyring",
            lambda: HookService(service.location, secrets=service.secrets),
            lambda lane_service: lane_service.close(), parent=self)
        self._keyring_problem = False
        self.team_key_problem = ""  # why this machine cannot sign for the team database
        self.keyring_lane.busy_changed.connect(self._update_engine_state)
        # The periodic reads run on this lane, with a store of its own.
        self.reads: Lane[Repository] = Lane(
            "hookadmin-reads", lambda: open_store(service.location),
            lambda store: store.close(), parent=self)
        self._refresh_in_flight = self._refresh_wanted = False
        self._page_wanted: int | None = None  # a page asked for, its rows not yet read
        self._after_next_refresh: list[Callable[[], None]] = []
        self.hook_actions = HookActions(self)
        self.delivery_actions = DeliveryActions(self)
        self.pings = Pings(self, self.ping_settings)

        self.database_name: str = database_name(service.location)
        self.setWindowTitle(f"hookadmin — service hooks — {self.database_name}")
        self.status.show_database(self.database_name, service.location.describe())
        self.setObjectName("mainWindow")
        self.resize(1280, 820)

        self.banner_box = ProblemBanner()
        self.banner = self.banner_box.label
        self.banner_close = self.banner_box.dismiss
        self.paused_box = PausedBanner(lambda: self.set_paused(False))
        self.resume_button = self.paused_box.resume_button

        left = HooksPanel()
        self.hooks_model, self.hooks_proxy = left.model, left.proxy
        self.hooks_view, self.filter_edit = left.view, left.filter_edit
        self.new_button, self.empty_hint = left.new_button, left.empty_hint
        self.hooks_view.customContextMenuRequested.connect(self.hook_actions.context_menu)
        left.delete_pressed.connect(self._on_delete_key)

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
        central_layout.addWidget(self.paused_box)
        central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.notifier = Notifier(self)
        self.failure_notices = FailureNotices(self.notifier, self._read_hook)
        self._activity_drawn = 0.0

        file_menu = self.menuBar().addMenu("&File")
        settings_action = file_menu.addAction("&Settings…")
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.triggered.connect(self.hook_actions.open_settings)
        file_menu.addSeparator()
        self.transfer = TransferActions(self)
        export_action = file_menu.addAction("&Export hooks…")
        export_action.setObjectName("exportHooks")
        export_action.triggered.connect(self.transfer.ask_export)
        import_action = file_menu.addAction("&Import hooks…")
        import_action.setObjectName("importHooks")
        import_action.triggered.connect(self.transfer.ask_import)
        file_menu.addSeparator()
        self.database_actions = DatabaseActions(self)
        self.database_actions.add_to(file_menu)
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
        self._hooks_menu = hooks_menu
        new_action = hooks_menu.addAction("&New hook")
        new_action.setShortcut(QKeySequence.StandardKey.New)
        new_action.triggered.connect(self.hook_actions.start_new_hook)
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

        edit_action = hooks_menu.addAction("&Edit")
        edit_action.setObjectName("editHook")
        edit_action.setShortcut(QKeySequence("Ctrl+E"))
        edit_action.triggered.connect(self._on_edit_shortcut)
        catalog_action = hooks_menu.addAction("Event &catalog")
        catalog_action.setObjectName("eventCatalog")
        catalog_action.triggered.connect(self.open_event_catalog)
        self.help_menu = HelpMenu(self)

        self.new_button.clicked.connect(self.hook_actions.start_new_hook)
        self.hooks_view.selectionModel().selectionChanged.connect(self._on_hook_selection)
        self.form.submitted.connect(self.hook_actions.submit)
        self.form.cancelled.connect(self.hook_actions.cancel_form)
        self.page.reveal_requested.connect(self.hook_actions.reveal_secret)
        self.page.ping_requested.connect(self.pings.ping_hook)
        self.page.edit_requested.connect(self.hook_actions.edit)
        self.page.delete_requested.connect(self.hook_actions.delete)
        self.page.reset_requested.connect(self.hook_actions.reset_secret)
        self.page.verify_requested.connect(self.hook_actions.show_verify_snippets)
        self.page.test_event_requested.connect(self.hook_actions.send_test_event)
        self.page.active_toggle_requested.connect(self.hook_actions.set_active)
        self.page.ordered_toggle_requested.connect(self.hook_actions.set_ordered)
        self.page.delivery_selected.connect(self.delivery_actions.show_on_hook_page)
        self.page.redeliver_requested.connect(self.delivery_actions.redeliver)
        self.deliveries_page.delivery_selected.connect(
            self.delivery_actions.show_on_deliveries_tab)
        self.deliveries_page.redeliver_requested.connect(self.delivery_actions.redeliver)
        self.deliveries_page.redeliver_many_requested.connect(
            self.delivery_actions.redeliver_many)
        self.deliveries_page.copy_curl_requested.connect(self.delivery_actions.copy_as_curl)
        self.deliveries_page.redeliver_failed_requested.connect(
            self.delivery_actions.redeliver_failed_since)
        self.page.copy_curl_requested.connect(self.delivery_actions.copy_as_curl)
        self.page.open_delivery_requested.connect(self.delivery_actions.open_on_deliveries_tab)

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

    @Slot(str)
    def _on_keyring_checked(self, problem: str) -> None:
        if problem and self.startup.cause in TEAM_KEY_CAUSES:
            self.team_key_problem = problem
            self.page.set_signing_unavailable(problem)
            self._update_engine_state()
            self.keyring_checked.emit(False)
            return
        if problem:
            self.show_banner(f"{problem} {KEYRING_ADVICE}")
        self.keyring_answered(not problem)
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
        self.pings.wait_all()
        self.keyring_lane.close()
        self.reads.close()
        super().closeEvent(event)

    def showEvent(self, event: object) -> None:
        if self.engine is not None and not self.engine.running:
            self.engine.start()
        super().showEvent(event)  # type: ignore[arg-type]

    # -- refresh ------------------------------------------------------------------------

    @Slot()
    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Reload hooks, the shown hook's deliveries and the status bar: the reads run
        on the reads lane and their rows are applied when they come back (``then``
        is called after that). A refresh asked for while one is under way runs once
        that one is back."""
        if then is not None:
            self._after_next_refresh.append(then)
        if self._refresh_in_flight:
            self._refresh_wanted = True
            return
        self._refresh_in_flight, self._refresh_wanted = True, False
        callbacks, self._after_next_refresh = self._after_next_refresh, []
        shown = (self.page.hook.id if self.stack.currentWidget() is self.page
                 and self.page.hook is not None else None)
        query = WindowQuery(shown_hook_id=shown, limit=DELIVERIES_SHOWN,
                            health=self.hooks_model.health_due())
        self.reads.submit(query.run, lambda rows: self._apply_refresh(rows, callbacks),
                          lambda err: self._refresh_failed(err, callbacks))

    def is_idle(self) -> bool:
        """True when no read or keyring call the window started is still under way
        (what it shows is what it last read)."""
        return (not self._refresh_in_flight and not self._refresh_wanted
                and self.reads.pending == 0 and self.keyring_lane.pending == 0)

    def _apply_refresh(self, rows: WindowRows, callbacks: list[Callable[[], None]]) -> None:
        self._refresh_in_flight = False
        selected = self.selected_hook_id()
        self.hooks_model.set_data(rows.hooks, rows.last, rows.health)
        self.empty_hint.setVisible(not rows.hooks)
        if selected is not None:
            row = self._view_row(selected)
            if row >= 0:
                self.hooks_view.selectionModel().blockSignals(True)
                self.hooks_view.selectRow(row)
                self.hooks_view.selectionModel().blockSignals(False)
        if rows.page is not None:
            self._apply_page(rows.page)
        self.deliveries_page.set_hooks(rows.hooks)
        self.deliveries_page.model.set_order_heads(rows.order_heads)
        self.activity_page.set_hooks(rows.hooks)
        if self.tabs.currentWidget() is self.deliveries_page:
            self.deliveries_page.refresh()
        elif self.tabs.currentWidget() is self.activity_page \
                and time.monotonic() - self._activity_drawn > 10.0:
            self._activity_drawn = time.monotonic()
            self.activity_page.refresh()
        self._update_engine_state()
        self.status.show_counts(rows.counts)
        self._refresh_done(callbacks)

    def _refresh_failed(self, err: HookadminError,
                        callbacks: list[Callable[[], None]]) -> None:
        self._refresh_in_flight = False
        self.show_banner(str(err))
        self._refresh_done(callbacks)

    def _refresh_done(self, callbacks: list[Callable[[], None]]) -> None:
        for callback in callbacks:
            callback()
        self.refreshed.emit()
        if self._refresh_wanted:
            self.refresh()

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
            self.engine.request_stop()  # returns at once; the engine ends in its thread
        else:
            self.engine.start()
        if self.pause_action.isChecked() != paused:
            self.pause_action.setChecked(paused)
        self.paused_box.setVisible(paused)
        self._update_status()

    @Slot()
    def _update_status(self) -> None:
        self._update_engine_state()
        self.refresh()

    @Slot()
    def _update_engine_state(self) -> None:
        self.status.show_engine_state(self._engine_state())

    def _engine_state(self) -> str:
        """What the status bar says the engine does."""
        if self.engine is not None and self.pause_action.isChecked():
            return "paused"
        if self.team_key_problem:
            return "not sending: no team key on this machine"
        if self._keyring_problem or self.keyring_lane.busy:
            return "waiting for the keyring"
        if self.engine is None:
            return "off"
        return "running" if self.engine.running else "stopped"

    def keyring_answered(self, ok: bool) -> None:
        """A keyring call ended: ``ok`` when the keyring answered (delivery no longer
        waits for it), False when it could not be used."""
        self._keyring_problem = not ok
        self._update_engine_state()

    @Slot(object)
    def _on_attempt_recorded(self, outcome: AttemptOutcome) -> None:
        self.failure_notices.attempt_recorded(outcome)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _read_hook(self, hook_id: int, then: Callable[[Hook | None], None]) -> None:
        """Read one hook on the reads lane; ``then(hook)`` (None: gone) in the GUI thread."""

        def read(store: Repository) -> Hook | None:
            try:
                return store.get_hook(hook_id)
            except NotFoundError:
                return None

        self.reads.submit(read, then, lambda err: self.show_banner(str(err)))

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
        """Show a hook's page once its rows have been read on the reads lane (unless
        another page or the form is asked for meanwhile)."""
        self._page_wanted = hook_id
        query = HookPageQuery(hook_id, DELIVERIES_SHOWN)
        self.reads.submit(query.run, self._apply_page, lambda err: self.show_banner(str(err)))

    def show_form(self) -> None:
        """Bring the hook form up (a page asked for before is no longer shown)."""
        self._page_wanted = None
        self.stack.setCurrentWidget(self.form_scroll)
        self.form.url_edit.setFocus()

    def _apply_page(self, rows: HookPageRows) -> None:
        if self._page_wanted == rows.hook_id:
            self._page_wanted = None
        elif not (self.stack.currentWidget() is self.page and self.page.hook is not None
                  and self.page.hook.id == rows.hook_id):
            return  # another hook or the form was asked for meanwhile
        if rows.hook is None:
            if self.stack.currentWidget() is self.page:
                self.stack.setCurrentWidget(self.placeholder)
            return
        self.page.show_hook(rows.hook, rows.deliveries, rows.blocking, rows.head_seq,
                            rows.ordered)
        self.page.show_health(self.hooks_model.health_of(rows.hook_id))
        self.stack.setCurrentWidget(self.page)

    @Slot(QItemSelection, QItemSelection)
    def _on_hook_selection(self, *_: object) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is None:
            self._page_wanted = None
            if self.stack.currentWidget() is self.page:
                self.stack.setCurrentWidget(self.placeholder)
            return
        if self._keeping_selection:
            return
        if self.stack.currentWidget() is self.form_scroll and not self.form.confirm_leave(
                lambda: self.select_hook(hook_id), self._select_edited_hook):
            return
        self._show_page(hook_id)

    def _select_edited_hook(self) -> None:
        """Select the row of the hook the form edits (none for a new hook) without
        leaving the form: the list must not show another hook while its edits stay."""
        editing = self.form.editing
        row = -1 if editing is None else self._view_row(editing.id)
        self._keeping_selection = True
        try:
            if row >= 0:
                self.hooks_view.selectRow(row)
            else:
                self.hooks_view.clearSelection()
        finally:
            self._keeping_selection = False

    # -- messages -----------------------------------------------------------------------

    @Slot(str)
    def show_banner(self, message: str) -> None:
        """Show a problem above everything until it is resolved."""
        self.banner_box.show_message(message)

    def clear_banner(self) -> None:
        """Hide the banner."""
        self.banner_box.hide()

    @Slot()
    def _on_find(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    @Slot()
    def open_event_catalog(self) -> EventCatalogDialog:
        """Open the event catalog (non-modal) and return it."""
        dialog = EventCatalogDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @Slot()
    def _on_edit_shortcut(self) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is not None:
            self.hook_actions.edit(hook_id)

    @Slot()
    def _on_duplicate_shortcut(self) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is not None:
            self.hook_actions.duplicate_hook(hook_id)

    @Slot()
    def _on_delete_key(self) -> None:
        hook_id = self.selected_hook_id()
        if hook_id is not None:
            self.hook_actions.delete(hook_id)

    def hook_gone(self, err: NotFoundError) -> None:
        """The shown hook no longer exists: say so and show what does."""
        self.show_banner(str(err))
        self.refresh()

    # -- test events and settings -------------------------------------------------------

    @Slot()
    def _on_test_event_shortcut(self) -> None:
        if self.stack.currentWidget() is self.page and self.page.hook is not None:
            self.hook_actions.send_test_event(self.page.hook.id)

    # -- ping ---------------------------------------------------------------------------

    @Slot()
    def _on_ping_shortcut(self) -> None:
        if self.stack.currentWidget() is self.page and self.page.hook is not None:
            self.pings.ping_hook(self.page.hook.id)
