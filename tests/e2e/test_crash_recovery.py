"""At-least-once across a crash: ``kill -9`` the headless worker in the middle of a run,
start another, and every event still reaches the receiver; a delivery sent twice is
sent with the same delivery id and the same bytes.

The worker is the real ``hookadmin worker`` with its default settings, so the killed
worker's leases (10 s, renewed while it lived) are waited out once: the new worker
sends everything else at once and takes over the orphaned deliveries when their
leases end.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body, db_rows
from tests.receiver import Receiver, delay

pytestmark = pytest.mark.e2e  # the whole program, in separate processes

EVENTS = 300


def _start_worker(home: Path, stderr_path: Path) -> subprocess.Popen[bytes]:
    with stderr_path.open("wb") as stderr:
        return subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                 "worker"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)


@pytest.mark.slow
def test_kill_9_mid_run_loses_nothing(home: Path, service: HookService,
                                      make_receiver: Callable[..., Receiver],
                                      tmp_path: Path) -> None:
    receiver = make_receiver(delay(0.1))  # slow-ish: the run takes seconds
    hook = service.create_hook(url=receiver.url, events=["job.completed"])
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    sent = [body("job.completed", i) for i in range(EVENTS)]
    service.publish_many([("job.completed", b) for b in sent])

    first = _start_worker(home, tmp_path / "first.stderr")
    try:
        receiver.wait_for_requests(40, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL
    before = receiver.requests()
    assert len(before) < EVENTS, "the worker finished before it was killed"
    # What the killed worker left behind: deliveries it had claimed (some already at
    # the receiver, some not yet sent) and never recorded, still leased to it.
    orphans = {str(id_): lease_until for id_, lease_until in db_rows(
        home, "SELECT id, lease_until FROM deliveries"
              " WHERE status = 'pending' AND lease_until IS NOT NULL")}
    assert orphans
    # An engine holds at most a round in flight and ready_rounds ready to go per hook.
    assert len(orphans) <= DeliverySettings().claimed_per_hook

    second = _start_worker(home, tmp_path / "second.stderr")
    try:
        deadline = time.monotonic() + 90
        while db_rows(home, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'") \
                != [(EVENTS,)]:
            assert second.poll() is None, "the second worker died"
            assert time.monotonic() < deadline, "not every delivery succeeded in time"
            time.sleep(0.1)
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    stderr = (tmp_path / "second.stderr").read_text("utf-8", "replace")
    assert second.returncode == 0, stderr

    received = receiver.requests()
    ids_by_body: dict[bytes, set[str | None]] = defaultdict(set)
    for req in received:
        ids_by_body[req.body].add(req.header("X-Hook-Delivery"))
        assert req.verified_by == ("hook",)
    assert sorted(ids_by_body) == sorted(sent)  # every event arrived, nothing else did
    assert all(len(ids) == 1 for ids in ids_by_body.values())  # duplicates: same id, bytes
    delivery_of = {d.id: d for d in service.store.list_deliveries(limit=2 * EVENTS)}
    assert {next(iter(ids)) for ids in ids_by_body.values()} == set(delivery_of)
    # Only deliveries in flight at the kill can arrive twice, and only once each more.
    duplicates = len(received) - EVENTS
    assert 0 <= duplicates <= len(orphans)
    for delivery_id, lease_until in orphans.items():
        # Taken over only once the dead worker's lease had run out: the last copy of
        # each orphan is the new worker's.
        copies = [r for r in received if r.header("X-Hook-Delivery") == delivery_id]
        assert 1 <= len(copies) <= 2
        assert isinstance(lease_until, float)
        assert copies[-1].received_at >= lease_until - 0.5
    # The killed worker recorded nothing for its orphans: one attempt each, by the new one.
    assert {delivery_of[d].attempts for d in orphans} == {1}
