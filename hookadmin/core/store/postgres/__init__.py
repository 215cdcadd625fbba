"""The PostgreSQL implementation of the store (team mode, DESIGN §9): one database
shared by every window and worker on any number of machines."""

from __future__ import annotations

import time

from hookadmin.core.errors import StoreUnavailable
from hookadmin.core.store.postgres.connection import ChangeFeed
from hookadmin.core.store.postgres.store import PostgresStore

__all__ = ["PostgresChangeFeed", "PostgresStore"]

RECONNECT_SECONDS = 1.0


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
        self._url = url
        self._feed: ChangeFeed | None = ChangeFeed(url)
        self._first = True
        self._retry_at = 0.0

    def changed(self) -> bool:
        """True when a notification arrived since the last call (and at the first
        call, or while the connection is lost: it cannot tell then; it is made again
        at most once every :data:`RECONNECT_SECONDS`)."""
        if self._first:
            self._first = False
            return True
        if self._feed is None:
            if time.monotonic() < self._retry_at:
                return True
            try:
                self._feed = ChangeFeed(self._url)
            except StoreUnavailable:
                self._retry_at = time.monotonic() + RECONNECT_SECONDS
                return True
            return True
        try:
            return bool(self._feed.wait(0))
        except StoreUnavailable:
            self._feed.close()
            self._feed = None
            self._retry_at = time.monotonic() + RECONNECT_SECONDS
            return True

    def close(self) -> None:
        """Close the connection."""
        if self._feed is not None:
            self._feed.close()
