"""The SQLite store: one database file per data directory.

The file is in WAL mode, so the window, headless workers and any number of
``hookadmin publish`` processes can use it at once. Secrets are never stored here
(see :mod:`hookadmin.core.secrets`).

Times are Unix seconds (float) except a hook's ``created_at``/``updated_at``, which
are the §4 ISO-8601 strings.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from hookadmin.core.errors import (
    DataDirectoryError,
    StoreBusyError,
    StoreError,
    StoreFault,
    StoreFullError,
)
from hookadmin.core.store.sqlite.audit import AuditPart
from hookadmin.core.store.sqlite.checkpoints import Checkpointer
from hookadmin.core.store.sqlite.faults import FaultTranslatingConnection, busy_timeout
from hookadmin.core.store.sqlite.history import HistoryPart
from hookadmin.core.store.sqlite.hooks import HooksPart
from hookadmin.core.store.sqlite.metrics import MetricsPart
from hookadmin.core.store.sqlite.ordered import OrderedPart
from hookadmin.core.store.sqlite.queue import QueuePart
from hookadmin.core.store.sqlite.schema import DB_FILENAME, migrate
from hookadmin.core.store.sqlite.settings import SettingsPart


class SQLiteStore(HooksPart, QueuePart, HistoryPart, SettingsPart, AuditPart, MetricsPart,
                  OrderedPart):
    """The SQLite implementation of :class:`hookadmin.core.store.ports.Repository`:
    hooks, outbox, queue, history and settings in one file. One instance per thread
    (sqlite3 connections are not shared across threads); open as many as needed, in as
    many processes as needed.

    Args:
        path: the database file; its folder is created if missing.
        durable: ``synchronous=FULL`` (survives power loss) instead of ``NORMAL``
            (survives a crash of the process, which is what the engine needs).
        checkpoint_thread: checkpoint the write-ahead log on a thread of its own
            (:mod:`hookadmin.core.store.sqlite.checkpoints`) instead of in the commit
            that filled it, so no transaction of this connection waits for one (the
            engine's bookkeeper).

    Every method raises :class:`~hookadmin.core.errors.StoreBusyError` when another
    process held the database's write lock for longer than the busy timeout
    (``HOOKADMIN_BUSY_TIMEOUT``, :mod:`hookadmin.core.store.sqlite.faults`),
    :class:`~hookadmin.core.errors.StoreFullError` when the disk is full and a plain
    :class:`~hookadmin.core.errors.StoreFault` when it failed; nothing of the failed
    transaction is written then.

    Raises:
        StoreError: the file cannot be opened, is not a hookadmin database, or was
            written by a newer hookadmin.
        DataDirectoryError: its folder cannot be created or used.
        StoreBusyError, StoreFullError: as any method (nothing was written).
    """

    def __init__(self, path: Path, *, durable: bool = True,
                 checkpoint_thread: bool = False) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout(),
                                       check_same_thread=False,
                                       factory=FaultTranslatingConnection)
        except sqlite3.DatabaseError as err:
            raise _cannot_open(path, err) from err
        except OSError as err:
            raise DataDirectoryError(path.parent, str(err.strerror or err)) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("PRAGMA foreign_keys=ON")
            migrate(self._db, path)
            self._claim_identity()
            if checkpoint_thread:
                self._db.execute("PRAGMA wal_autocheckpoint=0")
                self._checkpointer = Checkpointer(path)
        except (StoreFullError, StoreBusyError):
            self._db.close()
            raise  # the machine's fault, said as such: the file itself is fine
        except StoreFault as err:
            self._db.close()
            raise _cannot_open(path, err.__cause__ or err) from err
        except StoreError:
            self._db.close()
            raise
        except OSError as err:
            self._db.close()
            raise DataDirectoryError(path.parent, str(err.strerror or err)) from None
        self.store_id = self._meta("store_id")
        parents = self._db.execute("SELECT value FROM meta WHERE key = 'parent_store_ids'"
                                   ).fetchone()
        self.parent_store_ids: list[str] = json.loads(parents[0]) if parents else []

    def _claim_identity(self) -> None:
        """Give a copied database its own keyring namespace.

        The database remembers where it lives. Opened somewhere else while the original
        still exists, it is a copy (a backup, a test copy): it gets a new store id and
        reads the original's secrets as its parent's, read-only, so it never changes
        or deletes them. A database that was moved (the original path is gone) keeps
        its id.
        """
        here = str(self.path.resolve())
        row = self._db.execute("SELECT value FROM meta WHERE key = 'db_path'").fetchone()
        if row is not None and row[0] == here:
            return
        with self.transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'db_path'").fetchone()
            if row is not None and row[0] != here and Path(row[0]).exists():
                old = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0]
                parents_row = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'parent_store_ids'").fetchone()
                parents = [old, *(json.loads(parents_row[0]) if parents_row else [])]
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'store_id'",
                                 (str(uuid.uuid4()),))
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('parent_store_ids', ?)",
                                 (json.dumps(parents),))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('db_path', ?)", (here,))

    @classmethod
    def in_home(cls, home: Path, *, durable: bool = True,
                checkpoint_thread: bool = False) -> SQLiteStore:
        """Open the database of a data directory (arguments as the class's)."""
        return cls(home / DB_FILENAME, durable=durable, checkpoint_thread=checkpoint_thread)

    def close(self) -> None:
        """Close the connection (and stop its checkpoint thread, if any)."""
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(f"The database {self.path} has no {key}; it is damaged, restore "
                             "it from a backup or choose another --home.")
        return str(row[0])

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])



def _cannot_open(path: Path, err: BaseException) -> StoreError:
    return StoreError(f"Cannot open the database {path} ({err}); check the file and its "
                      "folder's permissions, or choose another --home.")
