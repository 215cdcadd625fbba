"""The PostgreSQL implementation of the store (team mode, DESIGN §9): one database
shared by every window and worker on any number of machines."""

from __future__ import annotations

from hookadmin.core.errors import StoreUnavailable
from hookadmin.core.store.postgres.connection import ChangeFeed
from hookadmin.core.store.postgres.store import PostgresStore

__all__ = ["PostgresChangeFeed", "PostgresStore"]


class PostgresChangeFeed:
    """Tells whether any machine published events, changed a hook or made deliveries
    due since the last look (see :class:`hookadmin.core.store.ports.ChangeFeed`): a
    ``LISTEN`` connection of its own whose notifications are collected without
    waiting.

    Args:
        url: the database URL (libpq conventions).

    Raises:
        StoreUnavailable: the connection cannot be made.
    """

    def __init__(self, url: str) -> None:
        self._feed = ChangeFeed(url)
        self._first = True

    def changed(self) -> bool:
        """True when a notification arrived since the last call (and at the first
        call, or when the connection was lost: it cannot tell then)."""
        if self._first:
            self._first = False
            return True
        try:
            return bool(self._feed.wait(0))
        except StoreUnavailable:
            return True

    def close(self) -> None:
        """Close the connection."""
        self._feed.close()
