"""SQLite's own faults become one-sentence StoreFaults
(hookadmin.core.store.sqlite.faults), raised by the SQLite store itself; the faults are
real SQLite errors, made without root: a page limit for a full disk, a second
connection's write transaction for a lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hookadmin.core.errors import StoreBusyError, StoreFullError
from hookadmin.core.store import SQLiteStore, open_store
from hookadmin.core.store.sqlite.faults import (
    BUSY_TIMEOUT_ENV,
    DEFAULT_BUSY_TIMEOUT,
    busy_timeout,
    store_fault,
)
from tests.helpers import WriteLock, body, db_rows


def test_a_full_database_is_named_so(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "db", isolation_level=None)
    db.execute("CREATE TABLE t (b BLOB)")
    db.execute("PRAGMA max_page_count = 8")  # SQLite answers SQLITE_FULL past 8 pages
    with pytest.raises(sqlite3.OperationalError) as raised:
        db.execute("INSERT INTO t SELECT zeroblob(4000) FROM (VALUES (1), (2), (3), (4), (5),"
                   " (6), (7), (8), (9), (10))")
    err = store_fault(raised.value, unsaved="nothing was queued")
    assert isinstance(err, StoreFullError)
    assert str(err) == ("The disk holding hookadmin's database is full, so nothing was "
                        "queued; free some space and try again.")


def test_a_lock_held_too_long_is_named_so(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.1")
    holder = sqlite3.connect(tmp_path / "db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(tmp_path / "db", isolation_level=None, timeout=busy_timeout())
    with pytest.raises(sqlite3.OperationalError) as raised:
        other.execute("BEGIN IMMEDIATE")
    err = store_fault(raised.value)
    assert isinstance(err, StoreBusyError)
    assert "locked by another process" in str(err)
    assert "for more than 0.1 s, so nothing was saved" in str(err)
    holder.execute("COMMIT")


@pytest.mark.parametrize(("value", "seconds"), [("2.5", 2.5), ("0", 0.0), ("soon", None),
                                                ("-1", None), ("inf", None)])
def test_the_busy_timeout_comes_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, value: str, seconds: float | None) -> None:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, value)
    assert busy_timeout() == (DEFAULT_BUSY_TIMEOUT if seconds is None else seconds)


# -- raised by the store itself ------------------------------------------------------------

def test_the_store_raises_a_busy_fault_itself_and_works_once_the_lock_is_gone(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.1")
    with open_store(home) as store:
        with WriteLock(home), pytest.raises(StoreBusyError) as raised:
            store.add_events([("job.failed", body("job.failed"))])
        assert not isinstance(raised.value, sqlite3.Error)
        assert "for more than 0.1 s, so nothing was saved" in str(raised.value)
        assert store.add_events([("job.failed", body("job.failed"))])  # usable again
    assert db_rows(home, "SELECT count(*) FROM events") == [(1,)]


def test_a_full_database_rolls_the_transaction_back_and_the_store_stays_usable(
        home: Path) -> None:
    with open_store(home) as store:
        assert isinstance(store, SQLiteStore)
        pages = db_rows(home, "PRAGMA page_count")[0][0]
        assert isinstance(pages, int)
        store._db.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLITE_FULL past that
        big = [("job.failed", body("job.failed", i)) for i in range(400)]
        with pytest.raises(StoreFullError) as raised:
            store.add_events(big)
        assert str(raised.value.saying("nothing was queued")) == (
            "The disk holding hookadmin's database is full, so nothing was queued; free "
            "some space and try again.")
        assert not store._db.in_transaction  # rolled back, not left open
        assert db_rows(home, "SELECT count(*) FROM events") == [(0,)]
        store._db.execute("PRAGMA max_page_count = 1073741823")  # room again
        assert len(store.add_events(big)) == 400
