"""A hook whose secret is not in this keyring (created on another machine, or its entry
removed): its page says so and how to fix it, Reveal is disabled with that reason as
its tooltip, and Reset stays enabled and fixes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QDialog, QMessageBox, QScrollArea
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import visible_top_level
from tests.ui.gui import click, close_dialog, dialog_button, select_hook, settle_windows

NOT_IN_THIS_KEYRING = ("This hook's secret is not in this keyring. Reset it, or import the "
                   "secrets export from the machine that created it.")


def test_the_page_says_why_and_reset_puts_a_secret_back(
        qtbot: QtBot, service: HookService,
        open_window: Callable[..., MainWindow]) -> None:
    kept = service.create_hook(url="http://127.0.0.1:9/kept", events=["job"], name="kept")
    gone = service.create_hook(url="http://127.0.0.1:9/gone", events=["job"], name="gone")
    service.secrets.delete(gone.id)  # as after the keyring entry was removed
    window = open_window()
    page = window.page

    select_hook(qtbot, window, gone.id)
    qtbot.waitUntil(lambda: page.secret_notice.isVisible())
    assert page.secret_notice.text() == NOT_IN_THIS_KEYRING
    assert not page.reveal_button.isEnabled()
    assert page.reveal_button.toolTip() == NOT_IN_THIS_KEYRING
    assert page.reset_button.isVisible()
    assert page.reset_button.isEnabled()

    # Another hook's page, whose secret is here: nothing of the sort.
    select_hook(qtbot, window, kept.id)
    assert not page.secret_notice.isVisible()
    assert page.reveal_button.isEnabled()
    assert page.reveal_button.toolTip() == "Show the secret, with buttons to copy it"

    select_hook(qtbot, window, gone.id)
    qtbot.waitUntil(lambda: page.secret_notice.isVisible())
    click(qtbot, page.reset_button)
    qtbot.waitUntil(lambda: visible_top_level("confirmReset") is not None)
    box = visible_top_level("confirmReset")
    assert isinstance(box, QMessageBox)
    # There is no old secret here to keep signing: no overlap is offered or promised.
    assert box.text() == (
        "Write a new secret for gone into this keyring?\n\nThis keyring has no secret "
        "for this hook, so deliveries to it wait. Both signature headers use the new "
        "secret at once; give it to the receiver.")
    assert box.findChild(QComboBox, "secretOverlap") is None
    click(qtbot, dialog_button(box, "Reset secret"))
    qtbot.waitUntil(lambda: visible_top_level("newSecretDialog") is not None)
    dialog = visible_top_level("newSecretDialog")
    assert isinstance(dialog, QDialog)
    close_dialog(qtbot, dialog)
    assert service.secrets.get_optional(gone.id) is not None
    qtbot.waitUntil(lambda: not page.secret_notice.isVisible())
    assert page.reveal_button.isEnabled()


def test_importing_the_secrets_export_puts_the_secret_back(
        qtbot: QtBot, service: HookService, tmp_path: Path,
        open_window: Callable[..., MainWindow]) -> None:
    hook = service.create_hook(url="http://127.0.0.1:9/gone", events=["job"], name="gone")
    secret = service.reveal_secret(hook.id)
    window = open_window()
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    window.transfer.export_hooks(hooks_file, secrets_file)  # "on the machine that made it"
    settle_windows(qtbot)
    service.secrets.delete(hook.id)
    page = window.page
    select_hook(qtbot, window, hook.id)
    qtbot.waitUntil(lambda: page.secret_notice.isVisible())

    window.transfer.import_hooks(hooks_file, secrets_file)  # File → Import hooks…
    settle_windows(qtbot)
    assert window.statusBar().currentMessage() == (
        "Imported 0 hooks; skipped 1 that already exist; put the secrets of 1 of those "
        "into this keyring.")
    qtbot.waitUntil(lambda: not page.secret_notice.isVisible())
    assert page.reveal_button.isEnabled()
    assert service.reveal_secret(hook.id) == secret


def test_the_line_leaves_the_page_s_buttons_in_sight(
        qtbot: QtBot, service: HookService, open_window: Callable[..., MainWindow]) -> None:
    hook = service.create_hook(url="http://127.0.0.1:9/gone", events=["job"], name="gone")
    service.secrets.delete(hook.id)
    window = open_window()
    window.resize(1300, 820)
    page = window.page
    select_hook(qtbot, window, hook.id)
    qtbot.waitUntil(lambda: page.secret_notice.isVisible())
    scroll = page.findChild(QScrollArea, "pageScroll")
    assert scroll is not None
    # The settings part grows by the line: Ping and Edit stay in sight, no scrolling.
    qtbot.waitUntil(lambda: not scroll.verticalScrollBar().isVisible())
    assert scroll.viewport().rect().contains(
        page.ping_button.mapTo(scroll.viewport(), page.ping_button.rect().bottomRight()))
