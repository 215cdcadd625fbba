"""The Deliveries tab: every hook's deliveries newest first, its filters, the attempts of
the selected delivery, Redeliver, "Redeliver all failed since…", "Copy as curl" and
paging, driven with clicks and keys against real receiver processes."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDateTimeEdit, QDialog, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME, AttemptRecord
from hookadmin.ui.delivery_pages import PAGE_SIZE
from hookadmin.ui.main_window import MainWindow
from tests.helpers import drain, fixture_files, resource
from tests.receiver import Receiver, fail_first, status
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import (
    choose,
    click,
    click_row,
    click_tab,
    refresh_window,
    settle_windows,
    view_rows,
)

Make = Callable[..., Receiver]
JOB_FAILED = next(p for p in fixture_files() if p.name == "job-failed-unicode.json")
ICON, EVENT, HOOK, RESULT, ATTEMPTS, DURATION, NEXT, CREATED, ID = range(9)


def open_deliveries_tab(qtbot: QtBot, window: MainWindow) -> None:
    """Click the Deliveries tab and wait until it shows."""
    click_tab(qtbot, window.tabs, "&Deliveries")
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.deliveries_page)



def shown(window: MainWindow, *columns: int) -> list[tuple[str, ...]]:
    """The Deliveries tab's rows, as the texts of the given columns."""
    return [tuple(row[c] for c in columns) for row in view_rows(window.deliveries_page.view)]


def shift_delivery(home: Path, delivery_id: str, column: str, seconds: float) -> None:
    """Move a delivery's ``created_at`` or ``updated_at`` this many seconds into the past
    (as if it had happened then)."""
    assert column in ("created_at", "updated_at")
    db = sqlite3.connect(home / DB_FILENAME)
    try:
        with db:
            db.execute(f"UPDATE deliveries SET {column} = {column} - ? WHERE id = ?",
                       (seconds, delivery_id))
    finally:
        db.close()


def type_since(qtbot: QtBot, dialog: QDialog, when: float) -> None:
    """Type a time (Unix seconds, local time, whole minutes) into the "Failed since" field."""
    edit = dialog.findChild(QDateTimeEdit, "redeliverSince")
    assert isinstance(edit, QDateTimeEdit)
    text = time.strftime("%Y-%m-%d %H:%M", time.localtime(when))
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)
    assert edit.text() == text
    assert edit.dateTime().toSecsSinceEpoch() // 60 == int(when) // 60


def open_redeliver_since(qtbot: QtBot, window: MainWindow) -> QDialog:
    click(qtbot, window.deliveries_page.redeliver_failed_button)
    qtbot.waitUntil(lambda: visible_top_level("redeliverSinceDialog") is not None)
    dialog = visible_top_level("redeliverSinceDialog")
    assert isinstance(dialog, QDialog)
    return dialog


def confirm_redeliver_since(qtbot: QtBot, dialog: QDialog) -> None:
    button = dialog.findChild(QPushButton, "confirmRedeliverSince")
    assert isinstance(button, QPushButton)
    click(qtbot, button)
    qtbot.waitUntil(lambda: visible_top_level("redeliverSinceDialog") is None)


def test_every_hook_s_deliveries_newest_first_and_the_filters(
        qtbot: QtBot, home: Path, receiver: Receiver, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    broken = make_receiver(status(500))
    service.set_delivery_options(retry_schedule=[0])  # one attempt, then failed
    ops = hook_factory(receiver.url, name="ops", events=("job",))
    alerts = hook_factory(broken.url, name="alerts", events=("cluster",))
    for event_type, number in (("job.completed", 1), ("cluster.error", 2), ("job.failed", 3),
                               ("cluster.available", 4)):
        service.publish(event_type, resource(event_type, number))
    drain(home)
    service.publish("job.started", resource("job.started", 5))
    assert service.store.fan_out() == 1  # queued, not sent yet
    oldest = service.store.list_deliveries(limit=10)[-1]
    assert oldest.event_type == "job.completed"
    shift_delivery(home, oldest.id, "created_at", 2 * 3600)  # created two hours ago

    window = open_window()
    open_deliveries_tab(qtbot, window)
    page = window.deliveries_page

    assert shown(window, ICON, EVENT, HOOK, RESULT, ATTEMPTS) == [
        ("↻", "job.started", "ops", "queued", "0"),
        ("✗", "cluster.available", "alerts", "✗ 500", "1"),
        ("✓", "job.failed", "ops", "✓ 200", "1"),
        ("✗", "cluster.error", "alerts", "✗ 500", "1"),
        ("✓", "job.completed", "ops", "✓ 200", "1"),
    ]
    ids = [row[0] for row in shown(window, ID)]
    assert ids == [d.id for d in service.store.list_deliveries(limit=10)]
    sent = {r.header("X-Hook-Delivery") for r in receiver.requests() + broken.requests()}
    assert sent == set(ids[1:])  # the queued one has not gone out yet

    choose(qtbot, page.status_box, "Failed")
    assert shown(window, EVENT, HOOK) == [("cluster.available", "alerts"),
                                          ("cluster.error", "alerts")]
    choose(qtbot, page.status_box, "Succeeded")
    assert shown(window, EVENT) == [("job.failed",), ("job.completed",)]
    choose(qtbot, page.status_box, "Pending")
    assert shown(window, EVENT, RESULT) == [("job.started", "queued")]
    choose(qtbot, page.status_box, "All statuses")
    assert len(shown(window, ID)) == 5

    choose(qtbot, page.event_box, "cluster.error")
    assert shown(window, EVENT, HOOK) == [("cluster.error", "alerts")]
    choose(qtbot, page.event_box, "All event types")

    choose(qtbot, page.hook_box, f"{ops.id}: ops")
    assert shown(window, EVENT) == [("job.started",), ("job.failed",), ("job.completed",)]
    choose(qtbot, page.since_box, "Last hour")
    assert shown(window, EVENT) == [("job.started",), ("job.failed",)]
    choose(qtbot, page.since_box, "Last 24 hours")
    assert shown(window, EVENT) == [("job.started",), ("job.failed",), ("job.completed",)]
    choose(qtbot, page.hook_box, f"{alerts.id}: alerts")
    choose(qtbot, page.status_box, "Succeeded")
    assert shown(window, ID) == []  # every alerts delivery failed

    # The window's own 2 s refresh keeps the chosen filters.
    refresh_window(qtbot, window)
    assert page.current_filter().hook_id == alerts.id
    assert page.hook_box.currentText() == f"{alerts.id}: alerts"
    assert shown(window, ID) == []


def test_selecting_a_delivery_shows_its_attempts(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    broken = make_receiver(status(500))
    service.set_delivery_options(retry_schedule=[0])
    hook = hook_factory(broken.url, name="alerts", events=("job",))
    broken.set_secrets({"alerts": service.reveal_secret(hook.id)})
    body = JOB_FAILED.read_bytes()
    event_id = service.publish("job.failed", body)
    drain(home)
    (request,) = broken.requests()
    assert request.verified_by == ("alerts",)
    delivery_id = request.header("X-Hook-Delivery")

    window = open_window()
    open_deliveries_tab(qtbot, window)
    page = window.deliveries_page
    assert page.details.toPlainText() == ""
    assert not page.redeliver_button.isEnabled()
    assert not page.curl_button.isEnabled()

    click_row(qtbot, page.view, 0)
    qtbot.waitUntil(lambda: page.details.toPlainText() != "")
    text = page.details.toPlainText()
    assert f"Delivery {delivery_id}" in text
    assert f"event id {event_id}" in text
    assert "Status ✗ 500 after 1 attempt\n" in text
    assert "HTTP 500" in text
    assert "The receiver answered 500." in text
    assert f"X-Hook-Delivery: {delivery_id}" in text
    assert f"X-Hook-Signature: {request.signature}" in text
    assert "東京" in text  # the request body
    assert page.redeliver_button.isEnabled()
    assert page.curl_button.isEnabled()


def test_redeliver_a_failed_delivery_with_the_same_delivery_id(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    flaky = make_receiver(fail_first(1))  # 500 once, then 200
    service.set_delivery_options(retry_schedule=[0])
    hook = hook_factory(flaky.url, name="ops", events=("job",))
    flaky.set_secrets({"ops": service.reveal_secret(hook.id)})
    body = JOB_FAILED.read_bytes()
    service.publish("job.failed", body)
    drain(home)
    (failed,) = service.store.list_deliveries()
    assert (failed.status, failed.last_status_code) == ("failed", 500)

    window = open_window()
    open_deliveries_tab(qtbot, window)
    page = window.deliveries_page
    choose(qtbot, page.status_box, "Failed")
    assert shown(window, ID, RESULT) == [(failed.id, "✗ 500")]
    click_row(qtbot, page.view, 0)
    qtbot.waitUntil(page.redeliver_button.isEnabled)
    click(qtbot, page.redeliver_button)

    assert window.statusBar().currentMessage() == f"Delivery {failed.id} is queued again."
    again = service.store.get_delivery(failed.id)
    assert (again.status, again.attempts) == ("pending", 1)
    assert shown(window, ID, ICON, RESULT) == [(failed.id, "↻", "retrying (500)")]
    # It is waiting now: the same button attempts it at once.
    assert page.redeliver_button.text().replace("&", "") == "Retry now"
    assert len(flaky.requests()) == 1  # queued, not sent by the window itself

    drain(home)  # the engine's next run
    first, second = flaky.requests()
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery") == failed.id
    assert second.body == first.body == body
    assert second.verified_by == ("ops",)
    assert (first.response_status, second.response_status) == (500, 200)
    done = service.store.get_delivery(failed.id)
    assert (done.status, done.attempts, done.last_status_code) == ("succeeded", 2, 200)
    refresh_window(qtbot, window)
    assert shown(window, ID, ICON, RESULT, ATTEMPTS) == [(failed.id, "✓", "✓ 200", "2")]


def test_redeliver_all_failed_since_a_chosen_time(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    flaky = make_receiver(fail_first(3))  # the first three requests fail
    service.set_delivery_options(retry_schedule=[0])
    hook_factory(flaky.url, name="ops", events=("job",))
    for number in (1, 2, 3):
        service.publish("job.failed", resource("job.failed", number))
    drain(home)
    failed = service.store.list_deliveries(status="failed")
    assert len(failed) == 3
    old = failed[-1]
    shift_delivery(home, old.id, "updated_at", 2 * 86400)  # it failed two days ago

    window = open_window()
    open_deliveries_tab(qtbot, window)
    dialog = open_redeliver_since(qtbot, window)
    assert "every hook" in " ".join(label.text() for label in dialog.findChildren(QLabel))
    type_since(qtbot, dialog, time.time() - 3600)
    settle_windows(qtbot)  # counted on the reads lane
    # It says how many before it acts.
    count = dialog.findChild(QLabel, "redeliverCount")
    assert isinstance(count, QLabel)
    assert count.text() == "2 failed deliveries will be sent again."
    button = dialog.findChild(QPushButton, "confirmRedeliverSince")
    assert isinstance(button, QPushButton)
    assert button.text() == "Redeliver 2"
    confirm_redeliver_since(qtbot, dialog)

    assert window.statusBar().currentMessage() == "Queued 2 failed deliveries again."
    statuses = {d.id: d.status for d in service.store.list_deliveries()}
    assert statuses == {failed[0].id: "pending", failed[1].id: "pending", old.id: "failed"}
    drain(home)
    resent = flaky.requests()[3:]
    assert sorted(r.header("X-Hook-Delivery") or "" for r in resent) == sorted(
        [failed[0].id, failed[1].id])
    assert [r.response_status for r in resent] == [200, 200]

    # Further back: the one from two days ago goes too.
    dialog = open_redeliver_since(qtbot, window)
    type_since(qtbot, dialog, time.time() - 3 * 86400)
    settle_windows(qtbot)
    confirm_redeliver_since(qtbot, dialog)
    assert service.store.get_delivery(old.id).status == "pending"
    drain(home)
    assert flaky.requests()[-1].header("X-Hook-Delivery") == old.id
    assert {d.status for d in service.store.list_deliveries()} == {"succeeded"}


def test_cancel_in_redeliver_since_requeues_nothing(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    broken = make_receiver(status(500))
    service.set_delivery_options(retry_schedule=[0])
    hook_factory(broken.url, events=("job",))
    service.publish("job.failed", resource("job.failed"))
    drain(home)
    window = open_window()
    open_deliveries_tab(qtbot, window)
    dialog = open_redeliver_since(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: visible_top_level("redeliverSinceDialog") is None)
    assert [d.status for d in service.store.list_deliveries()] == ["failed"]


def test_copy_as_curl_repeats_the_signed_request(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    curl = shutil.which("curl")
    assert curl is not None, "curl must be installed to check the copied command"
    hook = hook_factory(receiver.url, name="ops", events=("job",))
    receiver.set_secrets({"ops": service.reveal_secret(hook.id)})
    body = JOB_FAILED.read_bytes()
    service.publish("job.failed", body)
    drain(home)
    (original,) = receiver.requests()

    window = open_window()
    open_deliveries_tab(qtbot, window)
    page = window.deliveries_page
    QGuiApplication.clipboard().clear()
    click_row(qtbot, page.view, 0)
    qtbot.waitUntil(page.curl_button.isEnabled)
    click(qtbot, page.curl_button)
    command = QGuiApplication.clipboard().text()
    assert command.startswith("curl ")
    assert window.statusBar().currentMessage() == "Copied a curl command for this delivery."

    done = subprocess.run(["sh", "-c", command], capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    first, again = receiver.wait_for_requests(2)
    assert first == original
    assert (again.method, again.path) == ("POST", "/hook")
    assert again.body == body  # byte for byte, non-ASCII text included
    assert again.signature == original.signature
    assert again.verified_by == ("ops",)
    for name in ("X-Hook-Delivery", "X-Hook-Event", "Content-Type", "webhook-id",
                 "webhook-signature"):
        assert again.header(name) == original.header(name), name
    assert again.header("X-Hook-Event") == "job.failed"


def test_deliveries_are_loaded_a_page_at_a_time_as_the_view_scrolls(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    total = 1000
    hook_factory("https://paging.example.com/hooks", name="paging", events=("job",))
    service.publish_many([("job.completed", resource("job.completed", n))
                          for n in range(total)])
    assert service.store.fan_out(limit=total) == total  # deliveries, nothing sent
    newest_first = [d.id for d in service.store.list_deliveries(limit=total)]

    window = open_window()
    model = window.deliveries_page.model
    view = window.deliveries_page.view
    inserted: list[int] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append(last - first + 1))
    open_deliveries_tab(qtbot, window)  # the first page is read on the reads lane
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE)
    qtbot.wait(100)  # let the view settle: it must not fetch more on its own
    assert window.is_idle()
    assert model.rowCount() == PAGE_SIZE
    assert model.canFetchMore()

    bar = view.verticalScrollBar()
    loaded = [PAGE_SIZE]
    while model.canFetchMore():
        before, end = model.rowCount(), bar.maximum()
        view.scrollToBottom()
        # A page arrives, or the model learns there is none (an exactly full last page
        # can only be told from an empty one).
        qtbot.waitUntil(lambda before=before: model.rowCount() > before
                        or not model.canFetchMore())
        if model.rowCount() > before:
            loaded.append(model.rowCount())
            qtbot.waitUntil(lambda end=end: bar.maximum() > end)  # laid out: more to scroll
        assert len(loaded) <= total // PAGE_SIZE + 1
    assert loaded == list(range(PAGE_SIZE, total + 1, PAGE_SIZE))
    assert max(inserted) <= PAGE_SIZE  # never more than a page at once
    view.scrollToBottom()
    qtbot.wait(50)
    assert model.rowCount() == total
    assert [row[0] for row in shown(window, ID)] == newest_first  # no gap, no repeat


def test_statuses_change_on_screen_and_when_scrolled_into_view(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """A refresh re-reads only the pending rows on screen; rows further down are
    brought up to date when they are scrolled into view."""
    total = PAGE_SIZE
    hook_factory("https://status.example.com/hooks", name="status", events=("job",))
    service.publish_many([("job.completed", resource("job.completed", n))
                          for n in range(total)])
    assert service.store.fan_out(limit=total) == total
    window = open_window()
    open_deliveries_tab(qtbot, window)
    page, model = window.deliveries_page, window.deliveries_page.model
    qtbot.waitUntil(lambda: model.rowCount() == total)
    assert {row[RESULT] for row in view_rows(page.view)} == {"queued"}

    # Every delivery succeeds behind the window's back (as a worker would record it).
    jobs = service.store.claim_due(now=time.time() + 1, lease_seconds=30, limit=total)
    assert len(jobs) == total
    done = AttemptRecord(started_at=time.time(), duration_ms=3.0, request_url="https://x/",
                         request_headers={}, status_code=204, response_headers=[],
                         response_body=b"", response_truncated=False, error_kind=None,
                         error_message=None)
    service.store.record_attempts([(job, done, None) for job in jobs])
    with qtbot.waitSignal(model.refreshed, timeout=10_000):  # read on the reads lane
        page.refresh()
    results = [row[RESULT] for row in view_rows(page.view)]
    first, last = page.view.rowAt(0), page.view.rowAt(page.view.viewport().height() - 1)
    assert 0 <= first < last < total - 40
    assert set(results[first:last + 1]) == {"✓ 204"}  # on screen: up to date
    assert results[-1] == "queued"  # far below: not read yet

    page.view.scrollToBottom()
    qtbot.waitUntil(lambda: view_rows(page.view)[-1][RESULT] == "✓ 204")
