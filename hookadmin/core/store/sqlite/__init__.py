"""The SQLite implementation of the store: one WAL-mode file per data directory,
split by concern (schema and migrations, hooks, queue, history, settings, change
feed)."""

from hookadmin.core.store.sqlite.feed import SQLiteChangeFeed
from hookadmin.core.store.sqlite.schema import DB_FILENAME, MIGRATIONS, SCHEMA_VERSION
from hookadmin.core.store.sqlite.store import SQLiteStore

__all__ = ["DB_FILENAME", "MIGRATIONS", "SCHEMA_VERSION", "SQLiteChangeFeed", "SQLiteStore"]
