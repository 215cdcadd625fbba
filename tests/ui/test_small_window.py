"""The window at a small size (800 x 500): the Add webhook form never scrolls sideways
and its wrapped lines are whole, the hooks list's columns fit its width, dialogs
fit inside the window, and a selected delivery's attempts are in sight on the hook page
and the Deliveries tab without scrolling, and a hook's page still fits with the paused
banner and an engine error both showing."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QScrollArea,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui import dialogs as window_dialogs
from hookadmin.ui.attempt_view import AttemptView
from hookadmin.ui.event_catalog import EventCatalogDialog
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.models import HooksModel
from hookadmin.ui.ping_viewer import PingViewer
from tests.helpers import body, drain
from tests.receiver import Receiver, status
from tests.ui.conftest import HookFactory
from tests.ui.engine_window import has_process, open_with_engine
from tests.ui.gui import (
    click,
    click_row,
    click_tab,
    ping_from_page,
    select_hook,
    settle_windows,
    status_text,
)

Make = Callable[..., Receiver]
SMALL = (800, 500)


def small(qtbot: QtBot, window: MainWindow) -> None:
    """Resize the window to 800 x 500 and wait until it is that size."""
    window.resize(*SMALL)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == SMALL)
    settle_windows(qtbot)


def in_sight(widget: QWidget) -> bool:
    """Whether all of ``widget`` shows: inside each of its ancestors' rectangles (a
    scroll area's viewport included), up to its window."""
    window = widget.window()
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if not QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()).contains(rect):
            return False
        parent = parent.parentWidget()
    return window.rect().contains(rect)


def small_window_with_form(qtbot: QtBot,
                           open_window: Callable[..., MainWindow]) -> MainWindow:
    """A window at 800 x 500 showing the Add webhook form, laid out."""
    window = open_window()
    small(qtbot, window)
    click(qtbot, window.new_button)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.form_scroll)
    settle_windows(qtbot)
    return window


def assert_attempts_in_sight(qtbot: QtBot, deliveries: QTableView,
                             attempts: AttemptView) -> None:
    """Choose the first delivery in ``deliveries``; wait until its attempts show in
    ``attempts`` and the list, the attempt chooser, its outcome and its tabs are all in
    sight (the split changes once the selection has been handled), up to 5 s."""
    click_row(qtbot, deliveries, 0)
    qtbot.waitUntil(lambda: attempts.toPlainText() != "")
    settle_windows(qtbot)
    parts = (deliveries, attempts.chooser, attempts.outcome, attempts.tabs.tabBar())
    qtbot.waitUntil(lambda: all(in_sight(w) for w in parts), timeout=5000)


def test_the_add_form_never_scrolls_sideways_and_its_lines_are_whole(
        qtbot: QtBot, open_window: Callable[..., MainWindow]) -> None:
    window = small_window_with_form(qtbot, open_window)
    scroll = window.form_scroll
    assert not scroll.horizontalScrollBar().isVisible()
    assert window.form.width() <= scroll.viewport().width()
    intro = window.form.findChild(QLabel, "formIntro")
    assert isinstance(intro, QLabel)
    assert in_sight(intro)
    assert intro.height() >= intro.heightForWidth(intro.width())  # every line of it

    window.form.url_edit.setFocus()
    qtbot.keyClicks(window.form.url_edit, "ftp://example.com/" + "x" * 40)
    qtbot.keyClick(window.form.url_edit, Qt.Key.Key_Tab)  # editing finished: checked
    error = window.form.url_error
    qtbot.waitUntil(error.isVisible)
    settle_windows(qtbot)
    assert error.text()
    # Every line of it, once the form is laid out again.
    qtbot.waitUntil(lambda: error.height() >= error.heightForWidth(error.width()))
    scroll.ensureWidgetVisible(error)
    assert in_sight(error)
    assert not scroll.horizontalScrollBar().isVisible()


def test_the_form_keeps_its_width_when_the_list_is_widened(
        qtbot: QtBot, open_window: Callable[..., MainWindow]) -> None:
    """Dragging the splitter toward the form stops where the form still fits."""
    window = small_window_with_form(qtbot, open_window)
    window.splitter.setSizes([780, 20])
    settle_windows(qtbot)
    assert not window.form_scroll.horizontalScrollBar().isVisible()
    assert window.form.width() <= window.form_scroll.viewport().width()


def _columns_fit(window: MainWindow) -> list[str]:
    """Assert the hooks list's columns fit its width, with no sideways scrollbar, the
    Hook column keeping at least 40 % of it; the names of the columns shown."""
    view = window.hooks_view
    header = view.horizontalHeader()
    assert header.length() <= view.viewport().width()
    assert not view.horizontalScrollBar().isVisible()
    assert header.sectionSize(0) >= 0.4 * view.viewport().width()
    return [HooksModel.COLUMNS[c] for c in range(header.count())
            if not header.isSectionHidden(c)]


def test_the_hooks_list_s_columns_fit_without_a_sideways_scrollbar(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    window = open_window()
    small(qtbot, window)
    assert window.hooks_model.rowCount() == 0
    assert {"Hook", "Active"} <= set(_columns_fit(window))
    hook_id = _delivered(home, service, make_receiver, hook_factory)  # "✗ 500 …"
    hook_factory("https://alerts.example.com/hooks/etl-platform/production/" + "x" * 60,
                 name="production alerts for the data platform team", events=("cluster",))
    window.refresher.refresh()
    qtbot.waitUntil(lambda: window.hooks_model.rowCount() == 2, timeout=10_000)
    qtbot.waitUntil(lambda: window.hooks_model.index(
        window.hooks_model.row_of(hook_id), HooksModel.LAST).data() != "never",
        timeout=10_000)
    settle_windows(qtbot)
    shown = _columns_fit(window)
    assert {"Hook", "Active", "Last delivery"} <= set(shown)
    # A narrower list hides more; a wider one shows every column again.
    window.splitter.setSizes([200, 600])
    settle_windows(qtbot)
    assert len(_columns_fit(window)) <= len(shown)
    window.resize(1280, 800)
    window.splitter.setSizes([560, 720])
    qtbot.waitUntil(lambda: window.hooks_view.width() > 500)
    settle_windows(qtbot)
    assert _columns_fit(window) == list(HooksModel.COLUMNS)


def shown_lines(view: QTableView, row: int, column: int) -> list[str]:
    """The lines the view draws in a cell, as its delegate elides them to the cell."""
    index = view.model().index(row, column)
    delegate = view.itemDelegateForIndex(index)
    assert isinstance(delegate, QStyledItemDelegate)
    option = QStyleOptionViewItem()
    option.initFrom(view.viewport())
    option.rect = view.visualRect(index)
    option.font = view.font()
    option.fontMetrics = view.fontMetrics()
    delegate.initStyleOption(option, index)
    return option.text.replace("\u2028", "\n").split("\n")


def test_the_hooks_list_at_the_minimum_size_shows_each_host_and_whole_headers(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    """An administrator tells hooks apart by their host: a long path is elided, never
    the host (the whole URL is the cell's tooltip); no column header is cut short."""
    hook_id = _delivered(home, service, make_receiver, hook_factory)  # "✗ 500 …"
    named = hook_factory("https://alerts.example.com/hooks/etl-platform/production/"
                         + "x" * 60, name="production alerts for the data platform team",
                         events=("cluster",))
    bare = hook_factory("https://pager.example.org:8443/v2/notify/"
                        + "y" * 60, events=("job",))
    window = open_window()
    small(qtbot, window)
    window.refresher.refresh()
    qtbot.waitUntil(lambda: window.hooks_model.rowCount() == 3, timeout=10_000)
    qtbot.waitUntil(lambda: window.hooks_model.index(
        window.hooks_model.row_of(hook_id), HooksModel.LAST).data() != "never",
        timeout=10_000)
    settle_windows(qtbot)
    view, proxy = window.hooks_view, window.hooks_proxy
    for hook, host in ((named, "alerts.example.com"),
                       (bare, "pager.example.org:8443")):
        row = next(r for r in range(proxy.rowCount())
                   if proxy.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) == hook.url)
        url_line = shown_lines(view, row, 0)[-1]
        assert host in url_line, url_line
        assert url_line != hook.url  # it was too long: the path was elided
    select_hook(qtbot, window, named.id)  # its page keeps the host in sight too
    settle_windows(qtbot)
    assert "alerts.example.com" in window.page.url_label.text()
    assert window.page.url_label.text() != named.url
    assert window.page.url_label.toolTip() == named.url
    header = view.horizontalHeader()
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    assert {HooksModel.COLUMNS[c] for c in shown} >= {"Hook", "Active", "Last delivery"}
    for col in shown:
        assert header.sectionSize(col) >= header.sectionSizeHint(col), \
            HooksModel.COLUMNS[col]


def test_the_ping_viewer_fits_inside_a_small_window(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory(receiver.url, name="local")
    window = open_window()
    small(qtbot, window)
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200", timeout=10_000)
    settle_windows(qtbot)
    assert viewer.height() <= window.height()
    assert viewer.width() <= window.width()
    viewer.close()


def test_dialogs_fit_inside_a_small_window(
        qtbot: QtBot, hook_factory: HookFactory, service: HookService,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://example.com/hooks/ops", name="ops")
    window = open_window()
    small(qtbot, window)
    dialogs: list[QDialog] = [PingViewer("ops", window),
                              window_dialogs.TestEventDialog(service, hook, window),
                              window_dialogs.VerifyDialog(hook, window),
                              EventCatalogDialog(window),
                              window_dialogs.SettingsDialog(service, window)]
    for dialog in dialogs:
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.height() <= window.height(), dialog.objectName()
        assert dialog.width() <= window.width(), dialog.objectName()
        dialog.close()


def test_a_dialog_without_a_parent_fits_the_screen(qtbot: QtBot) -> None:
    viewer = PingViewer("ops")
    qtbot.addWidget(viewer)
    available = QGuiApplication.primaryScreen().availableGeometry()
    assert viewer.width() <= available.width()
    assert viewer.height() <= available.height()


def _delivered(home: Path, service: HookService, make_receiver: Make,
               hook_factory: HookFactory) -> int:
    """A hook whose receiver answers 500, with one delivery tried once; its id."""
    broken = make_receiver(status(500))
    service.set_delivery_options(retry_schedule=[0])
    hook = hook_factory(broken.url, name="alerts", events=("job",))
    service.publish("job.failed", body("job.failed"))
    drain(home)
    assert len(broken.requests()) == 1
    return hook.id


def test_a_delivery_s_attempts_are_in_sight_on_the_hook_page(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    hook_id = _delivered(home, service, make_receiver, hook_factory)
    window = open_window()
    small(qtbot, window)
    select_hook(qtbot, window, hook_id)
    page = window.page
    qtbot.waitUntil(lambda: page.deliveries.rowCount() == 1)
    assert_attempts_in_sight(qtbot, page.deliveries_view, page.attempts_view)


def test_the_hook_page_s_deliveries_show_when_without_a_sideways_scrollbar(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    """At 800 x 500 the recent deliveries' "When" was past the table's right edge,
    behind a sideways scrollbar; wider, the delivery's id shows again."""
    hook_id = _delivered(home, service, make_receiver, hook_factory)
    window = open_window()
    small(qtbot, window)
    select_hook(qtbot, window, hook_id)
    page = window.page
    qtbot.waitUntil(lambda: page.deliveries.rowCount() == 1)
    settle_windows(qtbot)
    view = page.deliveries_view
    header = view.horizontalHeader()
    when = page.deliveries.COLUMNS.index("When")

    def in_view(col: int) -> bool:
        return (not header.isSectionHidden(col) and header.sectionViewportPosition(col)
                + header.sectionSize(col) <= view.viewport().width())

    qtbot.waitUntil(lambda: in_view(when) and not view.horizontalScrollBar().isVisible())
    assert all(in_view(c) for c in range(when + 1))
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: in_view(when + 1), timeout=5000)  # "Delivery" (its id)


def test_a_delivery_s_attempts_are_in_sight_on_the_deliveries_tab(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    _delivered(home, service, make_receiver, hook_factory)
    window = open_window()
    small(qtbot, window)
    click_tab(qtbot, window.tabs, "&Deliveries")
    page = window.deliveries_page
    qtbot.waitUntil(lambda: page.view.model().rowCount() == 1)
    assert_attempts_in_sight(qtbot, page.view, page.details)


def test_the_hook_page_s_attempts_area_has_no_scrollbar_before_a_delivery_is_chosen(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    hook_id = _delivered(home, service, make_receiver, hook_factory)
    window = open_window()
    window.resize(1280, 820)
    select_hook(qtbot, window, hook_id)
    page = window.page
    qtbot.waitUntil(lambda: page.deliveries.rowCount() == 1)
    lower = page.recent.panel.widget(1)
    assert isinstance(lower, QScrollArea)
    settle_windows(qtbot)
    assert page.attempts_view.placeholder.isVisible()
    assert page.attempts_view.placeholder.text() == "Select a delivery to see its attempts."
    assert not lower.verticalScrollBar().isVisible()
    # Once a delivery is chosen, its attempts show (scrolling if the room is short).
    click_row(qtbot, page.deliveries_view, 0)
    qtbot.waitUntil(lambda: page.attempts_view.toPlainText() != "")
    assert page.attempts_view.details.isVisible()


def test_the_paused_banner_and_an_engine_error_fit_a_small_window(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory(receiver.url, name="ops", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home, until=has_process,
                                      timeout_ms=10_000)
    pid = engine.process_id
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # a real engine error: its process dies
    qtbot.waitUntil(lambda: not engine.running and window.banner.isVisible(), timeout=5000)
    window.pause_action.trigger()
    assert window.paused_box.isVisible()
    select_hook(qtbot, window, hook.id)
    window.resize(*SMALL)
    settle_windows(qtbot)
    assert window.minimumSizeHint().height() <= SMALL[1]
    qtbot.waitUntil(lambda: (window.width(), window.height()) == SMALL, timeout=5000)
