"""A ping's worker object ends its life in the GUI thread.

Deleting a Python-made QObject takes the interpreter lock. When the ping thread deleted
its worker (``thread.finished -> worker.deleteLater``) while the GUI thread held the
interpreter lock and waited for a Qt lock of that worker (to connect a signal), both
waited for each other: a whole test run hung that way. Deleting it in the GUI thread
cannot deadlock, so the thread a worker is destroyed in is what these tests check.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.workers import PingSecrets, PingTask
from tests.receiver import Receiver
from tests.ui.conftest import PING_SETTINGS, HookFactory


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """Secrets in an in-process keyring: these tests are about threads."""
    return service_in_memory


def test_ping_worker_is_destroyed_in_the_gui_thread(
        qtbot: QtBot, receiver: Receiver, hook_factory: HookFactory,
        service: HookService, open_window: Callable[..., MainWindow]) -> None:
    open_window()
    hook = hook_factory(receiver.url, name="threads")
    task = PingTask(hook, PingSecrets(service.reveal_secret(hook.id)), PING_SETTINGS)
    worker = task._worker
    assert worker is not None
    destroyed_in: list[QThread] = []
    worker.destroyed.connect(lambda: destroyed_in.append(QThread.currentThread()),
                             Qt.ConnectionType.DirectConnection)
    del worker
    with qtbot.waitSignal(task.ended, timeout=15000):
        task.start()
    qtbot.waitUntil(lambda: bool(destroyed_in), timeout=5000)
    assert destroyed_in == [QApplication.instance().thread()]
    assert task.wait(5000)
