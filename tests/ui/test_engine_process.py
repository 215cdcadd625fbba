"""The window's delivery engine in its child process: a stop while a delivery is in
flight, and an engine process that dies; with real receivers and the real keyring."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.helpers import process_alive, resource
from tests.receiver import Receiver, delay
from tests.ui.conftest import HookFactory
from tests.ui.engine_window import has_process, open_with_engine

Make = Callable[..., Receiver]


def test_pausing_with_a_delivery_in_flight_ends_the_engine_within_3_s_and_it_stays_pending(
        qtbot: QtBot, home: Path, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    slow = make_receiver(delay(30.0))
    hook = hook_factory(slow.url, name="slow", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home, until=has_process)
    pid = engine.process_id
    assert pid is not None
    service.publish("job.completed", resource("job.completed"))
    slow.wait_for_requests(1)  # in flight: its answer is 30 s away

    started = time.monotonic()
    window.pause_action.trigger()
    assert time.monotonic() - started < 0.5  # Pause does not block the GUI thread
    qtbot.waitUntil(lambda: not engine.running, timeout=3000)
    assert engine.process_id is None
    assert not process_alive(pid)
    assert window.engine_label.text() == "Delivery: paused"
    assert not window.banner.isVisible()  # a stop asked for is no error
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_an_engine_process_that_dies_is_reported_and_resume_starts_a_new_one(
        qtbot: QtBot, home: Path, receiver: Receiver, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow], service: HookService) -> None:
    hook_factory(receiver.url, name="ops", events=("job",))
    window, engine = open_with_engine(qtbot, open_window, home, until=None)
    outcomes: list[object] = []
    engine.attempt_recorded.connect(outcomes.append)
    service.publish("job.completed", resource("job.completed", 1))
    qtbot.waitUntil(lambda: len(outcomes) == 1, timeout=20_000)
    pid = engine.process_id
    assert pid is not None

    seen: list[object] = []
    engine.errored.connect(lambda message: seen.append(("errored", message)))
    engine.running_changed.connect(lambda running: seen.append(("running", running)))
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    crashed = ("The delivery engine stopped: its process crashed; choose Delivery → "
               "Pause delivery twice to start it again.")
    assert seen == [("errored", crashed), ("running", False)]
    assert not engine.running
    assert window.banner.isVisible()
    assert window.banner.text() == crashed
    assert window.engine_label.text() == "Delivery: stopped"

    window.pause_action.trigger()  # Delivery → Pause, then resume: a new engine process
    window.pause_action.trigger()
    assert engine.running
    assert not window.banner.isVisible()  # the engine's old error no longer holds
    qtbot.waitUntil(lambda: engine.process_id is not None)
    assert engine.process_id != pid
    service.publish("job.completed", resource("job.completed", 2))
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=20_000)
    assert len(receiver.requests()) == 2
    assert window.engine_label.text() == "Delivery: running"
