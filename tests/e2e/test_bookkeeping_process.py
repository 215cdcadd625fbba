"""The engine's bookkeeping process (hookadmin.delivery.bookkeeping): it goes away with
its engine, and an engine whose bookkeeper dies stops with one clear sentence, losing
nothing."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from hookadmin.delivery.bookkeeping import MODULE, write_message
from hookadmin.delivery.bookkeeping_wire import Open, Start, Started
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body, db_rows
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e  # the whole program, in separate processes


def _bookkeepers() -> dict[int, int]:
    """pid -> parent pid of every running bookkeeping process."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if MODULE.encode() in argv:
            found[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _start_worker(home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home), "worker"],
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _bookkeeper_of(worker: subprocess.Popen[str]) -> int:
    assert _wait_for(lambda: worker.pid in _bookkeepers().values(), 30)
    return next(pid for pid, parent in _bookkeepers().items() if parent == worker.pid)


def test_the_bookkeeper_ends_with_a_killed_engine(home: Path, service: HookService,
                                                  receiver: Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job"])
    worker = _start_worker(home)
    try:
        keeper = _bookkeeper_of(worker)
        # Busy, so the engine is likely killed with the bookkeeper's answer unread.
        service.publish_many([("job.failed", body("job.failed", i)) for i in range(2000)])
        receiver.wait_for_requests(200, timeout=60)
        os.kill(worker.pid, signal.SIGKILL)
        _, stderr = worker.communicate(timeout=10)  # the bookkeeper shares the stderr pipe
        assert _wait_for(lambda: keeper not in _bookkeepers(), 10)  # no orphan left
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_an_engine_whose_bookkeeper_dies_stops_with_one_sentence_and_loses_nothing(
        home: Path, service: HookService, receiver: Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job"])
    worker = _start_worker(home)
    try:
        keeper = _bookkeeper_of(worker)
        os.kill(keeper, signal.SIGKILL)
        service.publish("job.failed", body("job.failed", 1))
        _, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 1
    # One sentence, nothing else (no traceback, no aiohttp "Unclosed client session").
    (line,) = stderr.strip().splitlines()
    assert line.startswith("hookadmin: The engine's bookkeeping process ended "
                           "unexpectedly"), stderr
    # The event is still queued, and the next engine delivers it.
    assert db_rows(home, "SELECT count(*) FROM events") == [(1,)]
    again = subprocess.run([sys.executable, "-m", "hookadmin", "--home", str(home), "worker",
                            "--until-idle"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert len(receiver.wait_for_requests(1, timeout=30)) == 1
    assert db_rows(home, "SELECT status FROM deliveries") == [("succeeded",)]


def _bookkeeper(home: Path) -> tuple[socket.socket, subprocess.Popen[bytes]]:
    """A bookkeeping process started as an engine starts it, and the engine's end of
    its socket; the process has answered its first call."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([sys.executable, "-P", "-m", MODULE, str(theirs.fileno())],
                            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    theirs.close()
    write_message(ours.sendall, Start(home, DeliverySettings()))
    size = int.from_bytes(ours.recv(4, socket.MSG_WAITALL), "big")
    assert pickle.loads(ours.recv(size, socket.MSG_WAITALL)) == Started()
    return ours, proc


def test_a_bookkeeper_whose_engine_dies_before_reading_its_answer_ends_quietly(
        home: Path, service: HookService) -> None:
    ours, proc = _bookkeeper(home)
    write_message(ours.sendall, Open())
    ours.recv(1, socket.MSG_PEEK)  # the answer has arrived, and is never read:
    ours.close()  # the bookkeeper's next read meets a reset connection, as after kill -9
    _, stderr = proc.communicate(timeout=30)
    assert stderr == b""
    assert proc.returncode == 0


def test_a_bookkeeper_whose_engine_dies_in_the_middle_of_a_call_ends_quietly(
        home: Path, service: HookService) -> None:
    ours, proc = _bookkeeper(home)
    data = pickle.dumps(Open())
    ours.sendall(len(data).to_bytes(4, "big") + data[:5])  # killed while writing
    ours.close()
    _, stderr = proc.communicate(timeout=30)
    assert stderr == b""
    assert proc.returncode == 0
