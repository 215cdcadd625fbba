"""The Activity tab's totals, pausing and resuming delivery (Ctrl+Shift+P), the status
bar's engine state, deliveries per second and queue depth, and the notifications about
failing and deactivated hooks; with the window's own engine and real receivers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.helpers import FAST, db_rows, drain, resource
from tests.receiver import Receiver, delay, status
from tests.ui.conftest import HookFactory
from tests.ui.engine_window import open_with_engine
from tests.ui.gui import choose, click_tab, refresh_window

Make = Callable[..., Receiver]
PAUSE_KEYS = (Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier
              | Qt.KeyboardModifier.ShiftModifier)
SUCCEEDED = "a.status_code BETWEEN 200 AND 299 AND a.error_kind IS NULL"


def attempt_totals(home: Path, hook_id: int | None = None) -> tuple[int, int]:
    """(succeeded, failed) attempts in the database, read with sqlite3."""
    where = "" if hook_id is None else f" WHERE d.hook_id = {int(hook_id)}"
    ((ok, total),) = db_rows(
        home, f"SELECT coalesce(sum({SUCCEEDED}), 0), count(*) FROM attempts a"
              f" JOIN deliveries d ON d.seq = a.delivery_seq{where}")
    assert isinstance(ok, int)
    assert isinstance(total, int)
    return ok, total - ok


def test_activity_totals_match_the_store_for_all_hooks_and_for_one(
        qtbot: QtBot, home: Path, receiver: Receiver, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    broken = make_receiver(status(500))
    ops = hook_factory(receiver.url, name="ops", events=("job",))
    alerts = hook_factory(broken.url, name="alerts", events=("cluster",))
    for number in range(3):
        service.publish("job.completed", resource("job.completed", number))
    service.publish("cluster.error", resource("cluster.error", 9))
    drain(home)  # the cluster.error delivery fails on every attempt of FAST's schedule
    assert attempt_totals(home) == (3, len(FAST.retry_schedule))

    window = open_window()
    click_tab(qtbot, window.tabs, "&Activity")
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.activity_page)
    summary = window.activity_page.summary
    qtbot.waitUntil(lambda: summary.text() != "")
    ok, bad = attempt_totals(home)
    assert summary.text() == f"{ok} attempts succeeded, {bad} failed"

    choose(qtbot, window.activity_page.hook_box, f"{ops.id}: ops")
    ok, bad = attempt_totals(home, ops.id)
    assert (ok, bad) == (3, 0)
    assert summary.text() == "3 attempts succeeded, 0 failed"
    choose(qtbot, window.activity_page.hook_box, f"{alerts.id}: alerts")
    ok, bad = attempt_totals(home, alerts.id)
    assert summary.text() == f"0 attempts succeeded, {bad} failed"
    choose(qtbot, window.activity_page.hook_box, "All hooks")
    assert summary.text() == "3 attempts succeeded, 3 failed"

    # More deliveries while the tab is open show up when it is drawn again.
    service.publish("job.failed", resource("job.failed", 4))
    drain(home)
    click_tab(qtbot, window.tabs, "&Webhooks")
    click_tab(qtbot, window.tabs, "&Activity")
    assert summary.text() == "4 attempts succeeded, 3 failed"
    assert attempt_totals(home) == (4, 3)


def test_pause_stops_the_engine_and_resume_delivers_what_waited(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook_factory(receiver.url, name="ops", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home)
    assert window.engine_label.text() == "Delivery: running"
    assert window.pause_action.isEnabled()
    assert window.pause_action.shortcut().toString() == "Ctrl+Shift+P"

    qtbot.keyClick(window, *PAUSE_KEYS)
    assert window.pause_action.isChecked()
    qtbot.waitUntil(lambda: not engine.running)
    assert window.engine_label.text() == "Delivery: paused"

    event_id = service.publish("job.completed", resource("job.completed"))
    # While paused nothing is fanned out or sent, however long it waits (here 50 of the
    # engine's polling intervals).
    qtbot.wait(int(FAST.poll_interval * 50 * 1000))
    assert receiver.requests() == []
    assert service.store.outbox_waiting() == 1
    refresh_window(qtbot, window)
    assert window.queue_label.text().startswith("1 event waiting")
    assert window.engine_label.text() == "Delivery: paused"

    qtbot.keyClick(window, *PAUSE_KEYS)
    assert not window.pause_action.isChecked()
    qtbot.waitUntil(lambda: engine.running)
    assert window.engine_label.text() == "Delivery: running"
    (request,) = receiver.wait_for_requests(1)
    assert request.header("X-Hook-Event") == "job.completed"
    qtbot.waitUntil(lambda: [d.status for d in service.store.list_deliveries()] == [
        "succeeded"])
    assert service.store.list_deliveries()[0].event_id == event_id


# Before the fix, the stopped engine's queued "finished" signal arrived after the new
# engine had started and the window waited for the new thread to end: frozen for good,
# inside QThread.wait(), which only the "thread" timeout method can interrupt.
@pytest.mark.timeout(30, method="thread")
def test_pausing_and_resuming_at_once_from_the_menu(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook_factory(receiver.url, name="ops", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home)
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert window.pause_action in menus["De&livery"].actions()
    assert window.pause_action.text() == "&Pause delivery"
    window.pause_action.trigger()  # what choosing Delivery → Pause delivery does
    assert window.engine_label.text() == "Delivery: paused"
    window.pause_action.trigger()  # and again, before the engine has even ended
    qtbot.waitUntil(lambda: engine.running and not engine.stopping)  # started again
    assert window.engine_label.text() == "Delivery: running"

    service.publish("job.completed", resource("job.completed"))
    receiver.wait_for_requests(1)
    ticks: list[int] = []
    window.statusBar().messageChanged.connect(lambda _: ticks.append(1))
    window.statusBar().showMessage("still responsive", 50)
    qtbot.waitUntil(lambda: len(ticks) == 2, timeout=2000)  # shown, then cleared
    assert engine.running
    qtbot.waitUntil(lambda: window.hooks_model.index(0, 3).data().startswith("✓ 200"),
                    timeout=5000)


def test_the_status_bar_shows_queue_depth_and_deliveries_per_second(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook_factory(receiver.url, name="ops", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home)
    qtbot.keyClick(window, *PAUSE_KEYS)
    qtbot.waitUntil(lambda: not engine.running)
    assert window.rate_label.objectName() == "deliveryRate"
    assert window.queue_label.objectName() == "queueDepth"
    assert window.rate_label.text() == "0.0 deliveries/s"
    assert window.queue_label.text() == "0 events waiting · 0 deliveries pending"

    service.publish_many([("job.completed", resource("job.completed", n)) for n in range(5)])
    # The window's own 2 s refresh picks the queue up.
    qtbot.waitUntil(lambda: window.queue_label.text()
                    == "5 events waiting · 0 deliveries pending", timeout=5000)
    assert service.store.fan_out() == 5
    qtbot.waitUntil(lambda: window.queue_label.text()
                    == "0 events waiting · 5 deliveries pending", timeout=5000)

    qtbot.keyClick(window, *PAUSE_KEYS)  # resume: five attempts within ten seconds
    receiver.wait_for_requests(5)
    # Both labels come from one read of the database: once nothing is pending, the five
    # attempts are in the rate.
    qtbot.waitUntil(lambda: (window.queue_label.text(), window.rate_label.text())
                    == ("0 events waiting · 0 deliveries pending", "0.5 deliveries/s"),
                    timeout=5000)


def test_the_status_bar_counts_attempts_made_by_any_engine(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        window: MainWindow, service: HookService) -> None:
    """The rate and the queue depth are read from the database together, so attempts
    the window's engine never reported (here: another engine's) count too."""
    hook_factory(receiver.url, name="ops", events=("job",))
    service.publish_many([("job.completed", resource("job.completed", n)) for n in range(5)])
    assert drain(home) == 5
    refresh_window(qtbot, window)
    assert (window.queue_label.text(), window.rate_label.text()) == (
        "0 events waiting · 0 deliveries pending", "0.5 deliveries/s")


def test_a_hook_that_starts_failing_is_notified_once(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    broken = make_receiver(status(503))
    hook_factory(broken.url, name="ops", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home)
    outcomes: list[object] = []
    engine.attempt_recorded.connect(outcomes.append)
    service.publish_many([("job.failed", resource("job.failed", n)) for n in range(2)])

    attempts = 2 * len(FAST.retry_schedule)
    qtbot.waitUntil(lambda: len(outcomes) == attempts, timeout=10_000)
    qtbot.waitUntil(lambda: {d.status for d in service.store.list_deliveries()} == {"failed"})
    assert len(broken.requests()) == attempts
    assert window.notifier.history == [(
        "Hook ops is failing",
        "A job.failed delivery failed (HTTP 503); hookadmin will retry it.")]
    assert window.statusBar().currentMessage().startswith("Hook ops is failing: ")


def test_a_410_deactivates_the_hook_and_says_why(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    gone = make_receiver(status(410))
    hook = hook_factory(gone.url, name="old", events=("job",))
    window, _ = open_with_engine(qtbot, open_window, home)
    service.publish("job.completed", resource("job.completed"))

    qtbot.waitUntil(lambda: window.notifier.history != [], timeout=10_000)
    reason = service.hook(hook.id).deactivated_reason
    assert reason is not None
    assert "410" in reason
    assert window.notifier.history == [("Hook old was deactivated", reason)]
    assert len(gone.requests()) == 1  # never retried
    qtbot.waitUntil(lambda: window.hooks_model.index(0, 2).data() == "Inactive",
                    timeout=5000)


def test_pause_returns_at_once_with_a_delivery_in_flight_and_the_engine_ends_soon(
        qtbot: QtBot, make_receiver: Callable[..., Receiver], hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    slow = make_receiver(delay(30.0))
    hook = hook_factory(slow.url, name="slow", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, service.home)
    service.publish("job.completed", resource("job.completed"))
    slow.wait_for_requests(1)  # in flight: its answer is 30 s away

    started = time.monotonic()
    window.pause_action.trigger()
    assert time.monotonic() - started < 0.2  # the GUI thread did not wait for the engine
    assert window.engine_label.text() == "Delivery: paused"
    qtbot.waitUntil(lambda: not engine.running, timeout=3000)
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert not window.banner_box.isVisible()


def test_a_long_status_message_is_elided_with_its_whole_text_as_tooltip(
        qtbot: QtBot, open_window: Callable[..., MainWindow]) -> None:
    window = open_window()
    window.resize(window.minimumSizeHint())
    qtbot.waitUntil(lambda: window.status.queue_label.text() != "")
    bar = window.statusBar()
    long = "Imported 12 hooks from " + "/very/long/folder" * 20 + "/hooks.json."
    window.status.show_message(long, 60_000)
    shown = bar.currentMessage()
    assert shown != long
    assert shown.endswith("…")
    assert long.startswith(shown[:-1])
    leftmost = min(label.x() for label in (window.status.database_label,
                                           window.status.rate_label,
                                           window.status.queue_label))
    assert bar.fontMetrics().horizontalAdvance(shown) < leftmost
    assert bar.toolTip() == long
    window.status.show_message("Saved hook 1.")
    assert bar.currentMessage() == "Saved hook 1."
    assert bar.toolTip() == ""
    bar.clearMessage()
    assert bar.toolTip() == ""


def test_a_long_notification_in_the_status_bar_is_elided_like_other_messages(
        qtbot: QtBot, open_window: Callable[..., MainWindow]) -> None:
    window = open_window()
    window.resize(window.minimumSizeHint())
    qtbot.waitUntil(lambda: window.status.queue_label.text() != "")
    bar = window.statusBar()
    reason = ("The receiver answered 410 Gone at https://hooks.example.com"
              + "/tenants/acme-industries/pipelines/nightly" * 5 + "; reactivate it once the "
              "URL is right.")
    window.notifier.notify("Hook ops was deactivated", reason)

    whole = f"Hook ops was deactivated: {reason}"
    shown = bar.currentMessage()
    assert shown.endswith("…")
    assert whole.startswith(shown[:-1])
    leftmost = min(label.x() for label in (window.status.database_label,
                                           window.status.rate_label,
                                           window.status.queue_label))
    assert bar.fontMetrics().horizontalAdvance(shown) < leftmost
    assert bar.toolTip() == whole
    assert window.notifier.history == [("Hook ops was deactivated", reason)]
