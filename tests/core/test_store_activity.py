"""The SQLite store's activity chart table (attempts per minute and hook): counted as
attempts are recorded, in one upsert per minute and hook, and kept across the upgrade
from the schema that counted them with a trigger."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from hookadmin.core.store import DB_FILENAME, SCHEMA_VERSION, AttemptRecord, DeliveryJob, Store
from hookadmin.core.store.sqlite.schema import MIGRATIONS


def attempt(status: int | None, started_at: float, duration_ms: float | None = 10.0
            ) -> AttemptRecord:
    """An attempt's outcome: a 2xx succeeds, anything else (or None) fails."""
    ok = status is not None and 200 <= status < 300
    return AttemptRecord(
        started_at=started_at, duration_ms=duration_ms, request_url="https://example.com/h",
        request_headers={}, status_code=status, response_headers=None, response_body=None,
        response_truncated=False, error_kind=None if ok else
        ("timeout" if status is None else "http_status"), error_message=None)


def claimed(store: Store, hook_id: int, count: int) -> list[DeliveryJob]:
    """``count`` claimed deliveries to ``hook_id``."""
    store.add_events([("job.failed", b"{}")] * count, target_hook_id=hook_id)
    now = time.time()
    store.fan_out(now=now)
    return store.claim_due(now=now, lease_seconds=30, limit=count)


def minutes(path: Path) -> list[tuple[int, int, int, int, float, int]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT minute, hook_id, succeeded, failed, duration_sum,"
                          " duration_count FROM activity_minutes ORDER BY 1, 2").fetchall()
    finally:
        db.close()


def test_a_batch_counts_each_minute_and_hook_once(tmp_path: Path) -> None:
    with Store.in_home(tmp_path / "home") as store:
        a = store.add_hook(name="a", url="https://example.com/a", events=["job"], active=True).id
        b = store.add_hook(name="b", url="https://example.com/b", events=["job"], active=True).id
        minute = int(time.time() // 60) - 5
        t = minute * 60.0
        ja, jb = claimed(store, a, 4), claimed(store, b, 1)
        store.record_attempts([
            (ja[0], attempt(200, t + 1), None),
            (ja[1], attempt(500, t + 2, 30.0), None),
            (ja[2], attempt(None, t + 3, None), None),  # no response: no duration
            (ja[3], attempt(204, t + 61), None),  # the next minute
            (jb[0], attempt(200, t + 4, 5.0), None),
        ])
        store.record_ping(b, "ping-1", b"{}", attempt(200, t + 5, 2.5))
        assert minutes(store.path) == [(minute, a, 1, 2, 40.0, 2), (minute, b, 2, 0, 7.5, 2),
                                       (minute + 1, a, 1, 0, 10.0, 1)]
        assert store.activity(since=t) == [(t, 3, 2, 47.5 / 4), (t + 60, 1, 0, 10.0)]
        assert store.activity(since=t, hook_id=b) == [(t, 2, 0, 3.75)]


def test_an_attempt_of_a_deleted_hook_counts_nowhere(tmp_path: Path) -> None:
    with Store.in_home(tmp_path / "home") as store:
        hook = store.add_hook(name="", url="https://example.com/a", events=["job"],
                              active=True).id
        (job,) = claimed(store, hook, 1)
        store.delete_hook(hook)  # while its delivery was being sent
        assert store.record_attempts([(job, attempt(200, time.time()), None)]) == ["succeeded"]
        assert minutes(store.path) == []


def _old_database(path: Path, version: int, attempts: int, rows: str,
                  extra: str = "") -> None:
    """A database as hookadmin with schema ``version`` left it: hook 7 with one delivery
    of ``attempts`` attempts (``rows``: the VALUES of its attempt rows), then ``extra``
    SQL."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.executescript(f"""
        INSERT INTO meta VALUES ('store_id', 'old-store');
        INSERT INTO hooks (id, url, events, created_at, updated_at)
            VALUES (7, 'https://example.com/h', '["job"]', '2026-01-01', '2026-01-01');
        INSERT INTO events (seq, id, type, body, occurred_at, fanned_out)
            VALUES (1, 'e1', 'job.failed', x'7b7d', 600.0, 1);
        INSERT INTO deliveries (seq, id, event_seq, hook_id, event_type, status, attempts,
                                created_at, updated_at)
            VALUES (1, 'd1', 1, 7, 'job.failed', 'failed', {attempts}, 600.0, 660.0);
        INSERT INTO attempts (delivery_seq, number, started_at, duration_ms, request_url,
                              request_headers, status_code, error_kind)
            VALUES {rows};
        {extra}
        PRAGMA user_version = {version};
    """)
    db.close()


def _schema_12(path: Path) -> None:
    """A database as hookadmin with schema 12 left it: its activity_add trigger counted
    one hook's two attempts."""
    _old_database(path, 12, 2, """
        (1, 1, 600.0, 10.0, 'https://example.com/h', '{}', 200, NULL),
        (1, 2, 610.0, 20.0, 'https://example.com/h', '{}', 500, 'http_status')""")


def test_a_schema_12_database_upgrades_and_keeps_its_counts(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    _schema_12(path)
    assert minutes(path) == [(10, 7, 1, 1, 30.0, 2)]  # what the old trigger counted
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        db = sqlite3.connect(path)
        triggers = {r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        db.close()
        assert "activity_add" not in triggers
        assert {"activity_remove", "activity_forget_hook"} <= triggers
        (job,) = claimed(store, 7, 1)
        store.record_attempts([(job, attempt(201, 620.0, 5.0), None)])
        assert minutes(path) == [(10, 7, 2, 1, 35.0, 3)]  # added once, not twice
        assert store.activity(since=600.0) == [(600.0, 2, 1, 35.0 / 3)]
        assert store.prune(older_than=time.time()) == 2  # both deliveries were final
        assert minutes(path) == []  # activity_remove still takes pruned attempts out


@pytest.mark.parametrize("status", [200, 500])
def test_recording_one_attempt_counts_it(tmp_path: Path, status: int) -> None:
    with Store.in_home(tmp_path / "home") as store:
        hook = store.add_hook(name="", url="https://example.com/a", events=["job"],
                              active=True).id
        (job,) = claimed(store, hook, 1)
        now = time.time()
        store.record_attempt(job, attempt(status, now), next_attempt_at=None)
        ok = int(status == 200)
        assert minutes(store.path) == [(int(now // 60), hook, ok, 1 - ok, 10.0, 1)]


def test_a_schema_13_database_stops_counting_keyring_waits_as_failures(
        tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    # A success, a failure and a wait for the keyring, all three counted (the wait as a
    # failure), as hookadmin with schema 13 recorded them.
    _old_database(path, 13, 3, """
        (1, 1, 600.0, 10.0, 'https://example.com/h', '{}', 200, NULL),
        (1, 2, 605.0, NULL, 'https://example.com/h', '{}', NULL, 'secret_unavailable'),
        (1, 3, 610.0, 20.0, 'https://example.com/h', '{}', 500, 'http_status')""",
                  extra="INSERT INTO activity_minutes VALUES (10, 7, 1, 2, 30.0, 2);")
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert minutes(path) == [(10, 7, 1, 1, 30.0, 2)]  # the wait taken out
        assert store.activity(since=600.0) == [(600.0, 1, 1, 15.0)]
        assert store.prune(older_than=time.time()) == 1
        assert minutes(path) == []  # pruning takes the wait out of nothing
