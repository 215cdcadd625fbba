"""The engine's bookkeeper leaves SQLite's checkpoints to a thread: its own commits
never copy the write-ahead log back into the database file (which made a turn wait
5 to 20 ms now and then in a retry storm); the thread does, and every other store
keeps SQLite's own automatic checkpoints."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from hookadmin.core.store import DB_FILENAME, SQLiteStore, open_store
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.store.sqlite.checkpoints import Checkpointer
from tests.helpers import wait_until

BODY = b'{"job": "' + b"x" * 4000 + b'"}'
EVENTS = 1500  # about 6 MB: past SQLite's 1,000-page (4 MiB) automatic checkpoint


def test_the_bookkeepers_store_checkpoints_on_a_thread_not_in_its_commits(
        tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    store = open_store(tmp_path, durable=False, checkpoint_thread=True)
    assert isinstance(store, SQLiteStore)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    store.add_events([("job.completed", BODY)] * EVENTS)
    # The log's pages reach the database file only by a checkpoint: the thread's.
    wait_until(lambda: checkpointer.done >= 1 and path.stat().st_size >= EVENTS * len(BODY),
               "the write-ahead log checkpointed into the database file")
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM events").fetchone()[0] == EVENTS
    other.close()
    store.close()
    assert not checkpointer._thread.is_alive()


def test_other_stores_keep_sqlites_own_checkpoints(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / DB_FILENAME) as store:
        assert store._checkpointer is None
        assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_a_team_database_opens_as_before_for_the_bookkeeper(postgres_url: str) -> None:
    PostgresStore.init(postgres_url).close()
    store = open_store(postgres_url, durable=False, checkpoint_thread=True)
    try:
        assert isinstance(store, PostgresStore)
        store.add_events([("job.completed", b"{}")])
        assert store.outbox_waiting()
    finally:
        store.close()


class _CloseLandsBeforeClear(threading.Event):
    """The checkpoint thread's "written" flag, with the one interleaving a real run hit
    now and then: :meth:`Checkpointer.close` runs (sets the stop and this flag) right
    before the thread clears this flag."""

    def __init__(self) -> None:
        super().__init__()
        self.checkpointer: Checkpointer | None = None
        self.closer: threading.Thread | None = None

    def clear(self) -> None:
        checkpointer = self.checkpointer
        if checkpointer is not None and self.closer is None:
            self.closer = threading.Thread(target=checkpointer.close, daemon=True)
            self.closer.start()
            # close() has set the stop flag and this one before the thread goes on.
            assert checkpointer._stop.wait(5)
            wait_until(self.is_set, "close() set the written flag")
        super().clear()


def test_close_ends_the_thread_whenever_it_lands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bookkeeper whose engine ended hung for good in close(): the thread cleared the
    # flag close() had just set and waited for a write that never came.
    path = tmp_path / DB_FILENAME
    sqlite3.connect(path).execute("PRAGMA journal_mode=wal").fetchall()
    flag = _CloseLandsBeforeClear()
    events = iter([flag])
    real_event = threading.Event
    with monkeypatch.context() as patch:  # the first Event the checkpointer makes
        patch.setattr(threading, "Event", lambda: next(events, None) or real_event())
        checkpointer = Checkpointer(path, interval=0.0)
    assert checkpointer._written is flag
    flag.checkpointer = checkpointer
    checkpointer.written()
    wait_until(lambda: flag.closer is not None, "close() ran")
    assert flag.closer is not None
    flag.closer.join(5)
    assert not flag.closer.is_alive(), "close() still waits for the checkpoint thread"
