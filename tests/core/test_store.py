"""The store's contract on both backends (the ``store`` fixture of
tests/core/conftest.py: a real SQLite file and a real PostgreSQL database): hooks,
fan-out, leasing, attempt recording and queries; and what is SQLite's own: its schema,
migrations and change feed. PostgreSQL's own (its schema, migrations, query plans,
batched transactions) is in test_postgres_store.py."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError, NotFoundError, StoreError
from hookadmin.core.store import (
    DB_FILENAME,
    SCHEMA_VERSION,
    Repository,
    SQLiteStore,
    Store,
    open_change_feed,
    open_store,
)
from tests.core.stores import add_hook, attempt, count_rows, one_job, sqlite_rows

# -- schema (SQLite's own; PostgreSQL's are in test_postgres_store.py) -----------------

def test_new_database_has_current_schema_and_wal(tmp_path: Path) -> None:
    home = tmp_path / "new" / "deeper"
    with Store.in_home(home) as store:
        assert store.schema_version == SCHEMA_VERSION
    db = home / DB_FILENAME
    assert sqlite_rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert sqlite_rows(db, "PRAGMA journal_mode") == [("wal",)]
    tables = {r[0] for r in sqlite_rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
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
    assert sqlite_rows(path, "PRAGMA user_version") == [(SCHEMA_VERSION + 1,)]  # left untouched


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


# -- hooks -----------------------------------------------------------------------------

def test_hook_crud(store: Repository) -> None:
    hook = store.add_hook(name="n", url="https://example.com/h", events=["job"], active=True)
    assert store.get_hook(hook.id) == hook
    assert store.list_hooks() == [hook]
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


def test_hooks_generation_follows_changes_that_matter_for_sending(store: Repository
                                                                  ) -> None:
    start = store.hooks_generation()
    hook = add_hook(store, ["job"])
    added = store.hooks_generation()
    assert added != start
    job = one_job(store, hook)
    store.record_attempt(job, attempt(500, "http_status"), next_attempt_at=None)
    assert store.failing_since(hook) is not None
    assert store.hooks_generation() == added  # the engine's own bookkeeping: no change
    store.update_hook(hook, ca_bundle="/tmp/ca.pem")
    changed = store.hooks_generation()
    assert changed != added
    store.delete_hook(hook)
    assert store.hooks_generation() not in {added, changed}


def test_settings(store: Repository) -> None:
    assert store.get_setting("retention_days") is None
    store.set_setting("retention_days", 7)
    store.set_setting("retention_days", 8)
    store.set_setting("schedule", [1, 2.5, None])
    assert store.get_setting("retention_days") == 8
    assert store.get_setting("schedule") == [1, 2.5, None]


# -- fan-out ---------------------------------------------------------------------------

def test_fan_out_matches_groups_and_types_and_skips_inactive(store: Repository) -> None:
    all_jobs = add_hook(store, ["job"])
    failures = add_hook(store, ["job.failed", "cluster.error"])
    clusters = add_hook(store, ["cluster"])
    off = add_hook(store, ["job", "cluster"], active=False)
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
    assert all(str(uuid.UUID(d.id)) == d.id for d in store.list_deliveries())


def test_a_test_event_goes_to_its_target_only_when_active(store: Repository) -> None:
    target = add_hook(store, ["cluster"])
    other = add_hook(store, ["job"])
    store.add_events([("job.failed", b"{}")], target_hook_id=target)
    assert store.fan_out() == 1
    assert [(d.hook_id, d.event_type) for d in store.list_deliveries()] \
        == [(target, "job.failed")]
    store.update_hook(target, active=False)
    store.add_events([("job.failed", b"{}")], target_hook_id=target)
    assert store.fan_out() == 1
    assert len(store.list_deliveries()) == 1
    assert store.list_deliveries(hook_id=other) == []


def test_fanned_out_delivery_ids_are_time_ordered_uuids(tmp_path: Path) -> None:
    with Store.in_home(tmp_path) as store:
        hooks = [add_hook(store, ["job"]) for _ in range(3)]
        store.add_events([("job.failed", b"{}")] * 200)
        now = 1_796_476_403.692
        assert store.fan_out(now=now) == 200
        ids = [d.id for d in store.list_deliveries(limit=1000)]
        assert len(ids) == len(set(ids)) == 600
        for text in ids:
            u = uuid.UUID(text)
            assert (str(u), u.version, u.variant) == (text, 7, uuid.RFC_4122)
            assert u.int >> 80 == 1_796_476_403_692  # the fan-out's time in milliseconds
        # The 74 random bits vary: the 12 after the version, the variant's two and the
        # 12 after it, the last 48 (600 ids: any fixed part would show here).
        assert len({text[15:18] for text in ids}) > 100
        assert {text[19] for text in ids} == set("89ab")
        assert len({text[20:23] for text in ids}) > 100
        assert len({text[24:] for text in ids}) == 600
        assert {d.hook_id for d in store.list_deliveries(limit=1000)} == set(hooks)


def test_fan_out_of_an_event_nobody_wants_still_empties_the_outbox(store: Repository
                                                                   ) -> None:
    add_hook(store, ["cluster"])
    store.add_events([("job.started", b"{}")])
    assert store.fan_out() == 1
    assert store.outbox_waiting() == 0
    assert store.list_deliveries() == []


def test_fan_out_respects_its_limit_and_keeps_event_order(store: Repository) -> None:
    add_hook(store, ["job"])
    ids = store.add_events([("job.started", f'{{"n": {n}}}'.encode()) for n in range(5)])
    assert store.fan_out(limit=2) == 2
    assert store.outbox_waiting() == 3
    assert store.fan_out(limit=10) == 3
    deliveries = store.list_deliveries()
    assert len(deliveries) == 5
    assert [d.event_id for d in reversed(deliveries)] == ids
    assert [store.delivery_body(d.id) for d in reversed(deliveries)] \
        == [f'{{"n": {n}}}'.encode() for n in range(5)]


# -- claiming --------------------------------------------------------------------------

def test_claim_due_leases_until_expiry(store: Repository) -> None:
    hook = add_hook(store, ["job"])
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
    assert store.next_due(count_leases=False) == pytest.approx(now)
    again = store.claim_due(now=now + 30.1, lease_seconds=30, limit=10)
    assert [j.id for j in again] == [job.id]


def test_release_makes_a_claimed_delivery_due_again(store: Repository) -> None:
    add_hook(store, ["job"])
    store.add_events([("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=10)
    store.release([job.seq])
    assert [j.id for j in store.claim_due(now=now, lease_seconds=30, limit=10)] == [job.id]


def test_renew_extends_a_lease(store: Repository) -> None:
    job = one_job(store)
    now = time.time()
    store.renew([job.seq], now + 100)
    assert store.claim_due(now=now + 50, lease_seconds=30, limit=10) == []
    assert [j.id for j in store.claim_due(now=now + 101, lease_seconds=30, limit=10)] \
        == [job.id]


def test_claim_due_limit_order_skip_and_inactive(store: Repository) -> None:
    a = add_hook(store, ["job"])
    b = add_hook(store, ["job"])
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
def test_a_full_hook_with_a_long_backlog_does_not_starve_the_others(store: Repository,
                                                                    hooks: int) -> None:
    """The first hook's 500 deliveries are the oldest due; it is full (skipped), so a
    claim must still find the other hooks' deliveries behind that backlog, with few or
    many hooks (the two ways claim_due looks)."""
    ids = [add_hook(store, ["job"]) for _ in range(hooks)]
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
    # Unskipped with a whole window of the busy hook's backlog in front: the others'
    # deliveries are still found behind it. (What the caller holds is in in_flight, as an
    # engine passes it: SQLite counts only that, PostgreSQL every engine's leases too.)
    held = Counter(j.hook_id for j in jobs + first)
    rest = store.claim_due(now=time.time(), lease_seconds=30, limit=40, per_hook_limit=2,
                           in_flight=held)
    assert {j.hook_id for j in rest} == set(others) - {j.hook_id for j in jobs + first}


# -- recording -------------------------------------------------------------------------

def test_record_attempt_success(store: Repository) -> None:
    job = one_job(store)
    assert store.record_attempt(job, attempt(204), next_attempt_at=time.time() + 5) \
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
    assert store.deliveries_by_seq([d.seq, 10**9]) == [d]


def test_record_attempt_retry_then_final_failure(store: Repository) -> None:
    job = one_job(store)
    later = time.time() + 60
    assert store.record_attempt(job, attempt(500, "http_status"), next_attempt_at=later) \
        == "pending"
    d = store.get_delivery(job.id)
    assert (d.status, d.attempts, d.last_status_code, d.last_error_kind) \
        == ("pending", 1, 500, "http_status")
    assert d.next_attempt_at == pytest.approx(later)
    assert store.next_due() == pytest.approx(later)  # the lease was cleared
    assert store.failing_since(job.hook_id) is not None
    assert store.claim_due(now=later - 1, lease_seconds=30, limit=1) == []
    (job2,) = store.claim_due(now=later, lease_seconds=30, limit=1)
    assert (job2.id, job2.attempts) == (job.id, 1)
    assert store.record_attempt(job2, attempt(None, "timeout"), next_attempt_at=None) \
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
    assert store.counted_attempts(d.seq) == 2
    assert store.claim_due(now=later + 1000, lease_seconds=30, limit=1) == []


def test_failing_since_is_cleared_by_a_success_and_kept_by_secret_waits(store: Repository
                                                                        ) -> None:
    hook = add_hook(store, ["job"])
    a, b, c = (one_job(store, hook) for _ in range(3))
    store.record_attempts([(a, attempt(None, "secret_unavailable"), time.time() + 60)])
    assert store.failing_since(hook) is None
    assert store.counted_attempts(a.seq) == 0
    store.record_attempts([(b, attempt(500, "http_status"), None)])
    since = store.failing_since(hook)
    assert since is not None
    store.record_attempts([(c, attempt(200), None)])
    assert store.failing_since(hook) is None


def test_attempts_of_a_deleted_hook_are_skipped(store: Repository) -> None:
    job = one_job(store)
    store.delete_hook(job.hook_id)
    assert store.record_attempts([(job, attempt(200), None)]) == ["succeeded"]
    assert store.list_deliveries() == []


def test_a_3xx_or_error_kind_is_never_success() -> None:
    assert not attempt(301, "redirect").succeeded
    assert not attempt(200, "protocol").succeeded
    assert not attempt(None, "connect").succeeded
    assert attempt(299).succeeded


def test_record_ping(store: Repository) -> None:
    hook = add_hook(store, ["job"])
    store.record_ping(hook, "ping-delivery-id", b'{"zen": "x"}', attempt(200))
    (d,) = store.list_deliveries()
    assert (d.id, d.event_type, d.status, d.attempts) == ("ping-delivery-id", "ping",
                                                          "succeeded", 1)
    assert store.delivery_body(d.id) == b'{"zen": "x"}'
    assert store.outbox_waiting() == 0
    assert store.pending_count() == 0
    assert store.fan_out() == 0  # a ping is never fanned out to other hooks
    with pytest.raises(InputError, match="Pings are not redelivered"):
        store.redeliver(d.id)


def test_redeliver_and_redeliver_failed(store: Repository) -> None:
    hook = add_hook(store, ["job"])
    a, b = one_job(store, hook), one_job(store, hook)
    store.record_attempts([(a, attempt(500, "http_status"), None),
                           (b, attempt(200), None)])
    now = time.time()
    again = store.redeliver(b.id, now=now)
    assert (again.id, again.status, again.attempts) == (b.id, "pending", 1)
    assert store.redeliver_failed(hook, since=now - 60, now=now) == 1
    assert store.get_delivery(a.id).status == "pending"
    assert {j.id for j in store.claim_due(now=now, lease_seconds=30, limit=10)} == {a.id, b.id}
    with pytest.raises(NotFoundError):
        store.redeliver("no-such-delivery")
    with pytest.raises(NotFoundError):
        store.redeliver_failed(hook + 100, since=0)


def test_record_a_large_batch_of_attempts(store: Repository) -> None:
    # 89 attempts in one batch (SQLite writes them 64, 16, 4, 4 and 1 rows to a
    # statement), 9 of them to a hook deleted while they were sent: those are skipped,
    # every other one is stored with its delivery moved on and its lease dropped.
    kept, gone = add_hook(store, ["job"]), add_hook(store, ["job"])
    store.add_events([("job.failed", b'{"n": %d}' % i) for i in range(80)],
                     target_hook_id=kept)
    store.add_events([("job.failed", b"{}") for _ in range(9)], target_hook_id=gone)
    now = time.time()
    store.fan_out(now=now)
    jobs = store.claim_due(now=now, lease_seconds=300, limit=100)
    assert len(jobs) == 89
    store.delete_hook(gone)
    later = now + 60
    outcomes = [(job, attempt(200) if i % 3 else attempt(500, "http_status"),
                 None if i % 3 else later) for i, job in enumerate(jobs)]
    store.record_attempts(outcomes)
    for job, outcome, next_at in outcomes:
        if job.hook_id == gone:
            continue
        delivery = store.get_delivery(job.id)
        want = "succeeded" if next_at is None else "pending"
        assert (delivery.status, delivery.attempts) == (want, 1), job.id
        (stored,) = store.list_attempts(delivery.seq)
        assert (stored.number, stored.status_code, stored.next_attempt_at) == \
            (1, outcome.status_code, next_at)
    # The failed ones come due again at their next attempt: no lease holds them back.
    again = store.claim_due(now=later + 1, lease_seconds=30, limit=100)
    assert sorted(j.seq for j in again) == sorted(
        job.seq for job, _, next_at in outcomes if next_at is not None
        and job.hook_id == kept)


def test_a_batch_holding_one_delivery_twice_ends_with_its_last_attempt(tmp_path: Path
                                                                        ) -> None:
    # SQLite updates a batch's deliveries with one UPDATE ... FROM (VALUES ...), which
    # applies only one of two rows for the same delivery, an arbitrary one by SQLite's
    # documentation: such a batch goes row by row, so the last attempt decides, as it
    # did with one statement per row. Four attempts make one statement of four rows, so
    # both of the delivery's rows would meet in it. The SQLite in use happens to pick
    # the last row, so the delivery's final state alone cannot tell; a trigger on this
    # connection logs every update the statements make.
    with Store.in_home(tmp_path) as store:
        hook = add_hook(store, ["job"])
        twice, *others = (one_job(store, hook) for _ in range(3))
        store._db.execute("CREATE TEMP TABLE moves (seq INTEGER, status TEXT, code INTEGER)")
        store._db.execute("CREATE TEMP TRIGGER log_moves AFTER UPDATE OF status ON deliveries"
                          " BEGIN INSERT INTO moves VALUES (new.seq, new.status,"
                          " new.last_status_code); END")
        later = time.time() + 60
        store.record_attempts([(twice, attempt(500, "http_status"), later),
                               (others[0], attempt(200), None),
                               (twice, attempt(200), None),
                               (others[1], attempt(200), None)])
        delivery = store.get_delivery(twice.id)
        assert (delivery.status, delivery.next_attempt_at) == ("succeeded", None)
        assert [a.status_code for a in store.list_attempts(delivery.seq)] == [500, 200]
        moves = store._db.execute("SELECT status, code FROM moves WHERE seq = ?",
                                  (twice.seq,)).fetchall()
        assert moves == [("pending", 500), ("succeeded", 200)]


# -- queries ---------------------------------------------------------------------------

def test_list_deliveries_filters_and_pages(store: Repository) -> None:
    a = add_hook(store, ["job"])
    b = add_hook(store, ["job"])
    store.add_events([("job.started", b"{}"), ("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    jobs = store.claim_due(now=now, lease_seconds=30, limit=10)
    assert len(jobs) == 4
    by_hook_type = {(j.hook_id, j.event_type): j for j in jobs}
    store.record_attempt(by_hook_type[a, "job.started"], attempt(200), next_attempt_at=None)
    store.record_attempt(by_hook_type[b, "job.failed"], attempt(500, "http_status"),
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
    assert len(store.list_deliveries(event_type="job.failed")) == 2
    assert len(store.list_deliveries(since=now - 1)) == 4
    assert store.list_deliveries(since=time.time() + 60) == []
    page2 = store.list_deliveries(before_seq=everything[1].seq)
    assert [d.seq for d in page2] == [d.seq for d in everything[2:]]
    newer = store.list_deliveries(after_seq=everything[2].seq)
    assert [d.seq for d in newer] == [d.seq for d in everything[:2]]
    with pytest.raises(NotFoundError):
        store.get_delivery("no-such-delivery")
    with pytest.raises(NotFoundError):
        store.delivery_body("no-such-delivery")
    last = store.last_deliveries()
    assert set(last) == {a, b}
    assert last[a].status == "succeeded"
    assert store.pending_count(cap=1) == 1
    assert store.pending_count() == 2


def test_deleting_a_hook_deletes_its_deliveries_and_attempts(store: Repository) -> None:
    job = one_job(store)
    store.record_attempt(job, attempt(200), next_attempt_at=None)
    store.delete_hook(job.hook_id)
    assert store.list_deliveries() == []
    assert count_rows(store, "attempts") == 0
    assert count_rows(store, "activity_minutes") == 0


def test_next_due_ignores_deliveries_of_inactive_hooks(store: Repository) -> None:
    on = add_hook(store, ["job"])
    off = add_hook(store, ["job"])
    store.add_events([("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    store.update_hook(off, active=False)
    assert store.next_due() == pytest.approx(now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=10)
    assert job.hook_id == on
    store.record_attempt(job, attempt(200), next_attempt_at=None)
    assert store.pending_count() == 1  # the inactive hook's delivery waits ...
    assert store.next_due() is None  # ... but is never due while the hook is off
    store.update_hook(off, active=True)
    assert store.next_due() == pytest.approx(now)


# -- the change feed and opening (SQLite) ----------------------------------------------

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
