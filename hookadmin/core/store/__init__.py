"""Storage: hooks, the outbox, deliveries and attempts, settings.

Callers depend on the protocols in :mod:`hookadmin.core.store.ports` and open a store
with :func:`open_store` (and a change feed with :func:`open_change_feed`); they never
name a database. The records they exchange are in :mod:`hookadmin.core.store.records`.
Two implementations: :mod:`hookadmin.core.store.sqlite`, the embedded default (one
SQLite file, WAL mode, in the data directory), and :mod:`hookadmin.core.store.postgres`
for team mode (one PostgreSQL database shared by every machine; imported only when a
``postgresql://`` URL is opened). Secrets are never stored in the SQLite file (see
:mod:`hookadmin.core.secrets`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from hookadmin.core.store.location import (
    DATABASE_ENV,
    URL_SCHEMES,
    StoreLocation,
    as_location,
    resolve_location,
)

if TYPE_CHECKING:
    from hookadmin.core.store.ports import (
        ChangeFeed,
        DeliveryHistory,
        DeliveryQueue,
        HistoryImport,
        HookRepository,
        Outbox,
        Repository,
        SettingsRepository,
    )
    from hookadmin.core.store.records import (
        Attempt,
        AttemptRecord,
        Delivery,
        DeliveryJob,
        HookHealth,
        ImportedDelivery,
        iso,
    )
    from hookadmin.core.store.sqlite import (
        DB_FILENAME,
        MIGRATIONS,
        SCHEMA_VERSION,
        SQLiteChangeFeed,
        SQLiteStore,
    )

    Store = SQLiteStore  # the name this class had before storage had an interface

# The protocols, the records and the SQLite store are imported when first named, not
# with the package: the window resolves its location and paints its first frame before
# it needs any of them (about 0.1 s of imports).
_LAZY = {
    **dict.fromkeys(("ChangeFeed", "DeliveryHistory", "DeliveryQueue", "HistoryImport",
                     "HookRepository", "Outbox", "Repository", "SettingsRepository"),
                    "hookadmin.core.store.ports"),
    **dict.fromkeys(("Attempt", "AttemptRecord", "Delivery", "DeliveryJob", "HookHealth",
                     "ImportedDelivery", "iso"), "hookadmin.core.store.records"),
    **dict.fromkeys(("DB_FILENAME", "MIGRATIONS", "SCHEMA_VERSION", "SQLiteChangeFeed",
                     "SQLiteStore"), "hookadmin.core.store.sqlite"),
}


def __getattr__(name: str) -> object:
    """The names of :data:`_LAZY`, imported on first use (``Store`` is ``SQLiteStore``).

    Raises:
        AttributeError: ``name`` is not a name of this package.
    """
    module = _LAZY.get("SQLiteStore" if name == "Store" else name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), "SQLiteStore" if name == "Store" else name)
    globals()[name] = value
    return value


def is_database_url(location: Path | str | StoreLocation) -> bool:
    """True when ``location`` is a PostgreSQL URL (``postgresql://…`` or
    ``postgres://…``, or a :class:`StoreLocation` with one), not a data directory."""
    if isinstance(location, StoreLocation):
        return location.team
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def _target(location: Path | str | StoreLocation) -> Path | str:
    if isinstance(location, StoreLocation):
        return location.url if location.url is not None else location.home
    return location


def open_store(location: Path | str | StoreLocation, *, durable: bool = True,
               checkpoint_thread: bool = False) -> Repository:
    """Open a store: a ``postgresql://`` URL (libpq conventions) opens that PostgreSQL
    database; anything else is a data directory, whose SQLite database is created and
    migrated when needed.

    Args:
        location: a data directory, or a PostgreSQL URL.
        durable: SQLite only: commits survive a power loss (``True``), or only a crash
            of the process (``False``, what an engine's bookkeeping needs).
        checkpoint_thread: SQLite only: checkpoint the write-ahead log on a thread of
            its own, so no transaction waits for a checkpoint (the engine's bookkeeping;
            :mod:`hookadmin.core.store.sqlite.checkpoints`).

    Raises:
        StoreUnavailable: the PostgreSQL server cannot be reached or refuses the
            connection.
        StoreError: the database cannot be opened, is not a hookadmin database (an
            empty PostgreSQL database is set up by ``hookadmin team init``), or was
            written by a newer hookadmin.
    """
    location = _target(location)
    if is_database_url(location):
        from hookadmin.core.store.postgres import PostgresStore

        return PostgresStore(str(location))
    from hookadmin.core.store.sqlite import SQLiteStore

    return SQLiteStore.in_home(Path(location), durable=durable,
                               checkpoint_thread=checkpoint_thread)


def init_team_store(location: StoreLocation) -> Repository:
    """Set up hookadmin's schema in the empty PostgreSQL database of ``location``
    (``hookadmin team init``) and open it.

    Raises:
        StoreUnavailable: the server cannot be reached or refuses the connection.
        StoreError: the database is not empty: it holds another application's tables,
            or hookadmin's schema already (nothing is changed then).
    """
    if location.url is None:
        raise ValueError("team databases are PostgreSQL databases")
    from hookadmin.core.store.postgres import PostgresStore

    return PostgresStore.init_new(location.url)


def open_change_feed(location: Path | str | StoreLocation) -> ChangeFeed | None:
    """A change feed of the store at ``location`` (as for :func:`open_store`), or None
    when it cannot be opened (then look at the store every time)."""
    location = _target(location)
    if is_database_url(location):
        from hookadmin.core.errors import StoreUnavailable
        from hookadmin.core.store.postgres import PostgresChangeFeed

        try:
            return PostgresChangeFeed(str(location))
        except StoreUnavailable:
            return None
    from hookadmin.core.store.sqlite import SQLiteChangeFeed

    return SQLiteChangeFeed.open(Path(location))


__all__ = [
    "DATABASE_ENV",
    "DB_FILENAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "URL_SCHEMES",
    "Attempt",
    "AttemptRecord",
    "ChangeFeed",
    "Delivery",
    "DeliveryHistory",
    "DeliveryJob",
    "DeliveryQueue",
    "HistoryImport",
    "HookHealth",
    "HookRepository",
    "ImportedDelivery",
    "Outbox",
    "Repository",
    "SQLiteChangeFeed",
    "SQLiteStore",
    "SettingsRepository",
    "Store",
    "StoreLocation",
    "as_location",
    "init_team_store",
    "is_database_url",
    "iso",
    "open_change_feed",
    "open_store",
    "resolve_location",
]
