"""Reveal…: the secret dialog shows the keyring's secret and copies it to the clipboard,
which is cleared again later unless something else was copied meanwhile."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.ui import secret_dialog
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import click, close_dialog, select_hook

CLEAR_MS = 200


@pytest.fixture
def clipboard(qapp: object) -> Iterator[QClipboard]:
    """The application clipboard, emptied before and after the test."""
    board = QGuiApplication.clipboard()
    board.clear()
    yield board
    board.clear()


@pytest.fixture
def hook(hook_factory: HookFactory) -> Hook:
    return hook_factory("https://ops.example.com/hooks", name="ops")


@pytest.fixture
def shown(qtbot: QtBot, hook: Hook, open_window: Callable[..., MainWindow]) -> MainWindow:
    """The window with ``hook``'s page open."""
    window = open_window()
    select_hook(qtbot, window, hook.id)
    return window


def open_secret_dialog(qtbot: QtBot, window: MainWindow) -> QDialog:
    """Click Reveal… and return the dialog that opens."""
    click(qtbot, window.page.reveal_button)
    qtbot.waitUntil(lambda: visible_top_level("secretDialog") is not None)
    dialog = visible_top_level("secretDialog")
    assert isinstance(dialog, QDialog)
    return dialog


@pytest.fixture
def copy_dialog(qtbot: QtBot, shown: MainWindow, clipboard: QClipboard,
                monkeypatch: pytest.MonkeyPatch) -> QDialog:
    """The secret dialog of ``shown``'s hook, opened with Reveal… once the clipboard is
    empty; it clears the clipboard :data:`CLEAR_MS` milliseconds after a copy (instead
    of its own delay)."""
    monkeypatch.setattr(secret_dialog, "CLIPBOARD_CLEAR_MS", CLEAR_MS)
    return open_secret_dialog(qtbot, shown)


def copy_button(dialog: QDialog, name: str = "copySecret") -> QPushButton:
    """The dialog's copy button ``name`` (``copySecret`` or ``copyWhsec``)."""
    button = child(dialog, QPushButton, name)
    assert isinstance(button, QPushButton)
    return button


def child(dialog: QDialog, kind: type, name: str) -> object:
    widget = dialog.findChild(kind, name)
    assert widget is not None, name
    return widget


def clear_timer(dialog: QDialog) -> QTimer:
    """The dialog's single-shot clear-the-clipboard timer (to wait for it to fire)."""
    timers = [t for t in dialog.findChildren(QTimer)
              if t.isSingleShot() and t.interval() == secret_dialog.CLIPBOARD_CLEAR_MS]
    assert len(timers) == 1
    return timers[0]


def test_reveal_shows_the_keyring_secret_and_its_whsec_form(
        qtbot: QtBot, shown: MainWindow, hook: Hook, service: HookService) -> None:
    assert shown.page.secret_label.text() == "•" * 24  # masked until revealed
    dialog = open_secret_dialog(qtbot, shown)
    secret = service.reveal_secret(hook.id)
    secret_edit = child(dialog, QLineEdit, "secret")
    whsec_edit = child(dialog, QLineEdit, "whsec")
    assert isinstance(secret_edit, QLineEdit)
    assert isinstance(whsec_edit, QLineEdit)
    assert secret_edit.text() == secret
    assert secret_edit.isReadOnly()
    assert whsec_edit.text() == "whsec_" + base64.b64encode(secret.encode("ascii")).decode()
    assert dialog.windowTitle() == "Secret of ops"
    assert dialog.isModal()  # window-modal, opened with open()
    close_dialog(qtbot, dialog)
    assert shown.page.secret_label.text() == "•" * 24


def test_copy_puts_the_secret_on_the_clipboard_and_clears_it_later(
        qtbot: QtBot, copy_dialog: QDialog, hook: Hook, service: HookService,
        clipboard: QClipboard) -> None:
    dialog, copy = copy_dialog, copy_button(copy_dialog)
    click(qtbot, copy)
    assert clipboard.text() == service.reveal_secret(hook.id)
    status = child(dialog, QLabel, "copyStatus")
    assert isinstance(status, QLabel)
    assert status.text().startswith("Copied.")

    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=3000)
    assert status.text() == "Clipboard cleared."
    close_dialog(qtbot, dialog)


def test_copy_of_the_whsec_form(qtbot: QtBot, copy_dialog: QDialog, hook: Hook,
                                service: HookService, clipboard: QClipboard) -> None:
    dialog, copy = copy_dialog, copy_button(copy_dialog, "copyWhsec")
    click(qtbot, copy)
    secret = service.reveal_secret(hook.id)
    assert clipboard.text() == "whsec_" + base64.b64encode(secret.encode("ascii")).decode()
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=3000)
    close_dialog(qtbot, dialog)


def test_the_clipboard_is_left_alone_if_something_else_was_copied(
        qtbot: QtBot, copy_dialog: QDialog, hook: Hook, service: HookService,
        clipboard: QClipboard) -> None:
    dialog, copy = copy_dialog, copy_button(copy_dialog)
    timer = clear_timer(dialog)
    click(qtbot, copy)
    assert clipboard.text() == service.reveal_secret(hook.id)
    assert timer.isActive()

    clipboard.setText("a URL the user copied since")
    with qtbot.waitSignal(timer.timeout, timeout=3000):
        pass
    assert clipboard.text() == "a URL the user copied since"
    close_dialog(qtbot, dialog)


def test_closing_the_dialog_keeps_the_promise_to_clear(
        qtbot: QtBot, copy_dialog: QDialog, hook: Hook, service: HookService,
        clipboard: QClipboard) -> None:
    dialog, copy = copy_dialog, copy_button(copy_dialog)
    click(qtbot, copy)
    assert clipboard.text() == service.reveal_secret(hook.id)
    close_dialog(qtbot, dialog)
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=3000)
