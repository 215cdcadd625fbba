"""The PostgreSQL store on a real server: the behaviours of tests/core/test_store.py,
plus what a shared database adds (migrations, the database id, notifications)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from hookadmin.core.errors import InputError, NotFoundError, StoreError
from hookadmin.core.store import AttemptRecord, DeliveryJob
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.store.postgres.schema import MIGRATIONS, SCHEMA_VERSION


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.init(postgres_url) as s:
        yield s


def _sql(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as db:
        cur = db.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _attempt(status: int | None = 200, kind: str | None = None,
             started_at: float | None = None) -> AttemptRecord:
    return AttemptRecord(
        started_at=time.time() if started_at is None else started_at, duration_ms=12.5,
        request_url="https://example.com/h", request_headers={"X-Hook-Event": "job.failed"},
        status_code=status,
        response_headers=None if status is None else [("Content-Type", "text/plain")],
        response_body=None if status is None else b"ok", response_truncated=False,
        error_kind=kind, error_message=None if kind is None else f"it was {kind}")


def _hook(store: PostgresStore, events: list[str], *, active: bool = True) -> int:
    return store.add_hook(name="", url="https://example.com/h", events=events,
                          active=active).id


# -- schema -----------------------------------------------------------------------------

def test_init_creates_the_current_schema_with_a_database_id(postgres_url: str) -> None:
    with PostgresStore.init(postgres_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        first = store.store_id
        assert str(uuid.UUID(first)) == first
        assert store.parent_store_ids == []
    tables = {r[0] for r in _sql(postgres_url, "SELECT tablename FROM pg_tables"
                                               " WHERE schemaname = 'public'")}
    assert {"hookadmin_meta", "hooks", "events", "deliveries", "attempts", "settings",
            "activity_minutes", "hook_secrets"} <= tables
    assert _sql(postgres_url, "SELECT value FROM hookadmin_meta WHERE key = 'schema_version'"
                ) == [(str(SCHEMA_VERSION),)]
    with PostgresStore(postgres_url) as again:  # opening needs no init any more
        assert again.store_id == first
    with PostgresStore.init(postgres_url) as again:  # init twice changes nothing
        assert again.store_id == first


def test_hook_secrets_table_is_as_agreed(store: PostgresStore, postgres_url: str) -> None:
    columns = _sql(postgres_url, "SELECT column_name, data_type, is_nullable FROM"
                   " information_schema.columns WHERE table_name = 'hook_secrets'"
                   " ORDER BY ordinal_position")
    assert columns == [("name", "text", "NO"), ("nonce", "bytea", "NO"),
                       ("ciphertext", "bytea", "NO"),
                       ("updated_at", "timestamp with time zone", "NO")]


def test_an_empty_database_is_refused_without_init(postgres_url: str) -> None:
    with pytest.raises(StoreError, match=r"is empty; set it up with `hookadmin team init`"):
        PostgresStore(postgres_url)
    assert _sql(postgres_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                ) == [(0,)]


def test_a_database_that_is_not_hookadmins_is_refused(postgres_url: str) -> None:
    _sql(postgres_url, "CREATE TABLE invoices (id int)")
    for create in (False, True):
        with pytest.raises(StoreError, match=r"is not hookadmin's \(it holds other tables, "
                                             r"such as 'invoices'\)") as caught:
            PostgresStore(postgres_url, create=create)
        assert str(caught.value).count(". ") == 0  # one sentence
    assert _sql(postgres_url, "SELECT to_regclass('hooks') IS NULL") == [(True,)]


def test_a_newer_schema_is_refused_and_left_untouched(postgres_url: str) -> None:
    PostgresStore.init(postgres_url).close()
    _sql(postgres_url, "UPDATE hookadmin_meta SET value = %s WHERE key = 'schema_version'",
         (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=rf"newer hookadmin \(schema {SCHEMA_VERSION + 1}, "
                                         rf"this one knows {SCHEMA_VERSION}\); upgrade"):
        PostgresStore(postgres_url)
    assert _sql(postgres_url, "SELECT value FROM hookadmin_meta WHERE key = 'schema_version'"
                ) == [(str(SCHEMA_VERSION + 1),)]


def test_a_database_at_schema_1_is_migrated_with_its_leases(postgres_url: str) -> None:
    """Schema 1 counted leases through an index on deliveries; a later migration moves
    them into delivery_leases, so a delivery leased before the upgrade still counts."""
    now = time.time()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(MIGRATIONS[0].encode())
        db.execute("INSERT INTO hookadmin_meta VALUES ('schema_version', '1')")
        db.execute("INSERT INTO hooks (url, events, created_at, updated_at)"
                   " VALUES ('https://example.com/h', '[\"job\"]', 'x', 'x')")
        db.execute("INSERT INTO events (id, type, body, occurred_at, fanned_out)"
                   " VALUES ('e1', 'job.failed', '\\x7b7d', %s, true)", (now,))
        db.execute("INSERT INTO deliveries (id, event_seq, hook_id, event_type,"
                   " next_attempt_at, lease_until, created_at, updated_at)"
                   " VALUES ('d1', 1, 1, 'job.failed', %s, %s, %s, %s),"
                   " ('d2', 1, 1, 'job.failed', %s, NULL, %s, %s)",
                   (now, now + 30, now, now, now, now, now))
    with PostgresStore(postgres_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        old = store.get_hook(1)  # the hook types' columns came after the leases'
        assert (old.type, old.options.empty, old.filtered_out) == ("web", True, 0)
        assert store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=1) == []
        assert [j.id for j in store.claim_due(now=now, lease_seconds=30, limit=10,
                                              per_hook_limit=2)] == ["d2"]
        assert sorted(j.id for j in store.claim_due(now=now + 31, lease_seconds=30,
                                                    limit=10)) == ["d1", "d2"]
    assert _sql(postgres_url, "SELECT value FROM hookadmin_meta WHERE key = 'schema_version'"
                ) == [(str(SCHEMA_VERSION),)]


def test_two_machines_initialising_at_once_make_one_schema(postgres_url: str) -> None:
    import threading

    ids: list[str] = []
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            with PostgresStore.init(postgres_url) as s:
                ids.append(s.store_id)
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    assert len(set(ids)) == 1
    assert len(ids) == 3


# -- hooks ------------------------------------------------------------------------------

def test_hook_crud(store: PostgresStore) -> None:
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


def test_hooks_generation_follows_changes_that_matter_for_sending(store: PostgresStore
                                                                  ) -> None:
    start = store.hooks_generation()
    hook = _hook(store, ["job"])
    added = store.hooks_generation()
    assert added != start
    job = _one_job(store, hook)
    store.record_attempt(job, _attempt(500, "http_status"), next_attempt_at=None)
    assert store.failing_since(hook) is not None
    assert store.hooks_generation() == added  # the engine's own bookkeeping: no change
    store.update_hook(hook, ca_bundle="/tmp/ca.pem")
    changed = store.hooks_generation()
    assert changed != added
    store.delete_hook(hook)
    assert store.hooks_generation() not in {added, changed}


def test_settings(store: PostgresStore) -> None:
    assert store.get_setting("retention_days") is None
    store.set_setting("retention_days", 7)
    store.set_setting("retention_days", 8)
    store.set_setting("schedule", [1, 2.5, None])
    assert store.get_setting("retention_days") == 8
    assert store.get_setting("schedule") == [1, 2.5, None]


# -- fan-out ----------------------------------------------------------------------------

def test_fan_out_matches_groups_and_types_and_skips_inactive(store: PostgresStore) -> None:
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
    assert all(str(uuid.UUID(d.id)) == d.id for d in store.list_deliveries())


def test_a_test_event_goes_to_its_target_only_when_active(store: PostgresStore) -> None:
    target = _hook(store, ["cluster"])
    other = _hook(store, ["job"])
    store.add_events([("job.failed", b"{}")], target_hook_id=target)
    assert store.fan_out() == 1
    assert [(d.hook_id, d.event_type) for d in store.list_deliveries()] \
        == [(target, "job.failed")]
    store.update_hook(target, active=False)
    store.add_events([("job.failed", b"{}")], target_hook_id=target)
    assert store.fan_out() == 1
    assert len(store.list_deliveries()) == 1
    assert store.list_deliveries(hook_id=other) == []


def test_fan_out_of_an_event_nobody_wants_still_empties_the_outbox(store: PostgresStore
                                                                   ) -> None:
    _hook(store, ["cluster"])
    store.add_events([("job.started", b"{}")])
    assert store.fan_out() == 1
    assert store.outbox_waiting() == 0
    assert store.list_deliveries() == []


def test_fan_out_respects_its_limit_and_keeps_event_order(store: PostgresStore) -> None:
    _hook(store, ["job"])
    ids = store.add_events([("job.started", f'{{"n": {n}}}'.encode()) for n in range(5)])
    assert store.fan_out(limit=2) == 2
    assert store.outbox_waiting() == 3
    assert store.fan_out(limit=10) == 3
    deliveries = store.list_deliveries()
    assert [d.event_id for d in reversed(deliveries)] == ids
    assert [store.delivery_body(d.id) for d in reversed(deliveries)] \
        == [f'{{"n": {n}}}'.encode() for n in range(5)]


# -- claiming ---------------------------------------------------------------------------

def _one_job(store: PostgresStore, hook: int | None = None) -> DeliveryJob:
    if hook is None:
        hook = _hook(store, ["job"])
    store.add_events([("job.failed", b'{"id": 9}')], target_hook_id=hook)
    now = time.time()
    store.fan_out(now=now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=1)
    return job


def test_claim_due_leases_until_expiry(store: PostgresStore) -> None:
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
    assert store.next_due(count_leases=False) == pytest.approx(now)
    again = store.claim_due(now=now + 30.1, lease_seconds=30, limit=10)
    assert [j.id for j in again] == [job.id]


def test_release_makes_a_claimed_delivery_due_again(store: PostgresStore) -> None:
    _hook(store, ["job"])
    store.add_events([("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=10)
    store.release([job.seq])
    assert [j.id for j in store.claim_due(now=now, lease_seconds=30, limit=10)] == [job.id]


def test_renew_extends_a_lease(store: PostgresStore) -> None:
    job = _one_job(store)
    now = time.time()
    store.renew([job.seq], now + 100)
    assert store.claim_due(now=now + 50, lease_seconds=30, limit=10) == []
    assert [j.id for j in store.claim_due(now=now + 101, lease_seconds=30, limit=10)] \
        == [job.id]


def test_claim_due_limit_order_skip_and_inactive(store: PostgresStore) -> None:
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


def test_per_hook_limit_counts_what_the_caller_holds(store: PostgresStore) -> None:
    hook = _hook(store, ["job"])
    store.add_events([("job.started", b"{}")] * 6)
    now = time.time()
    store.fan_out(now=now)
    assert len(store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=4,
                               in_flight={hook: 3})) == 1
    # The caller's in_flight says 0, but 1 is leased: the store counts the leases too.
    assert len(store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=4)) == 3
    assert store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=4) == []


@pytest.mark.parametrize("hooks", [4, 40], ids=["per-hook seeks", "oldest first, then seeks"])
def test_a_full_hook_with_a_long_backlog_does_not_starve_the_others(store: PostgresStore,
                                                                    hooks: int) -> None:
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
    assert len({j.hook_id for j in jobs}) == len(jobs)
    first = store.claim_due(now=time.time(), lease_seconds=30, limit=3, per_hook_limit=2)
    assert [j.hook_id for j in first].count(busy) == 2
    # Unskipped with a whole window of the busy hook's backlog in front: the others'
    # deliveries are still found behind it.
    rest = store.claim_due(now=time.time(), lease_seconds=30, limit=40, per_hook_limit=2)
    assert {j.hook_id for j in rest} == set(others) - {j.hook_id for j in jobs + first}


# -- recording --------------------------------------------------------------------------

def test_record_attempt_success(store: PostgresStore) -> None:
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
    assert store.deliveries_by_seq([d.seq, 10**9]) == [d]


def test_record_attempt_retry_then_final_failure(store: PostgresStore) -> None:
    job = _one_job(store)
    later = time.time() + 60
    assert store.record_attempt(job, _attempt(500, "http_status"), next_attempt_at=later) \
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
    assert store.counted_attempts(d.seq) == 2
    assert store.claim_due(now=later + 1000, lease_seconds=30, limit=1) == []


def test_failing_since_is_cleared_by_a_success_and_kept_by_secret_waits(store: PostgresStore
                                                                        ) -> None:
    hook = _hook(store, ["job"])
    a, b, c = (_one_job(store, hook) for _ in range(3))
    store.record_attempts([(a, _attempt(None, "secret_unavailable"), time.time() + 60)])
    assert store.failing_since(hook) is None
    assert store.counted_attempts(a.seq) == 0
    store.record_attempts([(b, _attempt(500, "http_status"), None)])
    since = store.failing_since(hook)
    assert since is not None
    store.record_attempts([(c, _attempt(200), None)])
    assert store.failing_since(hook) is None


def test_attempts_of_a_deleted_hook_are_skipped(store: PostgresStore) -> None:
    job = _one_job(store)
    store.delete_hook(job.hook_id)
    assert store.record_attempts([(job, _attempt(200), None)]) == ["succeeded"]
    assert store.list_deliveries() == []


def test_record_ping(store: PostgresStore) -> None:
    hook = _hook(store, ["job"])
    store.record_ping(hook, "ping-delivery-id", b'{"zen": "x"}', _attempt(200))
    (d,) = store.list_deliveries()
    assert (d.id, d.event_type, d.status, d.attempts) == ("ping-delivery-id", "ping",
                                                          "succeeded", 1)
    assert store.delivery_body(d.id) == b'{"zen": "x"}'
    assert store.outbox_waiting() == 0
    assert store.pending_count() == 0
    assert store.fan_out() == 0
    with pytest.raises(InputError, match="Pings are not redelivered"):
        store.redeliver(d.id)


def test_redeliver_and_redeliver_failed(store: PostgresStore) -> None:
    hook = _hook(store, ["job"])
    a, b = _one_job(store, hook), _one_job(store, hook)
    store.record_attempts([(a, _attempt(500, "http_status"), None),
                           (b, _attempt(200), None)])
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


# -- queries ----------------------------------------------------------------------------

def test_list_deliveries_filters_and_pages(store: PostgresStore) -> None:
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


def test_deleting_a_hook_deletes_its_deliveries_and_attempts(store: PostgresStore,
                                                             postgres_url: str) -> None:
    job = _one_job(store)
    store.record_attempt(job, _attempt(200), next_attempt_at=None)
    store.delete_hook(job.hook_id)
    assert store.list_deliveries() == []
    assert _sql(postgres_url, "SELECT count(*) FROM attempts") == [(0,)]
    assert _sql(postgres_url, "SELECT count(*) FROM activity_minutes") == [(0,)]


def test_next_due_ignores_deliveries_of_inactive_hooks(store: PostgresStore) -> None:
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
    assert store.pending_count() == 1
    assert store.next_due() is None
    store.update_hook(off, active=True)
    assert store.next_due() == pytest.approx(now)


def test_activity_buckets_and_prune(store: PostgresStore, postgres_url: str) -> None:
    hook = _hook(store, ["job"])
    other = _hook(store, ["job"])
    minute = (int(time.time()) // 60 - 5) * 60  # a whole minute, five minutes ago
    jobs = [_one_job(store, hook) for _ in range(3)] + [_one_job(store, other)]
    store.record_attempts([(jobs[0], _attempt(200, started_at=minute + 1), None),
                           (jobs[1], _attempt(500, "http_status", started_at=minute + 2),
                            None),
                           (jobs[2], _attempt(200, started_at=minute + 61), None),
                           (jobs[3], _attempt(None, "timeout", started_at=minute + 3), None)])
    assert store.activity(since=minute - 600) == [
        (float(minute), 1, 2, 12.5), (float(minute + 60), 1, 0, 12.5)]
    assert store.activity(since=minute - 600, hook_id=other) == [(float(minute), 0, 1, 12.5)]
    assert store.activity(since=minute - 600, bucket=3600.0) \
        == [(float(minute // 3600 * 3600), 2, 2, 12.5)] \
        or len(store.activity(since=minute - 600, bucket=3600.0)) == 2  # an hour boundary
    assert store.activity(since=minute + 2, bucket=10.0) == [
        (float(minute), 0, 2, 12.5), (float(minute + 60), 1, 0, 12.5)]
    # Pruning: finished deliveries updated before the cut go, with their attempts and
    # their minutes in the activity chart; events left without a delivery go too.
    _sql(postgres_url, "UPDATE deliveries SET updated_at = 0 WHERE seq = ANY(%s)",
         ([jobs[0].seq, jobs[3].seq],))
    _sql(postgres_url, "UPDATE events SET occurred_at = 0")
    assert store.prune(time.time() - 3600, batch=1) == 2
    assert {d.id for d in store.list_deliveries()} == {jobs[1].id, jobs[2].id}
    assert _sql(postgres_url, "SELECT count(*) FROM events") == [(2,)]
    assert store.activity(since=minute - 600) == [
        (float(minute), 0, 1, 12.5), (float(minute + 60), 1, 0, 12.5)]


def test_claims_read_indexes_not_the_table(store: PostgresStore, postgres_url: str) -> None:
    """With a long queue (and fresh statistics) both ways of claiming are index scans
    that stop after the rows they need; benchmarks/pg_claim_latency.py times them
    with 1,000,000 pending."""
    from hookadmin.core.store.postgres.sql import SEEK, SEEK_AND_LEASE, WINDOW

    hooks = [_hook(store, ["job"]) for _ in range(40)]
    store.add_events([("job.started", b"{}")] * 1000)
    store.fan_out(now=time.time() - 60, limit=1000)  # 40,000 pending deliveries
    _sql(postgres_url, "ANALYZE")
    now = time.time()
    with psycopg.connect(postgres_url) as db:
        seek = "\n".join(r[0] for r in db.execute(
            "EXPLAIN " + SEEK, (hooks[:8], [40] * 8, now, now, False, hooks[:2])))
        window = "\n".join(r[0] for r in db.execute(
            "EXPLAIN " + WINDOW, (now, now, hooks, False, hooks[:2], 128)))
        seek_and_lease = "\n".join(r[0] for r in db.execute(
            "EXPLAIN " + SEEK_AND_LEASE, {
                "hooks": hooks[:8], "counts": [40] * 8, "now": now, "fresh_all": False,
                "fresh": hooks[:2], "limit": 64, "until": now + 10}))
        db.rollback()
    assert "Index Scan using deliveries_due_by_hook on deliveries" in seek, seek
    assert "Index Scan using deliveries_due on deliveries" in window, window
    assert "Index Scan using deliveries_due_by_hook on deliveries" in seek_and_lease, \
        seek_and_lease
    for plan in (seek, window, seek_and_lease):
        assert "Seq Scan on deliveries" not in plan, plan
        assert "Limit" in plan, plan


# -- batched transactions (a bookkeeping turn) ----------------------------------------------

def test_a_batched_transaction_records_and_claims_in_one_commit(store: PostgresStore,
                                                               postgres_url: str) -> None:
    """Writes whose results are not read (the records) are seen by the claim that
    follows them in the same batched transaction, and all of it is committed."""
    hook = _hook(store, ["job"])
    store.add_events([("job.started", b"{}")] * 3)
    store.fan_out()
    first = store.claim_due(now=time.time(), lease_seconds=30, limit=1, per_hook_limit=1)
    assert len(first) == 1
    with store.transaction(batched=True):
        store.record_attempts([(first[0], _attempt(), None)])
        # The hook's one place is free again only if the record above was applied.
        second = store.claim_due(now=time.time(), lease_seconds=30, limit=5,
                                 per_hook_limit=1)
    assert len(second) == 1
    assert second[0].seq != first[0].seq
    assert _sql(postgres_url, "SELECT status FROM deliveries WHERE seq = %s",
                (first[0].seq,)) == [("succeeded",)]
    assert _sql(postgres_url, "SELECT seq FROM delivery_leases WHERE hook_id = %s",
                (hook,)) == [(second[0].seq,)]


def test_a_failed_write_in_a_batched_transaction_commits_nothing(store: PostgresStore,
                                                                postgres_url: str) -> None:
    """A write whose error surfaces only at a later read still rolls the whole
    transaction back: nothing it recorded is committed."""
    _hook(store, ["job"])
    store.add_events([("job.started", b"{}")])
    store.fan_out()
    job = store.claim_due(now=time.time(), lease_seconds=30, limit=1)[0]

    def record_then_fail() -> None:
        with store.transaction(batched=True) as db:
            store.record_attempts([(job, _attempt(), None)])
            db.execute("INSERT INTO hookadmin_meta (key) VALUES (NULL)")  # NOT NULL fails
            store.list_hooks()  # the first read: the failure surfaces here

    with pytest.raises(psycopg.errors.NotNullViolation):
        record_then_fail()
    assert _sql(postgres_url, "SELECT status, attempts FROM deliveries WHERE seq = %s",
                (job.seq,)) == [("pending", 0)]
    assert _sql(postgres_url, "SELECT count(*) FROM attempts") == [(0,)]
    assert store.list_hooks()  # the connection is usable again
