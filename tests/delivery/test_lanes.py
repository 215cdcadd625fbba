"""Delivery lanes: retries have their own capacity, so a backlog of retries to a slow
receiver never holds a fresh event to the same (or another) hook back; while fresh
events flow, retries keep to the retry pace."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Callable

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from tests.helpers import FAST, resource, running_engine, wait_until
from tests.receiver import Receiver, delay

Make = Callable[..., Receiver]
LANES = dataclasses.replace(FAST, retry_in_flight=16, retry_per_hook_in_flight=1)


def _retries_due(service: HookService, hook_id: int, count: int,
                 due: float | None = None) -> None:
    """``count`` deliveries to the hook, each tried once before and due at ``due`` (Unix
    seconds; now when None): the state a receiver that was down leaves behind."""
    body = resource("job.failed")
    service.store.add_events([("job.failed", _json(body))] * count, target_hook_id=hook_id)
    service.store.fan_out()
    db = sqlite3.connect(service.home / DB_FILENAME)
    with db:
        db.execute("UPDATE deliveries SET attempts = 1, next_attempt_at = ? WHERE hook_id = ?",
                   (time.time() if due is None else due, hook_id))
    db.close()


def _make_due(service: HookService, hook_id: int) -> None:
    """The hook's pending deliveries are due now (one statement, so the engine sees
    all of them or none)."""
    db = sqlite3.connect(service.home / DB_FILENAME)
    with db:
        db.execute("UPDATE deliveries SET next_attempt_at = ? WHERE hook_id = ?"
                   " AND status = 'pending'", (time.time(), hook_id))
    db.close()


def _json(obj: object) -> bytes:
    import json

    return json.dumps(obj).encode()


def test_a_fresh_event_overtakes_a_backlog_of_retries(service: HookService,
                                                      make_receiver: Make) -> None:
    slow = make_receiver(delay(1.0))
    hook = service.create_hook(url=slow.url, events=["job.completed"])
    _retries_due(service, hook.id, 6)
    with running_engine(service.home, LANES):
        slow.wait_for_requests(1)  # the retry lane's one slot is taken
        service.publish("job.completed", resource("job.completed", id=77))
        slow.wait_for_requests(2)
        second = slow.requests()[1]
        assert second.header("X-Hook-Event") == "job.completed"  # not the next retry
        wait_until(lambda: len(slow.requests()) >= 3, "the next retry")
    events = [r.header("X-Hook-Event") for r in slow.requests()]
    assert events.count("job.completed") == 1


def test_without_room_in_the_retry_lane_retries_wait(service: HookService,
                                                     make_receiver: Make) -> None:
    slow = make_receiver(delay(1.0))
    hook = service.create_hook(url=slow.url, events=["job"])
    _retries_due(service, hook.id, 4)
    with running_engine(service.home, LANES):
        slow.wait_for_requests(1)
        started = time.monotonic()
        slow.wait_for_requests(2)
        # one retry at a time: the second starts only when the first is answered
        assert time.monotonic() - started > 0.5


def test_while_fresh_events_flow_retries_keep_to_the_retry_pace(
        service: HookService, make_receiver: Make) -> None:
    recovered = make_receiver()
    fresh = make_receiver()
    a = service.create_hook(url=recovered.url, events=["job.failed"])
    service.create_hook(url=fresh.url, events=["job.completed"])
    _retries_due(service, a.id, 9, due=time.time() + 3600)
    service.set_delivery_options(retry_rate_while_fresh=4.0)  # `settings --retry-pace 4`
    paced = dataclasses.replace(FAST, retry_in_flight=16, retry_per_hook_in_flight=2,
                                fresh_flow_seconds=600.0)
    with running_engine(service.home, paced):
        service.publish("job.completed", _json(resource("job.completed")))
        fresh.wait_for_requests(1)  # a first attempt started: fresh events flow
        _make_due(service, a.id)
        got = recovered.wait_for_requests(9, timeout=30)
    # A bucket of one retry refilled at 4 per second: the 8 after the first take at
    # least 2 s (less a margin for the requests' own travel).
    assert got[-1].received_at - got[0].received_at >= 1.9
    assert all(r.header("X-Hook-Event") == "job.failed" for r in got)


def test_without_fresh_events_retries_are_not_paced(service: HookService,
                                                    make_receiver: Make) -> None:
    slow = make_receiver(delay(3.0))
    hook = service.create_hook(url=slow.url, events=["job.failed"])
    _retries_due(service, hook.id, 4)
    paced = dataclasses.replace(FAST, retry_in_flight=16, retry_per_hook_in_flight=2,
                                retry_rate_while_fresh=0.2, fresh_flow_seconds=600.0)
    with running_engine(service.home, paced):
        got = slow.wait_for_requests(2)
    # Both of the lane's retries at once, while the first is still being answered; at
    # the pace (one every 5 s) the second would have waited 5 s.
    assert got[1].received_at - got[0].received_at < 2.0
