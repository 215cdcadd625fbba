"""The form's unsaved edits and the hooks list: while the form asks whether to save
them, the list keeps showing the hook being edited, whichever way the user leaves
(a click, the arrow keys, New hook)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.editing import (
    answer_question,
    close_dialog_with,
    open_editing,
    wait_for_page,
    wait_for_question,
)
from tests.ui.gui import click, click_row, click_tab, dialog_button


def test_the_list_keeps_the_edited_hook_selected_while_it_asks(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """Clicking another hook with unsaved edits highlighted the clicked row while the
    question (and the form) was still about the hook being edited."""
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first, second = editing.window, editing.first, editing.second

    for answer in ("Cancel", "Discard"):
        click_row(qtbot, window.hooks_view, window.selection.view_row(second.id))
        answer_question(qtbot, window, answer, selected=first.id)
    wait_for_page(qtbot, window, second.id)
    assert window.selected_hook_id() == second.id
    assert service.hook(first.id).name == "one"


def test_arrow_keys_in_the_list_ask_as_a_click_does(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """Moving to another hook with the arrow keys during an edit asks first, and the
    list keeps the edited hook selected until the answer."""
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first, second = editing.window, editing.first, editing.second
    step = (Qt.Key.Key_Down if window.selection.view_row(second.id)
            > window.selection.view_row(first.id) else Qt.Key.Key_Up)
    window.hooks_view.setFocus()

    qtbot.keyClick(window.hooks_view, step)
    answer_question(qtbot, window, "Cancel", selected=first.id)
    assert window.selected_hook_id() == first.id
    assert window.form.name_edit.text() == "one renamed"

    qtbot.keyClick(window.hooks_view, step)
    answer_question(qtbot, window, "Save", selected=first.id)
    wait_for_page(qtbot, window, second.id)
    assert window.selected_hook_id() == second.id
    assert service.hook(first.id).name == "one renamed"


def test_new_hook_asks_before_throwing_edits_away(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """New hook during an edit replaced the form, its edits lost without a question."""
    editing = open_editing(qtbot, hook_factory, open_window, names=("one",))
    window, first = editing.window, editing.first

    click(qtbot, window.new_button)
    wait_for_question(qtbot)
    assert window.selected_hook_id() == first.id
    assert window.form.name_edit.text() == "one renamed"
    close_dialog_with(qtbot, "Cancel")
    assert window.selected_hook_id() == first.id
    assert window.form.editing is not None
    assert window.form.name_edit.text() == "one renamed"

    click(qtbot, window.new_button)
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Discard")
    assert window.form.editing is None
    assert window.form.name_edit.text() == ""
    assert window.selected_hook_id() is None
    assert service.hook(first.id).name == "one"


def test_a_right_click_on_another_hook_opens_its_menu_without_asking(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    """A right click during an edit neither selects the clicked hook nor asks; its
    context menu acts on the clicked hook."""
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first, second = editing.window, editing.first, editing.second
    view = window.hooks_view
    index = view.model().index(window.selection.view_row(second.id), 0)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.RightButton,
                     pos=view.visualRect(index).center())
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.RightButton,
                       pos=view.visualRect(index).center())
    QApplication.processEvents()  # what the press posted (a question) is applied
    assert window.selected_hook_id() == first.id
    assert visible_top_level("unsavedChanges") is None
    assert window.form.name_edit.text() == "one renamed"


def test_connect_to_a_team_database_asks_before_leaving_the_edits(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """*Connect to team database…* replaces the window, and the form's edits with it:
    it asks first, with the list still on the edited hook; Cancel keeps the edits and
    opens no connect dialog, Discard goes back to the hook's page and opens it."""
    editing = open_editing(qtbot, hook_factory, open_window, names=("one",))
    window, first = editing.window, editing.first

    window.database_actions.connect_action.trigger()
    answer_question(qtbot, window, "Cancel", selected=first.id)
    assert visible_top_level("connectDialog") is None
    assert window.stack.currentWidget() is window.form_scroll
    assert window.form.name_edit.text() == "one renamed"

    window.database_actions.connect_action.trigger()
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Discard")
    qtbot.waitUntil(lambda: visible_top_level("connectDialog") is not None)
    dialog = visible_top_level("connectDialog")
    assert dialog is not None
    dialog.close()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page)
    assert window.selected_hook_id() == first.id
    assert service.hook(first.id).name == "one"


def test_deleting_the_edited_hook_closes_its_form(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """The Delete key in the list during an edit asks to delete the edited hook (the
    list still shows it); once deleted, its form no longer stays on screen."""
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first, second = editing.window, editing.first, editing.second
    window.hooks_view.setFocus()
    qtbot.keyClick(window.hooks_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
    assert window.selected_hook_id() == first.id
    box = visible_top_level("confirmDelete")
    assert box is not None
    click(qtbot, dialog_button(box, "Delete"))
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.placeholder)
    assert visible_top_level("unsavedChanges") is None
    assert [h.id for h in service.hooks()] == [second.id]


def test_switching_tabs_keeps_the_edits_and_the_selection(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    """Another tab and back: the form is as it was left, the list on the edited hook,
    and nothing asked (nothing was left)."""
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first = editing.window, editing.first
    click_tab(qtbot, window.tabs, "&Deliveries")
    click_tab(qtbot, window.tabs, "&Webhooks")
    assert visible_top_level("unsavedChanges") is None
    assert window.stack.currentWidget() is window.form_scroll
    assert window.form.name_edit.text() == "one renamed"
    assert window.selected_hook_id() == first.id


def test_typing_a_hook_s_name_in_the_list_asks_as_a_click_does(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    """Typing the start of another hook's name in the list (Qt's keyboard search) during
    an edit asks first, with the list still on the edited hook."""
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first = editing.window, editing.first
    window.hooks_view.setFocus()
    qtbot.keyClick(window.hooks_view, "t")
    answer_question(qtbot, window, "Cancel", selected=first.id)
    assert window.selected_hook_id() == first.id
    assert window.form.name_edit.text() == "one renamed"


def test_closing_the_window_with_unsaved_edits_asks_first(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """File → Quit (or the window's close button) threw the form's unsaved edits away
    without asking: Cancel keeps the window and the edits, Save saves them and closes."""
    editing = open_editing(qtbot, hook_factory, open_window, names=("one",))
    window, hook = editing.window, editing.first

    window.close()  # what File → Quit does
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Cancel")
    assert window.isVisible()
    assert window.form.name_edit.text() == "one renamed"

    window.close()
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Save")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert service.hook(hook.id).name == "one renamed"
