"""The SQLite store's sending side: the outbox, fan-out, claims and leases, recording
attempts, redelivery and pruning.

Delivery states: ``pending`` (waiting for its next attempt, possibly leased by an
engine that is sending it), ``succeeded`` and ``failed`` (final).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from hookadmin.core.errors import InputError
from hookadmin.core.events import EVENT_TYPES, subscribes_to
from hookadmin.core.filters import filtered_fan_out
from hookadmin.core.hooks import Hook
from hookadmin.core.store.hook_rows import SELECT_HOOKS, hook_from_row
from hookadmin.core.store.records import AttemptRecord, Delivery, DeliveryJob, plan_recording
from hookadmin.core.store.sqlite.batch_rows import insert_attempts, lease, update_deliveries
from hookadmin.core.store.sqlite.connection import Connected
from hookadmin.core.store.sqlite.history import (
    add_activity,
    attempt_row,
    fetch_delivery,
)
from hookadmin.core.store.sqlite.hooks import fetch_hook


class QueuePart(Connected):
    """The outbox and the delivery queue (see
    :class:`hookadmin.core.store.ports.Outbox` and
    :class:`hookadmin.core.store.ports.DeliveryQueue`)."""

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes when another connection (in this or
        any other process) commits to the database. Costs microseconds, so an idle
        engine can look for events published elsewhere every few milliseconds."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def add_events(self, events: Sequence[tuple[str, bytes]], *,
                   target_hook_id: int | None = None) -> list[str]:
        """Put events on the outbox in one transaction.

        Args:
            events: (event type, body bytes) pairs; types and bodies already checked.
            target_hook_id: deliver only to this hook, whatever its subscription (a
                test event); None fans out to every active subscribed hook.

        Returns:
            The new event UUIDs, in order.
        """
        now = time.time()
        ids = [str(uuid.uuid4()) for _ in events]
        with self.transaction():
            self._db.executemany(
                "INSERT INTO events (id, type, body, occurred_at, target_hook_id)"
                " VALUES (?, ?, ?, ?, ?)",
                [(i, t, b, now, target_hook_id)
                 for i, (t, b) in zip(ids, events, strict=True)])
            self._wake_engines()
        return ids

    def fan_out(self, *, now: float | None = None, limit: int = 1000) -> int:
        """Turn waiting outbox events into deliveries, one per active subscribed hook.

        Hooks are matched when the event is fanned out, in one transaction with
        marking the event done, so a crash never fans an event out twice or loses it.

        Returns:
            The number of events fanned out (0 when the outbox is empty).
        """
        now = time.time() if now is None else now
        if self._db.execute("SELECT 1 FROM events WHERE fanned_out = 0 LIMIT 1"
                            ).fetchone() is None:
            return 0  # no write transaction (and no lock) when nothing waits
        with self.transaction():
            rows = self._db.execute(
                "SELECT seq FROM events WHERE fanned_out = 0 ORDER BY seq LIMIT ?",
                (limit,)).fetchall()
            if not rows:
                return 0
            hooks = [hook_from_row(r) for r in self._db.execute(
                SELECT_HOOKS + " WHERE active = 1 ORDER BY id")]
            # Event type -> subscribed active hooks, matched here (groups included);
            # the deliveries themselves are made by SQLite, without a Python object
            # per delivery.
            routes = {e.id: [h.id for h in hooks if subscribes_to(h.events, e.id)
                             and h.options.filter is None]
                      for e in EVENT_TYPES}
            self._db.execute(_FAN_OUT, (now, json.dumps(routes), rows[-1][0],
                                        json.dumps([h.id for h in hooks])))
            filtering = [h for h in hooks if h.options.filter is not None]
            if filtering:  # hooks with a filter: matched here, in Python
                self._fan_out_filtered(filtering, rows[-1][0], now)
            self._db.execute("UPDATE events SET fanned_out = 1 WHERE fanned_out = 0 AND seq <= ?",
                             (rows[-1][0],))
            return len(rows)

    def _fan_out_filtered(self, hooks: Sequence[Hook], last_seq: int, now: float) -> None:
        """Deliveries for hooks with a filter, from the waiting events up to
        ``last_seq`` (test events aimed at one hook are left to :data:`_FAN_OUT`);
        events a filter leaves out are counted in the hook's ``filtered_out``."""
        events = [(int(seq), str(type_), bytes(body)) for seq, type_, body in self._db.execute(
            "SELECT seq, type, body FROM events WHERE fanned_out = 0 AND seq <= ?"
            " AND target_hook_id IS NULL ORDER BY seq", (last_seq,))]
        made, skipped = filtered_fan_out(hooks, events)
        self._db.executemany(
            "INSERT INTO deliveries (id, event_seq, hook_id, event_type, next_attempt_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(str(uuid.uuid4()), seq, hook_id, type_, now, now, now)
             for seq, hook_id, type_ in made])
        self._db.executemany("UPDATE hooks SET filtered_out = filtered_out + ? WHERE id = ?",
                             [(n, hook_id) for hook_id, n in skipped.items()])

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
            per_hook_limit: at most this many per hook, counting ``in_flight`` (hook
                id → deliveries the caller already holds).
            first_attempts_only: hooks (every hook when True) for which only deliveries
                never tried before are claimed.

        The cost does not grow with the queue: the oldest due deliveries are read from
        the ``deliveries_due`` index, at most ``4 * limit`` of them; when those belong
        mostly to hooks that are skipped or full (a hook that hangs, with a long
        backlog), the other active hooks' oldest due deliveries are read from the
        per-hook index instead, so one busy hook never starves the others.
        """
        if limit <= 0:
            return []
        skip = set(skip_hooks)
        held = dict(in_flight or {})
        cap = per_hook_limit
        fresh_all = first_attempts_only is True
        fresh = set() if isinstance(first_attempts_only, bool) else set(first_attempts_only)

        def allowed(row: tuple[Any, ...]) -> bool:  # (seq, id, hook_id, type, attempts, ...)
            return row[4] == 0 or not (fresh_all or row[2] in fresh)

        def room(hook_id: int) -> int:
            if hook_id in skip:
                return 0
            return limit if cap is None else cap - held.get(hook_id, 0)

        picked: list[tuple[Any, ...]] = []
        seen: set[int] = set()

        def take(rows: Sequence[tuple[Any, ...]]) -> None:
            for row in rows:
                if row[0] not in seen and len(picked) < limit and room(row[2]) > 0 \
                        and allowed(row):
                    picked.append(row)
                    held[row[2]] = held.get(row[2], 0) + 1
                    seen.add(row[0])

        def seek(hook_id: int, count: int) -> list[tuple[Any, ...]]:
            only_fresh = fresh_all or hook_id in fresh
            return self._db.execute(
                "SELECT seq, id, hook_id, event_type, attempts, event_seq, next_attempt_at"
                " FROM deliveries INDEXED BY deliveries_due_by_hook"
                " WHERE hook_id = ? AND status = 'pending' AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until < ?) AND (attempts = 0 OR NOT ?)"
                " ORDER BY next_attempt_at LIMIT ?",
                (hook_id, now, now, only_fresh, count)).fetchall()

        with self.transaction():
            eligible = [h for (h,) in self._db.execute(
                "SELECT id FROM hooks WHERE active = 1 ORDER BY id") if room(h) > 0]
            if len(eligible) <= _SEEK_HOOKS:
                # Few hooks: each one's oldest due deliveries, exactly as many as it has
                # room for, from the per-hook index.
                rows = [row for h in eligible for row in seek(h, min(room(h), limit))]
                rows.sort(key=lambda r: (r[6], r[0]))
                take(rows)
            else:
                window = 2 * limit
                rows = self._db.execute(
                    "SELECT seq, id, hook_id, event_type, attempts, event_seq, next_attempt_at"
                    " FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
                    " AND (lease_until IS NULL OR lease_until < ?)"
                    # "+hook_id": walk deliveries_due in time order and stop after LIMIT,
                    # instead of reading a hook's whole queue through an index by hook.
                    " AND +hook_id IN (SELECT id FROM hooks WHERE active = 1)"
                    " ORDER BY next_attempt_at LIMIT ?", (now, now, window)).fetchall()
                take(rows)
                if len(rows) == window and len(picked) < limit:
                    # The oldest due deliveries belong to hooks that are full (one that
                    # hangs, with a long backlog): look at the others one by one.
                    for h in eligible:
                        if len(picked) >= limit:
                            break
                        if room(h) > 0:
                            take(seek(h, min(room(h), limit - len(picked)) + len(seen)))
            if not picked:
                return []
            lease(self._db, [row[0] for row in picked], now + lease_seconds)
            event_seqs = sorted({row[5] for row in picked})
            bodies: dict[int, bytes] = {}
            for chunk_start in range(0, len(event_seqs), 500):
                chunk = event_seqs[chunk_start:chunk_start + 500]
                marks = ",".join("?" * len(chunk))
                bodies.update(self._db.execute(
                    f"SELECT seq, body FROM events WHERE seq IN ({marks})",  # noqa: S608
                    chunk).fetchall())
        picked.sort(key=lambda r: (r[6], r[0]))
        return [DeliveryJob(seq, id_, hook_id, type_, bytes(bodies[event_seq]), attempts)
                for seq, id_, hook_id, type_, attempts, event_seq, _ in picked]

    def renew(self, seqs: Sequence[int], lease_until: float) -> None:
        """Extend the leases of deliveries still being sent."""
        with self.transaction():
            self._db.executemany("UPDATE deliveries SET lease_until = ? WHERE seq = ?"
                                 " AND status = 'pending'", [(lease_until, s) for s in seqs])

    def release(self, seqs: Sequence[int]) -> None:
        """Drop the leases of deliveries that were claimed but not attempted."""
        with self.transaction():
            self._db.executemany("UPDATE deliveries SET lease_until = NULL WHERE seq = ?",
                                 [(s,) for s in seqs])

    def retry_secret_waits(self, now: float) -> int:
        """Make pending deliveries that waited for their secret due at ``now`` (Unix
        seconds); returns how many."""
        with self.transaction():
            return int(self._db.execute(
                "UPDATE deliveries SET next_attempt_at = ? WHERE status = 'pending'"
                " AND last_error_kind = 'secret_unavailable' AND next_attempt_at > ?",
                (now, now)).rowcount)

    def counted_attempts(self, delivery_seq: int) -> int:
        """Attempts of a delivery that count toward its retry schedule (waiting for an
        unavailable secret does not)."""
        return int(self._db.execute(
            "SELECT count(*) FROM attempts WHERE delivery_seq = ?"
            " AND error_kind IS NOT 'secret_unavailable'", (delivery_seq,)).fetchone()[0])

    def record_attempt(self, job: DeliveryJob, attempt: AttemptRecord, *,
                       next_attempt_at: float | None) -> str:
        """Store one attempt and move its delivery on.

        Args:
            job: the claimed delivery.
            attempt: what happened.
            next_attempt_at: when to try again (Unix seconds); None makes a failed
                attempt final.

        Returns:
            The delivery's new status: ``succeeded``, ``pending`` or ``failed``.
        """
        return self.record_attempts([(job, attempt, next_attempt_at)])[0]

    def record_attempts(self, items: Sequence[tuple[DeliveryJob, AttemptRecord, float | None]]
                        ) -> list[str]:
        """Store many attempts (each as :meth:`record_attempt` would) in one transaction.

        Args:
            items: (claimed delivery, what happened, when to try again or None), in the
                order the attempts ended. A delivery deleted meanwhile (its hook was
                deleted) is skipped.

        Returns:
            Each delivery's new status, in the order of ``items``.
        """
        now = time.time()
        recorded, failing = plan_recording(items)
        attempt_rows = [attempt_row(job.seq, r.number, attempt, r.next_attempt_at)
                        for (job, attempt, _), r in zip(items, recorded, strict=True)]
        delivery_rows = [(r.status, r.number, r.next_attempt_at, attempt.status_code,
                          attempt.error_kind, attempt.duration_ms, now, job.seq)
                         for (job, attempt, _), r in zip(items, recorded, strict=True)]
        statuses = [r.status for r in recorded]
        cleared = [(hook_id,) for hook_id, change in failing.items() if change == "clear"]
        with self.transaction():
            if cleared:  # one statement for every hook with a success in the batch
                self._db.executemany("UPDATE hooks SET failing_since = NULL WHERE id = ?"
                                     " AND failing_since IS NOT NULL", cleared)
            for hook_id, change in failing.items():
                if change == "clear":
                    continue
                if change == "set":
                    self._db.execute("UPDATE hooks SET failing_since = ? WHERE id = ?",
                                     (now, hook_id))
                else:
                    self._db.execute("UPDATE hooks SET failing_since = ? WHERE id = ?"
                                     " AND failing_since IS NULL", (now, hook_id))
            insert_attempts(self._db, attempt_rows)
            add_activity(self._db, ((job.hook_id, attempt) for job, attempt, _ in items))
            update_deliveries(self._db, delivery_rows)
        return statuses

    def redeliver(self, delivery_id: str, *, now: float | None = None) -> Delivery:
        """Make a finished (or waiting) delivery due again now: new attempts, same
        delivery id, same body.

        Raises:
            NotFoundError: no such delivery.
            InputError: it is a ping (send a new ping instead).
        """
        delivery = fetch_delivery(self._db, delivery_id)
        if delivery.event_type == "ping":
            raise InputError("Pings are not redelivered; send a new one with "
                             f"`hookadmin ping {delivery.hook_id}`.", field="delivery")
        now = time.time() if now is None else now
        with self.transaction():
            self._db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?"
                " WHERE seq = ?", (now, now, delivery.seq))
            self._wake_engines()
        return fetch_delivery(self._db, delivery_id)

    def redeliver_failed(self, hook_id: int, since: float, *, now: float | None = None,
                         until: float | None = None) -> int:
        """Make every failed delivery of a hook updated at or after ``since`` (Unix
        seconds), and before ``until`` if given, due again now. Returns how many.

        Raises:
            NotFoundError: no such hook.
        """
        fetch_hook(self._db, hook_id)
        now = time.time() if now is None else now
        with self.transaction():
            cur = self._db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?"
                " WHERE hook_id = ? AND status = 'failed' AND event_type != 'ping'"
                " AND updated_at >= ? AND updated_at < ?",
                (now, now, hook_id, since, math.inf if until is None else until))
            if cur.rowcount:
                self._wake_engines()
        return int(cur.rowcount)

    def prune(self, older_than: float, *, batch: int = 5000) -> int:
        """Delete finished deliveries (with their attempts) last updated before
        ``older_than`` (Unix seconds), and outbox events left with no delivery.
        Works in batches so other processes are never locked out for long.

        Returns:
            The number of deliveries deleted.
        """
        total = 0
        while True:
            with self.transaction():
                seqs = [r[0] for r in self._db.execute(
                    "SELECT seq FROM deliveries WHERE status != 'pending' AND updated_at < ?"
                    " LIMIT ?", (older_than, batch))]
                if not seqs:
                    break
                marks = ",".join("?" * len(seqs))
                self._db.execute(f"DELETE FROM attempts WHERE delivery_seq IN ({marks})",  # noqa: S608 - placeholders only
                                 seqs)
                self._db.execute(f"DELETE FROM deliveries WHERE seq IN ({marks})",  # noqa: S608 - placeholders only
                                 seqs)
                total += len(seqs)
        with self.transaction():
            self._db.execute(
                "DELETE FROM events WHERE fanned_out = 1 AND occurred_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)", (older_than,))
        return total

    def next_due(self, *, count_leases: bool = True,
                 ordered: Collection[int] = ()) -> float | None:
        """When (Unix seconds) the earliest pending delivery may be attempted, its lease
        counted (with ``count_leases`` False: when it is due, whoever holds it); None
        when nothing is pending. Deliveries of inactive hooks are not counted: they are
        never claimed until the hook is switched on again. For the ``ordered`` hook ids
        only the oldest pending delivery counts: the others are held behind it, however
        long ago their own time came. Reads one row of the ``deliveries_due`` index,
        however long the queue, and one row per ordered hook."""
        due = "max(next_attempt_at, coalesce(lease_until, 0))" if count_leases \
            else "next_attempt_at"
        held = json.dumps(sorted(ordered))
        row = self._db.execute(
            f"SELECT {due} FROM deliveries"  # noqa: S608 - one of two constant texts
            " WHERE status = 'pending' AND +hook_id IN (SELECT id FROM hooks WHERE active = 1)"
            " AND +hook_id NOT IN (SELECT value FROM json_each(?))"
            " ORDER BY next_attempt_at LIMIT 1", (held,)).fetchone()
        times = [] if row is None or row[0] is None else [float(row[0])]
        for (head,) in self._db.execute(
                f"SELECT (SELECT {due} FROM deliveries d"  # noqa: S608 - as above
                " WHERE d.hook_id = h.id AND d.status = 'pending' ORDER BY d.seq LIMIT 1)"
                " FROM hooks h WHERE h.active = 1 AND h.id IN (SELECT value FROM json_each(?))",
                (held,)):
            if head is not None:
                times.append(float(head))
        return min(times, default=None)


# A time-ordered (version 7) UUID made by SQLite from ?1 (Unix seconds), as text: the
# milliseconds in the first 48 bits, then the version nibble 7, 12 random bits, the
# variant bits 10 and 62 random bits (RFC 9562 §5.7). One fan-out's ids share their
# first 48 bits, so they go into the unique index's last pages together instead of
# all over it, as random ones did. One printf of three random() values (12, 14 and 48
# of their bits) costs about half of building the text from randomblob() pieces.
_SQL_UUID7 = ("printf('%08x-%04x-7%03x-%04x-%012x', CAST(?1 * 1000 AS INTEGER) >> 16,"
              " CAST(?1 * 1000 AS INTEGER) & 65535, random() & 4095,"
              " 32768 | (random() & 16383), random() & 281474976710655)")

# Deliveries for waiting events up to seq ?3: by subscription (?2 maps event type to
# active hook ids), or to the one target hook of a test event if it is active (?4).
_FAN_OUT = (
    "INSERT INTO deliveries (id, event_seq, hook_id, event_type, next_attempt_at,"  # noqa: S608
    " created_at, updated_at)"
    f" SELECT {_SQL_UUID7}, e.seq, h.value, e.type, ?1, ?1, ?1"
    " FROM events e JOIN json_each(?2) r ON r.key = e.type JOIN json_each(r.value) h"
    " WHERE e.fanned_out = 0 AND e.seq <= ?3 AND e.target_hook_id IS NULL"
    " UNION ALL"
    f" SELECT {_SQL_UUID7}, e.seq, e.target_hook_id, e.type, ?1, ?1, ?1"
    " FROM events e JOIN json_each(?4) a ON a.value = e.target_hook_id"
    " WHERE e.fanned_out = 0 AND e.seq <= ?3 AND e.target_hook_id IS NOT NULL"
    " ORDER BY 2, 3")

# Claims look at each hook's queue separately when at most this many hooks have room.
_SEEK_HOOKS = 32
