"""A keyring unlocked while deliveries wait for it: they go out within moments of the
unlock, not at their next try a minute later (``secret_retry_interval``), in an engine
of this process and in ``hookadmin worker``; the engine watches the real Secret
Service's signals and never prompts. ``worker --processes N`` ends with the keyring's
sentence whichever of its engines met the locked keyring."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from secretstorage.collection import Collection

from hookadmin.cli.worker import EngineSummary
from hookadmin.core.keyring_watch import UnlockWatch
from hookadmin.core.service import HookService
from tests.helpers import (
    FAST,
    body,
    run_cli,
    running_engine,
    stop_worker,
    wait_until,
    worker_process,
)
from tests.receiver import Receiver
from tests.security.support import (
    default_collection_locked,
    lock_default_collection,
    locked_keyring,
    unlock_default_collection,
)

# The default wait between tries of a delivery whose secret could not be read.
MINUTE = dataclasses.replace(FAST, secret_retry_interval=60.0)
SOON = 10.0  # seconds: "well under" the minute the next try is scheduled for


def waiting_for_the_keyring(service: HookService, hook_id: int) -> bool:
    """Whether a delivery to the hook was tried and waits for its secret."""
    return any(d.last_error_kind == "secret_unavailable"
               for d in service.store.list_deliveries(hook_id=hook_id))


def waiting(service: HookService, hook_id: int) -> int:
    """How many deliveries to the hook wait for their secret."""
    return sum(d.last_error_kind == "secret_unavailable"
               for d in service.store.list_deliveries(hook_id=hook_id))


def test_an_engine_sends_what_waits_for_the_keyring_soon_after_the_unlock(
        home: Path, service: HookService, make_receiver: type[Receiver],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Every unlock request (a password prompt on a desktop) is counted, and made.
    prompts: list[str] = []
    unlock_collection = Collection.unlock

    def counted(collection: Collection) -> bool:
        prompts.append(collection.collection_path)
        return bool(unlock_collection(collection))

    monkeypatch.setattr(Collection, "unlock", counted)
    warm, late = make_receiver(), make_receiver()
    service.create_hook(url=warm.url, events=["cluster"])
    with running_engine(home, MINUTE):
        service.publish("cluster.available", body("cluster.available"))
        warm.wait_for_requests(1, timeout=20.0)  # past its start: secrets read
        hook = service.create_hook(url=late.url, events=["job"])  # not read yet
        lock_default_collection()
        try:
            service.publish("job.failed", body("job.failed"))
            wait_until(lambda: waiting_for_the_keyring(service, hook.id),
                       "the delivery waits for the keyring", timeout=30.0)
            # A second read of the locked keyring, on a new connection: still no prompt.
            service.publish("job.failed", body("job.failed", id=2))
            wait_until(lambda: waiting(service, hook.id) == 2,
                       "both deliveries wait for the keyring", timeout=30.0)
            deliveries = service.store.list_deliveries(hook_id=hook.id)
            due = min(d.next_attempt_at or 0.0 for d in deliveries)
            assert due - time.time() > 30  # their next try: a minute on
        finally:
            unlocked_at = time.time()
            unlock_default_collection()
        requests = late.wait_for_requests(2, timeout=SOON)
    assert max(r.received_at for r in requests) - unlocked_at < SOON
    assert max(r.received_at for r in requests) < due
    assert not default_collection_locked()
    assert prompts == []  # the engine never asked for the keyring's password


def test_hookadmin_worker_sends_what_waits_for_the_keyring_soon_after_the_unlock(
        home: Path, service: HookService, make_receiver: type[Receiver]) -> None:
    warm, late = make_receiver(), make_receiver()
    service.create_hook(url=warm.url, events=["cluster"])
    with worker_process(home) as worker:
        service.publish("cluster.available", body("cluster.available"))
        warm.wait_for_requests(1, timeout=30.0)
        hook = service.create_hook(url=late.url, events=["job"])
        lock_default_collection()
        try:
            service.publish("job.failed", body("job.failed"))
            wait_until(lambda: waiting_for_the_keyring(service, hook.id),
                       "the delivery waits for the keyring", timeout=30.0)
        finally:
            unlocked_at = time.time()
            unlock_default_collection()
        (request,) = late.wait_for_requests(1, timeout=SOON)
        assert request.received_at - unlocked_at < SOON
        stderr = stop_worker(worker)
    assert worker.returncode == 0, stderr
    said = [line for line in stderr.splitlines() if "keyring" in line]
    assert said == [
        line for line in said if line.startswith("hookadmin worker: ")]
    assert len(said) == 2, stderr  # once that it waits, once that it goes on
    assert "can be used again" in said[1]


def test_worker_processes_end_with_the_keyring_sentence_whichever_engine_met_it(
        home: Path, service: HookService, make_receiver: type[Receiver]) -> None:
    receivers = [make_receiver() for _ in range(4)]
    for number, receiver in enumerate(receivers):
        service.create_hook(url=receiver.url, events=["job"], name=f"hook {number}")
    for number in range(3):
        service.publish("job.failed", body("job.failed", id=number))
    with locked_keyring():
        result = run_cli("worker", "--until-idle", "--processes", "2", home=home,
                         timeout=180)
    # Every engine's waiting deliveries count, not only the first engine's.
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("hookadmin: 12 deliveries wait, unsent and still "
                                    "pending, because the OS keyring cannot be used: "), \
        result.stderr
    assert all(r.requests() == [] for r in receivers)
    assert {(d.status, d.last_error_kind) for d in service.store.list_deliveries()} \
        == {("pending", "secret_unavailable")}


def test_one_of_the_other_engines_tells_the_first_its_keyring_state(
        home: Path, service: HookService, receiver: Receiver) -> None:
    """What ``worker --processes N`` starts N - 1 times (``--share-of N``) ends with
    its attempts, the keyring's problem and the deliveries that wait, so the first
    engine's sentence covers every engine, not only its own view."""
    service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", body("job.failed"))
    with locked_keyring():
        # Its standard input stays open, as the first engine keeps it (its end stops it).
        other = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                  "worker", "--until-idle", "--share-of", "2"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        try:
            assert other.stdout is not None
            out = other.stdout.read()  # until it ends by itself, idle
            other.wait(timeout=60)
        finally:
            if other.poll() is None:
                other.kill()
                other.wait()
            assert other.stdin is not None
            other.stdin.close()
            other.stdout.close()
    assert other.returncode == 0
    (delivery,) = service.store.list_deliveries()
    summary = EngineSummary.from_line(out.strip())
    assert summary.attempts == 1
    assert summary.keyring_problem is not None
    assert "locked" in summary.keyring_problem
    assert summary.waiting == [delivery.id]


def test_the_unlock_watch_wakes_on_the_services_signal_not_its_next_ask() -> None:
    # Asked again only after a minute: what ends the wait sooner is the signal the
    # Secret Service sends when the collection is unlocked (or the first ask).
    watch = UnlockWatch(first_check=60.0)
    cancelled = threading.Event()
    ended: list[tuple[bool, float]] = []
    lock_default_collection()
    try:
        waiter = threading.Thread(
            target=lambda: ended.append((watch.wait(cancelled), time.monotonic())),
            daemon=True)
        waiter.start()
        assert default_collection_locked()  # watching never unlocks (or prompts)
    finally:
        unlocked_at = time.monotonic()
        unlock_default_collection()
    waiter.join(SOON)
    cancelled.set()
    assert not waiter.is_alive(), "the watch did not see the unlock"
    ((seen, at),) = ended
    assert seen
    assert at - unlocked_at < 2.0
