"""The SQL both stores run for :class:`hookadmin.core.store.ports.MetricsSource`
(standard SQL the two dialects share; placeholders are filled in by each store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookadmin.core.store.metrics_records import AttemptSample, DeliveryGauges

GAUGES = """SELECT
    (SELECT count(*) FROM deliveries WHERE status = 'pending' AND attempts = 0),
    (SELECT count(*) FROM deliveries WHERE status = 'pending' AND attempts > 0),
    (SELECT count(*) FROM deliveries WHERE status = 'failed'),
    (SELECT count(*) FROM events WHERE {not_fanned_out}),
    (SELECT min(created_at) FROM deliveries WHERE status = 'pending'),
    (SELECT min(occurred_at) FROM events WHERE {not_fanned_out}),
    (SELECT count(*) FROM hooks WHERE {active}),
    (SELECT count(*) FROM hooks WHERE NOT {active})"""

LAST_ATTEMPT = "SELECT coalesce(max(id), 0) FROM attempts"

SAMPLES = """SELECT a.id, d.hook_id, a.status_code, a.error_kind, a.duration_ms, a.started_at,
    e.occurred_at FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq
    JOIN events e ON e.seq = d.event_seq
    WHERE a.id > {mark} AND a.started_at >= {mark} AND d.event_type <> 'ping'
    ORDER BY a.id LIMIT {mark}"""


def gauges_from_row(row: Sequence[Any]) -> DeliveryGauges:
    """The :data:`GAUGES` row as a record."""
    oldest = [t for t in (row[4], row[5]) if t is not None]
    return DeliveryGauges(pending=int(row[0]), retrying=int(row[1]), failed=int(row[2]),
                          outbox=int(row[3]), oldest_pending_at=min(oldest) if oldest else None,
                          hooks_active=int(row[6]), hooks_inactive=int(row[7]))


def sample_from_row(row: Sequence[Any]) -> AttemptSample:
    """A :data:`SAMPLES` row as a record."""
    id_, hook_id, code, kind, duration_ms, started_at, occurred_at = row
    duration = None if duration_ms is None else float(duration_ms) / 1000.0
    ok = kind is None and code is not None and 200 <= code <= 299
    latency = max(0.0, started_at + (duration or 0.0) - occurred_at) if ok else None
    return AttemptSample(int(id_), int(hook_id), code, kind, duration, latency)
