"""No keyring call on the GUI thread: while the OS keyring asks for its password, the
window keeps painting and answering, says delivery waits for the keyring, and several
actions in that time lead to one prompt, not one each.

A real unlock prompt cannot be produced under a headless Secret Service, so the keyring
here is :class:`PromptingKeyring`: the in-process keyring behind a lock that, like a
locked login keyring, holds every call until the "prompt" is answered, counting each
prompt it shows (one per call that arrives while locked and no prompt is open).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.memory_keyring import MemoryKeyring, memory_service
from tests.receiver import Receiver
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import click, close_dialog, select_hook, settled

PROMPT_TIMEOUT = 5.0  # a prompt nobody answers fails the call after this many seconds


class PromptingKeyring(MemoryKeyring):
    """A keyring that starts locked: calls wait until :meth:`answer` unlocks it."""

    def __init__(self) -> None:
        super().__init__()
        self._unlocked = threading.Event()
        self._prompt_lock = threading.Lock()
        self._prompt_open = False
        self.prompts = 0
        self.calls_on: set[str] = set()

    def lock(self) -> None:
        """Lock it (the calls made so far are forgotten)."""
        self.calls_on.clear()
        self._unlocked.clear()

    def answer(self) -> None:
        """The user typed the keyring's password."""
        self._unlocked.set()

    def _wait(self) -> None:
        self.calls_on.add(threading.current_thread().name)
        if self._unlocked.is_set():
            return
        with self._prompt_lock:
            if not self._prompt_open:
                self._prompt_open = True
                self.prompts += 1
        if not self._unlocked.wait(PROMPT_TIMEOUT):
            raise RuntimeError("the keyring prompt was not answered")
        with self._prompt_lock:
            self._prompt_open = False

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        super().delete_password(service, username)


@pytest.fixture
def keyring_backend() -> PromptingKeyring:
    backend = PromptingKeyring()
    backend.answer()  # unlocked while the test sets up; the test locks it
    return backend


@pytest.fixture
def service(home: Path, keyring_backend: PromptingKeyring) -> Iterator[HookService]:
    with memory_service(home, keyring_backend) as svc:
        yield svc


def test_create_hook_while_the_keyring_prompts_keeps_the_window_responsive(
        qtbot: QtBot, window: MainWindow, service: HookService,
        keyring_backend: PromptingKeyring) -> None:
    qtbot.waitUntil(lambda: window.startup.wait(0), timeout=15000)
    keyring_backend.lock()
    click(qtbot, window.new_button)
    qtbot.keyClicks(window.form.url_edit, "https://ops.example.com/hooks/etl")
    started = time.monotonic()
    click(qtbot, window.form.submit_button, settle=False)
    assert time.monotonic() - started < 1.0, "the click waited for the keyring"
    qtbot.waitUntil(lambda: "waiting for the keyring" in window.engine_label.text(),
                    timeout=3000)
    assert service.hooks() == []  # not created while the keyring is locked
    assert "MainThread" not in keyring_backend.calls_on

    keyring_backend.answer()
    qtbot.waitUntil(lambda: len(service.hooks()) == 1, timeout=5000)
    (hook,) = service.hooks()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page
                    and window.page.hook is not None and window.page.hook.id == hook.id)
    assert "waiting for the keyring" not in window.engine_label.text()
    assert keyring_backend.prompts == 1
    assert "MainThread" not in keyring_backend.calls_on


def test_several_secret_actions_while_locked_prompt_once(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService, keyring_backend: PromptingKeyring) -> None:
    first = hook_factory("https://one.example.com/hooks", name="one")
    second = hook_factory("https://two.example.com/hooks", name="two")
    window = open_window()
    qtbot.waitUntil(lambda: window.startup.wait(0), timeout=15000)
    select_hook(qtbot, window, first.id)
    keyring_backend.lock()
    click(qtbot, window.page.reveal_button, settle=False)  # Reveal on the page
    window.hook_actions.reveal_secret(second.id)  # and, meanwhile, for another hook
    qtbot.waitUntil(lambda: "waiting for the keyring" in window.engine_label.text(),
                    timeout=3000)
    keyring_backend.answer()
    qtbot.waitUntil(lambda: len([w for w in window.findChildren(QDialog)
                                 if w.objectName() == "secretDialog" and w.isVisible()]) == 2,
                    timeout=5000)
    assert keyring_backend.prompts == 1
    assert "MainThread" not in keyring_backend.calls_on
    for dialog in [w for w in window.findChildren(QDialog) if w.objectName() == "secretDialog"]:
        close_dialog(qtbot, dialog)
    assert visible_top_level("secretDialog") is None


def test_a_ping_and_a_reveal_while_locked_prompt_once_and_the_ping_is_sent(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], keyring_backend: PromptingKeyring) -> None:
    hook = hook_factory(receiver.url, name="ops")
    window = open_window()
    qtbot.waitUntil(lambda: window.startup.wait(0), timeout=15000)
    select_hook(qtbot, window, hook.id)
    keyring_backend.lock()
    click(qtbot, window.page.ping_button, settle=False)
    viewer = visible_top_level("pingViewer")
    assert viewer is not None  # open at once, while the keyring still asks
    window.hook_actions.reveal_secret(hook.id)
    qtbot.waitUntil(lambda: "waiting for the keyring" in window.engine_label.text(),
                    timeout=3000)
    keyring_backend.answer()
    qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=10000)
    qtbot.waitUntil(lambda: visible_top_level("secretDialog") is not None, timeout=5000)
    assert keyring_backend.prompts == 1
    assert keyring_backend.calls_on == {"hookadmin-keyring_0"}
    settled(qtbot, window)
    for name in ("secretDialog", "pingViewer"):
        dialog = visible_top_level(name)
        assert dialog is not None
        close_dialog(qtbot, dialog)
