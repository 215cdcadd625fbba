"""Team mode on a real PostgreSQL server: several engines (connections, processes)
sharing one database, the change feed, and what a user reads when the server cannot
be used."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from hookadmin.core.errors import StoreError, StoreUnavailable
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.store.postgres.connection import StoreConflict
from tests.pg import cluster_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.init(postgres_url) as s:
        yield s


@pytest.fixture
def other(store: PostgresStore, postgres_url: str) -> Iterator[PostgresStore]:
    """A second store on the same database: another machine's engine."""
    with PostgresStore(postgres_url) as s:
        yield s


def _queue(store: PostgresStore, hooks: int, per_hook: int) -> list[int]:
    ids = [store.add_hook(name="", url="https://example.com/h", events=["job"],
                          active=True).id for _ in range(hooks)]
    store.add_events([("job.started", b"{}")] * per_hook)
    store.fan_out(now=time.time() - 1, limit=per_hook)
    return ids


def _claimer(url: str, mode: str, cap: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.pg_claimer", url, mode, str(cap)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def _leased_per_hook(url: str) -> dict[int, int]:
    with psycopg.connect(url, autocommit=True) as db:
        return {int(h): int(n) for h, n in db.execute(
            "SELECT hook_id, count(*) FROM deliveries WHERE status = 'pending'"
            " AND lease_until >= extract(epoch FROM now()) GROUP BY hook_id")}


# -- claims shared by several engines ----------------------------------------------------

def test_a_claim_in_progress_elsewhere_keeps_the_hook_within_its_limit(
        store: PostgresStore, other: PostgresStore) -> None:
    """Engine A has claimed two deliveries of hook 1 (limit 2) but not committed yet;
    engine B claiming at that moment must not take two more of hook 1 (it cannot see
    A's uncommitted leases, so it must not claim for that hook at all), and once A has
    committed, B still finds the hook full."""
    busy, calm = _queue(store, 2, 5)
    now = time.time()
    with store.transaction():
        mine = store.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=2)
        assert Counter(j.hook_id for j in mine) == {busy: 2, calm: 2}
        theirs = other.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=2)
        assert theirs == []
    assert other.claim_due(now=now, lease_seconds=30, limit=10, per_hook_limit=2) == []
    # After A's leases run out (A died), B takes the same deliveries, same ids first.
    again = other.claim_due(now=now + 31, lease_seconds=30, limit=10, per_hook_limit=2)
    assert {j.id for j in again} == {j.id for j in mine}


def test_concurrent_claims_never_share_a_delivery(store: PostgresStore,
                                                  other: PostgresStore) -> None:
    """Without a per-hook limit two engines claim side by side (SKIP LOCKED): the
    second takes what the first's open transaction left."""
    _queue(store, 1, 6)
    now = time.time()
    with store.transaction():
        mine = store.claim_due(now=now, lease_seconds=30, limit=4)
        theirs = other.claim_due(now=now, lease_seconds=30, limit=4)
    assert len(mine) == 4
    assert len(theirs) == 2
    assert not {j.id for j in mine} & {j.id for j in theirs}


def test_two_engine_processes_share_the_queue_and_each_hooks_limit(store: PostgresStore,
                                                                    postgres_url: str
                                                                    ) -> None:
    cap = 4
    hooks = _queue(store, 3, 60)
    procs = [_claimer(postgres_url, "race", cap) for _ in range(2)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        outputs: list[list[str]] = [[], []]

        def read(i: int, proc: subprocess.Popen[str]) -> None:
            assert proc.stdout is not None
            outputs[i] = proc.stdout.read().split()

        readers = [threading.Thread(target=read, args=(i, p)) for i, p in enumerate(procs)]
        for reader in readers:
            reader.start()
        for proc in procs:  # go
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        most = 0
        while any(proc.poll() is None for proc in procs):
            leased = _leased_per_hook(postgres_url)
            most = max([most, *leased.values()])
            assert all(n <= cap for n in leased.values()), leased
        for reader in readers:
            reader.join(30)
    finally:
        for proc in procs:
            _stop(proc)
    assert [proc.returncode for proc in procs] == [0, 0]
    assert [out[-1] for out in outputs] == ["done", "done"]
    claimed = [out[:-1] for out in outputs]
    assert all(claimed), "both engines claimed"
    every = claimed[0] + claimed[1]
    assert len(every) == len(set(every)) == 3 * 60  # each delivery claimed once
    assert store.pending_count() == 0
    assert {d.status for d in store.list_deliveries(limit=1000)} == {"succeeded"}
    assert most >= 1
    assert set(hooks) == {d.hook_id for d in store.list_deliveries(limit=1000)}


def test_a_killed_engines_deliveries_are_claimed_again_after_its_lease(
        store: PostgresStore, postgres_url: str) -> None:
    _queue(store, 1, 3)
    proc = _claimer(postgres_url, "hold", 5)
    try:
        assert proc.stdout is not None
        held = []
        for line in proc.stdout:
            if line.strip() == "held":
                break
            held.append(line.strip())
    finally:
        _stop(proc)
    assert len(held) == 3
    now = time.time()
    assert store.claim_due(now=now, lease_seconds=30, limit=10) == []
    again = store.claim_due(now=now + 5.1, lease_seconds=30, limit=10)
    assert sorted(j.id for j in again) == sorted(held)
    assert all(j.attempts == 0 for j in again)


# -- change feed ------------------------------------------------------------------------

def test_publishing_elsewhere_wakes_a_waiting_engine(store: PostgresStore,
                                                     postgres_url: str) -> None:
    assert store.wait_for_change(0) is False  # starts listening
    version = store.data_version()
    code = ("import sys; from hookadmin.core.store.postgres import PostgresStore; "
            "s = PostgresStore(sys.argv[1]); s.add_events([('job.failed', b'{}')]); s.close()")
    started = time.monotonic()
    publisher = subprocess.Popen([sys.executable, "-c", code, postgres_url], cwd=ROOT)
    try:
        assert store.wait_for_change(30) is True
    finally:
        publisher.wait(30)
    assert time.monotonic() - started < 20  # woken by the notification, not the timeout
    assert publisher.returncode == 0
    assert store.outbox_waiting() == 1
    assert store.data_version() != version


def test_hook_changes_notify_and_quiet_times_out(store: PostgresStore,
                                                 other: PostgresStore) -> None:
    assert other.wait_for_change(0) is False
    hook = store.add_hook(name="", url="https://example.com/h", events=["job"], active=True)
    assert other.wait_for_change(10) is True
    store.update_hook(hook.id, active=False)
    assert other.wait_for_change(10) is True
    store.record_attempts([])  # nothing to record: nothing said
    started = time.monotonic()
    assert other.wait_for_change(0.3) is False
    assert time.monotonic() - started >= 0.25
    before = other.data_version()
    assert other.data_version() == before  # nothing new
    store.delete_hook(hook.id)
    assert other.wait_for_change(10) is True


def test_data_version_changes_without_waiting(store: PostgresStore,
                                             other: PostgresStore) -> None:
    before = other.data_version()  # starts listening
    store.add_events([("job.failed", b"{}")])
    deadline = time.monotonic() + 10
    while other.data_version() == before:  # polled, as the bookkeeper does each turn
        assert time.monotonic() < deadline, "the notification never arrived"
    after = other.data_version()
    assert other.data_version() == after


def test_a_lost_listening_connection_is_made_again(store: PostgresStore) -> None:
    assert store.wait_for_change(0) is False
    feed = store._change_feed()
    with psycopg.connect(cluster_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (feed._db.info.backend_pid,))

    def wait_until_the_cut_is_noticed() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            store.wait_for_change(0.05)

    with pytest.raises(StoreUnavailable, match="connection failed or was lost"):
        wait_until_the_cut_is_noticed()
    assert store.wait_for_change(0) is True  # listening again: changes may have been missed
    store.add_events([("job.failed", b"{}")])
    assert store.wait_for_change(10) is True


def test_a_deadlock_between_machines_reads_as_a_conflict(store: PostgresStore,
                                                         other: PostgresStore) -> None:
    first, second = (store.add_hook(name="", url="https://example.com/h", events=["job"],
                                    active=True).id for _ in range(2))
    both_hold_one = threading.Barrier(2, timeout=20)
    results: dict[str, str] = {}

    def change(s: PostgresStore, a: int, b: int, key: str) -> None:
        try:
            with s.transaction():
                s.update_hook(a, name=key)
                both_hold_one.wait()
                s.update_hook(b, name=key)
            results[key] = "committed"
        except StoreConflict as err:
            results[key] = str(err)

    threads = [threading.Thread(target=change, args=(store, first, second, "one")),
               threading.Thread(target=change, args=(other, second, first, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2
    assert list(results.values()).count("committed") == 1
    (message,) = (v for v in results.values() if v != "committed")
    assert message.endswith("collided with another machine's; try again.")
    _one_sentence(message)
    winner = next(k for k, v in results.items() if v == "committed")
    assert {store.get_hook(first).name, store.get_hook(second).name} == {winner}


def test_a_rolled_back_publish_says_nothing(store: PostgresStore,
                                            other: PostgresStore) -> None:
    assert other.wait_for_change(0) is False

    def publish_then_fail() -> None:
        with store.transaction():
            store.add_events([("job.failed", b"{}")])
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert other.wait_for_change(0.3) is False
    assert store.outbox_waiting() == 0


# -- errors -----------------------------------------------------------------------------

def _with(url: str, *, password: str | None = None, port: int | None = None,
          database: str | None = None, host: str | None = None) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    netloc = f"{user}:{parts.password if password is None else password}@" \
        f"{host or parts.hostname}:{parts.port if port is None else port}"
    path = parts.path if database is None else "/" + database
    return urlunsplit(parts._replace(netloc=netloc, path=path))


def _one_sentence(message: str, *secrets: str) -> None:
    assert message.endswith(".")
    assert message.count(". ") == 0
    assert "\n" not in message
    for secret in secrets:
        assert secret not in message


def test_connection_errors_are_one_sentence_without_the_password(postgres_url: str,
                                                                 closed_port: int) -> None:
    real = urlsplit(cluster_url()).password
    assert real
    cases = {
        _with(postgres_url, password="wrong-Secret-42"): "refused the user name or password",
        _with(postgres_url, port=closed_port): "nothing accepts connections there",
        _with(postgres_url, database="no_such_database"): "that database does not exist",
        _with(postgres_url, host="no-such-host.invalid"): "cannot be resolved",
        "this is not a URL": "not a valid PostgreSQL connection URL",
        "postgresql://u@h:notaport/db": "its port is not a number",
    }
    for url, why in cases.items():
        with pytest.raises(StoreUnavailable) as caught:
            PostgresStore(url)
        message = str(caught.value)
        assert why in message, message
        assert message.startswith("Cannot use ")
        _one_sentence(message, real, "wrong-Secret-42")


def test_a_server_going_away_is_one_sentence_and_the_next_call_reconnects(
        store: PostgresStore, postgres_url: str) -> None:
    real = urlsplit(cluster_url()).password
    assert real
    store.add_hook(name="", url="https://example.com/h", events=["job"], active=True)
    pid = store.db.info.backend_pid

    def lose_the_connection_in_a_transaction() -> None:
        with store.transaction():
            with psycopg.connect(cluster_url(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            store.list_hooks()

    with pytest.raises(StoreUnavailable) as caught:
        lose_the_connection_in_a_transaction()
    message = str(caught.value)
    assert "connection failed or was lost" in message or "shutting down" in message, message
    _one_sentence(message, real)
    assert len(store.list_hooks()) == 1  # a new connection
    assert store.db.info.backend_pid != pid


def test_store_error_for_a_database_from_a_newer_hookadmin_is_not_unavailable(
        store: PostgresStore, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE hookadmin_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StoreError) as caught:
        PostgresStore(postgres_url)
    assert not isinstance(caught.value, StoreUnavailable)
    _one_sentence(str(caught.value))
