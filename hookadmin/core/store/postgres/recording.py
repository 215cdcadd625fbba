"""The PostgreSQL store's recording of attempts and pings, and the import of another
store's deliveries (see :class:`hookadmin.core.store.ports.DeliveryQueue`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from hookadmin.core.store.header_json import request_headers_json, response_headers_json
from hookadmin.core.store.postgres.connection import PostgresConnection, translated
from hookadmin.core.store.postgres.importing import import_deliveries
from hookadmin.core.store.postgres.sql import FAILING_SINCE, INSERT_ATTEMPTS, UPDATE_DELIVERIES
from hookadmin.core.store.records import (
    AttemptRecord,
    DeliveryJob,
    ImportedDelivery,
    plan_recording,
)


class RecordingPart(PostgresConnection):
    """What happened to a delivery: its attempts, its new status, its hook's
    ``failing_since``; pings; imported deliveries."""

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
        recorded, failing = plan_recording(items)
        attempts = [_attempt_row(job.seq, job.hook_id, r.number, attempt, r.next_attempt_at)
                    for (job, attempt, _), r in zip(items, recorded, strict=True)]
        deliveries = {job.seq: (job.seq, r.status, r.number, r.next_attempt_at,
                                attempt.status_code, attempt.error_kind, attempt.duration_ms)
                      for (job, attempt, _), r in zip(items, recorded, strict=True)}
        statuses = [r.status for r in recorded]
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


ATTEMPT_COLUMNS = 15  # the values of one row of INSERT_ATTEMPTS


def _attempt_row(delivery_seq: int, hook_id: int, number: int, a: AttemptRecord,
                 next_attempt_at: float | None) -> tuple[Any, ...]:
    return (delivery_seq, hook_id, number, a.started_at, a.duration_ms, a.request_url,
            request_headers_json(a.request_headers), a.status_code,
            None if a.response_headers is None else response_headers_json(a.response_headers),
            a.response_body, a.response_truncated, a.error_kind, a.error_message,
            next_attempt_at, a.request_body)


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows → one list per column (for ``unnest``)."""
    return [[row[i] for row in rows] for i in range(width)]

