"""The SQLite store: schema, migrations, fan-out, leasing and attempt recording."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.errors import NotFoundError, StoreError
from hookadmin.core.store import (
    DB_FILENAME,
    SCHEMA_VERSION,
    AttemptRecord,
    DeliveryJob,
    Repository,
    SQLiteStore,
    Store,
    open_change_feed,
    open_store,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.in_home(tmp_path / "home") as s:
        yield s


def _raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _attempt(status: int | None = 200, kind: str | None = None) -> AttemptRecord:
    return AttemptRecord(
        started_at=time.time(), duration_ms=12.5, request_url="https://example.com/h",
        request_headers={"X-Hook-Event": "job.failed"}, status_code=status,
        response_headers=None if status is None else [("Content-Type", "text/plain")],
        response_body=None if status is None else b"ok", response_truncated=False,
        error_kind=kind, error_message=None if kind is None else f"it was {kind}")


def _hook(store: Store, events: list[str], *, active: bool = True) -> int:
    return store.add_hook(name="", url="https://example.com/h", events=events,
                          active=active).id


# -- schema -----------------------------------------------------------------------------

def test_new_database_has_current_schema_and_wal(tmp_path: Path) -> None:
    home = tmp_path / "new" / "deeper"
    with Store.in_home(home) as store:
        assert store.schema_version == SCHEMA_VERSION
    db = home / DB_FILENAME
    assert _raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert _raw(db, "PRAGMA journal_mode") == [("wal",)]
    tables = {r[0] for r in _raw(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "hooks", "events", "deliveries", "attempts"} <= tables


def test_empty_file_and_empty_database_are_migrated(tmp_path: Path) -> None:
    empty_file = tmp_path / "a" / DB_FILENAME
    empty_file.parent.mkdir()
    empty_file.touch()
    empty_db = tmp_path / "b" / DB_FILENAME
    empty_db.parent.mkdir()
    sqlite3.connect(empty_db).close()
    for path in (empty_file, empty_db):
        with Store(path) as store:
            assert store.schema_version == SCHEMA_VERSION
            uuid.UUID(store.store_id)
            assert store.list_hooks() == []


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer hookadmin"):
        Store(path)
    assert _raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION + 1,)]  # left untouched


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    path.write_bytes(b"this is not an SQLite database, just text " * 100)
    with pytest.raises(StoreError, match="Cannot open the database"):
        Store(path)


def test_store_id_is_stable_across_reopen_and_differs_between_homes(tmp_path: Path) -> None:
    with Store.in_home(tmp_path / "one") as a:
        first = a.store_id
    with Store.in_home(tmp_path / "one") as a:
        assert a.store_id == first
    with Store.in_home(tmp_path / "two") as b:
        assert b.store_id != first
    assert uuid.UUID(first)


# -- hooks ------------------------------------------------------------------------------

def test_hook_crud(store: Store) -> None:
    hook = store.add_hook(name="n", url="https://example.com/h", events=["job"], active=True)
    assert store.get_hook(hook.id) == hook
    changed = store.update_hook(hook.id, active=False, deactivated_reason="gone")
    assert (changed.active, changed.deactivated_reason) == (False, "gone")
    again = store.update_hook(hook.id, active=True)
    assert (again.active, again.deactivated_reason) == (True, None)
    store.delete_hook(hook.id)
    with pytest.raises(NotFoundError, match=f"no hook {hook.id}"):
        store.get_hook(hook.id)
    with pytest.raises(NotFoundError):
        store.delete_hook(hook.id)
    with pytest.raises(NotFoundError):
        store.update_hook(hook.id, name="x")


# -- fan-out ----------------------------------------------------------------------------

def test_fan_out_matches_groups_and_types_and_skips_inactive(store: Store) -> None:
    all_jobs = _hook(store, ["job"])
    failures = _hook(store, ["job.failed", "cluster.error"])
    clusters = _hook(store, ["cluster"])
    off = _hook(store, ["job", "cluster"], active=False)
    store.add_events([("job.failed", b'{"id": 1}'), ("job.completed", b'{"id": 2}'),
                      ("cluster.error", b'{"id": 3}'), ("cluster.idled", b'{"id": 4}')])
    assert store.outbox_waiting() == 4
    assert store.fan_out() == 4
    assert store.fan_out() == 0
    assert store.outbox_waiting() == 0
    got = {(d.hook_id, d.event_type) for d in store.list_deliveries(limit=1000)}
    assert got == {
        (all_jobs, "job.failed"), (all_jobs, "job.completed"),
        (failures, "job.failed"), (failures, "cluster.error"),
        (clusters, "cluster.error"), (clusters, "cluster.idled"),
    }
    assert store.list_deliveries(hook_id=off) == []
    assert all(d.status == "pending" and d.attempts == 0 for d in store.list_deliveries())
    assert len({d.id for d in store.list_deliveries()}) == 6


def test_fanned_out_delivery_ids_are_time_ordered_uuids(store: Store) -> None:
    hooks = [_hook(store, ["job"]) for _ in range(3)]
    store.add_events([("job.failed", b"{}")] * 200)
    now = 1_796_476_403.692
    assert store.fan_out(now=now) == 200
    ids = [d.id for d in store.list_deliveries(limit=1000)]
    assert len(ids) == len(set(ids)) == 600
    for text in ids:
        u = uuid.UUID(text)
        assert (str(u), u.version, u.variant) == (text, 7, uuid.RFC_4122)
        assert u.int >> 80 == 1_796_476_403_692  # the fan-out's time in milliseconds
    assert {d.hook_id for d in store.list_deliveries(limit=1000)} == set(hooks)


def test_fan_out_of_an_event_nobody_wants_still_empties_the_outbox(store: Store) -> None:
    _hook(store, ["cluster"])
    store.add_events([("job.started", b"{}")])
    assert store.fan_out() == 1
    assert store.outbox_waiting() == 0
    assert store.list_deliveries() == []


def test_fan_out_respects_its_limit(store: Store) -> None:
    _hook(store, ["job"])
    store.add_events([("job.started", b"{}")] * 5)
    assert store.fan_out(limit=2) == 2
    assert store.outbox_waiting() == 3
    assert store.fan_out(limit=10) == 3
    assert len(store.list_deliveries()) == 5


# -- claiming ---------------------------------------------------------------------------

def test_claim_due_leases_until_expiry(store: Store) -> None:
    hook = _hook(store, ["job"])
    body = '{"name": "Zoë", "errors": "a\\nb"}'.encode()
    store.add_events([("job.failed", body)])
    now = time.time()
    store.fan_out(now=now)
    jobs = store.claim_due(now=now, lease_seconds=30, limit=10)
    assert len(jobs) == 1
    job = jobs[0]
    assert (job.hook_id, job.event_type, job.body, job.attempts) == (hook, "job.failed", body, 0)
    assert job.id == store.list_deliveries()[0].id
    assert store.claim_due(now=now + 1, lease_seconds=30, limit=10) == []
    assert store.claim_due(now=now + 29.9, lease_seconds=30, limit=10) == []
    assert store.next_due() == pytest.approx(now + 30)
    again = store.claim_due(now=now + 30.1, lease_seconds=30, limit=10)
    assert [j.id for j in again] == [job.id]


def test_release_makes_a_claimed_delivery_due_again(store: Store) -> None:
    _hook(store, ["job"])
    store.add_events([("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=10)
    store.release([job.seq])
    assert [j.id for j in store.claim_due(now=now, lease_seconds=30, limit=10)] == [job.id]


def test_claim_due_limit_order_skip_and_inactive(store: Store) -> None:
    a = _hook(store, ["job"])
    b = _hook(store, ["job"])
    store.add_events([("job.started", b'{"n": 1}'), ("job.started", b'{"n": 2}')])
    now = time.time()
    store.fan_out(now=now)
    assert store.claim_due(now=now - 1, lease_seconds=30, limit=10) == []  # not due yet
    only_b = store.claim_due(now=now, lease_seconds=30, limit=10, skip_hooks=[a])
    assert {j.hook_id for j in only_b} == {b}
    assert len(only_b) == 2
    store.update_hook(a, active=False)
    assert store.claim_due(now=now, lease_seconds=30, limit=10) == []  # a is inactive
    store.update_hook(a, active=True)
    first = store.claim_due(now=now, lease_seconds=30, limit=1)
    assert len(first) == 1
    assert first[0].hook_id == a
    assert len(store.claim_due(now=now, lease_seconds=30, limit=10)) == 1


@pytest.mark.parametrize("hooks", [4, 40], ids=["per-hook seeks", "oldest first, then seeks"])
def test_a_full_hook_with_a_long_backlog_does_not_starve_the_others(store: Store,
                                                                    hooks: int) -> None:
    """The first hook's 500 deliveries are the oldest due; it is full (skipped), so a
    claim must still find the other hooks' deliveries behind that backlog, with few or
    many hooks (the two ways claim_due looks)."""
    ids = [_hook(store, ["job"]) for _ in range(hooks)]
    busy, others = ids[0], ids[1:]
    store.add_events([("job.started", b'{"n": 0}')] * 500, target_hook_id=busy)
    store.fan_out(now=time.time() - 60, limit=1000)  # due for a minute already
    store.add_events([("job.started", b'{"n": 1}')])
    store.fan_out(limit=1000)  # one delivery to every hook, due now
    jobs = store.claim_due(now=time.time(), lease_seconds=30, limit=10, skip_hooks=[busy],
                           per_hook_limit=1)
    assert len(jobs) == min(10, len(others))
    assert {j.hook_id for j in jobs} <= set(others)
    assert len({j.hook_id for j in jobs}) == len(jobs)  # at most one each (per_hook_limit)
    # Not skipped, the backlog comes first (oldest due first), within the per-hook limit.
    first = store.claim_due(now=time.time(), lease_seconds=30, limit=3, per_hook_limit=2)
    assert [j.hook_id for j in first].count(busy) == 2


# -- recording --------------------------------------------------------------------------

def _one_job(store: Store) -> DeliveryJob:
    _hook(store, ["job"])
    store.add_events([("job.failed", b'{"id": 9}')])
    now = time.time()
    store.fan_out(now=now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=1)
    return job


def test_record_attempt_success(store: Store) -> None:
    job = _one_job(store)
    assert store.record_attempt(job, _attempt(204), next_attempt_at=time.time() + 5) \
        == "succeeded"
    d = store.get_delivery(job.id)
    assert (d.status, d.attempts, d.last_status_code, d.last_error_kind, d.next_attempt_at) \
        == ("succeeded", 1, 204, None, None)
    assert store.pending_count() == 0
    assert store.next_due() is None
    (a,) = store.list_attempts(d.seq)
    assert (a.number, a.status_code, a.response_body, a.response_headers, a.request_headers) \
        == (1, 204, b"ok", [("Content-Type", "text/plain")], {"X-Hook-Event": "job.failed"})
    assert store.delivery_body(job.id) == b'{"id": 9}'


def test_record_attempt_retry_then_final_failure(store: Store) -> None:
    job = _one_job(store)
    later = time.time() + 60
    assert store.record_attempt(job, _attempt(500, "http_status"), next_attempt_at=later) \
        == "pending"
    d = store.get_delivery(job.id)
    assert (d.status, d.attempts, d.last_status_code, d.last_error_kind) \
        == ("pending", 1, 500, "http_status")
    assert d.next_attempt_at == pytest.approx(later)
    assert store.next_due() == pytest.approx(later)  # the lease was cleared
    assert store.claim_due(now=later - 1, lease_seconds=30, limit=1) == []
    (job2,) = store.claim_due(now=later, lease_seconds=30, limit=1)
    assert (job2.id, job2.attempts) == (job.id, 1)
    assert store.record_attempt(job2, _attempt(None, "timeout"), next_attempt_at=None) \
        == "failed"
    d = store.get_delivery(job.id)
    assert (d.status, d.attempts, d.last_status_code, d.last_error_kind) \
        == ("failed", 2, None, "timeout")
    attempts = store.list_attempts(d.seq)
    assert [(a.number, a.status_code, a.error_kind) for a in attempts] \
        == [(1, 500, "http_status"), (2, None, "timeout")]
    assert attempts[0].next_attempt_at == pytest.approx(later)
    assert attempts[1].next_attempt_at is None
    assert attempts[1].error_message == "it was timeout"
    assert store.claim_due(now=later + 1000, lease_seconds=30, limit=1) == []


def test_a_3xx_or_error_kind_is_never_success() -> None:
    assert not _attempt(301, "redirect").succeeded
    assert not _attempt(200, "protocol").succeeded
    assert not _attempt(None, "connect").succeeded
    assert _attempt(299).succeeded


def test_record_ping(store: Store) -> None:
    hook = _hook(store, ["job"])
    store.record_ping(hook, "ping-delivery-id", b'{"zen": "x"}', _attempt(200))
    (d,) = store.list_deliveries()
    assert (d.id, d.event_type, d.status, d.attempts) == ("ping-delivery-id", "ping",
                                                          "succeeded", 1)
    assert store.delivery_body(d.id) == b'{"zen": "x"}'
    assert store.outbox_waiting() == 0
    assert store.pending_count() == 0
    assert store.fan_out() == 0  # a ping is never fanned out to other hooks


# -- queries ----------------------------------------------------------------------------

def test_list_deliveries_filters_and_pages(store: Store) -> None:
    a = _hook(store, ["job"])
    b = _hook(store, ["job"])
    store.add_events([("job.started", b"{}"), ("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    jobs = store.claim_due(now=now, lease_seconds=30, limit=10)
    assert len(jobs) == 4
    by_hook_type = {(j.hook_id, j.event_type): j for j in jobs}
    store.record_attempt(by_hook_type[a, "job.started"], _attempt(200), next_attempt_at=None)
    store.record_attempt(by_hook_type[b, "job.failed"], _attempt(500, "http_status"),
                         next_attempt_at=None)
    everything = store.list_deliveries()
    assert [d.seq for d in everything] == sorted((d.seq for d in everything), reverse=True)
    assert {d.hook_id for d in store.list_deliveries(hook_id=a)} == {a}
    assert len(store.list_deliveries(hook_id=a)) == 2
    assert [(d.hook_id, d.event_type) for d in store.list_deliveries(status="succeeded")] \
        == [(a, "job.started")]
    assert [(d.hook_id, d.event_type) for d in store.list_deliveries(status="failed")] \
        == [(b, "job.failed")]
    assert len(store.list_deliveries(status="pending")) == 2
    assert store.list_deliveries(hook_id=a, status="failed") == []
    assert len(store.list_deliveries(limit=3)) == 3
    page2 = store.list_deliveries(before_seq=everything[1].seq)
    assert [d.seq for d in page2] == [d.seq for d in everything[2:]]
    with pytest.raises(NotFoundError):
        store.get_delivery("no-such-delivery")
    assert set(store.last_deliveries()) == {a, b}


def test_deleting_a_hook_deletes_its_deliveries_and_attempts(store: Store) -> None:
    job = _one_job(store)
    store.record_attempt(job, _attempt(200), next_attempt_at=None)
    store.delete_hook(job.hook_id)
    assert store.list_deliveries() == []
    assert _raw(store.path, "SELECT count(*) FROM attempts") == [(0,)]


def test_next_due_ignores_deliveries_of_inactive_hooks(store: Store) -> None:
    on = _hook(store, ["job"])
    off = _hook(store, ["job"])
    store.add_events([("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    store.update_hook(off, active=False)
    assert store.next_due() == pytest.approx(now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=10)
    assert job.hook_id == on
    store.record_attempt(job, _attempt(200), next_attempt_at=None)
    assert store.pending_count() == 1  # the inactive hook's delivery waits ...
    assert store.next_due() is None  # ... but is never due while the hook is off
    store.update_hook(off, active=True)
    assert store.next_due() == pytest.approx(now)


def test_the_change_feed_sees_commits_of_other_connections_only_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.in_home(home) as writer:
        feed = open_change_feed(home)
        assert feed is not None
        try:
            assert feed.changed()  # the first look: nothing seen yet
            assert not feed.changed()
            writer.add_events([("job.failed", b"{}")])
            assert feed.changed()
            assert not feed.changed()  # each commit is reported once
            writer.set_setting("retention_days", 7)
            assert feed.changed()
        finally:
            feed.close()


def test_there_is_no_change_feed_without_a_database(tmp_path: Path) -> None:
    assert open_change_feed(tmp_path / "nowhere") is None


def test_open_store_gives_the_data_directorys_sqlite_database(tmp_path: Path) -> None:
    store: Repository = open_store(tmp_path / "home")
    try:
        assert isinstance(store, SQLiteStore)
        assert (tmp_path / "home" / DB_FILENAME).exists()
    finally:
        store.close()
