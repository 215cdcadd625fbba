"""The Deliveries and Activity tabs read on the window's reads lane, never on the GUI
thread, and show only the newest of the reads they asked for: a refresh asked for
before the last came back replaces it, a filter chosen meanwhile drops the older
filter's page; *Open delivery* selects the delivery, or says it is gone, once its
search is back; "Redeliver all failed since…" says its count once that is back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QDateTimeEdit, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.core.store import Repository
from hookadmin.ui.deliveries_page import DeliveriesPage
from hookadmin.ui.main_window import MainWindow
from tests.helpers import drain, resource
from tests.receiver import Receiver, status
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import click, click_tab, view_rows

ID = 8  # the Deliveries tab's "Delivery" column


@contextmanager
def lane_held(window: MainWindow) -> Iterator[None]:
    """Keep the window's reads lane busy (a job that waits) until the block ends: what
    is asked of it meanwhile waits behind, as behind a slow read."""
    gate = threading.Event()

    def wait(_store: Repository) -> bool:
        return gate.wait(30)

    window.reads.submit(wait, lambda _: None, lambda _err: None)
    try:
        yield
    finally:
        gate.set()


def queue(service: HookService, count: int, first: int = 0) -> None:
    """Publish ``count`` events and turn them into pending deliveries (nothing sent)."""
    service.publish_many([("job.completed", resource("job.completed", n))
                          for n in range(first, first + count)])
    assert service.store.fan_out(limit=count) == count


def quiet_window(qtbot: QtBot, open_window: Callable[..., MainWindow]) -> MainWindow:
    """A window whose 2 s poll is stopped: only the test asks for refreshes."""
    window = open_window()
    window.refresher.poll_timer.stop()
    qtbot.waitUntil(window.is_idle)
    return window


def queued_window(qtbot: QtBot, open_window: Callable[..., MainWindow],
                  hook_factory: HookFactory, service: HookService, count: int) -> MainWindow:
    """A :func:`quiet_window` over ``count`` pending deliveries (see :func:`queue`) of
    one hook, "reads", subscribed to job events."""
    hook_factory("https://reads.example.com/hooks", name="reads", events=("job",))
    queue(service, count)
    return quiet_window(qtbot, open_window)


def deliveries_tab(qtbot: QtBot, window: MainWindow) -> DeliveriesPage:
    """Show ``window``'s Deliveries tab; once its first read is back, its page."""
    click_tab(qtbot, window.tabs, "&Deliveries")
    qtbot.waitUntil(window.is_idle, timeout=10_000)
    return window.deliveries_page


def test_a_deliveries_refresh_reads_off_the_gui_thread_and_only_the_newest_is_shown(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    window = queued_window(qtbot, open_window, hook_factory, service, 3)
    page = deliveries_tab(qtbot, window)
    model = page.model
    assert model.rowCount() == 3
    queue(service, 2, first=3)
    refreshed: list[bool] = []
    model.refreshed.connect(lambda: refreshed.append(True))

    with lane_held(window):
        page.refresh()
        page.refresh()  # asked before the first came back: it replaces the first
        # Nothing was read on the GUI thread: the rows wait for the lane.
        assert model.rowCount() == 3
        assert not window.is_idle()
    qtbot.waitUntil(window.is_idle, timeout=10_000)

    assert refreshed == [True]  # the older refresh's rows were dropped
    ids = [row[ID] for row in view_rows(page.view)]
    assert ids == [d.id for d in service.store.list_deliveries(limit=10)]  # no repeat


def test_a_filter_chosen_while_a_page_is_read_drops_the_older_filter_s_page(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    window = queued_window(qtbot, open_window, hook_factory, service, 3)
    page = deliveries_tab(qtbot, window)
    model = page.model
    loaded: list[bool] = []
    model.loaded.connect(lambda: loaded.append(True))

    with lane_held(window):
        page.status_box.setCurrentIndex(page.status_box.findData("pending"))
        page.status_box.setCurrentIndex(page.status_box.findData("failed"))
        assert model.rowCount() == 0  # cleared at once, read on the lane
    qtbot.waitUntil(window.is_idle, timeout=10_000)

    assert loaded == [True]  # only the failed filter's page
    assert model.rowCount() == 0  # every delivery is pending, none failed
    assert page.empty_label.isVisible()
    assert page.empty_label.text() == "No delivery matches these filters."


def test_an_activity_refresh_reads_off_the_gui_thread_and_only_the_newest_is_shown(
        qtbot: QtBot, open_window: Callable[..., MainWindow]) -> None:
    window = quiet_window(qtbot, open_window)
    click_tab(qtbot, window.tabs, "&Activity")
    activity = window.activity_page
    assert activity.summary.text() == "0 attempts succeeded, 0 failed"
    activity.summary.clear()
    refreshed: list[bool] = []
    activity.refreshed.connect(lambda: refreshed.append(True))

    with lane_held(window):
        activity.refresh()
        activity.refresh()
        assert activity.summary.text() == ""  # nothing read on the GUI thread
    qtbot.waitUntil(window.is_idle, timeout=10_000)

    assert refreshed == [True]
    assert activity.summary.text() == "0 attempts succeeded, 0 failed"


def test_open_delivery_says_when_the_delivery_is_gone_once_the_search_is_back(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    window = queued_window(qtbot, open_window, hook_factory, service, 1)
    (kept,) = service.store.list_deliveries()
    gone = "00000000-0000-4000-8000-000000000000"

    with lane_held(window):
        window.delivery_actions.open_on_deliveries_tab(gone)
        assert window.tabs.currentWidget() is window.deliveries_page
        assert not window.banner_box.isVisible()  # not before the search is back
    qtbot.waitUntil(window.is_idle, timeout=10_000)
    assert window.banner_box.isVisible()
    assert window.banner.text() == (f"Delivery {gone} is no longer in the history; it may "
                                    "have been pruned.")

    window.clear_banner()
    window.delivery_actions.open_on_deliveries_tab(kept.id)
    qtbot.waitUntil(window.is_idle, timeout=10_000)
    selected = window.deliveries_page.selected_delivery()
    assert selected is not None
    assert selected.id == kept.id
    assert not window.banner_box.isVisible()


def test_redeliver_failed_since_counts_off_the_gui_thread_and_says_the_newest_count(
        qtbot: QtBot, home: Path, make_receiver: Callable[..., Receiver],
        hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    broken = make_receiver(status(500))
    service.set_delivery_options(retry_schedule=[0])  # one attempt, then failed
    hook_factory(broken.url, name="broken", events=("job",))
    for number in (1, 2):
        service.publish("job.failed", resource("job.failed", number))
    drain(home)
    assert len(service.store.list_deliveries(status="failed")) == 2
    window = quiet_window(qtbot, open_window)
    deliveries_tab(qtbot, window)

    with lane_held(window):
        click(qtbot, window.deliveries_page.redeliver_failed_button, settle=False)
        qtbot.waitUntil(lambda: visible_top_level("redeliverSinceDialog") is not None)
        dialog = visible_top_level("redeliverSinceDialog")
        assert dialog is not None
        count = dialog.findChild(QLabel, "redeliverCount")
        button = dialog.findChild(QPushButton, "confirmRedeliverSince")
        edit = dialog.findChild(QDateTimeEdit, "redeliverSince")
        assert isinstance(count, QLabel)
        assert isinstance(button, QPushButton)
        assert isinstance(edit, QDateTimeEdit)
        # Nothing was read on the GUI thread: the count waits for the lane, and the
        # dialog cannot act on a count it does not know yet.
        assert count.text() == "Counting failed deliveries…"
        assert not button.isEnabled()
        edit.setDateTime(QDateTime.currentDateTime().addDays(1))  # none since then
        edit.setDateTime(QDateTime.currentDateTime().addDays(-1))  # both, the newest ask
    qtbot.waitUntil(window.is_idle, timeout=10_000)

    assert count.text() == "2 failed deliveries will be sent again."
    assert button.isEnabled()
    assert button.text() == "Redeliver 2"
    dialog.reject()
    qtbot.waitUntil(lambda: visible_top_level("redeliverSinceDialog") is None)


def test_a_sorted_deliveries_list_stays_sorted_as_deliveries_arrive(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    hook_factory("https://reads.example.com/hooks", name="reads", events=("job", "cluster"))
    for event_type in ("cluster.error", "job.failed", "job.completed"):
        service.publish(event_type, resource(event_type))
    assert service.store.fan_out(limit=10) == 3
    window = quiet_window(qtbot, open_window)
    page = deliveries_tab(qtbot, window)
    model = page.model
    event = model.COLUMNS.index("Event")

    def shown() -> list[str]:
        rows = view_rows(page.view)
        # The deliveries behind the rows follow the rows Qt sorted.
        assert [row[ID] for row in rows] == [model.delivery_at(r).id
                                             for r in range(model.rowCount())]
        return [row[event] for row in rows]

    assert shown() == ["job.completed", "job.failed", "cluster.error"]  # newest first
    page.view.sortByColumn(event, Qt.SortOrder.AscendingOrder)
    assert shown() == ["cluster.error", "job.completed", "job.failed"]
    page.view.sortByColumn(event, Qt.SortOrder.DescendingOrder)
    assert shown() == ["job.failed", "job.completed", "cluster.error"]

    service.publish("job.started", resource("job.started"))
    assert service.store.fan_out(limit=10) == 1
    page.refresh()
    qtbot.waitUntil(window.is_idle, timeout=10_000)
    assert shown() == ["job.started", "job.failed", "job.completed", "cluster.error"]
    page.view.sortByColumn(model.COLUMNS.index("Created"), Qt.SortOrder.DescendingOrder)
    assert shown() == ["job.started", "job.completed", "job.failed", "cluster.error"]
