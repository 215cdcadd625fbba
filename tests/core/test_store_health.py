"""Per-hook health (success rate, hourly attempts, last success, failing since) on both
store backends: a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import dataclasses
import time

import pytest

from hookadmin.core.store import AttemptRecord, DeliveryJob, Repository


def attempt(status: int | None, started_at: float) -> AttemptRecord:
    """One attempt's outcome: a 2xx succeeds, anything else (or None) fails."""
    ok = status is not None and 200 <= status < 300
    return AttemptRecord(
        started_at=started_at, duration_ms=10.0, request_url="https://example.com/h",
        request_headers={}, status_code=status, response_headers=None, response_body=None,
        response_truncated=False, error_kind=None if ok else
        ("timeout" if status is None else "http_status"), error_message=None)


def job(store: Repository, hook_id: int) -> DeliveryJob:
    """A claimed delivery of one event to ``hook_id``."""
    store.add_events([("job.failed", b"{}")], target_hook_id=hook_id)
    now = time.time()
    store.fan_out(now=now)
    (claimed,) = store.claim_due(now=now, lease_seconds=30, limit=1)
    return claimed


def test_health_of_every_hook_in_one_call(store: Repository) -> None:
    busy = store.add_hook(name="busy", url="https://example.com/a", events=["job"],
                          active=True).id
    broken = store.add_hook(name="broken", url="https://example.com/b", events=["job"],
                            active=True).id
    quiet = store.add_hook(name="quiet", url="https://example.com/c", events=["job"],
                           active=True).id
    now = time.time()
    hour = int(now // 3600) * 3600
    store.record_attempts([
        (job(store, busy), attempt(200, hour - 2 * 3600 + 5), None),  # two hours ago
        (job(store, busy), attempt(500, hour + 1), None),
        (job(store, busy), attempt(200, hour + 2), None),
        (job(store, busy), attempt(200, hour - 30 * 3600), None),  # outside the day
        (job(store, broken), attempt(None, hour + 3), 10**10),
    ])
    health = store.hook_health(now=hour + 10)
    assert set(health) == {busy, broken, quiet}
    day = health[busy]
    assert (day.succeeded, day.failed) == (2, 1)
    assert day.success_rate == pytest.approx(2 / 3)
    assert len(day.hourly) == 24
    assert day.hourly[-1] == (1, 1)
    assert day.hourly[-3] == (1, 0)
    assert sum(ok + bad for ok, bad in day.hourly) == 3
    assert day.last_success_at == (hour + 2) // 60 * 60
    assert day.failing_since is None
    assert health[broken].success_rate == 0.0
    assert health[broken].last_success_at is None
    failing = health[broken].failing_since
    assert failing is not None  # the store's failing clock (set when the failure is recorded)
    assert hour <= failing <= time.time()
    assert health[quiet].success_rate is None
    assert health[quiet].hourly == ((0, 0),) * 24
    assert store.hook_health(now=hour + 10, hours=1)[busy].hourly == ((1, 1),)


def keyring_wait(started_at: float) -> AttemptRecord:
    """An attempt that sent nothing: the hook's secret could not be read."""
    return AttemptRecord(
        started_at=started_at, duration_ms=None, request_url="https://example.com/h",
        request_headers={}, status_code=None, response_headers=None, response_body=None,
        response_truncated=False, error_kind="secret_unavailable",
        error_message="The OS keyring is locked.")


def test_waiting_for_the_keyring_is_no_failure_of_the_hook(store: Repository) -> None:
    hook = store.add_hook(name="ops", url="https://example.com/a", events=["job"],
                          active=True).id
    now = time.time()
    hour = int(now // 3600) * 3600
    waited = job(store, hook)
    store.record_attempts([(waited, keyring_wait(hour + 1), hour + 61),
                           (waited, keyring_wait(hour + 2), hour + 62)])
    health = store.hook_health(now=hour + 10)[hook]
    # Nothing was sent, so the receiver did not fail: no attempt counted, not failing.
    assert (health.succeeded, health.failed, health.success_rate) == (0, 0, None)
    assert health.failing_since is None
    # Its next try succeeds.
    store.record_attempts([(dataclasses.replace(waited, attempts=2), attempt(200, hour + 3),
                            None)])
    health = store.hook_health(now=hour + 10)[hook]
    assert (health.succeeded, health.failed, health.success_rate) == (1, 0, 1.0)
    assert health.hourly[-1] == (1, 0)
    assert [(ok, bad) for _, ok, bad, _ in store.activity(since=hour)] == [(1, 0)]
    # Pruning the delivery takes its success off the counts, and nothing for the waits.
    assert store.prune(time.time() + 10) == 1
    health = store.hook_health(now=hour + 10)[hook]
    assert (health.succeeded, health.failed) == (0, 0)
