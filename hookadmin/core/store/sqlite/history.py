"""The SQLite store's delivery history: deliveries and their attempts as the window and
the CLI list them, the activity chart, the counts in the status bar, and pings."""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from hookadmin.core.errors import NotFoundError
from hookadmin.core.store.header_json import request_headers_json, response_headers_json
from hookadmin.core.store.records import (
    KEYRING_WAIT,
    Attempt,
    AttemptRecord,
    Delivery,
    HookHealth,
    health_from_rows,
)
from hookadmin.core.store.search import search_conditions
from hookadmin.core.store.sqlite.connection import Connected


class HistoryPart(Connected):
    """Reads of the delivery history, and recording a ping (see
    :class:`hookadmin.core.store.ports.DeliveryHistory`)."""

    def record_ping(self, hook_id: int, delivery_id: str, body: bytes,
                    attempt: AttemptRecord) -> None:
        """Store a ping as a one-attempt delivery of event type ``ping``."""
        now = time.time()
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO events (id, type, body, occurred_at, fanned_out)"
                " VALUES (?, 'ping', ?, ?, 1)", (str(uuid.uuid4()), body, now))
            cur = self._db.execute(
                "INSERT INTO deliveries (id, event_seq, hook_id, event_type, status, attempts,"
                " last_status_code, last_error_kind, last_duration_ms, created_at, updated_at)"
                " VALUES (?, ?, ?, 'ping', ?, 1, ?, ?, ?, ?, ?)",
                (delivery_id, cur.lastrowid, hook_id,
                 "succeeded" if attempt.succeeded else "failed", attempt.status_code,
                 attempt.error_kind, attempt.duration_ms, now, now))
            assert cur.lastrowid is not None
            insert_attempt(self._db, cur.lastrowid, 1, attempt, None)
            add_activity(self._db, [(hook_id, attempt)])


    def outbox_waiting(self) -> int:
        """Events not yet fanned out."""
        return int(self._db.execute(
            "SELECT count(*) FROM events WHERE fanned_out = 0").fetchone()[0])

    def pending_count(self, *, cap: int | None = None) -> int:
        """Deliveries not yet final; with ``cap``, counting stops there (so the
        window's status bar stays cheap with millions queued)."""
        if cap is None:
            return int(self._db.execute(
                "SELECT count(*) FROM deliveries WHERE status = 'pending'").fetchone()[0])
        return int(self._db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending' LIMIT ?)",
            (cap,)).fetchone()[0])

    def list_deliveries(self, *, hook_id: int | None = None, status: str | None = None,
                        limit: int = 100, before_seq: int | None = None,
                        event_type: str | None = None, since: float | None = None,
                        after_seq: int | None = None, search: str | None = None,
                        status_class: str | None = None) -> list[Delivery]:
        """Deliveries, newest first. Paging by ``before_seq`` walks the primary key,
        so each page costs the same however many deliveries there are.

        Args:
            hook_id: only this hook's.
            status: only ``pending``, ``succeeded`` or ``failed``.
            limit: at most this many.
            before_seq: only those older than this ``seq`` (for paging).
            event_type: only this event type (``ping`` included).
            since: only those created at or after this time (Unix seconds).
            after_seq: only those newer than this ``seq`` (to add new arrivals).
            search: a delivery or event id (a UUID), else text in the body.
            status_class: ``2xx`` … ``5xx`` or ``none`` (see the protocol).

        Raises:
            InputError: an unknown ``status_class``.
        """
        conditions = (("d.hook_id = ?", hook_id), ("d.status = ?", status),
                      ("d.event_type = ?", event_type), ("d.created_at >= ?", since),
                      ("d.seq > ?", after_seq), ("d.seq < ?", before_seq))
        where = [sql for sql, value in conditions if value is not None]
        params: list[object] = [value for _, value in conditions if value is not None]
        where += search_conditions(search, status_class, "?", params)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq"  # noqa: S608 - fixed fragments
            f" {clause} ORDER BY d.seq DESC LIMIT ?", (*params, limit)).fetchall()
        return [Delivery(*r) for r in rows]

    def count_failed(self, *, hook_id: int | None = None, since: float) -> int:
        """Failed deliveries (not pings) updated at or after ``since``, of one hook or
        all: an index-only count over the ``deliveries_failed`` index."""
        # "+hook_id": walk deliveries_failed by time, not every delivery of the hook
        hook = "" if hook_id is None else " AND +hook_id = ?"
        row = self._db.execute(
            "SELECT count(*) FROM deliveries WHERE status = 'failed'"  # noqa: S608 - fixed fragments
            f" AND event_type != 'ping' AND updated_at >= ?{hook}",
            (since,) if hook_id is None else (since, hook_id)).fetchone()
        return int(row[0])

    def deliveries_by_seq(self, seqs: Sequence[int]) -> list[Delivery]:
        """The deliveries with these ``seq`` values (any order; missing ones left out)."""
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        rows = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq"  # noqa: S608 - placeholders only
            f" WHERE d.seq IN ({marks})", list(seqs)).fetchall()
        return [Delivery(*r) for r in rows]

    def get_delivery(self, delivery_id: str) -> Delivery:
        """One delivery by its UUID.

        Raises:
            NotFoundError: there is none.
        """
        return fetch_delivery(self._db, delivery_id)

    def delivery_body(self, delivery_id: str) -> bytes:
        """The body bytes a delivery sends."""
        row = self._db.execute(
            "SELECT e.body FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " WHERE d.id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no delivery {delivery_id}.", field="delivery")
        return bytes(row[0])

    def list_attempts(self, delivery_seq: int) -> list[Attempt]:
        """The attempts of a delivery, first to last."""
        out = []
        for r in self._db.execute(
                "SELECT started_at, duration_ms, request_url, request_headers, status_code,"
                " response_headers, response_body, response_truncated, error_kind,"
                " error_message, number, next_attempt_at, request_body FROM attempts"
                " WHERE delivery_seq = ? ORDER BY number", (delivery_seq,)):
            out.append(Attempt(
                started_at=r[0], duration_ms=r[1], request_url=r[2],
                request_headers=json.loads(r[3]), status_code=r[4],
                response_headers=None if r[5] is None else [tuple(p) for p in json.loads(r[5])],
                response_body=None if r[6] is None else bytes(r[6]),
                response_truncated=bool(r[7]), error_kind=r[8], error_message=r[9],
                number=r[10], next_attempt_at=r[11],
                request_body=None if r[12] is None else bytes(r[12])))
        return out

    def hook_health(self, *, now: float | None = None, hours: int = 24
                    ) -> dict[int, HookHealth]:
        """Every hook's health over the last ``hours`` hours, by hook id (see
        :class:`HookHealth`): two queries whatever the number of hooks."""
        now = time.time() if now is None else now
        first_hour = int(now // 3600) - hours + 1
        hours_rows = self._db.execute(
            "SELECT hook_id, minute / 60, sum(succeeded), sum(failed) FROM activity_minutes"
            " WHERE minute >= ? GROUP BY 1, 2", (first_hour * 60,)).fetchall()
        hooks = self._db.execute(
            "SELECT h.id, h.failing_since, (SELECT max(m.minute) FROM activity_minutes m"
            " WHERE m.hook_id = h.id AND m.succeeded > 0) FROM hooks h").fetchall()
        return health_from_rows(hooks, hours_rows, first_hour, hours)

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
        # Whole minutes come from activity_minutes (kept as attempts are recorded and
        # pruned); only attempts before the first whole minute, or all of them for a
        # bucket that is not whole minutes, are read from the attempts themselves.
        whole = bucket >= 60 and bucket % 60 == 0
        first_minute = math.ceil(since / 60) if whole else None
        params: list[object] = [bucket, bucket, since]
        until_clause = hook_clause = ""
        if first_minute is not None:
            until_clause = " AND a.started_at < ?"
            params.append(first_minute * 60)
        if hook_id is not None:
            # "+d": for the seconds before the first whole minute, walk attempts_by_time,
            # not every delivery of the hook
            hook_clause = " AND +d.hook_id = ?" if first_minute is not None \
                else " AND d.hook_id = ?"
            params.append(hook_id)
        rows = self._db.execute(
            "SELECT CAST(a.started_at / ? AS INTEGER) * ?,"  # noqa: S608 - fixed fragments
            " sum(coalesce(a.status_code BETWEEN 200 AND 299 AND a.error_kind IS NULL, 0)),"
            " sum(1 - coalesce(a.status_code BETWEEN 200 AND 299 AND a.error_kind IS NULL, 0)),"
            " total(a.duration_ms), count(a.duration_ms)"
            " FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq"
            " WHERE a.started_at >= ? AND a.error_kind IS NOT 'secret_unavailable'"
            f"{until_clause}{hook_clause} GROUP BY 1", params).fetchall()
        if first_minute is not None:
            per = int(bucket // 60)
            params = [first_minute] if hook_id is None else [first_minute, hook_id]
            rows += [((minute // per) * bucket, *sums) for minute, *sums in self._db.execute(
                "SELECT minute, sum(succeeded), sum(failed), sum(duration_sum),"  # noqa: S608 - fixed fragments
                " sum(duration_count) FROM activity_minutes WHERE minute >= ?"
                f"{'' if hook_id is None else ' AND hook_id = ?'} GROUP BY minute", params)]
        buckets: dict[float, list[float]] = {}
        for t, ok, bad, ms_sum, ms_count in rows:
            b = buckets.setdefault(float(t), [0, 0, 0.0, 0])
            b[0] += ok
            b[1] += bad
            b[2] += ms_sum
            b[3] += ms_count
        return [(t, int(ok), int(bad), ms_sum / n if n else None)
                for t, (ok, bad, ms_sum, n) in sorted(buckets.items()) if ok or bad]

    def last_deliveries(self) -> dict[int, Delivery]:
        """The newest tried delivery of each hook, by hook id. One short walk down the
        ``deliveries_by_hook`` index per hook, so it stays quick with millions of
        deliveries."""
        out = {}
        for (hook_id,) in self._db.execute("SELECT id FROM hooks").fetchall():
            row = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d"  # noqa: S608 - fixed fragments
                " JOIN events e ON e.seq = d.event_seq"
                " WHERE d.hook_id = ? AND d.attempts > 0 ORDER BY d.seq DESC LIMIT 1",
                (hook_id,)).fetchone()
            if row is not None:
                out[hook_id] = Delivery(*row)
        return out



def fetch_delivery(db: sqlite3.Connection, delivery_id: str) -> Delivery:
    """One delivery by its UUID.

    Raises:
        NotFoundError: there is none.
    """
    row = db.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq"  # noqa: S608 - fixed fragments
        " WHERE d.id = ?", (delivery_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"There is no delivery {delivery_id}; `hookadmin deliveries` "
                            "lists them.", field="delivery")
    return Delivery(*row)


def insert_attempt(db: sqlite3.Connection, delivery_seq: int, number: int, a: AttemptRecord,
                   next_attempt_at: float | None) -> None:
    """Store one attempt of a delivery (inside the caller's transaction)."""
    db.execute(INSERT_ATTEMPT, attempt_row(delivery_seq, number, a, next_attempt_at))


_DELIVERY_COLUMNS = ("d.seq, d.id, e.id, d.hook_id, d.event_type, d.status, d.attempts,"
                     " d.next_attempt_at, d.last_status_code, d.last_error_kind,"
                     " d.last_duration_ms, d.created_at, d.updated_at")


# The columns of an attempt row, in the order of :func:`attempt_row`'s values.
ATTEMPT_COLUMNS = ("delivery_seq", "number", "started_at", "duration_ms", "request_url",
                   "request_headers", "status_code", "response_headers", "response_body",
                   "response_truncated", "error_kind", "error_message", "next_attempt_at",
                   "request_body")
INSERT_ATTEMPT = (
    f"INSERT INTO attempts ({', '.join(ATTEMPT_COLUMNS)})"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14")


# Adds one (minute, hook) row's counts to the activity chart's table; nothing for a
# hook deleted meanwhile (its rows went with it, and its attempts were not stored).
ADD_ACTIVITY = (
    "INSERT INTO activity_minutes (minute, hook_id, succeeded, failed, duration_sum,"
    " duration_count) SELECT ?1, ?2, ?3, ?4, ?5, ?6"
    " WHERE EXISTS (SELECT 1 FROM hooks WHERE id = ?2)"
    " ON CONFLICT (minute, hook_id) DO UPDATE SET"
    " succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,"
    " duration_sum = duration_sum + excluded.duration_sum,"
    " duration_count = duration_count + excluded.duration_count")


def add_activity(db: sqlite3.Connection, attempts: Iterable[tuple[int, AttemptRecord]]
                 ) -> None:
    """Count attempts into ``activity_minutes`` (inside the caller's transaction, with
    the attempts themselves): one upsert per minute and hook, however many attempts.
    Attempts that only waited for the keyring (:data:`KEYRING_WAIT`) are left out.

    Args:
        attempts: (hook id, what happened) pairs; the minute is the attempt's
            ``started_at`` (Unix seconds) // 60.
    """
    rows: dict[tuple[int, int], list[float]] = {}
    for hook_id, a in attempts:
        if a.error_kind == KEYRING_WAIT:
            continue  # waiting for the keyring is no failure of the receiver
        row = rows.setdefault((int(a.started_at / 60), hook_id), [0, 0, 0.0, 0])
        row[0 if a.succeeded else 1] += 1
        if a.duration_ms is not None:
            row[2] += a.duration_ms
            row[3] += 1
    db.executemany(ADD_ACTIVITY, [(minute, hook_id, *sums)
                                  for (minute, hook_id), sums in rows.items()])


def attempt_row(delivery_seq: int, number: int, a: AttemptRecord,
                next_attempt_at: float | None) -> tuple[Any, ...]:
    """An attempt as the parameters of :data:`INSERT_ATTEMPT`."""
    return (delivery_seq, number, a.started_at, a.duration_ms, a.request_url,
            request_headers_json(a.request_headers), a.status_code,
            None if a.response_headers is None else response_headers_json(a.response_headers),
            a.response_body, int(a.response_truncated), a.error_kind, a.error_message,
            next_attempt_at, a.request_body)

