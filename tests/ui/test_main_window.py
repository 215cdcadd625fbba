"""The main window driven like a user: create, edit, delete, deactivate and activate
hooks, keyboard shortcuts, and where the window keeps its state."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.secrets import SecretStore
from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import (
    ACTIVE_COL,
    EVENTS_COL,
    HOOK_COL,
    LAST_COL,
    click,
    click_checkbox,
    dialog_button,
    select_hook,
    settled,
    view_rows,
)


def keyring_entry(service: HookService, hook_id: int) -> str | None:
    """The hook's secret read straight from the OS keyring (not through hookadmin)."""
    return keyring.get_password("hookadmin", f"{service.store.store_id}/hook/{hook_id}")



def replace_text(qtbot: QtBot, edit: object, text: str) -> None:
    """Select everything in a line edit and type over it."""
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)


def test_create_a_hook_through_the_form(qtbot: QtBot, window: MainWindow,
                                        service: HookService) -> None:
    assert window.empty_hint.isVisible()
    assert window.hooks_model.rowCount() == 0

    click(qtbot, window.new_button)
    assert window.stack.currentWidget() is window.form_scroll
    assert window.form.title.text() == "Add webhook"
    qtbot.keyClicks(window.form.url_edit, "https://ops.example.com/hooks/etl")
    qtbot.keyClicks(window.form.name_edit, "ops monitor")
    click(qtbot, window.form.submit_button)
    settled(qtbot, window)

    (hook,) = service.hooks()
    assert (hook.name, hook.url, hook.events, hook.active) == (
        "ops monitor", "https://ops.example.com/hooks/etl", ("job", "cluster"), True)
    secret = service.reveal_secret(hook.id)
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert keyring_entry(service, hook.id) == secret

    (row,) = view_rows(window.hooks_view)
    assert row[HOOK_COL] == "ops monitor\nhttps://ops.example.com/hooks/etl"
    assert "job" in row[EVENTS_COL].lower()
    assert "cluster" in row[EVENTS_COL].lower()
    assert row[ACTIVE_COL] == "Active"
    assert row[LAST_COL] == "never"
    assert not window.empty_hint.isVisible()

    # The new hook is selected and its page is open.
    assert window.selected_hook_id() == hook.id
    assert window.stack.currentWidget() is window.page
    assert window.page.title.text() == "ops monitor"
    assert window.page.url_label.text() == "https://ops.example.com/hooks/etl"
    assert window.page.state_label.text() == "● Active"
    assert window.page.events_label.text() == "All Job Notifications, All Cluster Notifications"
    assert window.statusBar().currentMessage() == f"Created hook {hook.id}."


def test_each_new_hook_gets_its_own_secret(qtbot: QtBot, window: MainWindow,
                                           service: HookService) -> None:
    for url in ("https://a.example.com/h", "https://b.example.com/h"):
        click(qtbot, window.new_button)
        qtbot.keyClicks(window.form.url_edit, url)
        qtbot.keyClick(window.form.url_edit, Qt.Key.Key_Return)  # Enter submits
        settled(qtbot, window)
        qtbot.waitUntil(lambda u=url: window.page.hook is not None and window.page.hook.url == u)
    first, second = service.hooks()
    assert [r[HOOK_COL] for r in view_rows(window.hooks_view)] == [first.url, second.url]
    assert service.reveal_secret(first.id) != service.reveal_secret(second.id)


def test_an_unticked_active_box_creates_an_inactive_hook(qtbot: QtBot, window: MainWindow,
                                                         service: HookService) -> None:
    click(qtbot, window.new_button)
    assert window.form.active_box.isChecked()  # on by default
    qtbot.keyClicks(window.form.url_edit, "https://quiet.example.com/hooks")
    click_checkbox(qtbot, window.form.active_box)
    assert not window.form.active_box.isChecked()
    click(qtbot, window.form.submit_button)
    settled(qtbot, window)

    (hook,) = service.hooks()
    assert hook.active is False
    assert view_rows(window.hooks_view)[0][ACTIVE_COL] == "Inactive"
    assert window.page.state_label.text() == "○ Inactive"
    assert window.page.toggle_button.text() == "&Activate"


def test_cancel_leaves_nothing_behind(qtbot: QtBot, window: MainWindow,
                                      service: HookService) -> None:
    click(qtbot, window.new_button)
    qtbot.keyClicks(window.form.url_edit, "https://never.example.com/")
    click(qtbot, window.form.cancel_button)
    assert window.stack.currentWidget() is window.placeholder
    assert service.hooks() == []
    # Opening the form again starts empty.
    click(qtbot, window.new_button)
    assert window.form.url_edit.text() == ""


def test_edit_a_hook(qtbot: QtBot, hook_factory: HookFactory,
                     open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook = hook_factory("https://old.example.com/hooks", name="ops",
                        events=("job.failed", "cluster"))
    secret = service.reveal_secret(hook.id)
    window = open_window()
    select_hook(qtbot, window, hook.id)

    click(qtbot, window.page.edit_button)
    form = window.form
    assert window.stack.currentWidget() is window.form_scroll
    assert form.title.text() == f"Edit hook “{hook.display_name}”"
    assert form.submit_button.text() == "Save changes"
    assert form.url_edit.text() == "https://old.example.com/hooks"
    assert form.name_edit.text() == "ops"
    assert form.events.subscription() == ["cluster", "job.failed"]
    assert form.events.group_boxes["job"].checkState() == Qt.CheckState.PartiallyChecked
    assert form.active_box.isChecked()
    assert form.submit_button.isEnabled()

    replace_text(qtbot, form.url_edit, "https://new.example.com/hooks")
    assert form.url_edit.text() == "https://new.example.com/hooks"
    click(qtbot, form.submit_button)

    stored = service.hook(hook.id)
    assert stored.url == "https://new.example.com/hooks"
    assert (stored.name, stored.events, stored.active) == ("ops", ("cluster", "job.failed"), True)
    assert service.reveal_secret(hook.id) == secret  # editing keeps the secret
    assert view_rows(window.hooks_view)[0][HOOK_COL] == "ops\nhttps://new.example.com/hooks"
    assert window.stack.currentWidget() is window.page
    assert window.page.url_label.text() == "https://new.example.com/hooks"
    assert window.statusBar().currentMessage() == f"Saved hook {hook.id}."


def test_a_bad_url_in_the_edit_form_is_not_saved(qtbot: QtBot, hook_factory: HookFactory,
                                                 open_window: Callable[..., MainWindow],
                                                 service: HookService) -> None:
    hook = hook_factory("https://old.example.com/hooks")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    click(qtbot, window.page.edit_button)
    replace_text(qtbot, window.form.url_edit, "https://old.example.com:0/")
    assert window.form.url_error.isVisible()
    assert window.form.url_error.text() == ("The URL's port is not valid; use a number from "
                                            "1 to 65535.")
    assert not window.form.submit_button.isEnabled()
    click(qtbot, window.form.cancel_button)
    assert window.stack.currentWidget() is window.page  # back to the hook
    assert service.hook(hook.id).url == "https://old.example.com/hooks"


def test_delete_asks_first_then_removes_the_hook_and_its_secret(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    keep = hook_factory("https://keep.example.com/hooks", name="keep")
    doomed = hook_factory("https://doomed.example.com/hooks", name="doomed")
    assert keyring_entry(service, doomed.id) is not None
    window = open_window()
    select_hook(qtbot, window, doomed.id)

    # First say Cancel: nothing happens.
    click(qtbot, window.page.delete_button)
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
    box = visible_top_level("confirmDelete")
    assert isinstance(box, QMessageBox)
    assert box.text().startswith(f"Delete hook {doomed.id} (doomed)?")
    click(qtbot, dialog_button(box, "Cancel"))
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is None)
    assert [h.id for h in service.hooks()] == [keep.id, doomed.id]
    assert window.stack.currentWidget() is window.page

    # Then Delete.
    click(qtbot, window.page.delete_button)
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
    box = visible_top_level("confirmDelete")
    assert isinstance(box, QMessageBox)
    click(qtbot, dialog_button(box, "Delete"))
    settled(qtbot, window)
    qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is None)

    assert [h.id for h in service.hooks()] == [keep.id]
    assert keyring_entry(service, doomed.id) is None
    assert keyring_entry(service, keep.id) is not None
    assert [r[HOOK_COL] for r in view_rows(window.hooks_view)] == [
        "keep\nhttps://keep.example.com/hooks"]
    assert window.stack.currentWidget() is window.placeholder
    assert window.statusBar().currentMessage() == f"Deleted hook {doomed.id}."


def test_delete_without_a_keyring_says_the_secret_stays(
        qtbot: QtBot, hook_factory: HookFactory, service: HookService) -> None:
    doomed = hook_factory("https://doomed.example.com/hooks", name="doomed")
    store_id = service.store.store_id
    # keyring's own "no backend" keyring: what hookadmin gets on a desktop without one.
    no_keyring = SecretStore(store_id, backend=fail.Keyring())
    with HookService(service.home, secrets=no_keyring) as elsewhere:
        window = MainWindow(elsewhere, None)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        try:
            settled(qtbot, window)
            select_hook(qtbot, window, doomed.id)
            click(qtbot, window.page.delete_button)
            qtbot.waitUntil(lambda: visible_top_level("confirmDelete") is not None)
            box = visible_top_level("confirmDelete")
            assert isinstance(box, QMessageBox)
            click(qtbot, dialog_button(box, "Delete"))
            qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(
                f"Deleted hook {doomed.id}"))
            assert window.statusBar().currentMessage() == (
                f"Deleted hook {doomed.id}; its secret stays in the OS keyring until "
                "hookadmin can use the keyring again.")
            assert window.stack.currentWidget() is window.placeholder
        finally:
            window.close()
    assert [h.id for h in service.hooks()] == []
    assert keyring_entry(service, doomed.id) is not None  # kept, and remembered:
    assert service.orphaned_secrets() == [f"{store_id}/hook/{doomed.id}",
                                          f"{store_id}/hook/{doomed.id}/previous"]


def test_deactivate_and_activate_from_the_hook_page(qtbot: QtBot, hook_factory: HookFactory,
                                                    open_window: Callable[..., MainWindow],
                                                    service: HookService) -> None:
    hook = hook_factory("https://ops.example.com/hooks")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    page = window.page
    assert page.toggle_button.text() == "&Deactivate"

    click(qtbot, page.toggle_button)
    assert service.hook(hook.id).active is False
    assert view_rows(window.hooks_view)[0][ACTIVE_COL] == "Inactive"
    assert page.state_label.text() == "○ Inactive"
    assert page.toggle_button.text() == "&Activate"
    assert window.selected_hook_id() == hook.id  # the page stays on the hook

    click(qtbot, page.toggle_button)
    assert service.hook(hook.id).active is True
    assert view_rows(window.hooks_view)[0][ACTIVE_COL] == "Active"
    assert page.state_label.text() == "● Active"
    assert page.toggle_button.text() == "&Deactivate"


def test_ctrl_n_opens_the_new_hook_form_with_the_cursor_in_the_url(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    window.hooks_view.setFocus()
    qtbot.waitUntil(window.hooks_view.hasFocus)

    qtbot.keyClick(window.hooks_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.form_scroll
    qtbot.waitUntil(window.form.url_edit.hasFocus)
    assert window.form.url_edit.text() == ""
    assert window.form.title.text() == "Add webhook"
    assert window.selected_hook_id() is None

    # The keyboard alone is enough to finish: type the URL and press Enter.
    qtbot.keyClicks(window.form.url_edit, "https://keys.example.com/")
    qtbot.keyClick(window.form.url_edit, Qt.Key.Key_Return)
    settled(qtbot, window)
    assert [h.url for h in service.hooks()] == ["https://ops.example.com/hooks",
                                                "https://keys.example.com/"]


def test_window_state_goes_to_the_isolated_settings(qtbot: QtBot, window: MainWindow,
                                                    isolated_qsettings: Path) -> None:
    window.resize(720, 560)  # smaller than the offscreen screen, so nothing is clamped
    window.splitter.setSizes([300, 400])
    qtbot.waitUntil(lambda: window.size().width() == 720)
    sizes = window.splitter.sizes()
    window.close()
    settings = QSettings()
    assert Path(settings.fileName()).is_relative_to(isolated_qsettings)
    assert settings.contains("window/geometry")
    assert settings.contains("window/splitter")

    again = MainWindow(window.service)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.size() == window.size()
    assert again.splitter.sizes() == sizes
    again.close()


def test_form_labels_take_the_cursor_to_their_fields(qtbot: QtBot, window: MainWindow) -> None:
    click(qtbot, window.new_button)
    form = window.form
    form.name_edit.setFocus()
    qtbot.waitUntil(form.name_edit.hasFocus)
    qtbot.keyClick(form.name_edit, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(form.url_edit.hasFocus)
    qtbot.keyClick(form.url_edit, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(form.name_edit.hasFocus)
    # Alt+N stays with the "New hook" button; it does not also mean a form field.
    qtbot.keyClick(form.name_edit, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert window.stack.currentWidget() is window.form_scroll
    assert form.url_edit.text() == ""


@pytest.fixture
def deleted_elsewhere(qtbot: QtBot, hook_factory: HookFactory,
                      open_window: Callable[..., MainWindow],
                      service: HookService) -> tuple[MainWindow, Hook]:
    """(window, hook): the window shows the hook's page, and the hook has been deleted
    from the command line (another connection) since the window's last refresh."""
    hook = hook_factory("https://gone.example.com/hooks", name="gone")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    with HookService(service.home) as cli:
        cli.delete_hook(hook.id)
    return window, hook


def assert_said_gone(window: MainWindow, hook: Hook) -> None:
    """The banner names the hook, and the list no longer shows it."""
    assert window.banner.isVisible()
    assert f"{hook.id}" in window.banner.text()
    assert window.hooks_model.rowCount() == 0


def test_acting_on_a_hook_deleted_elsewhere_says_so(
        qtbot: QtBot, deleted_elsewhere: tuple[MainWindow, Hook]) -> None:
    window, hook = deleted_elsewhere
    click(qtbot, window.page.toggle_button)
    assert_said_gone(window, hook)
    assert window.stack.currentWidget() is window.placeholder


def test_deleting_a_hook_deleted_elsewhere_says_so(
        qtbot: QtBot, deleted_elsewhere: tuple[MainWindow, Hook]) -> None:
    window, hook = deleted_elsewhere
    click(qtbot, window.page.delete_button)
    assert visible_top_level("confirmDelete") is None
    assert_said_gone(window, hook)
