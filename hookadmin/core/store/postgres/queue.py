"""The PostgreSQL store's outbox and the redelivery and pruning of deliveries (see
:class:`hookadmin.core.store.ports.Outbox` and
:class:`hookadmin.core.store.ports.DeliveryQueue`). Publishing and making deliveries
due ``NOTIFY`` every engine."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence

from hookadmin.core.errors import InputError
from hookadmin.core.events import EVENT_TYPES, subscribes_to
from hookadmin.core.filters import filtered_fan_out
from hookadmin.core.hooks import Hook
from hookadmin.core.store.hook_rows import SELECT_HOOKS, hook_from_row
from hookadmin.core.store.postgres.connection import translated
from hookadmin.core.store.postgres.history import PostgresHistory
from hookadmin.core.store.postgres.hooks import HooksPart
from hookadmin.core.store.postgres.sql import FAN_OUT
from hookadmin.core.store.records import Delivery


class QueuePart(HooksPart, PostgresHistory):
    """Events in, deliveries out: the outbox, fan-out, redelivery and pruning."""

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
            hooks = [hook_from_row(r) for r in db.execute(
                SELECT_HOOKS + " WHERE active ORDER BY id")]
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
