"""The main window: hooks table on the left; the hook page or the hook form on the
right; the delivery engine's state in the status bar.

The window keeps the layout and the wiring; the rest is in small controllers:
:class:`HookActions`, :class:`DeliveryActions` and :class:`Pings` (what its buttons
and menus do), :class:`StatusBar`, :class:`WindowMenus` (the menu bar and its
shortcuts), :class:`WindowRefresh` (the periodic reads), :class:`HookSelection`
(which hook's page or the form is shown), :class:`EngineControl` (pausing the engine
and what it does) and :class:`KeyringState` (what the keyring and the team key allow)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

# QtCore.Qt, not Qt: PySide builds the Qt namespace's enums when the name is first looked
# up (13 ms), which the first frame does without; the pages look it up after it.
from PySide6 import QtCore
from PySide6.QtCore import QByteArray, QSettings, Signal, Slot
from PySide6.QtWidgets import QMainWindow, QWidget

from hookadmin.ui.first_paint import AfterPaint, frame_menus
from hookadmin.ui.status_bar import StatusBar

if TYPE_CHECKING:  # the pages, the controllers and the service layer are imported after
    # the first paint (see MainWindow.complete); the HTTP stack and the keyring later still
    from PySide6.QtGui import QCloseEvent
    from PySide6.QtWidgets import QVBoxLayout

    from hookadmin.core.errors import NotFoundError
    from hookadmin.core.service import HookService
    from hookadmin.core.store import StoreLocation
    from hookadmin.delivery.policy import DeliverySettings
    from hookadmin.ui.engine_host import EngineHost
    from hookadmin.ui.engine_thread import ThreadEngineHost

BACKGROUND_WAIT_MS = 500  # the engine and the keyring check start then at the latest


class MainWindow(QMainWindow):
    """The admin window.

    Built in two steps, so that it paints as soon as a bare window would: the frame
    (title, the menu bar with its menus' titles, the status bar, an empty central
    area) and then, by :meth:`complete`, the tab widget and its pages, the menus'
    actions and the controllers, whose modules are imported only then. Given a
    :class:`HookService`, both steps run at once; without one, only the frame is
    built, titled "hookadmin" and "Opening…" in its status bar (which database it
    opens is read after its first paint), and the caller completes it with the
    service once it is open. Until then the menus (on the menu bar from the first
    frame, so nothing moves) are empty and disabled, so nothing can be clicked that is
    not there yet; a window completed after its first paint builds the Deliveries,
    Activity and Audit tabs (:meth:`build_pages`; disabled until then) once its hooks
    have painted. :attr:`completed` and :attr:`pages_built` say how far it is.

    Args:
        service: the service layer of one data directory (used on the GUI thread only);
            None: the frame only, completed later by :meth:`complete`.
        engine: the delivery engine host; the window starts it when shown and stops it
            when closed. None runs the window without delivering (tests).
        ping_settings: timeouts for pings.

    Signals:
        keyring_checked(bool): the check of the OS keyring made after the first paint is
            done: True when the keyring can be used (else the banner says why).
        refreshed(): the rows of a refresh have been read and applied.
        ready(): the window is complete and its first hooks are listed (once).
        tabs_built(): the Deliveries, Activity and Audit tabs have been built (once).
        switch_requested(HookService): *File → Connect to team database…* or *Use local
            database* opened the service of another database, for the window's host to
            switch to (:class:`~hookadmin.ui.window_host.WindowHost`).
    """

    keyring_checked = Signal(bool)
    refreshed = Signal()
    ready = Signal()
    tabs_built = Signal()
    switch_requested = Signal(object)

    def __init__(self, service: HookService | None = None,
                 engine: EngineHost | ThreadEngineHost | None = None,
                 ping_settings: DeliverySettings | None = None) -> None:
        super().__init__()
        self.completed = False
        self.pages_built = False
        self.engine = engine
        self.status = StatusBar(self.statusBar())
        self.engine_label = self.status.engine_label
        self.rate_label = self.status.rate_label
        self.queue_label = self.status.queue_label
        self.setWindowTitle("hookadmin")  # complete() names the database
        # Not show_database(): the frame's width is its default, well over the bar's
        # texts, so they are not measured yet (complete() names the database and fits).
        self.status.database_label.setText("Opening…")
        self.setObjectName("mainWindow")
        self.resize(1280, 820)
        self.frame_menus = frame_menus(self)  # filled and enabled by complete()
        # The central area stays empty (the window's colour) until complete() lays
        # out the banners and the tab widget in it.
        self.central = QWidget()
        self.setCentralWidget(self.central)
        self._restore_geometry()
        if service is not None:
            self.complete(service, engine, ping_settings)

    def complete(self, service: HookService,
                 engine: EngineHost | ThreadEngineHost | None = None,
                 ping_settings: DeliverySettings | None = None) -> None:
        """Build the pages, the menus and the controllers on ``service`` (once), start
        ``engine`` if the window is already shown, and read the hooks; :attr:`ready` is
        emitted when they are listed. The modules imported here are most of the
        window's start-up cost, so they are imported here rather than with this one."""
        # Imported here, not at the top: the first frame paints without them (README).
        from PySide6.QtWidgets import QSplitter, QTabWidget

        from hookadmin.delivery.policy import DeliverySettings
        from hookadmin.ui.background import keyring_lane, reads_lane
        from hookadmin.ui.banners import PausedBanner, ProblemBanner
        from hookadmin.ui.delivery_actions import DeliveryActions
        from hookadmin.ui.engine_control import EngineControl
        from hookadmin.ui.hook_actions import HookActions
        from hookadmin.ui.hook_selection import HookSelection
        from hookadmin.ui.hook_stack import HookStack
        from hookadmin.ui.hooks_panel import HooksPanel
        from hookadmin.ui.keyring_state import KeyringState
        from hookadmin.ui.notify import FailureNotices, Notifier
        from hookadmin.ui.pings import Pings
        from hookadmin.ui.window_menus import WindowMenus
        from hookadmin.ui.window_refresh import WindowRefresh
        from hookadmin.ui.workers import StartupChecks

        if self.completed:
            raise RuntimeError("the window is complete already")
        self.service = service
        self.engine = engine
        self.ping_settings = ping_settings or DeliverySettings()
        self._show_database(service.location)  # the local one, when the team's failed
        self.keyring_lane = keyring_lane(service, self)  # every keyring call, in turn
        self.keyring = KeyringState(self.keyring_lane, self)
        self.reads = reads_lane(service, self)  # the periodic reads
        self.refresher = WindowRefresh(self)
        self.selection = HookSelection(self)
        self.hook_actions = HookActions(self)
        self.delivery_actions = DeliveryActions(self)
        self.pings = Pings(self, self.ping_settings)
        self.engine_control = EngineControl(self)
        self.keyring.unusable.connect(self.show_banner)
        self.keyring.usable.connect(self._keyring_usable)
        self.keyring.checked.connect(self.keyring_checked)

        self.banner_box = ProblemBanner()
        self.banner = self.banner_box.label
        self.banner_close = self.banner_box.dismiss
        self.paused_box = PausedBanner(lambda: self.engine_control.set_paused(False))
        self.resume_button = self.paused_box.resume_button

        left = HooksPanel()
        self.hooks_model, self.hooks_proxy = left.model, left.proxy
        self.hooks_view, self.filter_edit = left.view, left.filter_edit
        self.new_button, self.empty_hint = left.new_button, left.empty_hint
        self.empty_hint.hide()  # until the first read says there are none
        self.hooks_view.customContextMenuRequested.connect(self.hook_actions.context_menu)

        self.stack = HookStack()
        self.placeholder, self.form_scroll = self.stack.placeholder, self.stack.form_scroll
        self.form, self.page = self.stack.form, self.stack.page

        self.splitter = QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 720])
        # The first read starts now, on the reads lane, while the rest is built here;
        # its rows are applied once this method has returned to the event loop.
        self.refresh(self.ready.emit)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.addTab(self.splitter, "&Webhooks")
        for title in ("&Deliveries", "&Activity", "A&udit"):
            self.tabs.setTabEnabled(self.tabs.addTab(QWidget(), title), False)
        self.tabs.currentChanged.connect(self.refresher.tab_changed)
        self.central_layout = self.central_box()
        self.central_layout.addWidget(self.banner_box)
        self.central_layout.addWidget(self.paused_box)
        self.central_layout.addWidget(self.tabs, 1)
        self.notifier = Notifier(self, self.status)
        self.failure_notices = FailureNotices(self.notifier, self.refresher.read_hook)

        self.menus = WindowMenus(self)
        self.pause_action = self.menus.pause_action
        self.transfer = self.menus.transfer
        self.database_actions = self.menus.database_actions
        self.help_menu = self.menus.help_menu

        self.new_button.clicked.connect(self.hook_actions.start_new_hook)
        left.delete_pressed.connect(self.menus.delete_selected)
        self.selection.follow(self.hooks_view)
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
        self.page.copy_curl_requested.connect(self.delivery_actions.copy_as_curl)
        self.page.open_delivery_requested.connect(self.delivery_actions.open_on_deliveries_tab)
        self.keyring.team_key_missing.connect(self.page.set_signing_unavailable)

        self._restore_splitter()
        self.completed = True
        # The keyring is checked (and the HTTP stack imported) in the background once
        # the window is on screen: neither holds up the first frame.
        self.startup = StartupChecks(lambda: self.service.secrets.check(), self)
        self.keyring.follow(self.startup)
        if self.isVisible():  # completed after the first paint: the hooks first, then
            # the other tabs, the engine and the keyring check
            self.ready.connect(self._after_hooks_painted,
                               QtCore.Qt.ConnectionType.SingleShotConnection)
        else:
            self.build_pages()
            AfterPaint(self, self.startup.start)

    def build_pages(self) -> None:
        """Build the Deliveries, Activity and Audit tabs (once; they are disabled until
        then) and give them the hooks of the last refresh. A window completed after its
        first paint builds them once its hooks have painted."""
        from hookadmin.ui.activity_page import ActivityPage
        from hookadmin.ui.audit_page import AuditPage
        from hookadmin.ui.deliveries_page import DeliveriesPage

        if self.pages_built:
            return
        self.deliveries_page = DeliveriesPage(self.reads)
        self.activity_page = ActivityPage(self.reads)
        self.deliveries_page.read_failed.connect(self.show_banner)
        self.activity_page.read_failed.connect(self.show_banner)
        self.audit_page = AuditPage(self.service)
        self._replace_tab(1, self.deliveries_page, "&Deliveries")
        self._replace_tab(2, self.activity_page, "&Activity")
        self._replace_tab(3, self.audit_page, "A&udit")
        self.deliveries_page.delivery_selected.connect(
            self.delivery_actions.show_on_deliveries_tab)
        self.deliveries_page.redeliver_requested.connect(self.delivery_actions.redeliver)
        self.deliveries_page.redeliver_many_requested.connect(
            self.delivery_actions.redeliver_many)
        self.deliveries_page.copy_curl_requested.connect(self.delivery_actions.copy_as_curl)
        self.deliveries_page.redeliver_failed_requested.connect(
            self.delivery_actions.redeliver_failed_since)
        self.pages_built = True
        self.refresher.apply_to_new_pages()
        self.tabs_built.emit()

    def central_box(self) -> QVBoxLayout:
        """The central area's layout, made at the first call: :meth:`complete` lays out
        the banners and the tabs in it; before that, what the start shows over the
        frame (the remembered team database's keyring banner) may go in it."""
        from PySide6.QtWidgets import QVBoxLayout

        layout = self.central.layout()
        if isinstance(layout, QVBoxLayout):
            return layout
        return QVBoxLayout(self.central)

    def _replace_tab(self, index: int, page: QWidget, title: str) -> None:
        """Put ``page`` in place of the frame's placeholder at ``index`` (enabled; the
        current tab stays current, and no ``currentChanged`` is emitted)."""
        current = self.tabs.currentIndex()
        placeholder = self.tabs.widget(index)
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, page, title)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        if placeholder is not None:
            placeholder.deleteLater()

    @Slot()
    def _after_hooks_painted(self) -> None:
        AfterPaint(self.hooks_view.viewport(), self._start_background, BACKGROUND_WAIT_MS)

    def _start_background(self) -> None:
        self.build_pages()
        self.startup.start()
        if self.isVisible():
            self.engine_control.start_unless_paused()

    def _show_database(self, location: StoreLocation) -> None:
        from hookadmin.ui.database_name import database_name

        self.database_name = database_name(location)
        self.setWindowTitle(f"hookadmin — service hooks — {self.database_name}")
        self.status.show_database(self.database_name, location.describe())

    # -- state ------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)

    def _restore_splitter(self) -> None:
        splitter = QSettings().value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.completed and self.stack.currentWidget() is self.form_scroll \
                and not self.form.confirm_leave(self._close_again, lambda: None):
            event.ignore()  # it asks first (Save / Discard / Cancel); Cancel stays open
            return
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        if not self.completed:  # closed before it was complete: nothing runs yet
            super().closeEvent(event)
            return
        settings.setValue("window/splitter", self.splitter.saveState())
        self.refresher.stop()
        if self.pages_built:
            self.deliveries_page.stop()
        if self.engine is not None:
            self.engine.stop()
        self.pings.wait_all()
        self.keyring_lane.close()
        self.reads.close()
        super().closeEvent(event)

    def _close_again(self) -> None:
        """Close once the form's edits were saved or discarded."""
        self.close()

    def showEvent(self, event: object) -> None:
        if self.completed:
            self.engine_control.start_unless_paused()
        super().showEvent(event)  # type: ignore[arg-type]

    # -- refresh ------------------------------------------------------------------------

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Reload what the window shows (:meth:`WindowRefresh.refresh`); ``then`` is
        called once the rows are applied."""
        self.refresher.refresh(then)

    def is_idle(self) -> bool:
        """True when no read or keyring call the window started is still under way."""
        return self.refresher.is_idle()

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        """Pause (stop the engine; queued deliveries wait) or resume delivery
        (:meth:`EngineControl.set_paused`)."""
        self.engine_control.set_paused(paused)

    def selected_hook_id(self) -> int | None:
        """The id of the hook selected in the table, if any."""
        return self.selection.selected_hook_id()

    def select_hook(self, hook_id: int) -> None:
        """Select a hook in the table and show its page."""
        self.selection.select_hook(hook_id)

    def show_form(self) -> None:
        """Bring the hook form up."""
        self.selection.show_form()

    # -- messages -----------------------------------------------------------------------

    @Slot(str)
    def show_banner(self, message: str) -> None:
        """Show a problem above everything until it is resolved."""
        self.banner_box.show_message(message)

    def clear_banner(self) -> None:
        """Hide the banner."""
        self.banner_box.hide()

    @Slot(str)
    def _keyring_usable(self, sentence: str) -> None:
        """The keyring answers again: hide the banner if it still shows ``sentence``,
        which said it could not be used (a banner saying something else stays)."""
        if self.banner.text() == sentence:
            self.clear_banner()

    def hook_gone(self, err: NotFoundError) -> None:
        """The shown hook no longer exists: say so and show what does."""
        self.show_banner(str(err))
        self.refresh()
