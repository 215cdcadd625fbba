"""The PostgreSQL store's claims for ordered hooks (see
:meth:`hookadmin.core.store.ports.DeliveryQueue.claim_ordered`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from psycopg import Connection

from hookadmin.core.store.records import Delivery, DeliveryJob

_HEAD = ("SELECT d.seq, d.next_attempt_at, d.lease_until FROM deliveries d"
         " WHERE d.hook_id = %s AND d.status = 'pending' ORDER BY d.seq LIMIT 1")
# As the normal claim's LEASE: the lease is also noted in delivery_leases, where claims
# count each hook's leased deliveries.
_LEASE = """
WITH leased AS (
    UPDATE deliveries d SET lease_until = %(until)s FROM events e
    WHERE d.seq = %(seq)s AND e.seq = d.event_seq AND d.status = 'pending'
      AND (d.lease_until IS NULL OR d.lease_until < %(now)s)
    RETURNING d.seq, d.id, d.hook_id, d.event_type, e.body, d.attempts
), noted AS (
    INSERT INTO delivery_leases SELECT seq, hook_id, %(until)s FROM leased
    ON CONFLICT (seq) DO UPDATE SET hook_id = excluded.hook_id,
        lease_until = excluded.lease_until
)
SELECT * FROM leased
"""


class OrderedPart:
    """The head of each ordered hook's queue: its oldest pending delivery. Mixed into
    :class:`hookadmin.core.store.postgres.PostgresStore`, which provides :attr:`db`,
    :meth:`transaction` and :meth:`deliveries_by_seq`."""

    @property
    def db(self) -> Connection[tuple[Any, ...]]:
        """The connection (provided by the store)."""
        raise NotImplementedError

    def transaction(self, *, batched: bool = False
                    ) -> AbstractContextManager[Connection[tuple[Any, ...]]]:
        """One transaction (provided by the store)."""
        raise NotImplementedError

    def deliveries_by_seq(self, seqs: Sequence[int]) -> list[Delivery]:
        """Provided by the store."""
        raise NotImplementedError

    def claim_ordered(self, hook_ids: Sequence[int], *, now: float,
                      lease_seconds: float) -> list[DeliveryJob]:
        """Lease the oldest pending delivery of each hook, when it is due and not
        leased (by any engine: the lease is taken only if nobody holds it)."""
        jobs: list[DeliveryJob] = []
        with self.transaction() as db:
            for hook_id in hook_ids:
                head = db.execute(_HEAD, (hook_id,)).fetchone()
                if head is None or head[1] is None or head[1] > now:
                    continue
                row = db.execute(_LEASE, {"until": now + lease_seconds, "seq": head[0],
                                            "now": now}).fetchone()
                if row is not None:
                    jobs.append(DeliveryJob(row[0], row[1], row[2], row[3], bytes(row[4]),
                                            row[5]))
        return jobs

    def first_pending(self, hook_id: int) -> Delivery | None:
        """The hook's oldest pending delivery, or None."""
        head = self.db.execute(_HEAD, (hook_id,)).fetchone()
        if head is None:
            return None
        found = self.deliveries_by_seq([head[0]])
        return found[0] if found else None
