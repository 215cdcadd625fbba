"""The SQLite store's claims for ordered hooks (see
:meth:`hookadmin.core.store.ports.DeliveryQueue.claim_ordered`)."""

from __future__ import annotations

from collections.abc import Sequence

from hookadmin.core.store.records import Delivery, DeliveryJob
from hookadmin.core.store.sqlite.connection import Connected

_HEAD = ("SELECT d.seq, d.id, d.hook_id, d.event_type, d.attempts, d.next_attempt_at,"
         " d.lease_until, e.body FROM deliveries d JOIN events e ON e.seq = d.event_seq"
         " WHERE d.hook_id = ? AND d.status = 'pending' ORDER BY d.seq LIMIT 1")


class OrderedPart(Connected):
    """The head of each ordered hook's queue: its oldest pending delivery."""

    def claim_ordered(self, hook_ids: Sequence[int], *, now: float,
                      lease_seconds: float) -> list[DeliveryJob]:
        """Lease the oldest pending delivery of each hook, when it is due and not
        leased; a hook whose oldest pending delivery waits for a retry gets none."""
        jobs: list[DeliveryJob] = []
        with self.transaction():
            for hook_id in hook_ids:
                row = self._db.execute(_HEAD, (hook_id,)).fetchone()
                if row is None or row[5] is None or row[5] > now \
                        or (row[6] is not None and row[6] >= now):
                    continue
                self._db.execute("UPDATE deliveries SET lease_until = ? WHERE seq = ?",
                                 (now + lease_seconds, row[0]))
                jobs.append(DeliveryJob(row[0], row[1], row[2], row[3], bytes(row[7]), row[4]))
        return jobs

    def first_pending(self, hook_id: int) -> Delivery | None:
        """The hook's oldest pending delivery (what an ordered hook's others wait
        behind), or None."""
        row = self._db.execute("SELECT seq FROM deliveries WHERE hook_id = ? AND"
                               " status = 'pending' ORDER BY seq LIMIT 1",
                               (hook_id,)).fetchone()
        if row is None:
            return None
        found = self.deliveries_by_seq([row[0]])
        return found[0] if found else None

    def deliveries_by_seq(self, seqs: Sequence[int]) -> list[Delivery]:
        """Provided by the history part."""
        raise NotImplementedError
