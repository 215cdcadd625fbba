"""Many rows in one SQLite statement: a turn's attempt rows as multi-row ``INSERT``s,
its deliveries' updates as ``UPDATE … FROM (VALUES …)`` and a claim's leases as one
``UPDATE … WHERE seq IN (…)``, instead of one statement run per row with
``executemany``.

Each statement takes a fixed number of rows (:data:`CHUNKS`), so at most a handful of
statement texts exist and each is prepared once and kept in the connection's statement
cache; a batch of 127 rows runs as one of 64, three of 16, three of 4 and three of 1.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from hookadmin.core.store.sqlite.history import ATTEMPT_COLUMNS

CHUNKS = (64, 16, 4, 1)
"""Rows per statement, largest first (64 × 14 parameters stays far under SQLite's
limit of 32,766)."""

_DELIVERY_COLUMNS = ("status", "attempts", "next_attempt_at", "last_status_code",
                     "last_error_kind", "last_duration_ms", "updated_at")


def _values(rows: int, width: int) -> str:
    """``VALUES (?,…),(?,…)…``: ``rows`` rows of ``width`` placeholders."""
    one = "(" + ",".join("?" * width) + ")"
    return "VALUES " + ",".join([one] * rows)


@functools.lru_cache(maxsize=len(CHUNKS))
def _insert_attempts_sql(rows: int) -> str:
    """The ``INSERT`` of ``rows`` attempt rows, each skipped when its delivery is gone."""
    width = len(ATTEMPT_COLUMNS)
    picked = ", ".join(f"v.column{i + 1}" for i in range(width))
    return (f"INSERT INTO attempts ({', '.join(ATTEMPT_COLUMNS)})"  # noqa: S608 - constant text
            f" SELECT {picked} FROM ({_values(rows, width)}) AS v"
            " WHERE EXISTS (SELECT 1 FROM deliveries WHERE seq = v.column1)")


@functools.lru_cache(maxsize=len(CHUNKS))
def _update_deliveries_sql(rows: int) -> str:
    """The ``UPDATE`` of ``rows`` deliveries after an attempt each (lease dropped)."""
    width = len(_DELIVERY_COLUMNS) + 1  # the seq last
    sets = ", ".join(f"{name} = v.column{i + 1}" for i, name in enumerate(_DELIVERY_COLUMNS))
    return (f"UPDATE deliveries SET {sets}, lease_until = NULL"  # noqa: S608 - constant text
            f" FROM ({_values(rows, width)}) AS v WHERE deliveries.seq = v.column{width}")


@functools.lru_cache(maxsize=len(CHUNKS))
def _lease_sql(rows: int) -> str:
    """The ``UPDATE`` of ``rows`` deliveries' lease (its time first, then the seqs)."""
    return ("UPDATE deliveries SET lease_until = ? WHERE seq IN"  # noqa: S608 - constant text
            f" ({','.join('?' * rows)})")


def _in_chunks(db: sqlite3.Connection, sql_for: Callable[[int], str],
               rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``sql_for(n)`` over ``rows`` in chunks of :data:`CHUNKS`, in order."""
    start, total = 0, len(rows)
    for size in CHUNKS:
        sql = None
        while total - start >= size:
            sql = sql or sql_for(size)
            db.execute(sql, [value for row in rows[start:start + size] for value in row])
            start += size


def insert_attempts(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert attempt rows (``attempt_row``'s tuples, in
    :data:`~hookadmin.core.store.sqlite.history.ATTEMPT_COLUMNS` order) in the order
    given, skipping those whose delivery was deleted meanwhile.

    Raises:
        StoreFault: the database failed the statement (from the connection).
    """
    _in_chunks(db, _insert_attempts_sql, rows)


def update_deliveries(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Move deliveries on after an attempt each: ``rows`` of (status, attempts, next
    attempt time or None, last status code, last error kind, last duration in ms,
    updated at (Unix seconds), seq); the lease is dropped. Each seq at most once
    (``UPDATE … FROM`` would apply only one of two rows for the same delivery);
    a batch with a seq twice is updated row by row instead.

    Raises:
        StoreFault: the database failed the statement (from the connection).
    """
    if len({row[-1] for row in rows}) != len(rows):
        for row in rows:
            db.execute(_update_deliveries_sql(1), row)
        return
    _in_chunks(db, _update_deliveries_sql, rows)


def lease(db: sqlite3.Connection, seqs: Sequence[int], until: float) -> None:
    """Set the lease of the deliveries ``seqs`` to ``until`` (Unix seconds).

    Raises:
        StoreFault: the database failed the statement (from the connection).
    """
    start, total = 0, len(seqs)
    for size in CHUNKS:
        sql = None
        while total - start >= size:
            sql = sql or _lease_sql(size)
            db.execute(sql, (until, *seqs[start:start + size]))
            start += size
