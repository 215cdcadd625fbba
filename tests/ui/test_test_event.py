"""Send test event…: a realistic sample for every event type, edited and sent to one hook
only, delivered by the engine to a real receiver; bad resources are refused in the dialog."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.helpers import STATUS_AFTER, db_rows, fixture_files, run_until_idle
from tests.receiver import Receiver
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.engine_window import open_with_engine
from tests.ui.gui import click, dialog_button, select_hook, view_rows

JOB_FAILED = next(p for p in fixture_files() if p.name == "job-failed-unicode.json")
# DESIGN.md §2 in catalog order, as the event type box lists them.
TYPES = list(STATUS_AFTER)
LABELS = ["Job Submitted", "Job Started", "Job Stopped", "Job Completed", "Job Failed",
          "Cluster Requested", "Cluster Available", "Cluster Terminated", "Cluster Idled",
          "Cluster Error"]


def child(dialog: QDialog, kind: type, name: str) -> object:
    widget = dialog.findChild(kind, name)
    assert widget is not None, name
    return widget


class EventDialogDriver:
    """The open "Send test event" dialog and its widgets."""

    def __init__(self, dialog: QDialog) -> None:
        self.dialog = dialog
        type_box = child(dialog, QComboBox, "eventType")
        resource = child(dialog, QPlainTextEdit, "resource")
        error = child(dialog, QLabel, "testEventError")
        send = child(dialog, QPushButton, "sendTestEvent")
        assert isinstance(type_box, QComboBox)
        assert isinstance(resource, QPlainTextEdit)
        assert isinstance(error, QLabel)
        assert isinstance(send, QPushButton)
        self.type_box, self.resource, self.error, self.send = type_box, resource, error, send

    def choose(self, qtbot: QtBot, event_type: str) -> None:
        """Pick ``event_type`` with the arrow keys on the focused event type box (its
        drop-down list needs a window system: the offscreen plugin cannot grab the
        keyboard for it)."""
        row = self.type_box.findData(event_type)
        assert row >= 0, event_type
        self.type_box.setFocus()
        qtbot.waitUntil(self.type_box.hasFocus)
        while self.type_box.currentIndex() != row:
            key = Qt.Key.Key_Down if self.type_box.currentIndex() < row else Qt.Key.Key_Up
            qtbot.keyClick(self.type_box, key)
        assert self.type_box.currentData() == event_type

    def type_resource(self, qtbot: QtBot, text: str) -> None:
        """Select everything in the resource editor and type ``text`` over it."""
        self.resource.setFocus()
        qtbot.waitUntil(self.resource.hasFocus)
        qtbot.keyClick(self.resource, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        type_text(qtbot, self.resource, text)
        assert self.resource.toPlainText() == text


def type_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type ``text`` into the focused ``widget``: ASCII as key presses, every other run of
    characters committed as an input method (compose key, IME) does it; QTest's key
    clicks only know ASCII."""
    for is_ascii, run in itertools.groupby(text, key=str.isascii):
        chars = "".join(run)
        if is_ascii:
            qtbot.keyClicks(widget, chars)
        else:
            event = QInputMethodEvent()
            event.setCommitString(chars)
            QApplication.sendEvent(widget, event)


def open_test_event_dialog(qtbot: QtBot, window: MainWindow) -> EventDialogDriver:
    """Click "Send test event…" on the open hook page; return the dialog it opens."""
    click(qtbot, window.page.test_event_button)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is not None)
    dialog = visible_top_level("testEventDialog")
    assert isinstance(dialog, QDialog)
    assert dialog.isModal()
    return EventDialogDriver(dialog)


def events_in_outbox(home: Path) -> int:
    """Every event ever queued in the data directory (fanned out or not)."""
    ((count,),) = db_rows(home, "SELECT count(*) FROM events")
    assert isinstance(count, int)
    return count


def compact(path: Path) -> str:
    """A fixture body as one line of compact JSON, to type into the resource editor."""
    return json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False,
                      separators=(",", ":"))


def test_every_event_type_gets_a_matching_sample(
        qtbot: QtBot, home: Path, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    ui = open_test_event_dialog(qtbot, window)
    assert ui.dialog.windowTitle() == "Send test event to ops"
    assert [ui.type_box.itemText(i) for i in range(ui.type_box.count())] == [
        f"{label} ({type_id})" for label, type_id in zip(LABELS, TYPES, strict=True)]

    # Every type, picked from the list in an order that changes the selection each time.
    for event_type in [*TYPES[1:], TYPES[0]]:
        ui.choose(qtbot, event_type)
        sample = json.loads(ui.resource.toPlainText())
        assert isinstance(sample, dict)
        assert sample["status"] == STATUS_AFTER[event_type], event_type
        assert isinstance(sample["id"], int)
        plural = "jobs" if event_type.startswith("job.") else "clusters"
        assert f"/{plural}/{sample['id']}" in sample["url"], event_type
        if event_type == "job.failed":
            assert sample["failed_at"] is not None
            assert sample["errors"]
            assert sample["completed_at"] is None
        if event_type == "job.completed":
            assert sample["completed_at"] is not None
            assert sample["failed_at"] is None
        if event_type == "cluster.terminated":
            assert sample["terminated_at"] is not None
        if event_type == "cluster.idled":
            assert sample["idle_since"] is not None
        assert not ui.error.isVisible()

    # Cancel queues nothing.
    click(qtbot, dialog_button(ui.dialog, "Cancel"))
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is None)
    assert events_in_outbox(home) == 0


def test_send_delivers_the_edited_body_to_this_hook_only(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    target = hook_factory(receiver.url_for("/target"), name="target", events=("job",))
    other = hook_factory(receiver.url_for("/other"), name="other", events=("job",))
    receiver.set_secrets({"target": service.reveal_secret(target.id),
                          "other": service.reveal_secret(other.id)})
    window, engine = open_with_engine(qtbot, open_window, home, timeout_ms=3000)
    select_hook(qtbot, window, target.id)

    # Ctrl+T opens the dialog for the hook on the page.
    window.page.deliveries_view.setFocus()
    qtbot.waitUntil(window.page.deliveries_view.hasFocus)
    qtbot.keyClick(window.page.deliveries_view, Qt.Key.Key_T,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is not None)
    dialog = visible_top_level("testEventDialog")
    assert isinstance(dialog, QDialog)
    ui = EventDialogDriver(dialog)
    ui.choose(qtbot, "job.failed")
    assert json.loads(ui.resource.toPlainText())["status"] == "failed"
    edited = compact(JOB_FAILED)
    ui.type_resource(qtbot, edited)
    click(qtbot, ui.send)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is None)
    ((event_id,),) = db_rows(home, "SELECT id FROM events")
    assert window.statusBar().currentMessage() == f"Queued test event {event_id} for target."

    qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=10_000)
    (request,) = receiver.requests()
    assert request.path == "/target"
    assert request.header("X-Hook-Event") == "job.failed"
    assert request.body == edited.encode("utf-8")
    assert request.verified_by == ("target",)
    # The page lists the delivery once the engine reports the attempt.
    qtbot.waitUntil(lambda: [r[:2] for r in view_rows(window.page.deliveries_view)]
                    == [["job.failed", "✓ 200"]], timeout=5000)

    window.close()  # stops the engine; whatever was queued for "other" would stay due
    assert not engine.running
    assert run_until_idle(home) == 0  # nothing else was waiting
    assert [r.path for r in receiver.requests()] == ["/target"]
    assert service.store.list_deliveries(hook_id=other.id) == []
    assert events_in_outbox(home) == 1


def test_send_reaches_a_hook_not_subscribed_to_the_type(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook = hook_factory(receiver.url, events=("cluster.error",))
    window = open_window()
    select_hook(qtbot, window, hook.id)
    ui = open_test_event_dialog(qtbot, window)
    ui.choose(qtbot, "job.completed")
    body = ui.resource.toPlainText()  # the sample as shown, unedited
    click(qtbot, ui.send)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is None)

    assert run_until_idle(home) == 1
    (request,) = receiver.requests()
    assert request.header("X-Hook-Event") == "job.completed"
    assert request.body == body.encode("utf-8")
    assert request.json()["status"] == "completed"
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.event_type, delivery.status) == ("job.completed", "succeeded")


def assert_refused(qtbot: QtBot, ui: EventDialogDriver, home: Path) -> str:
    """Click Send; the dialog stays open with a one-sentence error and queues nothing.
    Returns the error text."""
    click(qtbot, ui.send)
    qtbot.waitUntil(ui.error.isVisible)
    assert ui.dialog.isVisible()
    text = ui.error.text()
    assert text.endswith(".")
    assert "\n" not in text
    assert events_in_outbox(home) == 0
    return text


def test_invalid_json_is_refused_in_the_dialog(
        qtbot: QtBot, home: Path, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook: Hook = hook_factory("https://ops.example.com/hooks")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    ui = open_test_event_dialog(qtbot, window)
    ui.choose(qtbot, "cluster.error")
    assert not ui.error.isVisible()

    # Delete the closing brace of the sample, as a slip of the keyboard would.
    ui.resource.setFocus()
    qtbot.keyClick(ui.resource, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(ui.resource, Qt.Key.Key_Backspace)
    assert not ui.resource.toPlainText().endswith("}")
    text = assert_refused(qtbot, ui, home)
    assert text.startswith("The resource is not valid JSON (")
    assert text.endswith("); fix it and try again.")

    # Typing the brace back makes it sendable again.
    qtbot.keyClicks(ui.resource, "}")
    click(qtbot, ui.send)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is None)
    assert events_in_outbox(home) == 1
    assert service.store.outbox_waiting() == 1


def test_a_field_of_the_wrong_type_is_refused_in_the_dialog(
        qtbot: QtBot, home: Path, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://ops.example.com/hooks")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    ui = open_test_event_dialog(qtbot, window)
    ui.choose(qtbot, "job.failed")
    ui.type_resource(qtbot, '{"id": "48123", "status": "failed"}')
    text = assert_refused(qtbot, ui, home)
    assert text == ("The job's field id must be a whole number, not a string; fix the resource "
                    "and publish again.")

    # Choosing another type puts a fresh sample in and clears the error.
    ui.choose(qtbot, "job.stopped")
    assert not ui.error.isVisible()
    assert json.loads(ui.resource.toPlainText())["status"] == "stopped"
    qtbot.keyClick(ui.dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is None)
    assert events_in_outbox(home) == 0
