"""`hookadmin worker --processes N`: several engines, each its own process, share one
queue through leases; every delivery goes out once, signed, and they all stop together."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body, db_rows, run_cli, stop_worker, worker_process
from tests.receiver import Receiver, delay

pytestmark = pytest.mark.e2e  # the whole program, in separate processes

EVENTS = 100  # at 0.2 s each, 8 at a time: 2.5 s, long enough that both engines get work
SUMMARY = re.compile(r"^hookadmin worker: (\d+) attempts? made(?: by (\d+) engines "
                     r"\(([\d, ]+)\))?\.$", re.MULTILINE)


@pytest.mark.slow
def test_two_processes_deliver_every_event_once(home: Path, service: HookService,
                                                make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver(delay(0.2))  # slow enough that both engines get work
    hook = service.create_hook(url=receiver.url, events=["job.completed"])
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    service.publish_many([("job.completed", body("job.completed", i)) for i in range(EVENTS)])

    result = run_cli("worker", "--until-idle", "--processes", "2", home=home, timeout=180)
    assert result.returncode == 0, result.stderr
    ((total, engines, split),) = SUMMARY.findall(result.stderr)  # one summary line
    made = [int(n) for n in split.split(", ")]
    assert (int(total), int(engines), len(made)) == (EVENTS, 2, 2), result.stderr
    assert sum(made) == EVENTS, made
    assert min(made) > 0, made  # both took part

    requests = receiver.wait_for_requests(EVENTS)
    per_delivery = Counter(r.header("X-Hook-Delivery") for r in requests)
    assert len(per_delivery) == EVENTS
    assert set(per_delivery.values()) == {1}  # leases: no delivery sent by both
    assert {r.verified_by for r in requests} == {("hook",)}
    assert db_rows(home, "SELECT status, count(*) FROM deliveries GROUP BY status") == [
        ("succeeded", EVENTS)]
    # The hook's limit holds for both engines together: each request holds its slot for
    # the receiver's 0.2 s, so no 0.19 s window sees more than per_hook_in_flight arrive.
    arrivals = sorted(r.received_at for r in requests)
    busiest = max(sum(1 for u in arrivals if t - 0.19 < u <= t) for t in arrivals)
    assert busiest <= DeliverySettings().per_hook_in_flight, busiest


def test_a_signal_stops_every_process(home: Path, service: HookService,
                                      receiver: Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job"])
    with worker_process(home, "--processes", "3") as worker:
        service.publish("job.failed", body("job.failed"))
        receiver.wait_for_requests(1, timeout=60)
        started = time.monotonic()
        stderr = stop_worker(worker)
    assert time.monotonic() - started < 5
    assert worker.returncode == 0, stderr
    assert SUMMARY.search(stderr)
    assert _engines_of(home) == []  # none left behind


def _engines_of(home: Path) -> list[int]:
    """Pids of processes running `hookadmin --home HOME worker`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(home).encode() in argv and b"worker" in argv:
            found.append(int(proc.name))
    return found


def test_a_wrong_number_of_processes_is_refused(home: Path) -> None:
    for value in ("0", "65", "two"):
        result = run_cli("worker", "--processes", value, home=home)
        assert result.returncode == 2
        assert "is not a number of processes; give a whole number from 1 to 64" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_until_idle_sends_what_a_dead_engine_held_once_its_lease_runs_out(
        home: Path, service: HookService, receiver: Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", body("job.failed"))
    # An engine claimed the delivery, then died: its lease runs 3 s more.
    with service.store.transaction():
        service.store.fan_out()
        (held,) = service.store.claim_due(now=time.time(), lease_seconds=3.0, limit=10)
    started = time.monotonic()
    result = run_cli("worker", "--until-idle", home=home, timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2.0  # it waited for the lease
    (request,) = receiver.wait_for_requests(1)
    assert request.header("X-Hook-Delivery") == held.id
    assert db_rows(home, "SELECT status FROM deliveries") == [("succeeded",)]


def _bookkeepers_of(home: Path) -> list[int]:
    """Pids of bookkeeping processes whose engine works on ``home`` (or whose engine
    has gone)."""
    engines = set(_engines_of(home))
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if b"hookadmin.delivery.bookkeeping" in argv and (parent in engines or parent == 1):
            found.append(int(proc.name))
    return found


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_kill_9_of_the_first_engine_ends_the_others_too(
        home: Path, service: HookService, make_receiver: Callable[..., Receiver],
        tmp_path: Path) -> None:
    receiver = make_receiver(delay(0.05))
    service.create_hook(url=receiver.url, events=["job"])
    service.publish_many([("job.completed", body("job.completed", i)) for i in range(2000)])
    stderr_path = tmp_path / "worker.stderr"
    with stderr_path.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                   "worker", "--processes", "3"],
                                  stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
    try:
        assert _wait_until(lambda: len(_engines_of(home)) == 3
                           and len(_bookkeepers_of(home)) == 3, 60)
        receiver.wait_for_requests(20, timeout=60)
        worker.kill()
        worker.wait(timeout=10)
        # The other engines and every bookkeeper go with it, within a clean stop's time.
        assert _wait_until(lambda: not _engines_of(home) and not _bookkeepers_of(home), 15), \
            (_engines_of(home), _bookkeepers_of(home))
        gone = len(receiver.requests())
        time.sleep(1.0)  # nobody delivers any more
        assert len(receiver.requests()) == gone
    finally:
        for pid in _engines_of(home):
            os.kill(pid, signal.SIGKILL)
    assert "Traceback" not in stderr_path.read_text("utf-8", "replace")


def test_an_engine_that_is_killed_is_named_in_one_sentence(
        home: Path, service: HookService, make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver(delay(0.05))
    service.create_hook(url=receiver.url, events=["job"])
    service.publish_many([("job.completed", body("job.completed", i)) for i in range(1000)])
    worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                               "worker", "--processes", "2", "--until-idle"],
                              stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_until(lambda: len(_engines_of(home)) == 2, 60)
        (other,) = [pid for pid in _engines_of(home) if pid != worker.pid]
        receiver.wait_for_requests(20, timeout=60)
        os.kill(other, signal.SIGKILL)
        _, stderr = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 1
    assert "Traceback" not in stderr
    assert "hookadmin worker: engine 2 of 2 was killed (signal 9); the deliveries it held " \
           "go out again once their leases expire." in stderr.splitlines(), stderr
    assert db_rows(home, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'") \
        == [(1000,)]
