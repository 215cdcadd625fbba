"""Reset… on the hook page: a confirmation first, then the new secret shown once; the page
says until when the previous secret still signs webhook-signature."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.service import SECRET_OVERLAP_SECONDS, HookService
from hookadmin.ui.main_window import MainWindow
from tests.helpers import body, run_until_idle
from tests.receiver import Receiver
from tests.ui.conftest import visible_top_level
from tests.ui.gui import click, close_dialog, dialog_button, find, refresh_window, select_hook


def ask_to_reset(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    """Click Reset… on the open hook page; return the confirmation box."""
    click(qtbot, window.page.reset_button)
    qtbot.waitUntil(lambda: visible_top_level("confirmReset") is not None)
    box = visible_top_level("confirmReset")
    assert isinstance(box, QMessageBox)
    assert box.isModal()
    return box


def wait_closed(qtbot: QtBot, name: str) -> None:
    qtbot.waitUntil(lambda: visible_top_level(name) is None)


def test_cancel_keeps_the_secret(qtbot: QtBot, receiver: Receiver,
                                 open_window: Callable[..., MainWindow],
                                 service: HookService) -> None:
    hook = service.create_hook(url=receiver.url, events=["job"], name="ops")
    secret = service.reveal_secret(hook.id)
    window = open_window()
    select_hook(qtbot, window, hook.id)
    assert not window.page.rotation_label.isVisible()

    box = ask_to_reset(qtbot, window)
    assert box.text().startswith("Replace the secret of ops?")
    assert "24 hours" in box.text()
    # Enter takes the default button, which is the safe one.
    qtbot.keyClick(box, Qt.Key.Key_Return)
    wait_closed(qtbot, "confirmReset")
    assert service.reveal_secret(hook.id) == secret

    box = ask_to_reset(qtbot, window)
    click(qtbot, dialog_button(box, "Cancel"))
    wait_closed(qtbot, "confirmReset")

    assert visible_top_level("newSecretDialog") is None
    assert service.reveal_secret(hook.id) == secret
    assert service.hook(hook.id).previous_secret_expires_at is None
    assert not window.page.rotation_label.isVisible()


def test_confirm_shows_the_new_secret_once_and_the_overlap(
        qtbot: QtBot, receiver: Receiver, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    hook: Hook = service.create_hook(url=receiver.url, events=["job"], name="ops")
    old = service.reveal_secret(hook.id)
    window = open_window()
    select_hook(qtbot, window, hook.id)

    box = ask_to_reset(qtbot, window)
    before = time.time()
    click(qtbot, dialog_button(box, "Reset secret"))
    wait_closed(qtbot, "confirmReset")
    qtbot.waitUntil(lambda: visible_top_level("newSecretDialog") is not None)
    dialog = visible_top_level("newSecretDialog")
    assert isinstance(dialog, QDialog)

    new = service.reveal_secret(hook.id)
    assert new != old
    assert re.fullmatch(r"[0-9a-f]{64}", new)
    shown = find(dialog, QLineEdit, "secret")
    assert isinstance(shown, QLineEdit)
    assert shown.text() == new
    assert shown.isReadOnly()
    assert any("shown this once" in label.text() for label in dialog.findChildren(QLabel))
    close_dialog(qtbot, dialog)
    assert window.page.secret_label.text() == "•" * 24  # masked again on the page

    expires = service.hook(hook.id).previous_secret_expires_at
    assert expires is not None
    assert before + SECRET_OVERLAP_SECONDS <= expires <= time.time() + SECRET_OVERLAP_SECONDS
    rotation = window.page.rotation_label
    assert rotation.objectName() == "secretRotation"
    assert rotation.isVisible()
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(expires))
    assert rotation.text() == f"The previous secret also signs webhook-signature until {when}."
    refresh_window(qtbot, window)  # the 2 s poll keeps saying so
    assert rotation.isVisible()

    # What the page promises, as a receiver sees it on the next delivery: X-Hook-Signature
    # with the new secret only, webhook-signature with both.
    receiver.set_secrets({"old": old, "new": new})
    service.publish("job.completed", body("job.completed"))
    assert run_until_idle(service.home) == 1
    (request,) = receiver.requests()
    assert request.verified_by == ("new",)
    assert request.standard_verified_by == ("new", "old")


def test_the_overlap_is_chosen_and_can_be_ended_early(
        qtbot: QtBot, receiver: Receiver, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    from PySide6.QtWidgets import QComboBox

    from tests.ui.gui import choose

    hook = service.create_hook(url=receiver.url, events=["job"], name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    box = ask_to_reset(qtbot, window)
    assert [b.text() for b in box.buttons() if b.text() == "Expire old secret now"] == []
    overlap = box.findChild(QComboBox, "secretOverlap")
    assert isinstance(overlap, QComboBox)
    assert overlap.currentText() == "24 hours"
    choose(qtbot, overlap, "3 days")
    before = time.time()
    click(qtbot, dialog_button(box, "Reset secret"))
    wait_closed(qtbot, "confirmReset")
    qtbot.waitUntil(lambda: visible_top_level("newSecretDialog") is not None)
    dialog = visible_top_level("newSecretDialog")
    assert dialog is not None
    close_dialog(qtbot, dialog)
    expires = service.hook(hook.id).previous_secret_expires_at
    assert expires is not None
    assert before + 3 * 86400 <= expires <= time.time() + 3 * 86400

    box = ask_to_reset(qtbot, window)
    click(qtbot, dialog_button(box, "Expire old secret now"))
    wait_closed(qtbot, "confirmReset")
    assert service.hook(hook.id).previous_secret_expires_at is None
    assert service.secrets.get_optional(hook.id, previous=True) is None
    qtbot.waitUntil(lambda: not window.page.rotation_label.isVisible())
    assert [e.action for e in service.store.list_audit()][-2:] == [
        "secret.reset", "secret.previous_expired"]
