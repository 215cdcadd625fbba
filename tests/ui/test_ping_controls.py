"""The ping viewer's controls: "Cancel ping" while the receiver takes its time, and the
"Pretty-print JSON bodies" toggle for the response and request bodies."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QPlainTextEdit, QPushButton, QTabWidget
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.receiver import Receiver, delay
from tests.ui.conftest import HookFactory
from tests.ui.gui import (
    click,
    click_checkbox,
    click_tab,
    close_dialog,
    find,
    ping_from_page,
    select_hook,
    status_text,
)


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """These window tests are not about secrets and start no engine: their secrets live
    in an in-process keyring."""
    return service_in_memory


Make = Callable[..., Receiver]
CANCELLED = "The ping was cancelled before the receiver answered."


def ping_threads(window: MainWindow) -> list[QThread]:
    """The window's ping threads (named "hookadmin-ping") that still run."""
    return [t for t in window.findChildren(QThread)
            if t.objectName() == "hookadmin-ping" and t.isRunning()]


def body_views(viewer: QDialog) -> tuple[QPlainTextEdit, QPlainTextEdit]:
    response = find(viewer, QPlainTextEdit, "responseBody")
    request = find(viewer, QPlainTextEdit, "requestBody")
    assert isinstance(response, QPlainTextEdit)
    assert isinstance(request, QPlainTextEdit)
    return response, request


def test_cancel_ends_the_wait_for_a_slow_receiver(
        qtbot: QtBot, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    slow = make_receiver(delay(20.0))  # far longer than anyone waits
    hook = hook_factory(slow.url, name="slow")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    cancel = find(viewer, QPushButton, "cancelPing")
    assert isinstance(cancel, QPushButton)
    assert cancel.isVisible()
    assert cancel.isEnabled()
    slow.wait_for_requests(1)  # the receiver has it and sits on the answer
    assert status_text(viewer) == "Sending ping…"
    assert len(ping_threads(window)) == 1

    started = time.monotonic()
    click(qtbot, cancel)
    qtbot.waitUntil(lambda: status_text(viewer) == "Not sent", timeout=2000)
    detail = find(viewer, QLabel, "pingDetail")
    assert isinstance(detail, QLabel)
    assert detail.text() == CANCELLED
    assert not cancel.isVisible()
    qtbot.waitUntil(lambda: ping_threads(window) == [], timeout=2000)
    assert time.monotonic() - started < 2.0  # not the 20 s answer, not the attempt timeout
    tabs = find(viewer, QTabWidget, "pingTabs")
    assert isinstance(tabs, QTabWidget)
    assert not tabs.isEnabled()  # nothing to show
    # A cancelled ping is not recorded as a delivery, and it is not sent again.
    assert service.store.list_deliveries(hook_id=hook.id) == []
    assert len(slow.requests()) == 1
    close_dialog(qtbot, viewer)


def test_closing_after_cancel_and_pinging_again_works(
        qtbot: QtBot, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    slow = make_receiver({"script": [{"delay": 20.0}]})  # only the first answer is slow
    hook = hook_factory(slow.url, name="slow")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    slow.wait_for_requests(1)
    cancel = find(viewer, QPushButton, "cancelPing")
    assert isinstance(cancel, QPushButton)
    click(qtbot, cancel)
    qtbot.waitUntil(lambda: status_text(viewer) == "Not sent", timeout=2000)
    close_dialog(qtbot, viewer)

    again = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(again) == "Delivered: HTTP 200", timeout=10_000)
    qtbot.waitUntil(lambda: ping_threads(window) == [], timeout=2000)
    close_dialog(qtbot, again)


def test_pretty_print_switches_both_bodies_between_indented_and_raw(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory(receiver.url, name="local")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200", timeout=10_000)
    (request,) = receiver.requests()
    sent = request.body.decode("utf-8")
    pretty = find(viewer, QCheckBox, "prettyJson")
    assert isinstance(pretty, QCheckBox)
    assert pretty.isChecked()  # on by default
    response_view, request_view = body_views(viewer)
    indented_request = json.dumps(json.loads(sent), indent=2, ensure_ascii=False)
    assert response_view.toPlainText() == '{\n  "ok": true\n}'
    assert request_view.toPlainText() == indented_request
    assert sent != indented_request  # the wire form is compact

    click_checkbox(qtbot, pretty)
    assert not pretty.isChecked()
    response_view, request_view = body_views(viewer)
    assert response_view.toPlainText() == '{"ok": true}'  # exactly as received
    assert request_view.toPlainText() == sent  # exactly as sent

    tabs = find(viewer, QTabWidget, "pingTabs")
    assert isinstance(tabs, QTabWidget)
    click_tab(qtbot, tabs, "Request")
    assert request_view.isVisible()
    click_checkbox(qtbot, pretty)
    assert pretty.isChecked()
    response_view, request_view = body_views(viewer)
    assert request_view.toPlainText() == indented_request
    assert response_view.toPlainText() == '{\n  "ok": true\n}'
    close_dialog(qtbot, viewer)


def test_the_toggle_chosen_while_waiting_applies_to_the_answer(
        qtbot: QtBot, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    slow = make_receiver({"delay": 1.0, "body": '{"a": [1, 2], "b": "ü"}'})
    hook = hook_factory(slow.url, name="slow")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    pretty = find(viewer, QCheckBox, "prettyJson")
    assert isinstance(pretty, QCheckBox)
    click_checkbox(qtbot, pretty)  # raw, before the answer is in
    assert status_text(viewer) == "Sending ping…"
    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200", timeout=10_000)
    response_view, request_view = body_views(viewer)
    assert response_view.toPlainText() == '{"a": [1, 2], "b": "ü"}'
    assert request_view.toPlainText() == slow.requests()[0].body.decode("utf-8")
    click_checkbox(qtbot, pretty)
    response_view, _ = body_views(viewer)
    assert response_view.toPlainText() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "ü"\n}'
    close_dialog(qtbot, viewer)


def test_a_body_that_is_not_json_reads_the_same_either_way(
        qtbot: QtBot, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    text = make_receiver({"body": "thanks, got it\n"})
    hook = hook_factory(text.url, name="text")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200", timeout=10_000)
    response_view, _ = body_views(viewer)
    assert response_view.toPlainText() == "thanks, got it\n"
    pretty = find(viewer, QCheckBox, "prettyJson")
    assert isinstance(pretty, QCheckBox)
    click_checkbox(qtbot, pretty)
    response_view, _ = body_views(viewer)
    assert response_view.toPlainText() == "thanks, got it\n"
    close_dialog(qtbot, viewer)
