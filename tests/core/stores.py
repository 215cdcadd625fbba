"""What the store tests share: an attempt's outcome, a hook, one claimed delivery, and
counting a table's rows behind the store's back (on a connection of its own)."""

from __future__ import annotations

import sqlite3
import time

import psycopg

from hookadmin.core.store import AttemptRecord, DeliveryJob, Repository, SQLiteStore
from hookadmin.core.store.postgres import PostgresStore


def attempt(status: int | None = 200, kind: str | None = None,
            started_at: float | None = None) -> AttemptRecord:
    """An attempt to ``https://example.com/h`` that took 12.5 ms, answered ``status``
    (with body ``ok``) or, with ``status`` None, got no answer; ``kind`` is its error
    kind (None for success). ``started_at`` is Unix seconds (default: now)."""
    return AttemptRecord(
        started_at=time.time() if started_at is None else started_at, duration_ms=12.5,
        request_url="https://example.com/h", request_headers={"X-Hook-Event": "job.failed"},
        status_code=status,
        response_headers=None if status is None else [("Content-Type", "text/plain")],
        response_body=None if status is None else b"ok", response_truncated=False,
        error_kind=kind, error_message=None if kind is None else f"it was {kind}")


def add_hook(store: Repository, events: list[str], *, active: bool = True) -> int:
    """A new web hook subscribed to ``events``; returns its id."""
    return store.add_hook(name="", url="https://example.com/h", events=events,
                          active=active).id


def one_job(store: Repository, hook: int | None = None) -> DeliveryJob:
    """One claimed delivery (body ``{"id": 9}``) to ``hook``, or to a new hook."""
    if hook is None:
        hook = add_hook(store, ["job"])
    store.add_events([("job.failed", b'{"id": 9}')], target_hook_id=hook)
    now = time.time()
    store.fan_out(now=now)
    (job,) = store.claim_due(now=now, lease_seconds=30, limit=1)
    return job


def pg_rows(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run ``sql`` on the PostgreSQL database ``url`` (autocommit); its rows, if any."""
    with psycopg.connect(url, autocommit=True) as db:
        cur = db.execute(sql, params)
        return cur.fetchall() if cur.description else []


def sqlite_rows(path: object, sql: str) -> list[tuple[object, ...]]:
    """Run ``sql`` on the SQLite database file ``path``; its rows."""
    db = sqlite3.connect(str(path))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def count_rows(store: Repository, table: str) -> int:
    """The number of rows of ``table`` in the store's database."""
    sql = f"SELECT count(*) FROM {table}"
    if isinstance(store, PostgresStore):
        return int(pg_rows(store.url, sql)[0][0])  # type: ignore[call-overload]
    assert isinstance(store, SQLiteStore)
    return int(sqlite_rows(store.path, sql)[0][0])  # type: ignore[call-overload]
