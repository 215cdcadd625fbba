"""The claim on a team database keeps every rule together: a hook's limit of requests
in flight shared by every engine, the retry lane (a backlog of retries never holds a
fresh event back), ordered hooks (one request in flight across engines, later ones
wait) and per-hook rate limits; against a real PostgreSQL and real receivers."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from hookadmin.core.hook_types import HookOptions, RateLimit
from hookadmin.core.service import HookService
from hookadmin.core.store import AttemptRecord, Repository, StoreLocation, open_store
from hookadmin.core.store.postgres import PostgresStore
from tests.helpers import FAST, resource, running_engine
from tests.receiver import Receiver, delay, fail_first

Make = Callable[..., Receiver]
LANES = dataclasses.replace(FAST, retry_in_flight=16, retry_per_hook_in_flight=1)
RETRIES = dataclasses.replace(FAST, retry_schedule=(0, 0.3, 0.3, 0.3))


@pytest.fixture
def service(team: StoreLocation) -> Iterator[HookService]:
    with HookService(team) as svc:
        yield svc


def _retries_due(location: StoreLocation, hook_id: int, count: int,
                 service: HookService) -> None:
    """``count`` deliveries to the hook, each tried once before and due now."""
    for n in range(count):
        service.publish("job.failed", resource("job.failed", id=n))
    service.store.fan_out()
    assert location.url is not None
    with psycopg.connect(location.url, autocommit=True) as db:
        db.execute("UPDATE deliveries SET attempts = 1, next_attempt_at = %s"
                   " WHERE hook_id = %s", (time.time(), hook_id))


def test_a_fresh_event_overtakes_more_retries_than_the_shared_limit(
        team: StoreLocation, service: HookService, make_receiver: Make) -> None:
    # More retries due than the hook's limit of 8 in flight: the engine must not hold
    # the whole limit with retries its retry lane will not start.
    slow = make_receiver(delay(1.0))
    hook = service.create_hook(url=slow.url, events=["job"])
    _retries_due(team, hook.id, 12, service)
    with running_engine(team, LANES):  # type: ignore[arg-type]
        slow.wait_for_requests(1)  # the retry lane's one slot is taken
        service.publish("job.completed", resource("job.completed", id=77))
        slow.wait_for_requests(2)
        second = slow.requests()[1]
        assert second.header("X-Hook-Event") == "job.completed"  # not the next retry


def test_an_ordered_hook_is_one_at_a_time_across_two_engines(
        team: StoreLocation, service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver(fail_first(2))
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.set_ordered(hook.id, True)
    for n in range(1, 6):
        service.publish("job.failed", resource("job.failed", id=n))
    with running_engine(team, RETRIES), running_engine(team, RETRIES):  # type: ignore[arg-type]
        receiver.wait_for_requests(7, timeout=30)
    ids = [r.json()["id"] for r in receiver.requests()]
    assert ids == [1, 1, 1, 2, 3, 4, 5]  # the first is retried twice; nobody overtakes it


def test_a_rate_limit_holds_on_a_team_database(team: StoreLocation, service: HookService,
                                               make_receiver: Make) -> None:
    receiver = make_receiver()
    service.create_hook(url=receiver.url, events=["job"],
                        options=HookOptions(rate_limit=RateLimit(5, 1.0)))
    for n in range(6):
        service.publish("job.failed", resource("job.failed", id=n))
    with running_engine(team, FAST):  # type: ignore[arg-type]
        receiver.wait_for_requests(6, timeout=30)
    times = sorted(r.received_at for r in receiver.requests())
    assert times[-1] - times[0] >= 0.9  # six requests at 5 per second: a second at least


def test_retries_and_first_attempts_share_the_limit_across_two_engines(
        team: StoreLocation, service: HookService, make_receiver: Make) -> None:
    slow = make_receiver(delay(0.5))
    hook = service.create_hook(url=slow.url, events=["job"])
    _retries_due(team, hook.id, 10, service)
    for n in range(10):
        service.publish("job.completed", resource("job.completed", id=100 + n))
    with running_engine(team, LANES), running_engine(team, LANES):  # type: ignore[arg-type]
        requests = slow.wait_for_requests(20, timeout=60)
    arrivals = sorted(r.received_at for r in requests)
    busiest = max(sum(1 for u in arrivals if t - 0.49 < u <= t) for t in arrivals)
    assert busiest <= FAST.per_hook_in_flight, busiest


def _two_kinds(store: Repository, hook_id: int) -> None:
    """Two deliveries to the hook: a retry due first, then a first attempt."""
    store.add_events([("job.failed", b"{}"), ("job.failed", b"{}")])
    store.fan_out()
    (retry,) = store.claim_due(now=time.time(), lease_seconds=30, limit=1)
    failed = AttemptRecord(time.time(), 5.0, "https://example.com/h", {}, 503, None, None,
                           False, "http_status", "503")
    store.record_attempt(retry, failed, next_attempt_at=time.time() - 60)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_claim_of_first_attempts_only_leaves_retries(backend: str, home: Path,
                                                       postgres_url: str) -> None:
    store = open_store(home) if backend == "sqlite" else PostgresStore.init(postgres_url)
    try:
        hook = store.add_hook(name="", url="https://example.com/h", events=["job"],
                              active=True)
        _two_kinds(store, hook.id)
        now = time.time()
        for only in ([hook.id], True):
            (fresh,) = store.claim_due(now=now, lease_seconds=30, limit=10,
                                       first_attempts_only=only)
            assert fresh.attempts == 0
            store.release([fresh.seq])
        both = store.claim_due(now=now, lease_seconds=30, limit=10, first_attempts_only=[])
        assert sorted(j.attempts for j in both) == [0, 1]
    finally:
        store.close()
