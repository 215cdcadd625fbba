"""The read side of the team database: the delivery history, activity and settings.

:class:`PostgresHistory` answers the queries of :class:`~hookadmin.core.store.Store`
that the window and the CLI make (deliveries, attempts, the activity chart, the last
delivery of each hook, counts) and keeps the settings, on a
:class:`~hookadmin.core.store.postgres.connection.PostgresConnection`; results, units (Unix
seconds) and errors are the SQLite store's.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Collection, Sequence
from typing import Any

from hookadmin.core.errors import NotFoundError
from hookadmin.core.store.postgres.connection import PostgresConnection, translated
from hookadmin.core.store.records import Attempt, Delivery, HookHealth, health_from_rows
from hookadmin.core.store.search import search_conditions

DELIVERY_COLUMNS = ("d.seq, d.id, e.id, d.hook_id, d.event_type, d.status, d.attempts,"
                    " d.next_attempt_at, d.last_status_code, d.last_error_kind,"
                    " d.last_duration_ms, d.created_at, d.updated_at")
"""The columns of a :class:`~hookadmin.core.store.Delivery`, from ``deliveries d``
joined with ``events e``."""


class PostgresHistory(PostgresConnection):
    """History queries and settings (see the module's docstring)."""

    # -- settings ---------------------------------------------------------------------------

    @translated
    def get_setting(self, key: str) -> Any:
        """A setting's JSON value, or None when it was never set."""
        row = self.db.execute("SELECT value FROM settings WHERE key = %s", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    @translated
    def set_setting(self, key: str, value: Any) -> None:
        """Store a setting (any JSON value)."""
        self.db.execute("INSERT INTO settings VALUES (%s, %s) ON CONFLICT (key)"
                        " DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    # -- queries --------------------------------------------------------------------------

    def _count(self, sql: str, params: Sequence[object] = ()) -> int:
        row = self.db.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])

    @translated
    def outbox_waiting(self) -> int:
        """Events not yet fanned out."""
        return self._count("SELECT count(*) FROM events WHERE NOT fanned_out")

    @translated
    def pending_count(self, *, cap: int | None = None) -> int:
        """Deliveries not yet final; with ``cap``, counting stops there."""
        if cap is None:
            return self._count("SELECT count(*) FROM deliveries WHERE status = 'pending'")
        return self._count("SELECT count(*) FROM (SELECT 1 FROM deliveries"
                           " WHERE status = 'pending' LIMIT %s) p", (cap,))

    @translated
    def next_due(self, *, count_leases: bool = True,
                 ordered: Collection[int] = ()) -> float | None:
        """When (Unix seconds) the earliest pending delivery of an active hook may be
        attempted, its lease counted (with ``count_leases`` False: when it is due,
        whoever holds it); None when nothing is pending. For the ``ordered`` hook ids
        only the oldest pending delivery counts: the others are held behind it."""
        due = "greatest(next_attempt_at, coalesce(lease_until, 0))" if count_leases \
            else "next_attempt_at"
        held = sorted(ordered)
        row = self.db.execute(
            f"SELECT {due} FROM deliveries WHERE status = 'pending'"  # noqa: S608 - one of two constant texts
            " AND hook_id IN (SELECT id FROM hooks WHERE active)"
            " AND hook_id <> ALL(%s::bigint[])"
            " ORDER BY next_attempt_at, seq LIMIT 1", (held,)).fetchone()
        times = [] if row is None or row[0] is None else [float(row[0])]
        for (head,) in self.db.execute(
                f"SELECT (SELECT {due} FROM deliveries d"  # noqa: S608 - as above
                " WHERE d.hook_id = h.id AND d.status = 'pending' ORDER BY d.seq LIMIT 1)"
                " FROM hooks h WHERE h.active AND h.id = ANY(%s::bigint[])", (held,)):
            if head is not None:
                times.append(float(head))
        return min(times, default=None)

    @translated
    def list_deliveries(self, *, hook_id: int | None = None, status: str | None = None,
                        limit: int = 100, before_seq: int | None = None,
                        event_type: str | None = None, since: float | None = None,
                        after_seq: int | None = None, search: str | None = None,
                        status_class: str | None = None) -> list[Delivery]:
        """Deliveries, newest first (see :meth:`Store.list_deliveries` for the filters)."""
        conditions = (("d.hook_id = %s", hook_id), ("d.status = %s", status),
                      ("d.event_type = %s", event_type), ("d.created_at >= %s", since),
                      ("d.seq > %s", after_seq), ("d.seq < %s", before_seq))
        where = [sql for sql, value in conditions if value is not None]
        params: list[object] = [value for _, value in conditions if value is not None]
        where += search_conditions(search, status_class, "%s", params)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e"  # noqa: S608 - fixed fragments
            f" ON e.seq = d.event_seq {clause} ORDER BY d.seq DESC LIMIT %s",
            (*params, limit)).fetchall()
        return [Delivery(*r) for r in rows]

    @translated
    def count_failed(self, *, hook_id: int | None = None, since: float) -> int:
        """Failed deliveries (not pings) updated at or after ``since``, of one hook or
        all: an index-only count over the ``deliveries_failed`` index."""
        hook = "" if hook_id is None else " AND hook_id = %s"
        row = self.db.execute(
            "SELECT count(*) FROM deliveries WHERE status = 'failed'"  # noqa: S608 - fixed fragments
            f" AND event_type != 'ping' AND updated_at >= %s{hook}",
            (since,) if hook_id is None else (since, hook_id)).fetchone()
        return 0 if row is None else int(row[0])

    @translated
    def deliveries_by_seq(self, seqs: Sequence[int]) -> list[Delivery]:
        """The deliveries with these ``seq`` values (any order; missing ones left out)."""
        if not seqs:
            return []
        rows = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e"  # noqa: S608 - fixed fragments
            " ON e.seq = d.event_seq WHERE d.seq = ANY(%s)", (list(seqs),)).fetchall()
        return [Delivery(*r) for r in rows]

    @translated
    def get_delivery(self, delivery_id: str) -> Delivery:
        """One delivery by its UUID.

        Raises:
            NotFoundError: there is none.
        """
        row = self.db.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e"  # noqa: S608 - fixed fragments
            " ON e.seq = d.event_seq WHERE d.id = %s", (delivery_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no delivery {delivery_id}; `hookadmin deliveries` "
                                "lists them.", field="delivery")
        return Delivery(*row)

    @translated
    def delivery_body(self, delivery_id: str) -> bytes:
        """The body bytes a delivery sends.

        Raises:
            NotFoundError: there is no such delivery.
        """
        row = self.db.execute(
            "SELECT e.body FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " WHERE d.id = %s", (delivery_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no delivery {delivery_id}.", field="delivery")
        return bytes(row[0])

    @translated
    def list_attempts(self, delivery_seq: int) -> list[Attempt]:
        """The attempts of a delivery, first to last."""
        return [Attempt(
            started_at=r[0], duration_ms=r[1], request_url=r[2],
            request_headers=json.loads(r[3]), status_code=r[4],
            response_headers=None if r[5] is None else [tuple(p) for p in json.loads(r[5])],
            response_body=None if r[6] is None else bytes(r[6]),
            response_truncated=bool(r[7]), error_kind=r[8], error_message=r[9],
            number=r[10], next_attempt_at=r[11],
            request_body=None if r[12] is None else bytes(r[12]))
            for r in self.db.execute(
                "SELECT started_at, duration_ms, request_url, request_headers, status_code,"
                " response_headers, response_body, response_truncated, error_kind,"
                " error_message, number, next_attempt_at, request_body FROM attempts"
                " WHERE delivery_seq = %s ORDER BY number", (delivery_seq,))]

    @translated
    def hook_health(self, *, now: float | None = None, hours: int = 24
                    ) -> dict[int, HookHealth]:
        """Every hook's health over the last ``hours`` hours, by hook id (see
        :class:`HookHealth`): two queries whatever the number of hooks."""
        now = time.time() if now is None else now
        first_hour = int(now // 3600) - hours + 1
        hours_rows = self.db.execute(
            "SELECT hook_id, minute / 60, sum(succeeded), sum(failed) FROM activity_minutes"
            " WHERE minute >= %s GROUP BY 1, 2", (first_hour * 60,)).fetchall()
        hooks = self.db.execute(
            "SELECT h.id, h.failing_since, (SELECT max(m.minute) FROM activity_minutes m"
            " WHERE m.hook_id = h.id AND m.succeeded > 0) FROM hooks h").fetchall()
        return health_from_rows(hooks, hours_rows, first_hour, hours)

    @translated
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
        whole = bucket >= 60 and bucket % 60 == 0
        first_minute = math.ceil(since / 60) if whole else None
        until = "" if first_minute is None else " AND started_at < %(until)s"
        hook = "" if hook_id is None else " AND hook_id = %(hook)s"
        params = {"bucket": bucket, "since": since, "hook": hook_id,
                  "until": None if first_minute is None else first_minute * 60,
                  "first": first_minute, "per": int(bucket // 60)}
        rows = self.db.execute(
            "SELECT floor(started_at / %(bucket)s) * %(bucket)s,"  # noqa: S608 - fixed fragments
            " count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok),"
            " coalesce(sum(duration_ms), 0), count(duration_ms)"
            " FROM (SELECT started_at, duration_ms, coalesce(status_code BETWEEN 200 AND 299"
            " AND error_kind IS NULL, false) AS ok FROM attempts"
            " WHERE started_at >= %(since)s"
            " AND error_kind IS DISTINCT FROM 'secret_unavailable'"
            f"{until}{hook}) a GROUP BY 1", params).fetchall()
        if first_minute is not None:
            rows += self.db.execute(
                "SELECT (minute / %(per)s) * %(bucket)s, sum(succeeded), sum(failed),"  # noqa: S608 - fixed fragments
                " sum(duration_sum), sum(duration_count) FROM activity_minutes"
                f" WHERE minute >= %(first)s{hook} GROUP BY minute", params).fetchall()
        buckets: dict[float, list[float]] = {}
        for t, ok, bad, ms_sum, ms_count in rows:
            b = buckets.setdefault(float(t), [0, 0, 0.0, 0])
            b[0] += int(ok)
            b[1] += int(bad)
            b[2] += float(ms_sum)
            b[3] += int(ms_count)
        return [(t, int(ok), int(bad), ms_sum / n if n else None)
                for t, (ok, bad, ms_sum, n) in sorted(buckets.items()) if ok or bad]

    @translated
    def last_deliveries(self) -> dict[int, Delivery]:
        """The newest tried delivery of each hook, by hook id: one query, one short walk
        down the ``deliveries_tried`` index per hook."""
        rows = self.db.execute(
            f"SELECT x.* FROM hooks h CROSS JOIN LATERAL (SELECT {DELIVERY_COLUMNS}"  # noqa: S608 - fixed fragments
            " FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.hook_id = h.id"
            " AND d.attempts > 0 ORDER BY d.seq DESC LIMIT 1) x").fetchall()
        return {int(r[3]): Delivery(*r) for r in rows}
