"""Deliveries in the window: the hook page's delivery list and attempts, and the window's
own delivery engine (EngineHost) running in a child process."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.main_window import MainWindow
from tests.helpers import FAST, drain, fixture_files, run_until_idle
from tests.receiver import Receiver, status
from tests.ui.conftest import HookFactory
from tests.ui.engine_window import open_with_engine
from tests.ui.gui import click, click_row, click_tab, refresh_window, select_hook, view_rows

Make = Callable[..., Receiver]
JOB_FAILED = next(p for p in fixture_files() if p.name == "job-failed-unicode.json")
EVENT_COL, RESULT_COL, ATTEMPTS_COL, DURATION_COL, WHEN_COL, ID_COL = range(6)


def test_the_hook_page_lists_deliveries_and_their_attempts(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook = hook_factory(receiver.url, name="ops", events=("job",))
    receiver.set_secrets({"ops": service.reveal_secret(hook.id)})
    window = open_window()
    select_hook(qtbot, window, hook.id)
    page = window.page
    assert page.deliveries.rowCount() == 0

    body = JOB_FAILED.read_bytes()
    event_id = service.publish("job.failed", body)
    assert run_until_idle(home) == 1
    refresh_window(qtbot, window)

    (request,) = receiver.requests()
    assert request.verified_by == ("ops",)
    assert request.body == body
    delivery_id = request.header("X-Hook-Delivery")
    (row,) = view_rows(page.deliveries_view)
    assert row[EVENT_COL] == "job.failed"
    assert row[RESULT_COL] == "✓ 200"
    assert row[ATTEMPTS_COL] == "1"
    assert row[DURATION_COL].endswith(" ms")
    assert row[ID_COL] == delivery_id
    assert window.hooks_model.index(0, 3).data().startswith("✓ 200")

    assert page.attempts_view.toPlainText() == ""
    click_row(qtbot, page.deliveries_view, 0)
    text = page.attempts_view.toPlainText()
    assert f"Delivery {delivery_id}" in text
    assert f"event id {event_id}" in text
    assert "Status ✓ 200 after 1 attempt\n" in text  # the table's words, not "succeeded"
    assert "HTTP 200" in text
    assert f"X-Hook-Delivery: {delivery_id}" in text
    assert "X-Hook-Event: job.failed" in text
    assert f"X-Hook-Signature: {request.signature}" in text
    assert "東京" in text  # the request body, decoded and pretty-printed

    # A refresh (e.g. the window's 2 s poll) keeps the selection and the attempts.
    refresh_window(qtbot, window)
    assert page.selected_delivery_id() == delivery_id
    assert f"X-Hook-Delivery: {delivery_id}" in page.attempts_view.toPlainText()


def test_a_failing_receiver_shows_every_attempt(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    broken = make_receiver(status(500))
    hook = hook_factory(broken.url, events=("cluster.error",))
    window = open_window()
    select_hook(qtbot, window, hook.id)

    service.publish("cluster.error", {"id": 7, "status": "error"})
    assert drain(home) == len(FAST.retry_schedule)
    refresh_window(qtbot, window)

    (row,) = view_rows(window.page.deliveries_view)
    assert (row[EVENT_COL], row[RESULT_COL], row[ATTEMPTS_COL]) == (
        "cluster.error", "✗ 500", str(len(FAST.retry_schedule)))
    assert window.hooks_model.index(0, 3).data().startswith("✗ 500")
    click_row(qtbot, window.page.deliveries_view, 0)
    text = window.page.attempts_view.toPlainText()
    assert text.count("── Attempt") == len(FAST.retry_schedule)
    assert "The receiver answered 500." in text
    ids = {r.header("X-Hook-Delivery") for r in broken.requests()}
    assert ids == {row[ID_COL]}  # one delivery id over all its attempts


def test_the_window_delivers_with_its_own_engine_and_stops_it_on_close(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook = hook_factory(receiver.url, name="live", events=("cluster",))
    receiver.set_secrets({"live": service.reveal_secret(hook.id)})
    window, engine = open_with_engine(qtbot, open_window, home, timeout_ms=3000)
    assert window.engine_label.text() == "Delivery: running"

    event_id = service.publish("cluster.available", {"id": 3, "status": "available"})
    qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=10_000)
    (request,) = receiver.requests()
    assert request.header("X-Hook-Event") == "cluster.available"
    assert request.verified_by == ("live",)
    assert request.json() == {"id": 3, "status": "available"}
    # The engine's attempt signal makes the window refresh its table by itself.
    qtbot.waitUntil(lambda: window.hooks_model.index(0, 3).data().startswith("✓ 200"),
                    timeout=5000)
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert delivery.event_id == event_id
    assert delivery.status == "succeeded"

    started = time.monotonic()
    window.close()
    qtbot.waitUntil(lambda: not engine.running, timeout=3000)
    assert time.monotonic() - started < 3.0
    assert window.engine_label.text() == "Delivery: stopped"


# Before the fix this hung for ever inside QThread.wait(), where the default "signal"
# timeout cannot interrupt it; the "thread" method ends the run with a stack dump.
@pytest.mark.timeout(30, method="thread")
def test_closing_the_window_right_after_opening_it_stops_the_engine(
        qtbot: QtBot, home: Path, service: HookService) -> None:
    engine = EngineHost(home, FAST)
    window = MainWindow(service, engine)
    qtbot.addWidget(window)
    window.show()  # starts the engine's process
    assert engine.running
    started = time.monotonic()
    window.close()  # before the engine had time to start its loop
    qtbot.waitUntil(lambda: not engine.running, timeout=3000)
    assert time.monotonic() - started < 3.0


def test_editing_an_auto_deactivated_hook_keeps_the_reason(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    gone = make_receiver(status(410))
    hook = hook_factory(gone.url, name="old", events=("job",))
    service.publish("job.completed", {"id": 1, "status": "completed"})
    drain(home)
    reason = service.hook(hook.id).deactivated_reason
    assert reason is not None
    assert "410" in reason
    window = open_window()
    select_hook(qtbot, window, hook.id)
    assert window.page.reason_label.isVisible()
    assert window.page.reason_label.text() == reason

    click(qtbot, window.page.edit_button)
    assert not window.form.active_box.isChecked()
    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.form.name_edit, "old receiver")
    click(qtbot, window.form.submit_button)

    stored = service.hook(hook.id)
    assert (stored.name, stored.active) == ("old receiver", False)
    assert stored.deactivated_reason == reason  # still says why it is off
    assert window.page.reason_label.isVisible()

    click(qtbot, window.page.toggle_button)  # Activate: the reason no longer applies
    assert service.hook(hook.id).deactivated_reason is None
    assert not window.page.reason_label.isVisible()


def test_a_refresh_keeps_the_reader_s_place_in_the_attempts(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    broken = make_receiver(status(503))
    hook = hook_factory(broken.url, events=("job",))
    service.publish("job.failed", JOB_FAILED.read_bytes())
    drain(home)
    window = open_window()
    select_hook(qtbot, window, hook.id)
    click_row(qtbot, window.page.deliveries_view, 0)
    view = window.page.attempts_view
    first = view.chooser.itemText(0)
    view.chooser.setCurrentIndex(0)  # the reader looks at the first attempt's request
    click_tab(qtbot, view.tabs, "Request")
    bar = view.request_body.verticalScrollBar()
    view.request_body.resize(view.request_body.width(), 60)
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # the unicode job body: long
    bar.setValue(bar.maximum() // 2)
    place = bar.value()

    refresh_window(qtbot, window)  # what the 2 s poll timer does
    assert window.page.selected_delivery_id() is not None
    assert view.chooser.currentText() == first
    assert view.tabs.tabText(view.tabs.currentIndex()) == "Request"
    assert bar.value() == place
