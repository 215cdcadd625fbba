"""What is the PostgreSQL store's own, on a real server: its schema and migrations, the
database id, query plans, pruning with the activity chart, batched transactions. The
behaviours both stores share run on both in tests/core/test_store.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from hookadmin.core.errors import StoreError
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.store.postgres.schema import MIGRATIONS, SCHEMA_VERSION
from tests.core.stores import add_hook, attempt, one_job, pg_rows


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.init(postgres_url) as s:
        yield s


# -- schema -----------------------------------------------------------------------------

def test_init_creates_the_current_schema_with_a_database_id(postgres_url: str) -> None:
    with PostgresStore.init(postgres_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        first = store.store_id
        assert str(uuid.UUID(first)) == first
        assert store.parent_store_ids == []
    tables = {r[0] for r in pg_rows(postgres_url, "SELECT tablename FROM pg_tables"
                                               " WHERE schemaname = 'public'")}
    assert {"hookadmin_meta", "hooks", "events", "deliveries", "attempts", "settings",
            "activity_minutes", "hook_secrets"} <= tables
    assert pg_rows(postgres_url, "SELECT value FROM hookadmin_meta WHERE key = 'schema_version'"
                ) == [(str(SCHEMA_VERSION),)]
    with PostgresStore(postgres_url) as again:  # opening needs no init any more
        assert again.store_id == first
    with PostgresStore.init(postgres_url) as again:  # init twice changes nothing
        assert again.store_id == first


def test_hook_secrets_table_is_as_agreed(store: PostgresStore, postgres_url: str) -> None:
    columns = pg_rows(postgres_url, "SELECT column_name, data_type, is_nullable FROM"
                   " information_schema.columns WHERE table_name = 'hook_secrets'"
                   " ORDER BY ordinal_position")
    assert columns == [("name", "text", "NO"), ("nonce", "bytea", "NO"),
                       ("ciphertext", "bytea", "NO"),
                       ("updated_at", "timestamp with time zone", "NO")]


def test_an_empty_database_is_refused_without_init(postgres_url: str) -> None:
    with pytest.raises(StoreError, match=r"is empty; set it up with `hookadmin team init`"):
        PostgresStore(postgres_url)
    assert pg_rows(postgres_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                ) == [(0,)]


def test_a_database_that_is_not_hookadmins_is_refused(postgres_url: str) -> None:
    pg_rows(postgres_url, "CREATE TABLE invoices (id int)")
    for create in (False, True):
        with pytest.raises(StoreError, match=r"is not hookadmin's \(it holds other tables, "
                                             r"such as 'invoices'\)") as caught:
            PostgresStore(postgres_url, create=create)
        assert str(caught.value).count(". ") == 0  # one sentence
    assert pg_rows(postgres_url, "SELECT to_regclass('hooks') IS NULL") == [(True,)]


def test_a_newer_schema_is_refused_and_left_untouched(postgres_url: str) -> None:
    PostgresStore.init(postgres_url).close()
    pg_rows(postgres_url, "UPDATE hookadmin_meta SET value = %s WHERE key = 'schema_version'",
         (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=rf"newer hookadmin \(schema {SCHEMA_VERSION + 1}, "
                                         rf"this one knows {SCHEMA_VERSION}\); upgrade"):
        PostgresStore(postgres_url)
    assert pg_rows(postgres_url, "SELECT value FROM hookadmin_meta WHERE key = 'schema_version'"
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
    assert pg_rows(postgres_url, "SELECT value FROM hookadmin_meta WHERE key = 'schema_version'"
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


# -- claiming ---------------------------------------------------------------------------

def test_per_hook_limit_counts_what_the_caller_holds(store: PostgresStore) -> None:
    """Across every engine: a hook's leased deliveries count toward the limit, and what
    the caller says it holds (in_flight) when that is more."""
    hook = add_hook(store, ["job"])
    store.add_events([("job.started", b"{}")] * 6)
    now = time.time()
    store.fan_out(now=now)
    assert len(store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=4,
                               in_flight={hook: 3})) == 1
    # The caller's in_flight says 0, but 1 is leased: the store counts the leases too.
    assert len(store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=4)) == 3
    assert store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=4) == []


# -- queries ----------------------------------------------------------------------------

def test_activity_buckets_and_prune(store: PostgresStore, postgres_url: str) -> None:
    hook = add_hook(store, ["job"])
    other = add_hook(store, ["job"])
    minute = (int(time.time()) // 60 - 5) * 60  # a whole minute, five minutes ago
    jobs = [one_job(store, hook) for _ in range(3)] + [one_job(store, other)]
    store.record_attempts([(jobs[0], attempt(200, started_at=minute + 1), None),
                           (jobs[1], attempt(500, "http_status", started_at=minute + 2),
                            None),
                           (jobs[2], attempt(200, started_at=minute + 61), None),
                           (jobs[3], attempt(None, "timeout", started_at=minute + 3), None)])
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
    pg_rows(postgres_url, "UPDATE deliveries SET updated_at = 0 WHERE seq = ANY(%s)",
         ([jobs[0].seq, jobs[3].seq],))
    pg_rows(postgres_url, "UPDATE events SET occurred_at = 0")
    assert store.prune(time.time() - 3600, batch=1) == 2
    assert {d.id for d in store.list_deliveries()} == {jobs[1].id, jobs[2].id}
    assert pg_rows(postgres_url, "SELECT count(*) FROM events") == [(2,)]
    assert store.activity(since=minute - 600) == [
        (float(minute), 0, 1, 12.5), (float(minute + 60), 1, 0, 12.5)]


def test_claims_read_indexes_not_the_table(store: PostgresStore, postgres_url: str) -> None:
    """With a long queue (and fresh statistics) both ways of claiming are index scans
    that stop after the rows they need; benchmarks/pg_claim_latency.py times them
    with 1,000,000 pending."""
    from hookadmin.core.store.postgres.sql import SEEK, SEEK_AND_LEASE, WINDOW

    hooks = [add_hook(store, ["job"]) for _ in range(40)]
    store.add_events([("job.started", b"{}")] * 1000)
    store.fan_out(now=time.time() - 60, limit=1000)  # 40,000 pending deliveries
    pg_rows(postgres_url, "ANALYZE")
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
    hook = add_hook(store, ["job"])
    store.add_events([("job.started", b"{}")] * 3)
    store.fan_out()
    first = store.claim_due(now=time.time(), lease_seconds=30, limit=1, per_hook_limit=1)
    assert len(first) == 1
    with store.transaction(batched=True):
        store.record_attempts([(first[0], attempt(), None)])
        # The hook's one place is free again only if the record above was applied.
        second = store.claim_due(now=time.time(), lease_seconds=30, limit=5,
                                 per_hook_limit=1)
    assert len(second) == 1
    assert second[0].seq != first[0].seq
    assert pg_rows(postgres_url, "SELECT status FROM deliveries WHERE seq = %s",
                (first[0].seq,)) == [("succeeded",)]
    assert pg_rows(postgres_url, "SELECT seq FROM delivery_leases WHERE hook_id = %s",
                (hook,)) == [(second[0].seq,)]


def test_a_failed_write_in_a_batched_transaction_commits_nothing(store: PostgresStore,
                                                                postgres_url: str) -> None:
    """A write whose error surfaces only at a later read still rolls the whole
    transaction back: nothing it recorded is committed."""
    add_hook(store, ["job"])
    store.add_events([("job.started", b"{}")])
    store.fan_out()
    job = store.claim_due(now=time.time(), lease_seconds=30, limit=1)[0]

    def record_then_fail() -> None:
        with store.transaction(batched=True) as db:
            store.record_attempts([(job, attempt(), None)])
            db.execute("INSERT INTO hookadmin_meta (key) VALUES (NULL)")  # NOT NULL fails
            store.list_hooks()  # the first read: the failure surfaces here

    with pytest.raises(psycopg.errors.NotNullViolation):
        record_then_fail()
    assert pg_rows(postgres_url, "SELECT status, attempts FROM deliveries WHERE seq = %s",
                (job.seq,)) == [("pending", 0)]
    assert pg_rows(postgres_url, "SELECT count(*) FROM attempts") == [(0,)]
    assert store.list_hooks()  # the connection is usable again
