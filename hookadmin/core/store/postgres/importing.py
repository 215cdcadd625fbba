"""Copying another store's deliveries into a team database (``hookadmin team
import-local``; see :meth:`hookadmin.core.store.ports.HistoryImport.import_deliveries`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import Connection

from hookadmin.core.store.postgres.sql import INSERT_ATTEMPTS
from hookadmin.core.store.records import Attempt, ImportedDelivery

_EVENT = ("INSERT INTO events (id, type, body, occurred_at, fanned_out)"
          " VALUES (%s, %s, %s, %s, true) ON CONFLICT (id) DO NOTHING")
_DELIVERY = (
    "INSERT INTO deliveries (id, event_seq, hook_id, event_type, status,"
    " attempts, next_attempt_at, last_status_code, last_error_kind,"
    " last_duration_ms, created_at, updated_at)"
    " SELECT %s, seq, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM events"
    " WHERE id = %s ON CONFLICT (id) DO NOTHING RETURNING seq")


def import_deliveries(db: Connection[tuple[Any, ...]],
                      items: Sequence[ImportedDelivery]) -> int:
    """Insert ``items`` with their events and attempts, keeping their ids, on ``db``
    (inside the caller's transaction). A delivery whose id is already there is skipped,
    attempts and all; an event already there is shared.

    Returns:
        How many deliveries were new.
    """
    added = 0
    for item in items:
        d = item.delivery
        db.execute(_EVENT, (d.event_id, d.event_type, item.body, d.created_at))
        row = db.execute(_DELIVERY, (
            d.id, item.hook_id, d.event_type, d.status, d.attempts, d.next_attempt_at,
            d.last_status_code, d.last_error_kind, d.last_duration_ms, d.created_at,
            d.updated_at, d.event_id)).fetchone()
        if row is None:
            continue
        added += 1
        if item.attempts:
            rows = [_attempt_row(row[0], item.hook_id, a) for a in item.attempts]
            db.execute(INSERT_ATTEMPTS, [[r[i] for r in rows] for i in range(len(rows[0]))])
    return added


def _attempt_row(delivery_seq: int, hook_id: int, a: Attempt) -> tuple[Any, ...]:
    return (delivery_seq, hook_id, a.number, a.started_at, a.duration_ms, a.request_url,
            json.dumps(a.request_headers), a.status_code,
            None if a.response_headers is None else json.dumps(a.response_headers),
            a.response_body, a.response_truncated, a.error_kind, a.error_message,
            a.next_attempt_at, a.request_body)
