"""The window by keyboard: Ctrl+N, Ctrl+F and the filter, Delete, Ctrl+P, Ctrl+D, the
hooks table's context menu; names for assistive technology on every control; and the
hook form's tab order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QContextMenuEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QMenu,
    QMenuBar,
    QMessageBox,
    QPlainTextEdit,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.receiver import Receiver
from tests.ui.conftest import OFFSCREEN_NOISE, HookFactory, visible_top_level
from tests.ui.gui import (
    click,
    click_row,
    dialog_button,
    select_hook,
    settled,
    status_text,
    view_rows,
)

CTRL = Qt.KeyboardModifier.ControlModifier
INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView,
               QPlainTextEdit)
# Controls that are parts of another control (a combo box's list, a table's headers and
# corner button, a line edit's clear button, a tab bar's scroll buttons, the menu bar's
# overflow button) are named by it.
COMPOUND = (QAbstractItemView, QComboBox, QAbstractSpinBox, QLineEdit, QTabBar, QMenuBar)


def press(qtbot: QtBot, window: MainWindow, key: Qt.Key, modifier: Qt.KeyboardModifier = CTRL,
          ) -> None:
    """Press a key in the widget that has the keyboard focus (as a user would)."""
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, key, modifier)


def focus(qtbot: QtBot, widget: QWidget) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def hook_rows(window: MainWindow) -> list[str]:
    return [row[0] for row in view_rows(window.hooks_view)]


def open_context_menu(qtbot: QtBot, window: MainWindow, hook_id: int) -> QMenu:
    """Right-click a hook's row: the event a right click delivers to the table."""
    view = window.hooks_view
    row = window.hooks_proxy.mapFromSource(
        window.hooks_model.index(window.hooks_model.row_of(hook_id), 0)).row()
    pos = view.visualRect(view.model().index(row, 0)).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                              view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(lambda: visible_top_level("hookContextMenu") is not None)
    menu = visible_top_level("hookContextMenu")
    assert isinstance(menu, QMenu)
    return menu


def choose_in_menu(qtbot: QtBot, menu: QMenu, text: str) -> None:
    """Click a menu entry."""
    (action,) = [a for a in menu.actions() if a.text() == text]
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def accessible_name(widget: QWidget) -> str:
    """The name assistive technology reads for a widget (its accessible name, its text,
    or its buddy label's text)."""
    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None
    return iface.text(QAccessible.Text.Name).strip()


def unnamed_controls(root: QWidget) -> list[str]:
    """Interactive widgets under ``root`` that have no name for assistive technology."""
    out = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE):
            continue
        parent = widget.parentWidget()
        inner = False
        while parent is not None and parent is not root:
            if isinstance(parent, COMPOUND):
                inner = True
                break
            parent = parent.parentWidget()
        if inner:
            continue
        if not accessible_name(widget):
            out.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return out


def test_ctrl_n_opens_an_empty_form_with_the_cursor_in_the_url(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    focus(qtbot, window.hooks_view)
    press(qtbot, window, Qt.Key.Key_N)
    assert window.stack.currentWidget() is window.form_scroll
    qtbot.waitUntil(window.form.url_edit.hasFocus)
    assert window.form.title.text() == "Add webhook"
    assert window.form.url_edit.text() == ""
    qtbot.keyClicks(window.form.url_edit, "https://new.example.com/hooks")
    qtbot.keyClick(window.form.url_edit, Qt.Key.Key_Return)
    settled(qtbot, window)
    assert [h.url for h in service.hooks()] == ["https://ops.example.com/hooks",
                                                "https://new.example.com/hooks"]


def test_ctrl_f_focuses_the_filter_and_typing_filters_the_hooks(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    hook_factory("https://ops.example.com/hooks", name="ops monitor", events=("job",))
    hook_factory("https://pay.example.com/etl", name="billing", events=("job.failed",))
    hook_factory("https://chat.example.com/in", events=("cluster.error",))
    window = open_window()
    focus(qtbot, window.hooks_view)
    assert len(hook_rows(window)) == 3

    press(qtbot, window, Qt.Key.Key_F)
    qtbot.waitUntil(window.filter_edit.hasFocus)
    assert window.filter_edit.objectName() == "hookFilter"
    qtbot.keyClicks(window.filter_edit, "PAY")  # any case; by URL
    assert hook_rows(window) == ["billing\nhttps://pay.example.com/etl"]

    press(qtbot, window, Qt.Key.Key_F)  # again: selects the filter text to type over it
    qtbot.keyClicks(window.filter_edit, "cluster error")  # by event label
    assert hook_rows(window) == ["https://chat.example.com/in"]
    press(qtbot, window, Qt.Key.Key_F)
    qtbot.keyClicks(window.filter_edit, "monitor")  # by name
    assert hook_rows(window) == ["ops monitor\nhttps://ops.example.com/hooks"]
    press(qtbot, window, Qt.Key.Key_F)
    qtbot.keyClicks(window.filter_edit, "nothing like it")
    assert hook_rows(window) == []
    press(qtbot, window, Qt.Key.Key_F)
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Backspace)
    assert len(hook_rows(window)) == 3


def test_delete_key_on_a_selected_hook_asks_first(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    keep = hook_factory("https://keep.example.com/hooks", name="keep")
    doomed = hook_factory("https://doomed.example.com/hooks", name="doomed")
    window = open_window()
    select_hook(qtbot, window, doomed.id)
    focus(qtbot, window.hooks_view)

    qtbot.keyClick(window.hooks_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
    box = visible_top_level("confirmDelete")
    assert isinstance(box, QMessageBox)
    assert box.text().startswith(f"Delete hook {doomed.id} (doomed)?")
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # Escape says no
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is None)
    assert [h.id for h in service.hooks()] == [keep.id, doomed.id]

    focus(qtbot, window.hooks_view)
    qtbot.keyClick(window.hooks_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
    box = visible_top_level("confirmDelete")
    assert isinstance(box, QMessageBox)
    click(qtbot, dialog_button(box, "Delete"))
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is None)
    settled(qtbot, window)
    window.activateWindow()  # offscreen: the window is left inactive after the box
    qtbot.waitUntil(window.isActiveWindow)
    assert [h.id for h in service.hooks()] == [keep.id]

    # Delete while typing in the filter edits the text, never deletes a hook.
    select_hook(qtbot, window, keep.id)
    focus(qtbot, window.filter_edit)
    qtbot.keyClicks(window.filter_edit, "kee")
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Home)
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Delete)
    assert window.filter_edit.text() == "ee"
    assert visible_top_level("confirmDelete") is None


def test_ctrl_p_pings_the_shown_hook(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory(receiver.url, name="local")
    window = open_window()
    focus(qtbot, window.hooks_view)
    press(qtbot, window, Qt.Key.Key_P)  # no hook shown: nothing to ping
    assert visible_top_level("pingViewer") is None

    select_hook(qtbot, window, hook.id)
    press(qtbot, window, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: visible_top_level("pingViewer") is not None)
    viewer = visible_top_level("pingViewer")
    assert viewer is not None
    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200",  # type: ignore[arg-type]
                    timeout=10_000)
    (request,) = receiver.requests()
    assert request.header("X-Hook-Event") == "ping"
    assert request.json()["hook_id"] == hook.id
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: visible_top_level("pingViewer") is None)


def test_ctrl_d_duplicates_the_selected_hook_into_the_form(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops",
                        events=("job.failed", "cluster"))
    window = open_window()
    select_hook(qtbot, window, hook.id)
    focus(qtbot, window.hooks_view)
    press(qtbot, window, Qt.Key.Key_D)

    form = window.form
    assert window.stack.currentWidget() is window.form_scroll
    assert form.title.text() == f"Add webhook (copy of hook {hook.id})"
    assert form.name_edit.text() == "ops (copy)"
    assert form.url_edit.text() == "https://ops.example.com/hooks"
    assert form.events.subscription() == ["cluster", "job.failed"]
    assert form.submit_button.text() == "Create hook"
    assert window.selected_hook_id() is None
    qtbot.waitUntil(form.url_edit.hasFocus)
    qtbot.keyClick(form.url_edit, Qt.Key.Key_Return)
    settled(qtbot, window)

    original, copy = service.hooks()
    assert original.id == hook.id
    assert (copy.name, copy.url, copy.events) == ("ops (copy)", hook.url, hook.events)
    assert service.reveal_secret(copy.id) != service.reveal_secret(hook.id)


# A popup menu asks the platform to raise it and grab the keyboard; the headless
# offscreen plugin says it cannot (like its propagateSizeHints notice, see conftest.py).
@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE,
                           r"^This plugin does not support (raise\(\)|grabbing the keyboard)$")
def test_the_context_menu_offers_every_action_on_a_hook(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook = hook_factory(receiver.url, name="ops", events=("job",))
    window = open_window()

    menu = open_context_menu(qtbot, window, hook.id)
    assert [a.text() for a in menu.actions() if not a.isSeparator()] == [
        "Deactivate", "Edit", "Ping", "Send test event…", "Duplicate", "Delete…"]
    choose_in_menu(qtbot, menu, "Deactivate")
    assert service.hook(hook.id).active is False

    menu = open_context_menu(qtbot, window, hook.id)
    assert next(a.text() for a in menu.actions() if not a.isSeparator()) == "Activate"
    choose_in_menu(qtbot, menu, "Activate")
    assert service.hook(hook.id).active is True

    choose_in_menu(qtbot, open_context_menu(qtbot, window, hook.id), "Ping")
    qtbot.waitUntil(lambda: visible_top_level("pingViewer") is not None)
    viewer = visible_top_level("pingViewer")
    assert viewer is not None
    qtbot.waitUntil(lambda: status_text(viewer) == "Delivered: HTTP 200",  # type: ignore[arg-type]
                    timeout=10_000)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: visible_top_level("pingViewer") is None)

    choose_in_menu(qtbot, open_context_menu(qtbot, window, hook.id), "Send test event…")
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is not None)
    dialog = visible_top_level("testEventDialog")
    assert dialog is not None
    assert dialog.windowTitle() == "Send test event to ops"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: visible_top_level("testEventDialog") is None)

    choose_in_menu(qtbot, open_context_menu(qtbot, window, hook.id), "Duplicate")
    assert window.stack.currentWidget() is window.form_scroll
    assert window.form.name_edit.text() == "ops (copy)"

    choose_in_menu(qtbot, open_context_menu(qtbot, window, hook.id), "Delete…")
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
    box = visible_top_level("confirmDelete")
    assert isinstance(box, QMessageBox)
    click(qtbot, dialog_button(box, "Delete"))
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is None)
    settled(qtbot, window)
    assert service.hooks() == []


def test_every_control_has_a_name_for_assistive_technology(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)  # the hook page, filled
    click_row(qtbot, window.hooks_view, 0)
    assert unnamed_controls(window.page) == []
    assert unnamed_controls(window.form) == []
    assert unnamed_controls(window) == []
    # The check itself sees them: buttons, edits, boxes, views are all found.
    found = {type(w) for w in window.findChildren(QWidget) if isinstance(w, INTERACTIVE)}
    assert {QLineEdit, QComboBox, QCheckBox, QPlainTextEdit} <= found


def test_the_form_s_tab_order_goes_url_name_options_then_the_events(
        qtbot: QtBot, window: MainWindow) -> None:
    """Tab follows the form from top to bottom: Payload URL, Name, the endpoint
    options under them, then the events."""
    press(qtbot, window, Qt.Key.Key_N)
    form = window.form
    qtbot.waitUntil(form.url_edit.hasFocus)
    qtbot.keyClick(form.url_edit, Qt.Key.Key_Tab)
    qtbot.waitUntil(form.name_edit.hasFocus)
    qtbot.keyClick(form.name_edit, Qt.Key.Key_Tab)
    qtbot.waitUntil(form.type_options.auth_user.hasFocus)
    rate = form.type_options.rate_edit  # the last of the options
    rate.setFocus()
    qtbot.waitUntil(rate.hasFocus)
    qtbot.keyClick(rate, Qt.Key.Key_Tab)
    first_event_box = form.events.findChildren(QCheckBox)[0]
    assert first_event_box is form.events.group_boxes["job"]  # "All Job Notifications"
    qtbot.waitUntil(first_event_box.hasFocus)
    qtbot.keyClick(first_event_box, Qt.Key.Key_Tab)
    qtbot.waitUntil(form.events.event_boxes["job.submitted"].hasFocus)
    # Back again with Shift+Tab.
    qtbot.keyClick(QApplication.focusWidget() or form, Qt.Key.Key_Backtab,
                   Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(QApplication.focusWidget() or form, Qt.Key.Key_Backtab,
                   Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(rate.hasFocus)
