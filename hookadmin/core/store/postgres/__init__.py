"""The PostgreSQL implementation of the store (team mode, DESIGN §9): one database
shared by every window and worker on any number of machines."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from hookadmin.core.errors import StoreUnavailable
from hookadmin.core.store import wakeups
from hookadmin.core.store.postgres.connection import ChangeFeed
from hookadmin.core.store.postgres.store import PostgresStore

__all__ = ["PostgresChangeFeed", "PostgresStore"]

RECONNECT_SECONDS = 1.0


class PostgresChangeFeed:
    """Tells whether any machine published events, changed a hook or made deliveries
    due since the last look (see :class:`hookadmin.core.store.ports.ChangeFeed`): a
    ``LISTEN`` connection of its own whose notifications are collected without
    waiting, or as soon as they arrive once :meth:`watch` is called (the event loop
    watches the connection's socket). A publisher in this process wakes the watcher
    directly too, without waiting for the server's notification.

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
        self._pending = False  # notifications read by the watcher, not yet reported
        self._signalled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: Callable[[], None] | None = None
        self._watched: int | None = None  # the descriptor the loop watches
        self._unlisten: Callable[[], None] | None = None

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
            self._watch_socket()
            return True
        pending, self._pending = self._pending, False
        return self._collect() or pending

    def _collect(self) -> bool:
        """Read the notifications that arrived, without waiting; True if there were
        any, or the connection was lost (then it is dropped, made again later)."""
        assert self._feed is not None
        try:
            got = self._feed.wait(0)
        except StoreUnavailable:
            self._drop()
            self._retry_at = time.monotonic() + RECONNECT_SECONDS
            return True
        if ChangeFeed.RECONNECTED in got and self._watched is not None:
            self._unwatch_socket()  # made again by wait(): watch the new socket
            self._watch_socket()
        return bool(got)

    def watch(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        """Call ``wake`` on ``loop`` (whose thread calls this and every other method)
        as soon as a notification arrives, or a publisher of this process commits,
        until :meth:`close`."""
        if self._loop is not None:
            return
        self._loop, self._wake = loop, wake
        self._watch_socket()

        def from_this_process() -> None:  # on the publisher's thread
            self._signalled = True
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake)

        self._unlisten = wakeups.listen(self._url, from_this_process)

    def _watch_socket(self) -> None:
        if self._loop is None or self._feed is None or self._watched is not None:
            return
        fd = self._feed.fileno()
        if fd is not None:
            self._loop.add_reader(fd, self._readable)
            self._watched = fd

    def _unwatch_socket(self) -> None:
        if self._watched is not None and self._loop is not None \
                and not self._loop.is_closed():
            self._loop.remove_reader(self._watched)
        self._watched = None

    def _readable(self) -> None:
        """The listening socket has something: take it, so it is not readable again
        for the same notifications, and wake the watcher."""
        if self._feed is not None and self._collect():
            self._pending = self._signalled = True
            if self._wake is not None:
                self._wake()

    def signalled(self) -> bool:
        """True when a notification arrived or a publisher of this process committed
        since the last call."""
        signalled, self._signalled = self._signalled, False
        return signalled

    def _drop(self) -> None:
        self._unwatch_socket()
        if self._feed is not None:
            self._feed.close()
            self._feed = None

    def close(self) -> None:
        """Stop watching and close the connection."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._drop()
