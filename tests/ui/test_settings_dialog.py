"""File → Settings…: history retention and strict network mode, saved to the data
directory (where `hookadmin worker` reads them too) or left alone on Cancel; strict
mode then refuses a ping to a loopback receiver."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QMenu, QSpinBox
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.receiver import Receiver
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import (
    click,
    click_checkbox,
    close_dialog,
    dialog_button,
    find,
    ping_from_page,
    select_hook,
    status_text,
    view_rows,
)


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """These window tests are not about secrets and start no engine: their secrets live
    in an in-process keyring."""
    return service_in_memory


STRICT_REFUSAL = ("The address 127.0.0.1 is internal (loopback or private) and strict network "
                  "mode is on; turn strict mode off in Settings or use a public address.")


class SettingsDriver:
    """The open Settings dialog and its fields."""

    def __init__(self, dialog: QDialog) -> None:
        self.dialog = dialog
        retention = find(dialog, QSpinBox, "retentionDays")
        strict = find(dialog, QCheckBox, "strictNetwork")
        assert isinstance(retention, QSpinBox)
        assert isinstance(strict, QCheckBox)
        self.retention, self.strict = retention, strict

    def type_retention(self, qtbot: QtBot, days: str) -> None:
        """Select the number of days and type over it."""
        self.retention.setFocus()
        qtbot.waitUntil(self.retention.hasFocus)
        qtbot.keyClick(self.retention, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(self.retention, days)

    def press(self, qtbot: QtBot, text: str) -> None:
        """Click the dialog's ``text`` button and wait for the dialog to close."""
        click(qtbot, dialog_button(self.dialog, text))
        qtbot.waitUntil(lambda: visible_top_level("settingsDialog") is None)


def open_settings(qtbot: QtBot, window: MainWindow) -> SettingsDriver:
    """Press Ctrl+, in the window; return the Settings dialog it opens."""
    window.activateWindow()  # a window manager gives it back after a dialog; offscreen not
    qtbot.waitUntil(window.isActiveWindow)
    window.hooks_view.setFocus()
    qtbot.waitUntil(window.hooks_view.hasFocus)
    qtbot.keyClick(window.hooks_view, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: visible_top_level("settingsDialog") is not None)
    dialog = visible_top_level("settingsDialog")
    assert isinstance(dialog, QDialog)
    assert dialog.isModal()
    return SettingsDriver(dialog)


def test_the_file_menu_offers_settings_with_its_shortcut(window: MainWindow) -> None:
    (file_menu,) = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "&File"]
    (settings,) = [a for a in file_menu.actions() if a.text() == "&Settings…"]
    assert settings.shortcut().toString() == "Ctrl+,"
    assert settings.isEnabled()


def test_save_changes_retention_and_network_policy(
        qtbot: QtBot, window: MainWindow, service: HookService) -> None:
    assert (service.retention_days(), service.network_policy()) == (30, "workstation")
    ui = open_settings(qtbot, window)
    assert ui.retention.value() == 30
    assert not ui.strict.isChecked()

    ui.type_retention(qtbot, "7")
    assert ui.retention.value() == 7
    assert ui.retention.text() == "7 days"
    click_checkbox(qtbot, ui.strict)
    assert ui.strict.isChecked()
    ui.press(qtbot, "Save")

    assert service.retention_days() == 7
    assert service.network_policy() == "strict"
    with HookService(service.home) as worker_view:  # what `hookadmin worker` reads
        assert (worker_view.retention_days(), worker_view.network_policy()) == (7, "strict")

    # Opening Settings again shows what was saved; unticking strict mode and saving
    # turns it off again.
    ui = open_settings(qtbot, window)
    assert ui.retention.value() == 7
    assert ui.strict.isChecked()
    click_checkbox(qtbot, ui.strict)
    ui.press(qtbot, "Save")
    assert (service.retention_days(), service.network_policy()) == (7, "workstation")


def test_cancel_changes_nothing(qtbot: QtBot, window: MainWindow, service: HookService) -> None:
    ui = open_settings(qtbot, window)
    ui.type_retention(qtbot, "90")
    click_checkbox(qtbot, ui.strict)
    assert (ui.retention.value(), ui.strict.isChecked()) == (90, True)
    ui.press(qtbot, "Cancel")
    assert (service.retention_days(), service.network_policy()) == (30, "workstation")

    # Escape is Cancel too.
    ui = open_settings(qtbot, window)
    assert (ui.retention.value(), ui.strict.isChecked()) == (30, False)
    click_checkbox(qtbot, ui.strict)
    qtbot.keyClick(ui.strict, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: visible_top_level("settingsDialog") is None)
    assert service.network_policy() == "workstation"


def test_retention_outside_its_range_is_never_saved(
        qtbot: QtBot, window: MainWindow, service: HookService) -> None:
    ui = open_settings(qtbot, window)
    ui.type_retention(qtbot, "99999")
    assert ui.retention.text() == "999 days"  # the digits past 3650 are refused
    ui.type_retention(qtbot, "0")
    assert ui.retention.value() == 999  # "0" is not a value the box takes
    ui.press(qtbot, "Save")
    # Saving with "0" typed keeps the last valid number: history is never kept 0 days.
    assert service.retention_days() == 999


def test_strict_mode_refuses_a_ping_to_a_loopback_receiver(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory(receiver.url, name="local")
    window = open_window()
    ui = open_settings(qtbot, window)
    click_checkbox(qtbot, ui.strict)
    ui.press(qtbot, "Save")

    select_hook(qtbot, window, hook.id)
    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(viewer) != "Sending ping…", timeout=10_000)
    assert status_text(viewer) == "Failed: address refused by the network policy"
    detail = find(viewer, QLabel, "pingDetail")
    assert isinstance(detail, QLabel)
    assert detail.text().splitlines()[0] == STRICT_REFUSAL
    close_dialog(qtbot, viewer)
    assert receiver.requests() == []
    assert [r[:2] for r in view_rows(window.page.deliveries_view)] == [["ping", "✗ policy"]]

    # Strict mode off again: the same ping goes through.
    ui = open_settings(qtbot, window)
    click_checkbox(qtbot, ui.strict)
    ui.press(qtbot, "Save")
    viewer = ping_from_page(qtbot, window)
    qtbot.waitUntil(lambda: status_text(viewer) != "Sending ping…", timeout=10_000)
    assert status_text(viewer) == "Delivered: HTTP 200"
    close_dialog(qtbot, viewer)
    assert [r.header("X-Hook-Event") for r in receiver.requests()] == ["ping"]
