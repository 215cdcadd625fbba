"""Checkpoints of the write-ahead log on a thread of their own.

SQLite copies the write-ahead log (WAL) back into the database file in a *checkpoint*,
by default at the end of the commit that took the log past 1,000 pages (4 MiB): that
commit then also writes those pages to the database file and syncs both files, 5 to 20 ms
on the shared test machine, while its caller waits. For the engine's bookkeeper that
caller is a turn, and in a retry storm the log passed 1,000 pages ten times a second,
so a turn that fans out and claims a fresh event now and then waited for a checkpoint
first. A store opened with ``checkpoint_thread`` turns its own connection's automatic
checkpoints off and leaves them to a :class:`Checkpointer`: a thread with a connection
of its own runs a passive checkpoint (it never blocks a writer or a reader) at most
every ``interval`` seconds while the store is written to. SQLite releases the GIL while
it checkpoints, so the turns go on meanwhile. Other processes' connections keep
SQLite's default, so the log stays bounded when no engine runs.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

#: Seconds between two checkpoints at most (while the store is written to).
CHECKPOINT_INTERVAL = 0.05


class Checkpointer:
    """Checkpoints the WAL of the database at ``path`` on a daemon thread, after writes.

    Args:
        path: the database file (in WAL mode).
        interval: seconds from one checkpoint's start to the next at least.

    A failed checkpoint (the disk, a lock) is left to the next one; a checkpoint never
    loses or changes committed data, it only moves it from the log to the file.
    """

    def __init__(self, path: Path, interval: float = CHECKPOINT_INTERVAL) -> None:
        self.interval = interval
        self.done = 0  # checkpoints run, for the tests
        self._written = threading.Event()
        self._stop = threading.Event()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._thread = threading.Thread(target=self._run, name="hookadmin-checkpoints",
                                        daemon=True)
        self._thread.start()

    def written(self) -> None:
        """Say that a transaction was committed (cheap; from any thread)."""
        self._written.set()

    def close(self) -> None:
        """Stop the thread (after the checkpoint under way, if any) and close its
        connection."""
        self._stop.set()
        self._written.set()
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        last = float("-inf")
        while True:
            self._written.wait()
            # Cleared before the stop is looked at: a close() landing at any point sets
            # the stop first, so the thread sees it (clearing after the look could undo
            # close()'s wake-up and wait for a write that never comes).
            self._written.clear()
            # Pacing: at most one checkpoint per interval; a stop ends the wait.
            if self._stop.wait(max(0.0, last + self.interval - time.monotonic())):
                return
            last = time.monotonic()
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.done += 1
