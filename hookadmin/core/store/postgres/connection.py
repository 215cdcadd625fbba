"""Connections to a team database: errors in one sentence, transactions, the change feed.

:class:`PostgresConnection` is the part of :class:`~hookadmin.core.store.postgres.
PostgresStore` that is about the connection rather than the data: it opens it (and
brings the schema up to date, :func:`~hookadmin.core.store.postgres.schema.migrate`), opens
it again after it was lost, runs transactions, and listens for changes. Every public
method of the store is wrapped in :func:`translated`, so psycopg's connection errors
reach callers as one :class:`~hookadmin.core.errors.StoreUnavailable` sentence (never
with the password), and a method that is a transaction of its own is run again after
a deadlock.

Connections follow libpq's conventions: ``postgresql://`` URLs or ``key=value``
strings, ``PGPASSWORD``, ``~/.pgpass``, service files, ``sslmode`` and the other
``PG*`` variables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hookadmin.core.errors import StoreError, StoreUnavailable
from hookadmin.core.store import wakeups
from hookadmin.core.store.postgres.schema import (
    CHANNEL,
    RETRYABLE,
    describe,
    has_schema,
    migrate,
    unavailable,
)

Connection = psycopg.Connection[tuple[Any, ...]]
P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound="PostgresConnection")

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
RETRIES = 3  # a method run on its own is run again this often after a deadlock


def translated(method: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
    """Turn psycopg's connection errors into one-sentence :class:`StoreUnavailable`;
    run a method that is its own transaction again after a deadlock (up to
    :data:`RETRIES` times; inside a caller's transaction it raises :class:`StoreError`
    at once, since only the whole transaction can be run again)."""

    def wrapper(self: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(RETRIES):
            alone = self._depth == 0
            try:
                return method(self, *args, **kwargs)
            except (*RETRYABLE, StoreConflict):
                if not alone or attempt == RETRIES - 1:
                    raise StoreConflict(f"A change to the {self.where} collided with "
                                        "another machine's; try again.") from None
            except (psycopg.OperationalError, psycopg.InterfaceError) as err:
                self.drop_connections()
                raise unavailable(err, self.where) from None
        raise AssertionError("unreachable")

    functools.update_wrapper(wrapper, method)
    return wrapper


def connect(url: str, where: str) -> Connection:
    """An autocommit connection to ``url`` (libpq conventions).

    Raises:
        StoreUnavailable: it cannot be made (one sentence, no password).
    """
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise StoreUnavailable(f"Cannot use {where}: it is not a valid PostgreSQL "
                               "connection URL; use postgresql://USER@HOST:PORT/DBNAME."
                               ) from None
    extra: dict[str, Any] = {}
    if "connect_timeout" not in info:
        extra["connect_timeout"] = CONNECT_TIMEOUT
    if "application_name" not in info:
        extra["application_name"] = "hookadmin"
    try:
        return psycopg.connect(url, autocommit=True, **extra)
    except (psycopg.OperationalError, psycopg.InterfaceError,
            psycopg.ProgrammingError) as err:
        raise unavailable(err, where) from None


class ChangeFeed:
    """A dedicated ``LISTEN`` connection: tells when hookadmin data changed anywhere.

    Args:
        url: the database URL.

    Raises:
        StoreUnavailable: the connection cannot be made.
    """

    RECONNECTED = "reconnected"
    """The payload :meth:`wait` reports after listening again on a new connection
    (what was sent meanwhile is unknown, so count it as a change)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = describe(url)
        self._db = self._listen()

    def _listen(self) -> Connection:
        db = connect(self.url, self.where)
        try:
            db.execute(f"LISTEN {CHANNEL}")
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            db.close()
            raise unavailable(err, self.where) from None
        return db

    def wait(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds (0: do not wait) for notifications.

        Returns:
            The payloads that arrived (``events``, ``hooks``, ``deliveries``), oldest
            first; empty when none came in time; :data:`RECONNECTED` alone when the
            listening connection had been lost and was made again.

        Raises:
            StoreUnavailable: the connection was lost and cannot be made again (the
                next call tries again).
        """
        if self._db.closed or self._db.broken:
            self._db = self._listen()
            return [self.RECONNECTED]
        try:
            got = [n.payload for n in self._db.notifies(timeout=max(timeout, 0.0),
                                                        stop_after=1)]
            if got:  # take what else is already waiting, without waiting again
                got += [n.payload for n in self._db.notifies(timeout=0.0)]
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            raise unavailable(err, self.where) from None
        return got

    def fileno(self) -> int | None:
        """The listening connection's socket, readable when a notification arrives
        (None: the connection is closed). It changes when :meth:`wait` makes the
        connection again."""
        if self._db.closed:
            return None
        try:
            return self._db.fileno()
        except (psycopg.OperationalError, psycopg.InterfaceError):
            return None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class StoreConflict(StoreError):
    """A transaction was rolled back because it collided with another machine's
    (a deadlock or serialization failure); running it again is safe."""


class PostgresConnection:
    """The connection side of :class:`~hookadmin.core.store.postgres.PostgresStore`
    (see the module's docstring). One instance holds one connection (and, once asked
    for changes, one listening connection): use it from one thread at a time.

    Args:
        url: a libpq connection URL (``postgresql://user@host:5432/dbname``) or
            ``key=value`` string; the password may come from ``PGPASSWORD`` or
            ``~/.pgpass`` instead.
        create: set up the schema in an empty database (``hookadmin team init``);
            without it an empty database is refused.

    Attributes:
        store_id: the database id (a UUID), the same for every machine using it.
        created: this instance set up the schema (``create`` and the database was
            empty).
        parent_store_ids: always empty (a shared database is never a copy).
        where: ``PostgreSQL database user@host:port/dbname``, for messages.

    Raises:
        StoreUnavailable: the server cannot be reached or refuses the connection.
        StoreError: the database is empty (and ``create`` is False), is not
            hookadmin's, or was set up by a newer hookadmin.
    """

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        self.where = describe(url)
        self._depth = 0
        self._notified = False  # the open transaction notifies (see wakeups)
        self._feed: ChangeFeed | None = None
        self._changes = 0
        self._db = connect(url, self.where)
        try:
            self.created = create and not has_schema(self._db)
            self._schema_version, self.store_id = migrate(self._db, self.where, create=create)
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            self._db.close()
            raise unavailable(err, self.where) from None
        except BaseException:
            self._db.close()
            raise
        self.parent_store_ids: list[str] = []

    def close(self) -> None:
        """Close the connections."""
        if self._feed is not None:
            self._feed.close()
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        return self._schema_version

    @property
    def db(self) -> Connection:
        """The connection, made again first if it was lost outside a transaction."""
        if self._depth == 0 and (self._db.closed or self._db.broken):
            self._db = connect(self.url, self.where)
        return self._db

    @contextmanager
    def transaction(self, *, batched: bool = False) -> Iterator[Connection]:
        """``BEGIN`` … ``COMMIT``, rolled back on any exception; a transaction inside
        one is part of it (as in :meth:`Store.transaction`).

        Args:
            batched: run it in psycopg's pipeline mode: ``BEGIN`` and every statement
                whose result is not read go to the server together with the next one
                whose result is read (or with ``COMMIT``), one round trip instead of
                one each. Inside it ``cursor.rowcount`` is unknown (-1) until a later
                result is read, and a failed statement's error is raised at that
                point; a bookkeeping turn reads no row count.

        Raises:
            StoreUnavailable: the connection was lost (nothing was committed).
            StoreConflict: it collided with another machine's transaction and was
                rolled back (a deadlock); run it again.
        """
        if self._depth:
            yield self._db
            return
        db = self.db
        self._depth = 1
        try:
            with db.pipeline() if batched else nullcontext(), db.transaction():
                yield db
        except RETRYABLE:
            raise StoreConflict(f"A change to the {self.where} collided with another "
                                "machine's; try again.") from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            self.drop_connections()
            raise unavailable(err, self.where) from None
        else:
            if self._notified:  # and this process's engines, without the server's round trip
                wakeups.ring(self.url)
        finally:
            self._depth = 0
            self._notified = False

    def drop_connections(self) -> None:
        """Close both connections after one of them was found lost; the next use
        makes them again. When the server cuts its connections (a restart, an
        administrator terminating them), it does so one by one: the other one may
        still answer for a moment, and a turn on it would pass for the database's
        return while it is going away."""
        self._db.close()
        if self._feed is not None:
            self._feed.close()

    def _notify(self, payload: str) -> None:
        self.db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        self._notified = True

    # -- change feed ----------------------------------------------------------------------

    @translated
    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until some machine publishes events, changes
        a hook or makes deliveries due (a ``NOTIFY`` on the channel). The first call
        starts listening; changes before it are not reported.

        Returns:
            True when something changed, False after the timeout.

        Raises:
            StoreUnavailable: the listening connection cannot be made or was lost.
        """
        got = self._change_feed().wait(timeout)
        self._changes += len(got)
        return bool(got)

    @translated
    def data_version(self) -> int:
        """A number that changes when any machine has published events, changed a hook
        or made deliveries due since the last call (the notifications that arrived),
        without waiting; the counterpart of SQLite's ``PRAGMA data_version``."""
        self._changes += len(self._change_feed().wait(0))
        return self._changes

    def _change_feed(self) -> ChangeFeed:
        if self._feed is None:
            self._feed = ChangeFeed(self.url)
        return self._feed
