"""The engine's child process (hookadmin.delivery.worker_process), run as the window runs
it: JSON lines out (the envelope of hookadmin.delivery.engine_messages), ``stop`` or the
end of stdin in, a ``failed`` message and one line on stderr when it fails;
against real receivers, the real keyring and a real database."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.settings_json import settings_to_json
from hookadmin.delivery.worker_process import MODULE
from tests.helpers import FAST, process_alive, resource, wait_until
from tests.receiver import Receiver, delay

Make = Callable[..., Receiver]
STOP_BOUND = 3.0  # seconds a stop may take


class Child:
    """``python -m hookadmin.delivery.worker_process HOME --settings ...`` with pipes;
    stdout lines are collected by a thread."""

    def __init__(self, home: Path, settings: DeliverySettings | None = FAST,
                 extra: list[str] | None = None) -> None:
        args = [sys.executable, "-P", "-m", MODULE, str(home)]
        if settings is not None:
            args += ["--settings", settings_to_json(settings)]
        self.proc = subprocess.Popen([*args, *(extra or [])], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[bytes] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.lines.put(line)

    def outcomes(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The next ``n`` stdout lines, parsed, but for ``keyring`` lines (the engine
        says the keyring can be used at its first read)."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            line = json.loads(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            if line["kind"] != "keyring":
                out.append(line)
        return out

    def attempts_written(self) -> list[dict[str, Any]]:
        """The attempt lines written and not yet read (after the process ended)."""
        lines = []
        while not self.lines.empty():
            lines.append(json.loads(self.lines.get_nowait()))
        return [line for line in lines if line["kind"] == "attempt"]

    def stop(self, how: str) -> float:
        """Stop by ``stop`` line or by closing stdin; returns the seconds it took."""
        assert self.proc.stdin is not None
        started = time.monotonic()
        if how == "stop line":
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.flush()
        else:
            self.proc.stdin.close()
        self.proc.wait(10)
        return time.monotonic() - started

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    made: list[Child] = []
    yield made
    for child in made:
        child.kill()


@pytest.mark.parametrize("how", ["stop line", "stdin closed"])
def test_each_attempt_is_one_json_line_and_a_stop_is_clean(
        how: str, home: Path, service: HookService, receiver: Receiver,
        children: list[Child]) -> None:
    hook = service.create_hook(url=receiver.url, events=["job"], name="ops")
    receiver.set_secrets({"ops": service.reveal_secret(hook.id)})
    events = [service.publish("job.completed", resource("job.completed", n)) for n in range(3)]
    child = Child(home)
    children.append(child)

    lines = child.outcomes(3)
    # Signed with the secret from the OS keyring: the child reads the same keyring.
    assert [r.verified_by for r in receiver.wait_for_requests(3)] == [("ops",)] * 3
    deliveries = {d.id: d for d in service.store.list_deliveries(hook_id=hook.id)}
    assert {d.event_id for d in deliveries.values()} == set(events)
    assert sorted(line["delivery_id"] for line in lines) == sorted(deliveries)
    for line in lines:
        assert set(line) == {"v", "kind", "delivery_id", "hook_id", "event_type",
                             "attempt_number", "status", "status_code", "error_kind",
                             "duration_ms", "next_attempt_at"}
        assert (line["v"], line["kind"]) == (1, "attempt")
        assert (line["hook_id"], line["event_type"], line["attempt_number"], line["status"],
                line["status_code"], line["error_kind"], line["next_attempt_at"]) == (
            hook.id, "job.completed", 1, "succeeded", 200, None, None)
        assert line["duration_ms"] > 0
        assert deliveries[line["delivery_id"]].status == "succeeded"

    took = child.stop(how)
    assert child.proc.returncode == 0
    assert took < STOP_BOUND
    assert child.stderr() == ""


@pytest.mark.slow
def test_a_stop_leaves_in_flight_deliveries_pending_for_the_next_start(
        home: Path, service: HookService, make_receiver: Make, receiver: Receiver,
        children: list[Child]) -> None:
    slow = make_receiver(delay(30.0))
    hook = service.create_hook(url=slow.url, events=["job"], name="slow")
    service.publish("job.failed", resource("job.failed"))
    child = Child(home)
    children.append(child)
    slow.wait_for_requests(1)  # the request is in flight, its answer 30 s away

    assert child.stop("stdin closed") < STOP_BOUND
    assert child.proc.returncode == 0
    assert child.attempts_written() == []  # no attempt was recorded for it
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    # The next engine sends it at once (the lease was released), same delivery id.
    service.edit_hook(hook.id, url=receiver.url)
    again = Child(home)
    children.append(again)
    (line,) = again.outcomes(1)
    assert (line["delivery_id"], line["status"]) == (delivery.id, "succeeded")
    assert again.stop("stop line") < STOP_BOUND


@pytest.mark.slow
def test_an_engine_whose_window_was_killed_stops_by_itself(
        home: Path, service: HookService, receiver: Receiver) -> None:
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", resource("job.failed"))
    # A stand-in for the window: starts the engine with a pipe on its stdin as the
    # window does, says the engine's pid, then waits to be killed. The engine shares
    # its stdout, so its first outcome line says it is up and delivering.
    window = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, subprocess, sys\n"
         f"child = subprocess.Popen([sys.executable, '-m', {MODULE!r}, sys.argv[1],"
         " '--settings', sys.argv[2]], stdin=subprocess.PIPE)\n"
         "print(child.pid, flush=True)\n"
         "signal.pause()\n", str(home), settings_to_json(FAST)],
        stdout=subprocess.PIPE)
    pid = 0
    try:
        assert window.stdout is not None
        pid = int(window.stdout.readline())
        # the engine is running (its first line may say the keyring can be used)
        outcome = next(line for line in map(json.loads, iter(window.stdout.readline, b""))
                       if line["kind"] == "attempt")
        assert (outcome["hook_id"], outcome["status"]) == (hook.id, "succeeded")
        assert process_alive(pid)
        window.kill()
        window.wait(5)
        took = wait_until(lambda: not process_alive(pid), "the orphaned engine stopped")
        assert took < STOP_BOUND
    finally:
        window.kill()
        window.wait(5)
        if window.stdout is not None:
            window.stdout.close()
        if pid and process_alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(("settings", "message"), [
    ("{not json", "hookadmin engine: --settings is not valid JSON (Expecting property name "
                  "enclosed in double quotes: line 1 column 2 (char 1)); give the delivery "
                  "settings as one JSON object."),
    ("[1, 2]", "hookadmin engine: --settings must be a JSON object of delivery settings, "
               '{"field": value, ...}.'),
    ('{"retry_schedule": [0, 5], "speed": 2}',
     "hookadmin engine: --settings has unknown fields: speed; leave them out."),
    ('{"max_in_flight": 2.5}',
     "hookadmin engine: --settings field max_in_flight must be a whole number, not 2.5."),
    ('{"retry_schedule": [0, "5"]}',
     'hookadmin engine: --settings field retry_schedule must be a list of numbers, not '
     '[0, "5"].'),
    ('{"strict_network": 1}',
     "hookadmin engine: --settings field strict_network must be true or false, not 1."),
    ('{"proxy": 3128}',
     "hookadmin engine: --settings field proxy must be a string or null, not 3128."),
])
def test_bad_settings_exit_2_with_one_line(settings: str, message: str, home: Path,
                                           children: list[Child]) -> None:
    child = Child(home, settings=None, extra=["--settings", settings])
    children.append(child)
    assert child.proc.wait(20) == 2
    assert child.stderr() == message + "\n"
    # The window reads the same sentence from stdout, as the last message.
    (failed,) = child.outcomes(1)
    assert failed == {"v": 1, "kind": "failed",
                      "sentence": message.removeprefix("hookadmin engine: ")}
    assert child.lines.empty()


def test_an_unusable_data_directory_exits_1_with_one_line(
        tmp_path: Path, children: list[Child]) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    child = Child(not_a_dir / "home")  # stdin stays open: only the failure ends it
    children.append(child)
    assert child.proc.wait(20) == 1
    (line,) = child.stderr().splitlines()
    assert line.startswith(f"hookadmin engine: Cannot use {not_a_dir / 'home'} as the data "
                           "directory")
    assert "Traceback" not in line
    (failed,) = child.outcomes(1)
    assert (failed["v"], failed["kind"]) == (1, "failed")
    assert f"hookadmin engine: {failed['sentence']}" == line
