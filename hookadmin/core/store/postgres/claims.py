"""The PostgreSQL store's claims and leases (see
:meth:`hookadmin.core.store.ports.DeliveryQueue.claim_due`): ``FOR UPDATE SKIP
LOCKED`` so two engines never lease the same delivery, and a per-hook advisory lock
so a hook's limit holds across every engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hookadmin.core.store.postgres.connection import PostgresConnection, translated
from hookadmin.core.store.postgres.schema import LOCK_CLASS
from hookadmin.core.store.postgres.sql import (
    LEASE,
    LEASES_PER_HOOK,
    SEEK,
    SEEK_AND_LEASE,
    WINDOW,
)
from hookadmin.core.store.records import DeliveryJob

_SEEK_HOOKS = 32  # as in Store.claim_due: at most this many hooks are sought one by one


class ClaimsPart(PostgresConnection):
    """Leasing due deliveries to an engine, renewing and releasing the leases."""

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
    def retry_secret_waits(self, now: float) -> int:
        """Make pending deliveries that waited for their secret due at ``now`` (Unix
        seconds); returns how many."""
        with self.transaction() as db:
            return int(db.execute(
                "UPDATE deliveries SET next_attempt_at = %s WHERE status = 'pending'"
                " AND last_error_kind = 'secret_unavailable' AND next_attempt_at > %s",
                (now, now)).rowcount)

    @translated
    def release(self, seqs: Sequence[int]) -> None:
        """Drop the leases of deliveries that were claimed but not attempted."""
        if seqs:
            with self.transaction() as db:
                db.execute("UPDATE deliveries SET lease_until = NULL WHERE seq = ANY(%s)",
                           (sorted(seqs),))
                db.execute("DELETE FROM delivery_leases WHERE seq = ANY(%s)", (sorted(seqs),))
