"""The PostgreSQL store of team mode: the same repository as :class:`~hookadmin.core.store.Store`.

Every window and any number of ``hookadmin worker`` processes, on any number of
machines, share one PostgreSQL database (DESIGN §9). :class:`PostgresStore` has the
public methods of the SQLite :class:`~hookadmin.core.store.Store`, with the same
arguments, results, units (Unix seconds, bytes) and errors, so the engine, the CLI and
the window use either without knowing which. The schema and its migrations are in
:mod:`hookadmin.core.store.postgres.schema`.

What a shared server changes:

* **Claims** lock the rows they take with ``FOR UPDATE SKIP LOCKED``, so two engines
  never lease the same delivery, and neither waits for the other. Leases work as in
  SQLite: a claimed delivery carries ``lease_until``; a dead engine's deliveries are
  claimable again once it passes, with the same delivery id.
* **A hook's limit holds across all engines together**: with ``per_hook_limit``, a
  claim counts every engine's leased deliveries of the hook, under a per-hook
  advisory lock taken with ``pg_try_advisory_xact_lock`` (a hook another engine is
  claiming for at this moment is left to it this time), so two claims can never both
  see the same room.
* **Change feed**: publishing and hook changes ``NOTIFY``
  :data:`~hookadmin.core.store.postgres.schema.CHANNEL`;
  :meth:`PostgresStore.wait_for_change` blocks until one arrives, and
  :meth:`PostgresStore.data_version` counts them (the SQLite ``data_version`` an engine
  polls).
* **Errors**: a wrong URL, a refused connection, a bad password, a server that went
  down are one sentence each (:class:`~hookadmin.core.errors.StoreUnavailable`),
  never with the password. A lost connection is opened again by the next call.

Connections follow libpq's conventions: ``postgresql://`` URLs or ``key=value``
strings, ``PGPASSWORD``, ``~/.pgpass``, service files, ``sslmode`` and the other
``PG*`` variables. One instance holds one connection: use it from one thread at a
time; open one per thread or process.
"""

from __future__ import annotations

import functools
import json
import math
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hookadmin.core.errors import InputError, NotFoundError, StoreError, StoreUnavailable
from hookadmin.core.events import EVENT_TYPES, subscribes_to
from hookadmin.core.hooks import Hook, utc_now_iso
from hookadmin.core.store.postgres.schema import (
    CHANNEL,
    LOCK_CLASS,
    RETRYABLE,
    describe,
    has_schema,
    migrate,
    unavailable,
)
from hookadmin.core.store.records import (
    Attempt,
    AttemptRecord,
    Delivery,
    DeliveryJob,
    ImportedDelivery,
)

Connection = psycopg.Connection[tuple[Any, ...]]
P = ParamSpec("P")
R = TypeVar("R")

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
RETRIES = 3  # a method run on its own is run again this often after a deadlock
_SEEK_HOOKS = 32  # as in Store.claim_due: at most this many hooks are sought one by one


def _translated(method: Callable[Concatenate[PostgresStore, P], R]
                ) -> Callable[Concatenate[PostgresStore, P], R]:
    """Turn psycopg's connection errors into one-sentence :class:`StoreUnavailable`;
    run a method that is its own transaction again after a deadlock."""

    def wrapper(self: PostgresStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(RETRIES):
            alone = self._depth == 0
            try:
                return method(self, *args, **kwargs)
            except RETRYABLE:
                if not alone or attempt == RETRIES - 1:
                    raise StoreError(f"A change to the {self.where} collided with another "
                                     "machine's; try again.") from None
            except (psycopg.OperationalError, psycopg.InterfaceError) as err:
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

    def __init__(self, url: str) -> None:
        self.where = describe(url)
        self._db = connect(url, self.where)
        self._db.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds (0: do not wait) for notifications.

        Returns:
            The payloads that arrived (``events``, ``hooks``, ``deliveries``), oldest
            first; empty when none came in time.

        Raises:
            StoreUnavailable: the connection was lost.
        """
        try:
            got = [n.payload for n in self._db.notifies(timeout=max(timeout, 0.0),
                                                        stop_after=1)]
            if got:  # take what else is already waiting, without waiting again
                got += [n.payload for n in self._db.notifies(timeout=0.0)]
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            raise unavailable(err, self.where) from None
        return got

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class PostgresStore:
    """The PostgreSQL repository (see the module's docstring).

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

    @classmethod
    def init(cls, url: str) -> PostgresStore:
        """Open ``url``, creating hookadmin's schema if the database is empty
        (``created`` then says so)."""
        return cls(url, create=True)

    @classmethod
    def init_new(cls, url: str) -> PostgresStore:
        """Create hookadmin's schema in the empty database ``url`` and open it
        (``hookadmin team init``).

        Raises:
            StoreUnavailable: as the constructor.
            StoreError: the database holds other tables, or hookadmin's schema already
                (it was set up before: nothing changed).
        """
        store = cls(url, create=True)
        if not store.created:
            store.close()
            raise StoreError(f"The {store.where} is already set up for hookadmin (team "
                             f"database {store.store_id}); use it with --database or "
                             "HOOKADMIN_DATABASE, and get its team key with `hookadmin "
                             "team export-key FILE` on a machine that has it.")
        return store

    def close(self) -> None:
        """Close the connections."""
        if self._feed is not None:
            self._feed.close()
        self._db.close()

    def __enter__(self) -> PostgresStore:
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
    def transaction(self) -> Iterator[Connection]:
        """``BEGIN`` … ``COMMIT``, rolled back on any exception; a transaction inside
        one is part of it (as in :meth:`Store.transaction`).

        Raises:
            StoreUnavailable: the connection was lost (nothing was committed).
        """
        if self._depth:
            yield self._db
            return
        db = self.db
        self._depth = 1
        try:
            with db.transaction():
                yield db
        except RETRYABLE:
            raise
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            raise unavailable(err, self.where) from None
        finally:
            self._depth = 0

    def _notify(self, payload: str) -> None:
        self.db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    # -- change feed ----------------------------------------------------------------------

    @_translated
    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until some machine publishes events, changes
        a hook or makes deliveries due (a ``NOTIFY`` on the channel). The first call
        starts listening; changes before it are not reported.

        Returns:
            True when something changed, False after the timeout.

        Raises:
            StoreUnavailable: the listening connection cannot be made or was lost.
        """
        got = self._feed_wait(timeout)
        self._changes += len(got)
        return bool(got)

    @_translated
    def data_version(self) -> int:
        """A number that changes when any machine has published events, changed a hook
        or made deliveries due since the last call (the notifications that arrived),
        without waiting; the counterpart of SQLite's ``PRAGMA data_version``."""
        self._changes += len(self._feed_wait(0))
        return self._changes

    def _feed_wait(self, timeout: float) -> list[str]:
        """The change feed's notifications; a lost feed is dropped, so the next call
        listens again (and counts as a change: what happened meanwhile is unknown)."""
        if self._feed is None:
            self._feed = ChangeFeed(self.url)
            self._changes += 1
        try:
            return self._feed.wait(timeout)
        except StoreUnavailable:
            self._feed.close()
            self._feed = None
            raise

    # -- hooks ----------------------------------------------------------------------------

    @_translated
    def add_hook(self, *, name: str, url: str, events: Sequence[str], active: bool,
                 insecure_ssl: bool = False, ca_bundle: str | None = None) -> Hook:
        """Insert a hook (values already validated) and return it with its new id."""
        now = utc_now_iso()
        row = self.db.execute(
            "INSERT INTO hooks (name, url, events, active, insecure_ssl, ca_bundle, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name, url, json.dumps(list(events)), active, insecure_ssl, ca_bundle, now, now)
        ).fetchone()
        assert row is not None
        return self.get_hook(int(row[0]))

    @_translated
    def get_hook(self, hook_id: int) -> Hook:
        """The hook with this id.

        Raises:
            NotFoundError: there is none.
        """
        row = self.db.execute(_SELECT_HOOKS + " WHERE id = %s", (hook_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no hook {hook_id}; `hookadmin hooks list` shows "
                                "the hooks that exist.", field="id")
        return _hook_from_row(row)

    @_translated
    def list_hooks(self) -> list[Hook]:
        """Every hook, by id."""
        return [_hook_from_row(r) for r in self.db.execute(_SELECT_HOOKS + " ORDER BY id")]

    @_translated
    def hooks_generation(self) -> int:
        """A number that changes whenever a hook is added, deleted or changed in a way
        that matters for sending (URL, events, active, TLS, secret reset): a digest of
        those columns of every hook, so no shared counter row is written (and locked)
        by every change. One short read of the hooks table."""
        row = self.db.execute(
            "SELECT ('x' || substr(md5(coalesce(string_agg(concat_ws(chr(31), id, name,"
            " url, events, active, insecure_ssl, ca_bundle, previous_secret_expires_at,"
            " updated_at, deactivated_reason), chr(30) ORDER BY id), '')), 1, 15))"
            "::bit(60)::bigint FROM hooks").fetchone()
        assert row is not None
        return int(row[0])

    @_translated
    def update_hook(self, hook_id: int, *, name: str | None = None, url: str | None = None,
                    events: Sequence[str] | None = None, active: bool | None = None,
                    insecure_ssl: bool | None = None,
                    deactivated_reason: str | None = None, ca_bundle: str | None = None,
                    previous_secret_expires_at: float | None = None,
                    clear_previous_secret: bool = False) -> Hook:
        """Change some fields of a hook (values already validated); returns the result.

        Activating a hook clears its ``deactivated_reason``; deactivating it with a reason
        records the time too (see :meth:`deactivated_at`).

        Raises:
            NotFoundError: there is no such hook.
        """
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if url is not None:
            changes["url"] = url
        if events is not None:
            changes["events"] = json.dumps(list(events))
        if insecure_ssl is not None:
            changes["insecure_ssl"] = insecure_ssl
        if ca_bundle is not None:
            changes["ca_bundle"] = ca_bundle or None
        if previous_secret_expires_at is not None:
            changes["previous_secret_expires_at"] = previous_secret_expires_at
        if clear_previous_secret:
            changes["previous_secret_expires_at"] = None
        if active is not None:
            changes["active"] = active
            changes["deactivated_reason"] = None if active else deactivated_reason
            changes["deactivated_at"] = time.time() if not active and deactivated_reason \
                else None
            if active:
                changes["failing_since"] = None
        self.get_hook(hook_id)
        if changes:
            changes["updated_at"] = utc_now_iso()
            assignments = ", ".join(f"{k} = %s" for k in changes)
            self.db.execute(f"UPDATE hooks SET {assignments} WHERE id = %s",  # noqa: S608 - column names are ours
                            (*changes.values(), hook_id))
        return self.get_hook(hook_id)

    @_translated
    def deactivated_at(self, hook_id: int) -> float | None:
        """When (Unix seconds) the hook was deactivated with its ``deactivated_reason``,
        or None: it is active, was switched off by hand, or does not exist."""
        row = self.db.execute("SELECT deactivated_at FROM hooks WHERE id = %s",
                              (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @_translated
    def failing_since(self, hook_id: int) -> float | None:
        """Since when (Unix seconds) every attempt to the hook has failed, or None."""
        row = self.db.execute("SELECT failing_since FROM hooks WHERE id = %s",
                              (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @_translated
    def delete_hook(self, hook_id: int) -> None:
        """Delete a hook with its deliveries and attempts.

        Raises:
            NotFoundError: there is no such hook.
        """
        self.get_hook(hook_id)
        self.db.execute("DELETE FROM hooks WHERE id = %s", (hook_id,))

    # -- outbox ---------------------------------------------------------------------------

    @_translated
    def add_events(self, events: Sequence[tuple[str, bytes]], *,
                   target_hook_id: int | None = None) -> list[str]:
        """Put events on the outbox in one transaction and notify every engine.

        Args:
            events: (event type, body bytes) pairs; types and bodies already checked.
            target_hook_id: deliver only to this hook, whatever its subscription (a
                test event); None fans out to every active subscribed hook.

        Returns:
            The new event UUIDs, in order.
        """
        now = time.time()
        ids = [str(uuid.uuid4()) for _ in events]
        if not ids:
            return ids
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (id, type, body, occurred_at, target_hook_id)"
                " SELECT i, t, b, %s, %s FROM unnest(%s::text[], %s::text[], %s::bytea[])"
                " WITH ORDINALITY AS e(i, t, b, n) ORDER BY n",
                (now, target_hook_id, ids, [t for t, _ in events], [b for _, b in events]))
            self._notify("events")
        return ids

    @_translated
    def fan_out(self, *, now: float | None = None, limit: int = 1000) -> int:
        """Turn waiting outbox events into deliveries, one per active subscribed hook.

        Hooks are matched when the event is fanned out, in one transaction with
        marking the event done, so a crash never fans an event out twice or loses it;
        engines fanning out at once take different events (``SKIP LOCKED``).

        Returns:
            The number of events fanned out (0 when the outbox is empty).
        """
        now = time.time() if now is None else now
        if self.db.execute("SELECT 1 FROM events WHERE NOT fanned_out LIMIT 1"
                           ).fetchone() is None:
            return 0
        with self.transaction() as db:
            hooks = [(int(i), tuple(json.loads(e))) for i, e in db.execute(
                "SELECT id, events FROM hooks WHERE active ORDER BY id")]
            routes = [(t.id, h) for t in EVENT_TYPES for h, subs in hooks
                      if subscribes_to(subs, t.id)]
            row = db.execute(_FAN_OUT, {
                "now": now, "limit": limit, "types": [t for t, _ in routes],
                "hooks": [h for _, h in routes], "active": [h for h, _ in hooks]}).fetchone()
            assert row is not None
            events, deliveries = int(row[0]), int(row[1])
            if deliveries:
                self._notify("deliveries")
        return events

    @_translated
    def claim_due(self, *, now: float, lease_seconds: float, limit: int,
                  skip_hooks: Sequence[int] = (), per_hook_limit: int | None = None,
                  in_flight: Mapping[int, int] | None = None) -> list[DeliveryJob]:
        """Lease up to ``limit`` due pending deliveries for sending, oldest due first.

        A leased delivery is not claimed again until ``now + lease_seconds`` passes, so
        deliveries of an engine that died are picked up again after their lease ends.

        Args:
            now: Unix seconds.
            lease_seconds: how long the claim holds (longer than one attempt may take).
            limit: at most this many.
            skip_hooks: hook ids not to claim for (e.g. at their concurrency limit).
            per_hook_limit: at most this many leased deliveries per hook **across every
                engine** sharing the database: the hook's leased deliveries are counted
                (and ``in_flight``, hook id → deliveries the caller already holds, when
                it says more). A hook that another engine is claiming for at this very
                moment is left out of this claim.

        The rows are locked with ``FOR UPDATE SKIP LOCKED``; the oldest due deliveries
        come from the ``deliveries_due`` or ``deliveries_due_by_hook`` index, so the
        cost does not grow with the queue, and one full hook with a long backlog never
        starves the others (as in :meth:`Store.claim_due`).
        """
        if limit <= 0:
            return []
        cap = per_hook_limit
        held = dict(in_flight or {})
        full = set(skip_hooks) | ({h for h, n in held.items() if n >= cap}
                                  if cap is not None else set())
        with self.transaction() as db:
            if cap is None:
                eligible = [int(h) for (h,) in db.execute(
                    "SELECT id FROM hooks WHERE active AND id <> ALL(%s) ORDER BY id",
                    (list(full),))]
            else:
                # Only one claim at a time per hook, so no two see the same room; the
                # count below is a later statement, so it sees every claim committed
                # before this one got the lock.
                eligible = [int(h) for (h,) in db.execute(
                    "SELECT id FROM (SELECT id FROM hooks WHERE active AND id <> ALL(%s)"
                    " ORDER BY id OFFSET 0) h WHERE pg_try_advisory_xact_lock(%s, id::int)",
                    (list(full), LOCK_CLASS))]
                if eligible:
                    for hook_id, leased in db.execute(
                            "SELECT hook_id, count(*) FROM deliveries WHERE status = 'pending'"
                            " AND lease_until >= %s AND hook_id = ANY(%s) GROUP BY hook_id",
                            (now, eligible)):
                        held[hook_id] = max(held.get(hook_id, 0), int(leased))

            def room(hook_id: int) -> int:
                return limit if cap is None else cap - held.get(hook_id, 0)

            picked: list[int] = []
            seen: set[int] = set()

            def take(rows: Sequence[tuple[Any, ...]]) -> None:
                for seq, hook_id in rows:
                    if seq not in seen and len(picked) < limit and room(hook_id) > 0:
                        picked.append(seq)
                        held[hook_id] = held.get(hook_id, 0) + 1
                        seen.add(seq)

            def seek(counts: Mapping[int, int]) -> list[tuple[Any, ...]]:
                wanted = [(h, n) for h, n in counts.items() if n > 0]
                if not wanted:
                    return []
                return db.execute(_SEEK, ([h for h, _ in wanted], [n for _, n in wanted],
                                          now, now)).fetchall()

            eligible = [h for h in eligible if room(h) > 0]
            if len(eligible) <= _SEEK_HOOKS:
                take(seek({h: min(room(h), limit) for h in eligible}))
            elif eligible:
                window = 2 * limit
                rows = db.execute(_WINDOW, (now, now, eligible, window)).fetchall()
                take(rows)
                if len(rows) == window and len(picked) < limit:
                    # The oldest due deliveries belong to hooks that are full (one that
                    # hangs, with a long backlog): look at the others one by one.
                    take(seek({h: min(room(h), limit - len(picked)) + len(seen)
                               for h in eligible if room(h) > 0}))
            if not picked:
                return []
            jobs = db.execute(
                "UPDATE deliveries d SET lease_until = %s FROM events e"
                " WHERE d.seq = ANY(%s) AND e.seq = d.event_seq RETURNING d.next_attempt_at,"
                " d.seq, d.id, d.hook_id, d.event_type, e.body, d.attempts",
                (now + lease_seconds, picked)).fetchall()
        jobs.sort(key=lambda r: (r[0], r[1]))
        return [DeliveryJob(seq, id_, hook_id, type_, bytes(body), attempts)
                for _, seq, id_, hook_id, type_, body, attempts in jobs]

    @_translated
    def renew(self, seqs: Sequence[int], lease_until: float) -> None:
        """Extend the leases of deliveries still being sent."""
        if seqs:
            self.db.execute("UPDATE deliveries SET lease_until = %s WHERE seq = ANY(%s)"
                            " AND status = 'pending'", (lease_until, sorted(seqs)))

    @_translated
    def release(self, seqs: Sequence[int]) -> None:
        """Drop the leases of deliveries that were claimed but not attempted."""
        if seqs:
            self.db.execute("UPDATE deliveries SET lease_until = NULL WHERE seq = ANY(%s)",
                            (sorted(seqs),))

    @_translated
    def counted_attempts(self, delivery_seq: int) -> int:
        """Attempts of a delivery that count toward its retry schedule (waiting for an
        unavailable secret does not)."""
        row = self.db.execute(
            "SELECT count(*) FROM attempts WHERE delivery_seq = %s"
            " AND error_kind IS DISTINCT FROM 'secret_unavailable'", (delivery_seq,)
        ).fetchone()
        assert row is not None
        return int(row[0])

    def record_attempt(self, job: DeliveryJob, attempt: AttemptRecord, *,
                       next_attempt_at: float | None) -> str:
        """Store one attempt and move its delivery on (see :meth:`Store.record_attempt`).

        Returns:
            The delivery's new status: ``succeeded``, ``pending`` or ``failed``.
        """
        return self.record_attempts([(job, attempt, next_attempt_at)])[0]

    @_translated
    def record_attempts(self, items: Sequence[tuple[DeliveryJob, AttemptRecord, float | None]]
                        ) -> list[str]:
        """Store many attempts (each as :meth:`record_attempt` would) in one transaction,
        in three statements whatever their number.

        Args:
            items: (claimed delivery, what happened, when to try again or None), in the
                order the attempts ended. A delivery deleted meanwhile (its hook was
                deleted) is skipped.

        Returns:
            Each delivery's new status, in the order of ``items``.
        """
        now = time.time()
        statuses: list[str] = []
        attempts: list[tuple[Any, ...]] = []
        deliveries: dict[int, tuple[Any, ...]] = {}
        failing: dict[int, str] = {}  # per hook, as in Store.record_attempts
        for job, attempt, next_attempt_at in items:
            if attempt.succeeded:
                status, next_at = "succeeded", None
                failing[job.hook_id] = "clear"
            else:
                status = "pending" if next_attempt_at is not None else "failed"
                next_at = next_attempt_at
                if attempt.error_kind != "secret_unavailable":
                    failing[job.hook_id] = "set" if failing.get(job.hook_id) == "clear" \
                        else failing.get(job.hook_id, "set_if_unset")
            statuses.append(status)
            number = job.attempts + 1
            attempts.append(_attempt_row(job.seq, job.hook_id, number, attempt, next_at))
            deliveries[job.seq] = (job.seq, status, number, next_at, attempt.status_code,
                                   attempt.error_kind, attempt.duration_ms)
        if not items:
            return statuses
        with self.transaction() as db:
            # Locks in a fixed order (hooks by id, then deliveries by seq), so two
            # engines recording at once never wait for each other in a circle.
            for hook_id in sorted(failing):
                change = failing[hook_id]
                if change == "clear":
                    db.execute("UPDATE hooks SET failing_since = NULL WHERE id = %s"
                               " AND failing_since IS NOT NULL", (hook_id,))
                elif change == "set":
                    db.execute("UPDATE hooks SET failing_since = %s WHERE id = %s",
                               (now, hook_id))
                else:
                    db.execute("UPDATE hooks SET failing_since = %s WHERE id = %s"
                               " AND failing_since IS NULL", (now, hook_id))
            db.execute(_INSERT_ATTEMPTS, _columns(attempts, 14))
            db.execute(_UPDATE_DELIVERIES,
                       (now, *_columns([deliveries[s] for s in sorted(deliveries)], 7)))
        return statuses

    @_translated
    def record_ping(self, hook_id: int, delivery_id: str, body: bytes,
                    attempt: AttemptRecord) -> None:
        """Store a ping as a one-attempt delivery of event type ``ping``."""
        now = time.time()
        with self.transaction() as db:
            event = db.execute(
                "INSERT INTO events (id, type, body, occurred_at, fanned_out)"
                " VALUES (%s, 'ping', %s, %s, true) RETURNING seq",
                (str(uuid.uuid4()), body, now)).fetchone()
            assert event is not None
            delivery = db.execute(
                "INSERT INTO deliveries (id, event_seq, hook_id, event_type, status, attempts,"
                " last_status_code, last_error_kind, last_duration_ms, created_at, updated_at)"
                " VALUES (%s, %s, %s, 'ping', %s, 1, %s, %s, %s, %s, %s) RETURNING seq",
                (delivery_id, event[0], hook_id,
                 "succeeded" if attempt.succeeded else "failed", attempt.status_code,
                 attempt.error_kind, attempt.duration_ms, now, now)).fetchone()
            assert delivery is not None
            db.execute(_INSERT_ATTEMPTS,
                       _columns([_attempt_row(delivery[0], hook_id, 1, attempt, None)], 14))

    @_translated
    def import_deliveries(self, items: Sequence[ImportedDelivery]) -> int:
        """Insert deliveries of another store with their events and attempts, keeping
        their ids, in one transaction (``hookadmin team import-local``). A delivery
        whose id is already here is skipped, attempts and all; an event already here
        is shared.

        Returns:
            How many deliveries were new.
        """
        added = 0
        if not items:
            return added
        with self.transaction() as db:
            for item in items:
                d = item.delivery
                db.execute("INSERT INTO events (id, type, body, occurred_at, fanned_out)"
                           " VALUES (%s, %s, %s, %s, true) ON CONFLICT (id) DO NOTHING",
                           (d.event_id, d.event_type, item.body, d.created_at))
                row = db.execute(
                    "INSERT INTO deliveries (id, event_seq, hook_id, event_type, status,"
                    " attempts, next_attempt_at, last_status_code, last_error_kind,"
                    " last_duration_ms, created_at, updated_at)"
                    " SELECT %s, seq, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM events"
                    " WHERE id = %s ON CONFLICT (id) DO NOTHING RETURNING seq",
                    (d.id, item.hook_id, d.event_type, d.status, d.attempts,
                     d.next_attempt_at, d.last_status_code, d.last_error_kind,
                     d.last_duration_ms, d.created_at, d.updated_at, d.event_id)).fetchone()
                if row is None:
                    continue
                added += 1
                if item.attempts:
                    db.execute(_INSERT_ATTEMPTS, _columns(
                        [_attempt_row(row[0], item.hook_id, a.number, a, a.next_attempt_at)
                         for a in item.attempts], 14))
            if added:
                self._notify("deliveries")
        return added

    @_translated
    def redeliver(self, delivery_id: str, *, now: float | None = None) -> Delivery:
        """Make a finished (or waiting) delivery due again now: new attempts, same
        delivery id, same body.

        Raises:
            NotFoundError: no such delivery.
            InputError: it is a ping (send a new ping instead).
        """
        delivery = self.get_delivery(delivery_id)
        if delivery.event_type == "ping":
            raise InputError("Pings are not redelivered; send a new one with "
                             f"`hookadmin ping {delivery.hook_id}`.", field="delivery")
        now = time.time() if now is None else now
        with self.transaction() as db:
            db.execute("UPDATE deliveries SET status = 'pending', next_attempt_at = %s,"
                       " updated_at = %s WHERE seq = %s", (now, now, delivery.seq))
            self._notify("deliveries")
        return self.get_delivery(delivery_id)

    @_translated
    def redeliver_failed(self, hook_id: int, since: float, *, now: float | None = None) -> int:
        """Make every failed delivery of a hook updated at or after ``since`` (Unix
        seconds) due again now. Returns how many.

        Raises:
            NotFoundError: no such hook.
        """
        self.get_hook(hook_id)
        now = time.time() if now is None else now
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = %s,"
                " updated_at = %s WHERE hook_id = %s AND status = 'failed'"
                " AND event_type <> 'ping' AND updated_at >= %s", (now, now, hook_id, since))
            if cur.rowcount:
                self._notify("deliveries")
        return int(cur.rowcount)

    @_translated
    def prune(self, older_than: float, *, batch: int = 5000) -> int:
        """Delete finished deliveries (with their attempts) last updated before
        ``older_than`` (Unix seconds), and outbox events left with no delivery, in
        batches of ``batch`` deliveries, each its own transaction.

        Returns:
            The number of deliveries deleted.
        """
        total = 0
        while True:
            with self.transaction() as db:
                cur = db.execute(
                    "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries"
                    " WHERE status <> 'pending' AND updated_at < %s LIMIT %s"
                    " FOR UPDATE SKIP LOCKED)", (older_than, batch))
            total += cur.rowcount
            if cur.rowcount < batch:
                break
        with self.transaction() as db:
            db.execute("DELETE FROM events e WHERE fanned_out AND occurred_at < %s AND"
                       " NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)",
                       (older_than,))
        return total

    # -- settings ---------------------------------------------------------------------------

    @_translated
    def get_setting(self, key: str) -> Any:
        """A setting's JSON value, or None when it was never set."""
        row = self.db.execute("SELECT value FROM settings WHERE key = %s", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    @_translated
    def set_setting(self, key: str, value: Any) -> None:
        """Store a setting (any JSON value)."""
        self.db.execute("INSERT INTO settings VALUES (%s, %s) ON CONFLICT (key)"
                        " DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    # -- queries --------------------------------------------------------------------------

    def _count(self, sql: str, params: Sequence[object] = ()) -> int:
        row = self.db.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])

    @_translated
    def outbox_waiting(self) -> int:
        """Events not yet fanned out."""
        return self._count("SELECT count(*) FROM events WHERE NOT fanned_out")

    @_translated
    def pending_count(self, *, cap: int | None = None) -> int:
        """Deliveries not yet final; with ``cap``, counting stops there."""
        if cap is None:
            return self._count("SELECT count(*) FROM deliveries WHERE status = 'pending'")
        return self._count("SELECT count(*) FROM (SELECT 1 FROM deliveries"
                           " WHERE status = 'pending' LIMIT %s) p", (cap,))

    @_translated
    def next_due(self, *, count_leases: bool = True) -> float | None:
        """When (Unix seconds) the earliest pending delivery of an active hook may be
        attempted, its lease counted (with ``count_leases`` False: when it is due,
        whoever holds it); None when nothing is pending."""
        due = "greatest(next_attempt_at, coalesce(lease_until, 0))" if count_leases \
            else "next_attempt_at"
        row = self.db.execute(
            f"SELECT {due} FROM deliveries WHERE status = 'pending'"  # noqa: S608 - one of two constant texts
            " AND hook_id IN (SELECT id FROM hooks WHERE active)"
            " ORDER BY next_attempt_at LIMIT 1").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @_translated
    def list_deliveries(self, *, hook_id: int | None = None, status: str | None = None,
                        limit: int = 100, before_seq: int | None = None,
                        event_type: str | None = None, since: float | None = None,
                        after_seq: int | None = None) -> list[Delivery]:
        """Deliveries, newest first (see :meth:`Store.list_deliveries` for the filters)."""
        conditions = (("d.hook_id = %s", hook_id), ("d.status = %s", status),
                      ("d.event_type = %s", event_type), ("d.created_at >= %s", since),
                      ("d.seq > %s", after_seq), ("d.seq < %s", before_seq))
        where = [sql for sql, value in conditions if value is not None]
        params: list[object] = [value for _, value in conditions if value is not None]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e"  # noqa: S608 - fixed fragments
            f" ON e.seq = d.event_seq {clause} ORDER BY d.seq DESC LIMIT %s",
            (*params, limit)).fetchall()
        return [Delivery(*r) for r in rows]

    @_translated
    def deliveries_by_seq(self, seqs: Sequence[int]) -> list[Delivery]:
        """The deliveries with these ``seq`` values (any order; missing ones left out)."""
        if not seqs:
            return []
        rows = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e"  # noqa: S608 - fixed fragments
            " ON e.seq = d.event_seq WHERE d.seq = ANY(%s)", (list(seqs),)).fetchall()
        return [Delivery(*r) for r in rows]

    @_translated
    def get_delivery(self, delivery_id: str) -> Delivery:
        """One delivery by its UUID.

        Raises:
            NotFoundError: there is none.
        """
        row = self.db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e"  # noqa: S608 - fixed fragments
            " ON e.seq = d.event_seq WHERE d.id = %s", (delivery_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no delivery {delivery_id}; `hookadmin deliveries` "
                                "lists them.", field="delivery")
        return Delivery(*row)

    @_translated
    def delivery_body(self, delivery_id: str) -> bytes:
        """The body bytes a delivery sends.

        Raises:
            NotFoundError: there is no such delivery.
        """
        row = self.db.execute(
            "SELECT e.body FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " WHERE d.id = %s", (delivery_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no delivery {delivery_id}.", field="delivery")
        return bytes(row[0])

    @_translated
    def list_attempts(self, delivery_seq: int) -> list[Attempt]:
        """The attempts of a delivery, first to last."""
        return [Attempt(
            started_at=r[0], duration_ms=r[1], request_url=r[2],
            request_headers=json.loads(r[3]), status_code=r[4],
            response_headers=None if r[5] is None else [tuple(p) for p in json.loads(r[5])],
            response_body=None if r[6] is None else bytes(r[6]),
            response_truncated=bool(r[7]), error_kind=r[8], error_message=r[9],
            number=r[10], next_attempt_at=r[11])
            for r in self.db.execute(
                "SELECT started_at, duration_ms, request_url, request_headers, status_code,"
                " response_headers, response_body, response_truncated, error_kind,"
                " error_message, number, next_attempt_at FROM attempts"
                " WHERE delivery_seq = %s ORDER BY number", (delivery_seq,))]

    @_translated
    def activity(self, *, since: float, bucket: float = 60.0,
                 hook_id: int | None = None) -> list[tuple[float, int, int, float | None]]:
        """Finished attempts per time bucket, for the activity chart.

        Args:
            since: Unix seconds; only attempts started at or after it.
            bucket: bucket width in seconds.
            hook_id: only this hook's attempts.

        Returns:
            ``(bucket start, succeeded, failed, mean duration in ms)`` rows, oldest first;
            buckets without attempts are left out.
        """
        whole = bucket >= 60 and bucket % 60 == 0
        first_minute = math.ceil(since / 60) if whole else None
        until = "" if first_minute is None else " AND started_at < %(until)s"
        hook = "" if hook_id is None else " AND hook_id = %(hook)s"
        params = {"bucket": bucket, "since": since, "hook": hook_id,
                  "until": None if first_minute is None else first_minute * 60,
                  "first": first_minute, "per": int(bucket // 60)}
        rows = self.db.execute(
            "SELECT floor(started_at / %(bucket)s) * %(bucket)s,"  # noqa: S608 - fixed fragments
            " count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok),"
            " coalesce(sum(duration_ms), 0), count(duration_ms)"
            " FROM (SELECT started_at, duration_ms, coalesce(status_code BETWEEN 200 AND 299"
            " AND error_kind IS NULL, false) AS ok FROM attempts"
            f" WHERE started_at >= %(since)s{until}{hook}) a GROUP BY 1", params).fetchall()
        if first_minute is not None:
            rows += self.db.execute(
                "SELECT (minute / %(per)s) * %(bucket)s, sum(succeeded), sum(failed),"  # noqa: S608 - fixed fragments
                " sum(duration_sum), sum(duration_count) FROM activity_minutes"
                f" WHERE minute >= %(first)s{hook} GROUP BY minute", params).fetchall()
        buckets: dict[float, list[float]] = {}
        for t, ok, bad, ms_sum, ms_count in rows:
            b = buckets.setdefault(float(t), [0, 0, 0.0, 0])
            b[0] += int(ok)
            b[1] += int(bad)
            b[2] += float(ms_sum)
            b[3] += int(ms_count)
        return [(t, int(ok), int(bad), ms_sum / n if n else None)
                for t, (ok, bad, ms_sum, n) in sorted(buckets.items()) if ok or bad]

    @_translated
    def last_deliveries(self) -> dict[int, Delivery]:
        """The newest tried delivery of each hook, by hook id: one query, one short walk
        down the ``deliveries_tried`` index per hook."""
        rows = self.db.execute(
            f"SELECT x.* FROM hooks h CROSS JOIN LATERAL (SELECT {_DELIVERY_COLUMNS}"  # noqa: S608 - fixed fragments
            " FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.hook_id = h.id"
            " AND d.attempts > 0 ORDER BY d.seq DESC LIMIT 1) x").fetchall()
        return {int(r[3]): Delivery(*r) for r in rows}


_DELIVERY_COLUMNS = ("d.seq, d.id, e.id, d.hook_id, d.event_type, d.status, d.attempts,"
                     " d.next_attempt_at, d.last_status_code, d.last_error_kind,"
                     " d.last_duration_ms, d.created_at, d.updated_at")

_SELECT_HOOKS = ("SELECT id, name, url, events, active, insecure_ssl, created_at, updated_at,"
                 " deactivated_reason, ca_bundle, previous_secret_expires_at FROM hooks")

# Deliveries for up to %(limit)s waiting events, locked so engines fanning out at once
# take different ones: by subscription (%(types)s[i] → %(hooks)s[i]), or to the one
# target hook of a test event if it is active. Returns (events, deliveries made).
_FAN_OUT = """
WITH ev AS (
    SELECT seq, type, target_hook_id FROM events WHERE NOT fanned_out
    ORDER BY seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), made AS (
    INSERT INTO deliveries (event_seq, hook_id, event_type, next_attempt_at, created_at,
                            updated_at)
    SELECT x.seq, x.hook_id, x.type, %(now)s, %(now)s, %(now)s FROM (
        SELECT ev.seq, r.hook_id, ev.type FROM ev
        JOIN unnest(%(types)s::text[], %(hooks)s::bigint[]) AS r(type, hook_id)
            ON r.type = ev.type
        WHERE ev.target_hook_id IS NULL
        UNION ALL
        SELECT ev.seq, ev.target_hook_id, ev.type FROM ev
        WHERE ev.target_hook_id = ANY(%(active)s::bigint[])
    ) x ORDER BY x.seq, x.hook_id
    RETURNING 1
), done AS (
    UPDATE events SET fanned_out = true WHERE seq IN (SELECT seq FROM ev) RETURNING 1
)
SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM made)
"""

# Each listed hook's oldest due deliveries, as many as given, from the per-hook index.
_SEEK = """
SELECT c.seq, c.hook_id FROM unnest(%s::bigint[], %s::int[]) AS h(id, n)
CROSS JOIN LATERAL (
    SELECT seq, hook_id, next_attempt_at FROM deliveries
    WHERE hook_id = h.id AND status = 'pending' AND next_attempt_at <= %s
      AND (lease_until IS NULL OR lease_until < %s)
    ORDER BY next_attempt_at LIMIT h.n FOR UPDATE SKIP LOCKED
) c ORDER BY c.next_attempt_at, c.seq
"""

# The oldest due deliveries of the listed hooks, in time order.
_WINDOW = """
SELECT seq, hook_id FROM deliveries
WHERE status = 'pending' AND next_attempt_at <= %s
  AND (lease_until IS NULL OR lease_until < %s) AND hook_id = ANY(%s)
ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED
"""

# Attempts from column arrays, skipping deliveries deleted meanwhile (their hook was
# deleted while they were sent).
_INSERT_ATTEMPTS = """
INSERT INTO attempts (delivery_seq, hook_id, number, started_at, duration_ms, request_url,
    request_headers, status_code, response_headers, response_body, response_truncated,
    error_kind, error_message, next_attempt_at)
SELECT a.* FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::float8[], %s::float8[],
    %s::text[], %s::text[], %s::int[], %s::text[], %s::bytea[], %s::bool[], %s::text[],
    %s::text[], %s::float8[]) AS a(ds, hid, num, st, dur, url, rh, sc, resh, body, trunc,
    ek, em, nat)
WHERE EXISTS (SELECT 1 FROM deliveries WHERE seq = a.ds)
"""

_UPDATE_DELIVERIES = """
UPDATE deliveries d SET status = v.status, attempts = v.attempts, next_attempt_at = v.nat,
    lease_until = NULL, last_status_code = v.sc, last_error_kind = v.ek,
    last_duration_ms = v.dur, updated_at = %s
FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::float8[], %s::int[], %s::text[],
    %s::float8[]) AS v(seq, status, attempts, nat, sc, ek, dur)
WHERE d.seq = v.seq
"""


def _attempt_row(delivery_seq: int, hook_id: int, number: int, a: AttemptRecord,
                 next_attempt_at: float | None) -> tuple[Any, ...]:
    return (delivery_seq, hook_id, number, a.started_at, a.duration_ms, a.request_url,
            json.dumps(a.request_headers), a.status_code,
            None if a.response_headers is None else json.dumps(a.response_headers),
            a.response_body, a.response_truncated, a.error_kind, a.error_message,
            next_attempt_at)


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows → one list per column (for ``unnest``)."""
    return [[row[i] for row in rows] for i in range(width)]


def _hook_from_row(row: Sequence[Any]) -> Hook:
    (id_, name, url, events, active, insecure_ssl, created_at, updated_at, reason, ca_bundle,
     previous_expiry) = row
    return Hook(id=int(id_), name=name, url=url, events=tuple(json.loads(events)),
                active=bool(active), insecure_ssl=bool(insecure_ssl), created_at=created_at,
                updated_at=updated_at, deactivated_reason=reason, ca_bundle=ca_bundle,
                previous_secret_expires_at=previous_expiry)
