"""Storage: hooks, the outbox, deliveries and attempts, settings.

Callers depend on the protocols in :mod:`hookadmin.core.store.ports` and open a store
with :func:`open_store` (and a change feed with :func:`open_change_feed`); they never
name a database. The records they exchange are in :mod:`hookadmin.core.store.records`.
:mod:`hookadmin.core.store.sqlite` is the embedded implementation: one SQLite file
(WAL mode) in the data directory. Secrets are never stored here (see
:mod:`hookadmin.core.secrets`).
"""

from __future__ import annotations

from pathlib import Path

from hookadmin.core.store.ports import (
    ChangeFeed,
    DeliveryHistory,
    DeliveryQueue,
    HookRepository,
    Outbox,
    Repository,
    SettingsRepository,
)
from hookadmin.core.store.records import Attempt, AttemptRecord, Delivery, DeliveryJob, iso
from hookadmin.core.store.sqlite import (
    DB_FILENAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLiteChangeFeed,
    SQLiteStore,
)

Store = SQLiteStore  # the name this class had before storage had an interface


def open_store(home: Path, *, durable: bool = True) -> Repository:
    """Open the store of a data directory: its SQLite database (created and migrated
    when needed).

    Args:
        home: the data directory.
        durable: commits survive a power loss (``True``), or only a crash of the
            process (``False``, what an engine's bookkeeping needs).

    Raises:
        StoreError: the database cannot be opened, is not a hookadmin database, or was
            written by a newer hookadmin.
    """
    return SQLiteStore.in_home(home, durable=durable)


def open_change_feed(home: Path) -> ChangeFeed | None:
    """A change feed of the data directory's store, or None when it cannot be opened
    (then look at the store every time)."""
    return SQLiteChangeFeed.open(home)


__all__ = [
    "DB_FILENAME", "MIGRATIONS", "SCHEMA_VERSION", "Attempt", "AttemptRecord", "ChangeFeed",
    "Delivery", "DeliveryHistory", "DeliveryJob", "DeliveryQueue", "HookRepository", "Outbox",
    "Repository", "SQLiteChangeFeed", "SQLiteStore", "SettingsRepository", "Store", "iso",
    "open_change_feed", "open_store",
]
