"""The window's engine host (hookadmin.ui.engine_host): what its child process says
reaches the window as signals, a line it cannot read is one sentence in the banner,
Resume during a stop starts the engine again, and closing the window ends the child.

The lines the host cannot read come from a real child process (a few lines of Python
in place of the engine, through :meth:`EngineHost.command`); everything else runs the
real engine against real receivers and the real keyring."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hookadmin.core.paths import HOME_ENV
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation
from hookadmin.delivery.engine_messages import KeyringMessage, encode
from hookadmin.ui.app import engine_for
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.window_host import WindowHost
from tests.helpers import FAST, process_alive, resource
from tests.receiver import Receiver, delay
from tests.ui.conftest import HookFactory

Make = Callable[..., Receiver]
# Writes its lines, then waits for a stop line or the end of stdin, as the engine does.
CHILD = ("import sys\n"
         "sys.stdout.write(sys.argv[1]); sys.stdout.flush()\n"
         "for line in sys.stdin:\n"
         "    if line.strip() == 'stop': break\n")


class ScriptedHost(EngineHost):
    """The window's host, its child writing ``text`` in place of the engine."""

    def __init__(self, home: Path, text: str) -> None:
        super().__init__(home)
        self.text = text

    def command(self) -> tuple[str, list[str]]:
        return sys.executable, ["-c", CHILD, self.text]


def _stopped(qtbot: QtBot, engine: EngineHost,
             open_window: Callable[..., MainWindow]) -> tuple[MainWindow, list[str]]:
    """A window on ``engine`` once the engine has stopped on an error, with every
    sentence ``errored`` said (waits up to 20 s: a real engine's start included)."""
    errors: list[str] = []
    engine.errored.connect(errors.append)
    window = open_window(engine)
    qtbot.waitUntil(lambda: bool(errors) and not engine.running, timeout=20_000)
    return window, errors


def test_the_window_runs_its_engine_in_a_child_process(home: Path) -> None:
    engine = engine_for(StoreLocation(home))
    assert isinstance(engine, EngineHost)
    assert engine.location == StoreLocation(home)


def test_a_message_of_another_version_is_one_sentence_in_the_banner_and_stops_the_engine(
        qtbot: QtBot, home: Path, open_window: Callable[..., MainWindow]) -> None:
    engine = ScriptedHost(home, json.dumps({"v": 2, "kind": "attempt"}) + "\n")
    window, errors = _stopped(qtbot, engine, open_window)
    sentence = ("The delivery engine was stopped because the delivery engine speaks "
                "message version 2, this window version 1; run the window and the engine "
                "from the same hookadmin installation; choose Delivery → Pause delivery "
                "twice to start it again.")
    assert errors == [sentence]  # once, and no second error for the stop it caused
    assert window.banner.isVisible()
    assert window.banner.text() == sentence
    assert window.engine_label.text() == "Delivery: stopped"


def test_malformed_lines_are_one_sentence_in_the_banner_however_many(
        qtbot: QtBot, home: Path, open_window: Callable[..., MainWindow]) -> None:
    engine = ScriptedHost(home, "{not json\n" * 5 + "[1]\n")
    window, errors = _stopped(qtbot, engine, open_window)
    assert errors == ["The delivery engine was stopped because the delivery engine wrote "
                      "a line that is not JSON; choose Delivery → Pause delivery twice to "
                      "start it again."]
    assert window.banner.text() == errors[0]
    assert "Traceback" not in window.banner.text()


LOCKED = "The OS keyring is locked; unlock it to let delivery go on."


def _keyring_locked_window(qtbot: QtBot, home: Path,
                           open_window: Callable[..., MainWindow]) -> MainWindow:
    """A window whose engine (a scripted child) said the keyring is :data:`LOCKED`, once
    that has reached it."""
    engine = ScriptedHost(home, encode(KeyringMessage(LOCKED)) + "\n")
    said: list[str] = []
    engine.keyring_changed.connect(said.append)
    window = open_window(engine)
    qtbot.waitUntil(lambda: said == [LOCKED], timeout=10_000)
    return window


def test_the_engines_keyring_state_reaches_the_status_bar(
        qtbot: QtBot, home: Path, open_window: Callable[..., MainWindow]) -> None:
    window = _keyring_locked_window(qtbot, home, open_window)
    assert window.engine_label.text() == "Delivery: waiting for the keyring"
    window.keyring.engine_changed("")  # as when the engine says it answers again
    assert window.engine_label.text() == "Delivery: running"


def test_the_windows_own_keyring_answer_does_not_hide_the_engines_problem(
        qtbot: QtBot, home: Path, open_window: Callable[..., MainWindow]) -> None:
    # The window's keyring check (its own process) may answer after the engine's
    # process said it cannot use the keyring: the engine still waits until it says so.
    window = _keyring_locked_window(qtbot, home, open_window)
    window.keyring.answered(True)
    assert window.engine_label.text() == "Delivery: waiting for the keyring"
    window.keyring.engine_changed("")
    assert window.engine_label.text() == "Delivery: running"


@pytest.mark.parametrize(("named_by_env", "fix"), [
    (False, "start hookadmin again with --home set to a folder you can write to"),
    (True, "set HOOKADMIN_HOME to a folder you can write to and start hookadmin again"),
])
def test_the_childs_own_failure_sentence_is_the_banner_with_the_windows_fix(
        qtbot: QtBot, tmp_path: Path, open_window: Callable[..., MainWindow],
        monkeypatch: pytest.MonkeyPatch, named_by_env: bool, fix: str) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    if named_by_env:  # as when the window was started with $HOOKADMIN_HOME set
        monkeypatch.setenv(HOME_ENV, str(not_a_dir / "home"))
    engine = EngineHost(not_a_dir / "home", FAST)
    window, errors = _stopped(qtbot, engine, open_window)
    assert errors == [f"The delivery engine stopped: Cannot use {not_a_dir / 'home'} as "
                      f"the data directory (Not a directory); {fix}."]
    assert window.banner.text() == errors[0]
    assert "--home." not in errors[0]  # not the command line's "choose another --home"


@dataclass
class InFlight:
    """A window whose engine (a real one, in its child process ``pid``) has a delivery in
    flight to a receiver that answers only after 30 s."""

    window: MainWindow
    engine: EngineHost
    pid: int


@pytest.fixture
def in_flight(home: Path, make_receiver: Make, hook_factory: HookFactory,
              open_window: Callable[..., MainWindow], service: HookService) -> InFlight:
    slow = make_receiver(delay(30.0))
    hook_factory(slow.url, name="slow", events=("job",))
    engine = EngineHost(home, FAST)
    window = open_window(engine)
    service.publish("job.completed", resource("job.completed", 1))
    slow.wait_for_requests(1)
    pid = engine.process_id
    assert pid is not None
    return InFlight(window, engine, pid)


def test_resume_during_a_stop_starts_the_engine_again_once_it_has_ended(
        qtbot: QtBot, in_flight: InFlight, receiver: Receiver, hook_factory: HookFactory,
        service: HookService) -> None:
    window, engine, first = in_flight.window, in_flight.engine, in_flight.pid
    window.pause_action.trigger()  # the stop has to cancel the delivery in flight
    window.pause_action.trigger()  # Resume before the first process has ended
    assert engine.stopping
    qtbot.waitUntil(lambda: engine.running and not engine.stopping, timeout=5000)
    qtbot.waitUntil(lambda: engine.process_id not in (None, first), timeout=5000)
    assert not process_alive(first)
    hook_factory(receiver.url, name="ops", events=("cluster",))
    service.publish("cluster.available", {"id": 1, "status": "available"})
    qtbot.waitUntil(lambda: len(receiver.requests()) == 1, timeout=20_000)
    assert window.engine_label.text() == "Delivery: running"
    assert not window.banner.isVisible()


def test_closing_the_window_ends_the_engine_process_within_3_s(
        qtbot: QtBot, in_flight: InFlight, service: HookService) -> None:
    window, engine, pid = in_flight.window, in_flight.engine, in_flight.pid
    started = time.monotonic()  # a delivery in flight while the window closes = time.monotonic()
    window.close()
    assert time.monotonic() - started < 3.0
    assert not engine.running
    assert not process_alive(pid)
    (delivery,) = service.store.list_deliveries()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_a_paused_window_stays_paused_when_it_switches_database(
        qtbot: QtBot, home: Path, tmp_path: Path) -> None:
    host = WindowHost(EngineHost)
    first = host.open(HookService(StoreLocation(home), origin="window"))
    try:
        qtbot.waitExposed(first)
        first.pause_action.trigger()
        assert first.engine is not None
        qtbot.waitUntil(lambda: first.engine is not None and not first.engine.running,
                        timeout=5000)
        with qtbot.waitSignal(host.switched, timeout=10_000):
            host.switch(HookService(StoreLocation(tmp_path / "other"), origin="window"))
        second = host.window
        assert second is not None
        assert second is not first
        qtbot.waitExposed(second)
        assert second.pause_action.isChecked()
        assert second.paused_box.isVisible()
        assert second.engine is not None
        assert not second.engine.running  # no engine process on the new database
        assert second.engine_label.text() == "Delivery: paused"
        second.pause_action.trigger()  # Resume there starts it
        assert second.engine.running
    finally:
        host.close()
