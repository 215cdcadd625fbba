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

The class is built in layers, one file each: the connection, transactions and change
feed (:mod:`hookadmin.core.store.postgres.connection`), the history queries and settings
(:mod:`hookadmin.core.store.postgres.history`), and here hooks, the outbox, claims and
recording, whose statements are in :mod:`hookadmin.core.store.postgres.sql`. One instance
holds one connection: use it from one thread at a time; open one per thread or
process.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from hookadmin.core.errors import InputError, NotFoundError, StoreError
from hookadmin.core.events import EVENT_TYPES, subscribes_to
from hookadmin.core.filters import filtered_fan_out
from hookadmin.core.hook_types import WEB, HookOptions
from hookadmin.core.hooks import Hook, utc_now_iso
from hookadmin.core.store.postgres.audit import AuditPart
from hookadmin.core.store.postgres.connection import translated
from hookadmin.core.store.postgres.history import PostgresHistory
from hookadmin.core.store.postgres.importing import import_deliveries
from hookadmin.core.store.postgres.metrics import MetricsPart
from hookadmin.core.store.postgres.ordered import OrderedPart
from hookadmin.core.store.postgres.schema import LOCK_CLASS
from hookadmin.core.store.postgres.sql import (
    FAILING_SINCE,
    FAN_OUT,
    INSERT_ATTEMPTS,
    LEASE,
    LEASES_PER_HOOK,
    SEEK,
    SEEK_AND_LEASE,
    UPDATE_DELIVERIES,
    WINDOW,
)
from hookadmin.core.store.records import (
    AttemptRecord,
    Delivery,
    DeliveryJob,
    ImportedDelivery,
)

_SEEK_HOOKS = 32  # as in Store.claim_due: at most this many hooks are sought one by one


class PostgresStore(PostgresHistory, AuditPart, MetricsPart, OrderedPart):
    """The PostgreSQL repository: :class:`~hookadmin.core.store.Store`'s public methods
    on a database shared by every machine (see the module's docstring and, for the
    arguments and errors of opening one, :class:`~hookadmin.core.store.postgres.connection.
    PostgresConnection`)."""

    @classmethod
    def init(cls, url: str) -> PostgresStore:
        """Open ``url``, creating hookadmin's schema if the database is empty
        (``hookadmin team init``, ``created`` then says so); an existing hookadmin
        database is just opened.

        Raises:
            StoreUnavailable, StoreError: as opening does.
        """
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

    # -- hooks ----------------------------------------------------------------------------

    @translated
    def add_hook(self, *, name: str, url: str, events: Sequence[str], active: bool,
                 insecure_ssl: bool = False, ca_bundle: str | None = None,
                 type: str = WEB, options: HookOptions | None = None) -> Hook:
        """Insert a hook (values already validated) and return it with its new id."""
        now = utc_now_iso()
        row = self.db.execute(
            "INSERT INTO hooks (name, url, events, active, insecure_ssl, ca_bundle, type, options,"
            " created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name, url, json.dumps(list(events)), active, insecure_ssl, ca_bundle, type,
             _options_text(options), now, now)
        ).fetchone()
        assert row is not None
        return self.get_hook(int(row[0]))

    @translated
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

    @translated
    def list_hooks(self) -> list[Hook]:
        """Every hook, by id."""
        return [_hook_from_row(r) for r in self.db.execute(_SELECT_HOOKS + " ORDER BY id")]

    @translated
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

    @translated
    def update_hook(self, hook_id: int, *, name: str | None = None, url: str | None = None,
                    events: Sequence[str] | None = None, active: bool | None = None,
                    insecure_ssl: bool | None = None,
                    deactivated_reason: str | None = None, ca_bundle: str | None = None,
                    previous_secret_expires_at: float | None = None,
                    clear_previous_secret: bool = False,
                    options: HookOptions | None = None) -> Hook:
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
        if options is not None:
            changes["options"] = _options_text(options)
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

    @translated
    def deactivated_at(self, hook_id: int) -> float | None:
        """When (Unix seconds) the hook was deactivated with its ``deactivated_reason``,
        or None: it is active, was switched off by hand, or does not exist."""
        row = self.db.execute("SELECT deactivated_at FROM hooks WHERE id = %s",
                              (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @translated
    def failing_since(self, hook_id: int) -> float | None:
        """Since when (Unix seconds) every attempt to the hook has failed, or None."""
        row = self.db.execute("SELECT failing_since FROM hooks WHERE id = %s",
                              (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @translated
    def delete_hook(self, hook_id: int) -> None:
        """Delete a hook with its deliveries and attempts.

        Raises:
            NotFoundError: there is no such hook.
        """
        self.get_hook(hook_id)
        self.db.execute("DELETE FROM hooks WHERE id = %s", (hook_id,))

    # -- outbox ---------------------------------------------------------------------------

    @translated
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

    @translated
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
            hooks = [_hook_from_row(r) for r in db.execute(
                _SELECT_HOOKS + " WHERE active ORDER BY id")]
            routes = [(t.id, h.id) for t in EVENT_TYPES for h in hooks
                      if subscribes_to(h.events, t.id) and h.options.filter is None]
            row = db.execute(FAN_OUT, {
                "now": now, "limit": limit, "types": [t for t, _ in routes],
                "hooks": [h for _, h in routes], "active": [h.id for h in hooks]}
            ).fetchone()
            assert row is not None
            events, deliveries = int(row[0]), int(row[1])
            filtering = [h for h in hooks if h.options.filter is not None]
            if filtering and row[2]:
                deliveries += self._fan_out_filtered(filtering, list(row[2]), now)
            if deliveries:
                self._notify("deliveries")
        return events

    def _fan_out_filtered(self, hooks: list[Hook], seqs: list[int], now: float) -> int:
        """Deliveries for hooks with a filter from the events just fanned out (``seqs``;
        test events aimed at one hook were handled by :data:`.sql.FAN_OUT`); events a
        filter leaves out are counted in the hook's ``filtered_out``. Returns the
        number of deliveries made."""
        events = [(int(seq), str(type_), bytes(body)) for seq, type_, body in self.db.execute(
            "SELECT seq, type, body FROM events WHERE seq = ANY(%s)"
            " AND target_hook_id IS NULL ORDER BY seq", (seqs,))]
        made, skipped = filtered_fan_out(hooks, events)
        with self.db.cursor() as cur:
            cur.executemany(
                "INSERT INTO deliveries (event_seq, hook_id, event_type, next_attempt_at,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s)",
                [(seq, hook_id, type_, now, now, now) for seq, hook_id, type_ in made])
            cur.executemany("UPDATE hooks SET filtered_out = filtered_out + %s WHERE id = %s",
                            [(n, hook_id) for hook_id, n in sorted(skipped.items())])
        return len(made)

    @translated
    def claim_due(self, *, now: float, lease_seconds: float, limit: int,
                  skip_hooks: Sequence[int] = (), per_hook_limit: int | None = None,
                  in_flight: Mapping[int, int] | None = None,
                  first_attempts_only: bool | Sequence[int] = ()) -> list[DeliveryJob]:
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
            first_attempts_only: hooks (every hook when True) for which only deliveries
                never tried before are claimed (their retry lane is full).

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
        fresh_all = first_attempts_only is True
        fresh = [] if isinstance(first_attempts_only, bool) else sorted(first_attempts_only)
        with self.transaction() as db:
            if cap is None:
                eligible = [int(h) for (h,) in db.execute(
                    "SELECT id FROM hooks WHERE active AND id <> ALL(%s) ORDER BY id",
                    (list(full),))]
            else:
                # Only one claim at a time per hook, so no two see the same room; the
                # count below is a later statement, so it sees every claim committed
                # before this one got the lock. Both go to the server in one round trip.
                with db.pipeline():
                    locked = db.execute(
                        "SELECT id FROM (SELECT id FROM hooks WHERE active AND id <> ALL(%s)"
                        " ORDER BY id OFFSET 0) h WHERE pg_try_advisory_xact_lock(%s, id::int)",
                        (list(full), LOCK_CLASS))
                    leases = db.execute(LEASES_PER_HOOK, (now, list(full)))
                eligible = [int(h) for (h,) in locked.fetchall()]
                for hook_id, leased in leases.fetchall():
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
                return db.execute(SEEK, ([h for h, _ in wanted], [n for _, n in wanted],
                                          now, now, fresh_all, fresh)).fetchall()

            eligible = [h for h in eligible if room(h) > 0]
            if not eligible:
                return []
            if len(eligible) <= _SEEK_HOOKS:
                # Each hook's room is its count, so what the seek finds is taken as it
                # is: sought and leased in one statement.
                jobs = db.execute(SEEK_AND_LEASE, {
                    "hooks": eligible, "counts": [min(room(h), limit) for h in eligible],
                    "now": now, "fresh_all": fresh_all, "fresh": fresh, "limit": limit,
                    "until": now + lease_seconds}).fetchall()
            else:
                window = 2 * limit
                rows = db.execute(WINDOW, (now, now, eligible, fresh_all, fresh, window)
                                  ).fetchall()
                take(rows)
                if len(rows) == window and len(picked) < limit:
                    # The oldest due deliveries belong to hooks that are full (one that
                    # hangs, with a long backlog): look at the others one by one.
                    take(seek({h: min(room(h), limit - len(picked)) + len(seen)
                               for h in eligible if room(h) > 0}))
                if not picked:
                    return []
                jobs = db.execute(LEASE, {"until": now + lease_seconds, "seqs": picked}
                                  ).fetchall()
        jobs.sort(key=lambda r: (r[0], r[1]))
        return [DeliveryJob(seq, id_, hook_id, type_, bytes(body), attempts)
                for _, seq, id_, hook_id, type_, body, attempts in jobs]

    @translated
    def renew(self, seqs: Sequence[int], lease_until: float) -> None:
        """Extend the leases of deliveries still being sent."""
        if seqs:
            with self.transaction() as db:
                db.execute("UPDATE deliveries SET lease_until = %s WHERE seq = ANY(%s)"
                           " AND status = 'pending'", (lease_until, sorted(seqs)))
                db.execute("UPDATE delivery_leases SET lease_until = %s WHERE seq = ANY(%s)",
                           (lease_until, sorted(seqs)))

    @translated
    def release(self, seqs: Sequence[int]) -> None:
        """Drop the leases of deliveries that were claimed but not attempted."""
        if seqs:
            with self.transaction() as db:
                db.execute("UPDATE deliveries SET lease_until = NULL WHERE seq = ANY(%s)",
                           (sorted(seqs),))
                db.execute("DELETE FROM delivery_leases WHERE seq = ANY(%s)", (sorted(seqs),))

    @translated
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

    @translated
    def record_attempts(self, items: Sequence[tuple[DeliveryJob, AttemptRecord, float | None]]
                        ) -> list[str]:
        """Store many attempts (each as :meth:`record_attempt` would) in one transaction,
        in four statements whatever their number (none reads a result, so in a batched
        transaction they reach the server together).

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
            if failing:
                db.execute(FAILING_SINCE, {"hooks": sorted(failing), "now": now,
                                           "changes": [failing[h] for h in sorted(failing)]})
            db.execute(INSERT_ATTEMPTS, _columns(attempts, ATTEMPT_COLUMNS))
            db.execute(UPDATE_DELIVERIES,
                       (now, *_columns([deliveries[s] for s in sorted(deliveries)], 7)))
            db.execute("DELETE FROM delivery_leases WHERE seq = ANY(%s)", (sorted(deliveries),))
        return statuses

    @translated
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
            db.execute(INSERT_ATTEMPTS,
                       _columns([_attempt_row(delivery[0], hook_id, 1, attempt, None)],
                                ATTEMPT_COLUMNS))

    @translated
    def import_deliveries(self, items: Sequence[ImportedDelivery]) -> int:
        """Insert deliveries of another store with their events and attempts, keeping
        their ids, in one transaction (``hookadmin team import-local``). A delivery
        whose id is already here is skipped, attempts and all; an event already here
        is shared.

        Returns:
            How many deliveries were new.
        """
        if not items:
            return 0
        with self.transaction() as db:
            added = import_deliveries(db, items)
            if added:
                self._notify("deliveries")
        return added

    @translated
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

    @translated
    def redeliver_failed(self, hook_id: int, since: float, *, now: float | None = None,
                         until: float | None = None) -> int:
        """Make every failed delivery of a hook updated at or after ``since`` (Unix
        seconds), and before ``until`` if given, due again now. Returns how many.

        Raises:
            NotFoundError: no such hook.
        """
        self.get_hook(hook_id)
        now = time.time() if now is None else now
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = %s,"
                " updated_at = %s WHERE hook_id = %s AND status = 'failed'"
                " AND event_type <> 'ping' AND updated_at >= %s AND updated_at < %s",
                (now, now, hook_id, since, math.inf if until is None else until))
            if cur.rowcount:
                self._notify("deliveries")
        return int(cur.rowcount)

    @translated
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


_SELECT_HOOKS = ("SELECT id, name, url, events, active, insecure_ssl, created_at, updated_at,"
                 " deactivated_reason, ca_bundle, previous_secret_expires_at, type, options,"
                 " filtered_out FROM hooks")


ATTEMPT_COLUMNS = 15  # the values of one row of INSERT_ATTEMPTS


def _attempt_row(delivery_seq: int, hook_id: int, number: int, a: AttemptRecord,
                 next_attempt_at: float | None) -> tuple[Any, ...]:
    return (delivery_seq, hook_id, number, a.started_at, a.duration_ms, a.request_url,
            json.dumps(a.request_headers), a.status_code,
            None if a.response_headers is None else json.dumps(a.response_headers),
            a.response_body, a.response_truncated, a.error_kind, a.error_message,
            next_attempt_at, a.request_body)


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows → one list per column (for ``unnest``)."""
    return [[row[i] for row in rows] for i in range(width)]


def _hook_from_row(row: Sequence[Any]) -> Hook:
    (id_, name, url, events, active, insecure_ssl, created_at, updated_at, reason, ca_bundle,
     previous_expiry, type_, options, filtered_out) = row
    return Hook(id=int(id_), name=name, url=url, events=tuple(json.loads(events)),
                active=bool(active), insecure_ssl=bool(insecure_ssl), created_at=created_at,
                updated_at=updated_at, deactivated_reason=reason, ca_bundle=ca_bundle,
                previous_secret_expires_at=previous_expiry, type=type_,
                options=HookOptions.from_json(json.loads(options)) if options
                else HookOptions(), filtered_out=int(filtered_out))


def _options_text(options: HookOptions | None) -> str | None:
    """A hook's options as stored: JSON text, or NULL when it has none."""
    if options is None or options.empty:
        return None
    return json.dumps(options.to_json())
