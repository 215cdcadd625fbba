"""Ping from the hook page to a real receiver process, read in the response viewer."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTableWidget, QTabWidget
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.receiver import Receiver, delay
from tests.ui.conftest import HookFactory
from tests.ui.gui import (
    click_row,
    click_tab,
    close_dialog,
    find,
    ping_from_page,
    select_hook,
    status_text,
    table_pairs,
    view_rows,
)

Make = Callable[..., Receiver]


def test_ping_shows_the_response_and_the_signed_request(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook = hook_factory(receiver.url, name="local")
    secret = service.reveal_secret(hook.id)
    receiver.set_secrets({"local": secret})
    window = open_window()
    select_hook(qtbot, window, hook.id)

    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: "HTTP" in status_text(viewer), timeout=10_000)
    assert status_text(viewer) == "Delivered: HTTP 200"

    # What the receiver got: one ping, signed with this hook's secret.
    (request,) = receiver.requests()
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.header("X-Hook-Event") == "ping"
    assert request.verified_by == ("local",)
    assert request.standard_verified_by == ("local",)
    body = request.json()
    assert body["hook_id"] == hook.id
    assert body["hook"]["settings"]["url"] == receiver.url
    assert "secret" not in json.dumps(body)
    delivery_id = request.header("X-Hook-Delivery")
    assert delivery_id

    # Response tab: the receiver's headers and its JSON body, pretty-printed.
    tabs = find(viewer, QTabWidget, "pingTabs")
    assert isinstance(tabs, QTabWidget)
    assert tabs.isEnabled()
    assert tabs.tabText(tabs.currentIndex()) == "Response"
    response_headers = find(viewer, QTableWidget, "responseHeaders")
    assert isinstance(response_headers, QTableWidget)
    assert response_headers.isVisible()
    assert ("Content-Type", "application/json") in [
        (k.title(), v) for k, v in table_pairs(response_headers)]
    response_body = find(viewer, QPlainTextEdit, "responseBody")
    assert isinstance(response_body, QPlainTextEdit)
    assert response_body.isVisible()
    assert response_body.toPlainText() == '{\n  "ok": true\n}'
    detail = find(viewer, QLabel, "pingDetail")
    assert isinstance(detail, QLabel)
    assert delivery_id in detail.text()

    # Request tab: the headers that were sent, signature included.
    click_tab(qtbot, tabs, "Request")
    request_headers = find(viewer, QTableWidget, "requestHeaders")
    assert isinstance(request_headers, QTableWidget)
    assert request_headers.isVisible()
    sent = dict(table_pairs(request_headers))
    assert sent["X-Hook-Event"] == "ping"
    assert sent["X-Hook-Delivery"] == delivery_id
    assert sent["X-Hook-Signature"] == hmac.new(secret.encode("ascii"), request.body,
                                                hashlib.sha256).hexdigest()
    assert sent["X-Hook-Signature"] == request.signature
    request_body = find(viewer, QPlainTextEdit, "requestBody")
    assert isinstance(request_body, QPlainTextEdit)
    assert json.loads(request_body.toPlainText()) == body

    close_dialog(qtbot, viewer)

    # The ping is in the hook's delivery history, on the page and in the table.
    rows = view_rows(window.page.deliveries_view)
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [("ping", "✓ 200", "1", delivery_id)]
    assert window.hooks_model.index(0, 3).data().startswith("✓ 200")
    assert len(receiver.requests()) == 1  # never retried


def test_ping_to_a_port_where_nothing_listens(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        closed_port: int) -> None:
    hook = hook_factory(f"http://127.0.0.1:{closed_port}/hook")
    window = open_window()
    select_hook(qtbot, window, hook.id)

    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(viewer) != "Sending ping…", timeout=10_000)
    assert status_text(viewer).startswith("Failed")
    assert "HTTP" not in status_text(viewer)
    detail = find(viewer, QLabel, "pingDetail")
    assert isinstance(detail, QLabel)
    assert ("The connection was refused; check that the receiver is running and listening "
            "on that port.") in detail.text()
    close_dialog(qtbot, viewer)

    rows = view_rows(window.page.deliveries_view)
    assert [(r[0], r[1]) for r in rows] == [("ping", "✗ connect")]
    # Selecting it shows the error in the attempts.
    click_row(qtbot, window.page.deliveries_view, 0)
    assert "The connection was refused" in window.page.attempts_view.toPlainText()


def test_ping_runs_off_the_gui_thread(qtbot: QtBot, make_receiver: Make,
                                      hook_factory: HookFactory,
                                      open_window: Callable[..., MainWindow]) -> None:
    slow = make_receiver(delay(1.5))
    hook = hook_factory(slow.url)
    window = open_window()
    select_hook(qtbot, window, hook.id)

    viewer = ping_from_page(qtbot, window)
    # The click returned before the answer: the viewer waits, the GUI stays live.
    assert status_text(viewer) == "Sending ping…"
    tabs = find(viewer, QTabWidget, "pingTabs")
    assert isinstance(tabs, QTabWidget)
    assert not tabs.isEnabled()
    # The receiver has the request and is still delaying its answer, while the GUI
    # thread keeps processing events (this wait runs the event loop).
    qtbot.waitUntil(lambda: len(slow.requests()) == 1, timeout=5000)
    assert status_text(viewer) == "Sending ping…"
    ticks: list[int] = []
    window.statusBar().messageChanged.connect(lambda _: ticks.append(1))
    window.statusBar().showMessage("still responsive", 50)
    qtbot.waitUntil(lambda: len(ticks) == 2, timeout=1000)  # shown, then cleared
    assert status_text(viewer) == "Sending ping…"

    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200", timeout=10_000)
    close_dialog(qtbot, viewer)


def test_closing_the_viewer_and_the_window_during_a_ping(
        qtbot: QtBot, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    slow = make_receiver(delay(1.0))
    hook = hook_factory(slow.url)
    window = open_window()
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: len(slow.requests()) == 1, timeout=5000)
    assert status_text(viewer) == "Sending ping…"
    close_dialog(qtbot, viewer)  # the user gives up waiting
    window.close()  # and quits: the window waits for the ping's thread
    assert not window.isVisible()
    # The answer that arrives after the viewer is gone is still recorded.
    qtbot.waitUntil(lambda: len(service.store.list_deliveries(hook_id=hook.id)) == 1,
                    timeout=5000)
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.event_type, delivery.status, delivery.last_status_code) == (
        "ping", "succeeded", 200)
    # The thread-check fixture fails this test if the ping's thread still runs.
