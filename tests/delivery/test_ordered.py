"""Ordered (FIFO) hooks: one request at a time, and a later delivery waits while an
earlier one is retried, against a real receiver; the claim on both stores."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

from hookadmin.core.service import HookService
from hookadmin.core.store import AttemptRecord, DeliveryQueue
from hookadmin.core.store.postgres import PostgresStore
from tests.helpers import FAST, drain, resource, run_cli, run_until_idle
from tests.receiver import Receiver, fail_first, status

Make = Callable[..., Receiver]
RETRIES = dataclasses.replace(FAST, retry_schedule=(0, 0.3, 0.3, 0.3))


def test_an_ordered_hook_delivers_in_publish_order_through_retries(
        service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver(fail_first(2))
    hook = service.create_hook(url=receiver.url, events=["job"])
    result = run_cli("hooks", "ordered", str(hook.id), "on", home=service.home)
    assert result.returncode == 0, result.stderr
    for n in range(1, 6):
        service.publish("job.failed", resource("job.failed", id=n))
    drain(service.home, RETRIES)
    ids = [r.json()["id"] for r in receiver.requests()]
    assert ids == [1, 1, 1, 2, 3, 4, 5]  # the first is retried twice; nobody overtakes it
    assert [e.action for e in service.store.list_audit()][-1] == "hook.ordered"


def test_an_unordered_hook_lets_later_deliveries_overtake(service: HookService,
                                                        make_receiver: Make) -> None:
    receiver = make_receiver(fail_first(2))
    service.create_hook(url=receiver.url, events=["job"])
    for n in range(1, 6):
        service.publish("job.failed", resource("job.failed", id=n))
    drain(service.home, RETRIES)
    ids = [r.json()["id"] for r in receiver.requests()]
    assert ids != sorted(ids)  # the control: without ordering the retries come later


def test_hooks_show_says_which_delivery_blocks_the_others(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    service.set_ordered(hook.id, True)
    service.publish("job.failed", resource("job.failed", id=1))
    service.publish("job.failed", resource("job.failed", id=2))
    service.store.fan_out()
    (job,) = service.store.claim_ordered([hook.id], now=time.time(), lease_seconds=30)
    assert service.store.claim_ordered([hook.id], now=time.time(), lease_seconds=30) == []
    from hookadmin.core.store import AttemptRecord

    failed = AttemptRecord(time.time(), 5.0, hook.url, {}, 503, None, None, False,
                           "http_status", "503")
    service.store.record_attempt(job, failed, next_attempt_at=time.time() + 600)
    shown = json.loads(run_cli("hooks", "show", str(hook.id), "--json",
                               home=service.home).stdout)
    assert shown["ordered"] is True
    assert shown["blocked_by"] == job.id
    # the second delivery is due, but waits behind the first one's retry
    assert service.store.claim_ordered([hook.id], now=time.time(), lease_seconds=30) == []
    text = run_cli("hooks", "show", str(hook.id), home=service.home).stdout
    assert f"blocked by {job.id}" in text


def test_postgres_claims_only_the_head_of_an_ordered_hook(postgres_url: str) -> None:
    with PostgresStore.init(postgres_url) as store:
        hook = store.add_hook(name="", url="https://example.com/h", events=["job"],
                              active=True)
        store.add_events([("job.failed", b'{"id": 1}'), ("job.failed", b'{"id": 2}')])
        store.fan_out()
        now = time.time()
        (first,) = store.claim_ordered([hook.id], now=now, lease_seconds=30)
        assert store.claim_ordered([hook.id], now=now, lease_seconds=30) == []
        head = store.first_pending(hook.id)
        assert head is not None
        assert head.id == first.id
        from hookadmin.core.store import AttemptRecord

        ok = AttemptRecord(now, 5.0, hook.url, {}, 200, None, None, False, None, None)
        store.record_attempt(first, ok, next_attempt_at=None)
        (second,) = store.claim_ordered([hook.id], now=time.time(), lease_seconds=30)
        assert second.body == b'{"id": 2}'


def test_until_idle_returns_while_an_ordered_hook_waits_for_its_heads_retry(
        service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver(status(503))
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.set_ordered(hook.id, True)
    for n in range(1, 4):
        service.publish("job.failed", resource("job.failed", id=n))
    later = dataclasses.replace(FAST, retry_schedule=(0, 600))
    # The head failed and retries in 10 minutes; the two behind it are "pending" and
    # their own time has come, but they are held: nothing is due, so the engine is idle.
    assert run_until_idle(service.home, later, timeout=15) == 1
    assert [r.json()["id"] for r in receiver.requests()] == [1]
    due = service.store.next_due(count_leases=False, ordered=[hook.id])
    assert due is not None
    assert due > time.time() + 500


def _held_behind_a_retry(store: DeliveryQueue, hook_id: int, now: float) -> str:
    """Claim and fail the head of ``hook_id`` (two deliveries pending), the retry in
    ten minutes; returns the head's delivery id."""
    (head,) = store.claim_ordered([hook_id], now=now, lease_seconds=30)
    failed = AttemptRecord(now, 5.0, "https://example.com/h", {}, 503, None, None, False,
                           "http_status", "503")
    store.record_attempt(head, failed, next_attempt_at=now + 600)
    return head.id


def test_sqlite_next_due_ignores_deliveries_held_behind_an_ordered_head(
        service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    for n in (1, 2):
        service.publish("job.failed", resource("job.failed", id=n))
    service.store.fan_out()
    now = time.time()
    _held_behind_a_retry(service.store, hook.id, now)
    unordered = service.store.next_due(count_leases=False)
    assert unordered is not None
    assert unordered <= now
    ordered = service.store.next_due(count_leases=False, ordered=[hook.id])
    assert ordered is not None
    assert abs(ordered - (now + 600)) < 1


def test_postgres_next_due_ignores_deliveries_held_behind_an_ordered_head(
        postgres_url: str) -> None:
    with PostgresStore.init(postgres_url) as store:
        hook = store.add_hook(name="", url="https://example.com/h", events=["job"],
                              active=True)
        store.add_events([("job.failed", b'{"id": 1}'), ("job.failed", b'{"id": 2}')])
        store.fan_out()
        now = time.time()
        _held_behind_a_retry(store, hook.id, now)
        unordered = store.next_due(count_leases=False)
        assert unordered is not None
        assert unordered <= now
        ordered = store.next_due(count_leases=False, ordered=[hook.id])
        assert ordered is not None
        assert abs(ordered - (now + 600)) < 1
        store.add_hook(name="", url="https://example.com/o", events=["job"], active=True)
        store.add_events([("job.failed", b'{"id": 3}')])
        store.fan_out()
        soon = store.next_due(count_leases=False, ordered=[hook.id])
        assert soon is not None
        assert soon <= time.time()
