"""The local SQLite store: hooks, the outbox, deliveries and attempts.

One database file per data directory, in WAL mode, so the window, a headless worker
and any number of ``hookadmin publish`` processes can use it at once. The schema
version is SQLite's ``user_version``; :data:`MIGRATIONS` brings an older file up to
date when it is opened. Secrets are never stored here (see
:mod:`hookadmin.core.secrets`).

Times are Unix seconds (float) except a hook's ``created_at``/``updated_at``, which
are the §4 ISO-8601 strings.

Delivery states: ``pending`` (waiting for its next attempt, possibly leased by an
engine that is sending it), ``succeeded`` and ``failed`` (final).
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hookadmin.core.dbfaults import busy_timeout
from hookadmin.core.errors import InputError, NotFoundError, StoreError
from hookadmin.core.events import EVENT_TYPES, subscribes_to
from hookadmin.core.hooks import Hook, utc_now_iso

DB_FILENAME = "hookadmin.sqlite3"

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE hooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL DEFAULT '',
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        insecure_ssl INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deactivated_reason TEXT
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        body BLOB NOT NULL,
        occurred_at REAL NOT NULL,
        fanned_out INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX events_waiting ON events(seq) WHERE fanned_out = 0;
    CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        event_seq INTEGER NOT NULL REFERENCES events(seq),
        hook_id INTEGER NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
        event_type TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        lease_until REAL,
        last_status_code INTEGER,
        last_error_kind TEXT,
        last_duration_ms REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
    CREATE INDEX deliveries_by_hook ON deliveries(hook_id, seq);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_seq INTEGER NOT NULL REFERENCES deliveries(seq) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        started_at REAL NOT NULL,
        duration_ms REAL,
        request_url TEXT NOT NULL,
        request_headers TEXT NOT NULL,
        status_code INTEGER,
        response_headers TEXT,
        response_body BLOB,
        response_truncated INTEGER NOT NULL DEFAULT 0,
        error_kind TEXT,
        error_message TEXT,
        next_attempt_at REAL
    );
    CREATE INDEX attempts_by_delivery ON attempts(delivery_seq, number);
    """,
    # 2: test events aimed at one hook; settings shared by the window and the worker
    """
    ALTER TABLE events ADD COLUMN target_hook_id INTEGER;
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE INDEX deliveries_final ON deliveries(updated_at) WHERE status != 'pending';
    CREATE INDEX attempts_by_time ON attempts(started_at);
    """,
    # 3: since when every attempt to a hook has failed (NULL after any success)
    """
    ALTER TABLE hooks ADD COLUMN failing_since REAL;
    """,
    # 4: per-hook CA bundle; the replaced secret's signing overlap after a reset
    """
    ALTER TABLE hooks ADD COLUMN ca_bundle TEXT;
    ALTER TABLE hooks ADD COLUMN previous_secret_expires_at REAL;
    CREATE INDEX deliveries_tried ON deliveries(hook_id, seq) WHERE attempts > 0;
    """,
    # 5: attempts per minute and hook for the activity chart, kept by triggers, so a day
    # of it reads at most 1,440 rows per hook instead of every attempt of the day
    """
    CREATE TABLE activity_minutes (
        minute INTEGER NOT NULL,
        hook_id INTEGER NOT NULL,
        succeeded INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        duration_sum REAL NOT NULL,
        duration_count INTEGER NOT NULL,
        PRIMARY KEY (minute, hook_id)
    ) WITHOUT ROWID;
    INSERT INTO activity_minutes
        SELECT CAST(a.started_at / 60 AS INTEGER), d.hook_id,
               sum(coalesce(a.status_code BETWEEN 200 AND 299 AND a.error_kind IS NULL, 0)),
               sum(1 - coalesce(a.status_code BETWEEN 200 AND 299 AND a.error_kind IS NULL, 0)),
               total(a.duration_ms), count(a.duration_ms)
        FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq GROUP BY 1, 2;
    CREATE TRIGGER activity_add AFTER INSERT ON attempts BEGIN
        INSERT INTO activity_minutes
            SELECT CAST(NEW.started_at / 60 AS INTEGER), d.hook_id,
                   coalesce(NEW.status_code BETWEEN 200 AND 299 AND NEW.error_kind IS NULL, 0),
                   1 - coalesce(NEW.status_code BETWEEN 200 AND 299 AND NEW.error_kind IS NULL,
                                0),
                   coalesce(NEW.duration_ms, 0), NEW.duration_ms IS NOT NULL
            FROM deliveries d WHERE d.seq = NEW.delivery_seq
            ON CONFLICT (minute, hook_id) DO UPDATE SET
                succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
                duration_sum = duration_sum + excluded.duration_sum,
                duration_count = duration_count + excluded.duration_count;
    END;
    CREATE TRIGGER activity_remove AFTER DELETE ON attempts BEGIN
        UPDATE activity_minutes SET
            succeeded = succeeded
                - coalesce(OLD.status_code BETWEEN 200 AND 299 AND OLD.error_kind IS NULL, 0),
            failed = failed - 1
                + coalesce(OLD.status_code BETWEEN 200 AND 299 AND OLD.error_kind IS NULL, 0),
            duration_sum = duration_sum - coalesce(OLD.duration_ms, 0),
            duration_count = duration_count - (OLD.duration_ms IS NOT NULL)
        WHERE minute = CAST(OLD.started_at / 60 AS INTEGER)
            AND hook_id = (SELECT hook_id FROM deliveries WHERE seq = OLD.delivery_seq);
        DELETE FROM activity_minutes WHERE minute = CAST(OLD.started_at / 60 AS INTEGER)
            AND succeeded = 0 AND failed = 0;
    END;
    CREATE TRIGGER activity_forget_hook AFTER DELETE ON hooks BEGIN
        DELETE FROM activity_minutes WHERE hook_id = OLD.id;
    END;
    """,
    # 6: a counter bumped by every change to a hook that matters for sending (not by the
    # engine's own failing_since bookkeeping), so an engine re-reads its cached hooks
    # only when one changed
    """
    INSERT OR IGNORE INTO meta VALUES ('hooks_generation', '0');
    CREATE TRIGGER hooks_generation_insert AFTER INSERT ON hooks BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'hooks_generation';
    END;
    CREATE TRIGGER hooks_generation_delete AFTER DELETE ON hooks BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'hooks_generation';
    END;
    CREATE INDEX deliveries_due_by_hook ON deliveries(hook_id, next_attempt_at)
        WHERE status = 'pending';
    CREATE TRIGGER hooks_generation_update AFTER UPDATE OF name, url, events, active,
            insecure_ssl, ca_bundle, previous_secret_expires_at, updated_at,
            deactivated_reason ON hooks BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'hooks_generation';
    END;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class DeliveryJob:
    """One due delivery claimed by an engine: everything needed to send it.

    ``body`` is the exact bytes stored at publish time; ``attempts`` counts the
    attempts already made (0 for a new delivery).
    """

    seq: int
    id: str
    hook_id: int
    event_type: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class AttemptRecord:
    """The outcome of one HTTP attempt, as the engine or a ping produces it.

    Attributes:
        started_at: Unix seconds when the request began.
        duration_ms: milliseconds until the response was read or the error happened.
        request_url: the URL posted to.
        request_headers: the headers sent (signatures included; they are not secret).
        status_code: the HTTP status, or None when no response arrived.
        response_headers: list of (name, value) pairs, or None.
        response_body: at most the configured cap of the response body (bytes).
        response_truncated: True when the body was longer than the cap.
        error_kind: None on success, else ``timeout``, ``dns``, ``connect``, ``tls``,
            ``redirect``, ``http_status``, ``protocol``, ``secret_unavailable``, ...
        error_message: one sentence for people, or None.
    """

    started_at: float
    duration_ms: float | None
    request_url: str
    request_headers: dict[str, str]
    status_code: int | None
    response_headers: list[tuple[str, str]] | None
    response_body: bytes | None
    response_truncated: bool
    error_kind: str | None
    error_message: str | None

    @property
    def succeeded(self) -> bool:
        """True for a 2xx response."""
        return self.error_kind is None and self.status_code is not None \
            and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Attempt(AttemptRecord):
    """A stored attempt: an :class:`AttemptRecord` with its number (1-based) and
    the time the next attempt was scheduled for (Unix seconds, or None)."""

    number: int = 0
    next_attempt_at: float | None = None


@dataclass(frozen=True)
class Delivery:
    """One event sent to one hook, as listed in the delivery history."""

    seq: int
    id: str
    event_id: str
    hook_id: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error_kind: str | None
    last_duration_ms: float | None
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO-8601 UTC)."""
        return {
            "id": self.id, "event_id": self.event_id, "hook_id": self.hook_id,
            "event": self.event_type, "status": self.status, "attempts": self.attempts,
            "status_code": self.last_status_code, "error_kind": self.last_error_kind,
            "duration_ms": self.last_duration_ms,
            "next_attempt_at": iso(self.next_attempt_at) if self.status == "pending" else None,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
        }


def iso(ts: float | None) -> str | None:
    """Unix seconds → ``2026-11-29T14:21:29Z`` (or None)."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Store:
    """The SQLite repository. One instance per thread (sqlite3 connections are not
    shared across threads); open as many as needed, in as many processes as needed.

    Args:
        path: the database file; its folder is created if missing.
        durable: ``synchronous=FULL`` (survives power loss) instead of ``NORMAL``
            (survives a crash of the process, which is what the engine needs).

    Raises:
        StoreError: the file cannot be opened, is not a hookadmin database, or was
            written by a newer hookadmin.
    """

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout(),
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._claim_identity()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"Cannot open the database {path} ({err}); check the file and "
                             "its folder's permissions, or choose another --home.") from err
        except OSError as err:
            raise StoreError(f"Cannot use {path.parent} as the data directory "
                             f"({err.strerror or err}); choose another --home.") from None
        self.store_id = self._meta("store_id")
        parents = self._db.execute("SELECT value FROM meta WHERE key = 'parent_store_ids'"
                                   ).fetchone()
        self.parent_store_ids: list[str] = json.loads(parents[0]) if parents else []

    def _claim_identity(self) -> None:
        """Give a copied database its own keyring namespace.

        The database remembers where it lives. Opened somewhere else while the original
        still exists, it is a copy (a backup, a test copy): it gets a new store id and
        reads the original's secrets as its parent's, read-only, so it never changes
        or deletes them. A database that was moved (the original path is gone) keeps
        its id.
        """
        here = str(self.path.resolve())
        row = self._db.execute("SELECT value FROM meta WHERE key = 'db_path'").fetchone()
        if row is not None and row[0] == here:
            return
        with self.transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'db_path'").fetchone()
            if row is not None and row[0] != here and Path(row[0]).exists():
                old = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0]
                parents_row = self._db.execute(
                    "SELECT value FROM meta WHERE key = 'parent_store_ids'").fetchone()
                parents = [old, *(json.loads(parents_row[0]) if parents_row else [])]
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'store_id'",
                                 (str(uuid.uuid4()),))
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('parent_store_ids', ?)",
                                 (json.dumps(parents),))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('db_path', ?)", (here,))

    @classmethod
    def in_home(cls, home: Path, *, durable: bool = True) -> Store:
        """Open the database of a data directory."""
        return cls(home / DB_FILENAME, durable=durable)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"The database {self.path} was written by a newer hookadmin "
                             f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade "
                             "hookadmin to use it.")
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                statement = ""  # a trigger's body holds ";" too: split on whole statements
                for part in MIGRATIONS[number].split(";"):
                    statement += part + ";"
                    if sqlite3.complete_statement(statement):
                        if statement.strip(" \n;"):
                            self._db.execute(statement)
                        statement = ""
            if version == 0:
                self._db.execute("INSERT INTO meta VALUES ('store_id', ?)", (str(uuid.uuid4()),))
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(f"The database {self.path} has no {key}; it is damaged, restore "
                             "it from a backup or choose another --home.")
        return str(row[0])

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
        if self._db.in_transaction:
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # a failed COMMIT (a full disk) may leave it open
                self._db.execute("ROLLBACK")
            raise

    # -- hooks ----------------------------------------------------------------------------

    def add_hook(self, *, name: str, url: str, events: Sequence[str], active: bool,
                 insecure_ssl: bool = False, ca_bundle: str | None = None) -> Hook:
        """Insert a hook (values already validated) and return it with its new id."""
        now = utc_now_iso()
        cur = self._db.execute(
            "INSERT INTO hooks (name, url, events, active, insecure_ssl, ca_bundle, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, url, json.dumps(list(events)), int(active), int(insecure_ssl), ca_bundle,
             now, now))
        assert cur.lastrowid is not None
        return self.get_hook(cur.lastrowid)

    def get_hook(self, hook_id: int) -> Hook:
        """The hook with this id.

        Raises:
            NotFoundError: there is none.
        """
        row = self._db.execute(_SELECT_HOOKS + " WHERE id = ?", (hook_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no hook {hook_id}; `hookadmin hooks list` shows "
                                "the hooks that exist.", field="id")
        return _hook_from_row(row)

    def list_hooks(self) -> list[Hook]:
        """Every hook, by id."""
        return [_hook_from_row(r)
                for r in self._db.execute(_SELECT_HOOKS + " ORDER BY id")]

    def hooks_generation(self) -> int:
        """A number that changes whenever a hook is added, deleted or changed in a way
        that matters for sending (URL, events, active, TLS, secret reset); cheap to
        read, so an engine can keep its hooks cached and re-read them only then."""
        return int(self._db.execute(
            "SELECT value FROM meta WHERE key = 'hooks_generation'").fetchone()[0])

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes when another connection (in this or
        any other process) commits to the database. Costs microseconds, so an idle
        engine can look for events published elsewhere every few milliseconds."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def update_hook(self, hook_id: int, *, name: str | None = None, url: str | None = None,
                    events: Sequence[str] | None = None, active: bool | None = None,
                    insecure_ssl: bool | None = None,
                    deactivated_reason: str | None = None, ca_bundle: str | None = None,
                    previous_secret_expires_at: float | None = None,
                    clear_previous_secret: bool = False) -> Hook:
        """Change some fields of a hook (values already validated); returns the result.

        Activating a hook clears its ``deactivated_reason``.

        Raises:
            NotFoundError: there is no such hook.
        """
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if url is not None:
            changes["url"] = url
        if events is not None:
            changes["events"] = json.dumps(list(events))
        if insecure_ssl is not None:
            changes["insecure_ssl"] = int(insecure_ssl)
        if ca_bundle is not None:
            changes["ca_bundle"] = ca_bundle or None
        if previous_secret_expires_at is not None:
            changes["previous_secret_expires_at"] = previous_secret_expires_at
        if clear_previous_secret:
            changes["previous_secret_expires_at"] = None
        if active is not None:
            changes["active"] = int(active)
            changes["deactivated_reason"] = None if active else deactivated_reason
            if active:
                changes["failing_since"] = None
        self.get_hook(hook_id)
        if changes:
            changes["updated_at"] = utc_now_iso()
            assignments = ", ".join(f"{k} = ?" for k in changes)
            self._db.execute(f"UPDATE hooks SET {assignments} WHERE id = ?",  # noqa: S608 - column names are ours
                             (*changes.values(), hook_id))
        return self.get_hook(hook_id)

    def failing_since(self, hook_id: int) -> float | None:
        """Since when (Unix seconds) every attempt to the hook has failed, or None."""
        row = self._db.execute("SELECT failing_since FROM hooks WHERE id = ?",
                               (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def delete_hook(self, hook_id: int) -> None:
        """Delete a hook with its deliveries and attempts.

        Raises:
            NotFoundError: there is no such hook.
        """
        self.get_hook(hook_id)
        self._db.execute("DELETE FROM hooks WHERE id = ?", (hook_id,))

    # -- outbox ---------------------------------------------------------------------------

    def add_events(self, events: Sequence[tuple[str, bytes]], *,
                   target_hook_id: int | None = None) -> list[str]:
        """Put events on the outbox in one transaction.

        Args:
            events: (event type, body bytes) pairs; types and bodies already checked.
            target_hook_id: deliver only to this hook, whatever its subscription (a
                test event); None fans out to every active subscribed hook.

        Returns:
            The new event UUIDs, in order.
        """
        now = time.time()
        ids = [str(uuid.uuid4()) for _ in events]
        with self.transaction():
            self._db.executemany(
                "INSERT INTO events (id, type, body, occurred_at, target_hook_id)"
                " VALUES (?, ?, ?, ?, ?)",
                [(i, t, b, now, target_hook_id)
                 for i, (t, b) in zip(ids, events, strict=True)])
        return ids

    def fan_out(self, *, now: float | None = None, limit: int = 1000) -> int:
        """Turn waiting outbox events into deliveries, one per active subscribed hook.

        Hooks are matched when the event is fanned out, in one transaction with
        marking the event done, so a crash never fans an event out twice or loses it.

        Returns:
            The number of events fanned out (0 when the outbox is empty).
        """
        now = time.time() if now is None else now
        if self._db.execute("SELECT 1 FROM events WHERE fanned_out = 0 LIMIT 1"
                            ).fetchone() is None:
            return 0  # no write transaction (and no lock) when nothing waits
        with self.transaction():
            rows = self._db.execute(
                "SELECT seq FROM events WHERE fanned_out = 0 ORDER BY seq LIMIT ?",
                (limit,)).fetchall()
            if not rows:
                return 0
            hooks = [h for h in self.list_hooks() if h.active]
            # Event type -> subscribed active hooks, matched here (groups included);
            # the deliveries themselves are made by SQLite, without a Python object
            # per delivery.
            routes = {e.id: [h.id for h in hooks if subscribes_to(h.events, e.id)]
                      for e in EVENT_TYPES}
            self._db.execute(_FAN_OUT, (now, json.dumps(routes), rows[-1][0],
                                        json.dumps([h.id for h in hooks])))
            self._db.execute("UPDATE events SET fanned_out = 1 WHERE fanned_out = 0 AND seq <= ?",
                             (rows[-1][0],))
            return len(rows)

    def claim_due(self, *, now: float, lease_seconds: float, limit: int,
                  skip_hooks: Sequence[int] = (), per_hook_limit: int | None = None,
                  in_flight: Mapping[int, int] | None = None) -> list[DeliveryJob]:
        """Lease up to ``limit`` due pending deliveries for sending, oldest due first.

        A leased delivery is not claimed again until ``now + lease_seconds`` passes, so
        deliveries of an engine that died are picked up again after their lease ends.

        Args:
            now: Unix seconds.
            lease_seconds: how long the claim holds (longer than one attempt may take).
            limit: at most this many.
            skip_hooks: hook ids not to claim for (e.g. at their concurrency limit).
            per_hook_limit: at most this many per hook, counting ``in_flight`` (hook
                id → deliveries the caller already holds).

        The cost does not grow with the queue: the oldest due deliveries are read from
        the ``deliveries_due`` index, at most ``4 * limit`` of them; when those belong
        mostly to hooks that are skipped or full (a hook that hangs, with a long
        backlog), the other active hooks' oldest due deliveries are read from the
        per-hook index instead, so one busy hook never starves the others.
        """
        if limit <= 0:
            return []
        skip = set(skip_hooks)
        held = dict(in_flight or {})
        cap = per_hook_limit

        def room(hook_id: int) -> int:
            if hook_id in skip:
                return 0
            return limit if cap is None else cap - held.get(hook_id, 0)

        picked: list[tuple[Any, ...]] = []
        seen: set[int] = set()

        def take(rows: Sequence[tuple[Any, ...]]) -> None:
            for row in rows:
                if row[0] not in seen and len(picked) < limit and room(row[2]) > 0:
                    picked.append(row)
                    held[row[2]] = held.get(row[2], 0) + 1
                    seen.add(row[0])

        def seek(hook_id: int, count: int) -> list[tuple[Any, ...]]:
            return self._db.execute(
                "SELECT seq, id, hook_id, event_type, attempts, event_seq, next_attempt_at"
                " FROM deliveries INDEXED BY deliveries_due_by_hook"
                " WHERE hook_id = ? AND status = 'pending' AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until < ?)"
                " ORDER BY next_attempt_at LIMIT ?", (hook_id, now, now, count)).fetchall()

        with self.transaction():
            eligible = [h for (h,) in self._db.execute(
                "SELECT id FROM hooks WHERE active = 1 ORDER BY id") if room(h) > 0]
            if len(eligible) <= _SEEK_HOOKS:
                # Few hooks: each one's oldest due deliveries, exactly as many as it has
                # room for, from the per-hook index.
                rows = [row for h in eligible for row in seek(h, min(room(h), limit))]
                rows.sort(key=lambda r: (r[6], r[0]))
                take(rows)
            else:
                window = 2 * limit
                rows = self._db.execute(
                    "SELECT seq, id, hook_id, event_type, attempts, event_seq, next_attempt_at"
                    " FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
                    " AND (lease_until IS NULL OR lease_until < ?)"
                    # "+hook_id": walk deliveries_due in time order and stop after LIMIT,
                    # instead of reading a hook's whole queue through an index by hook.
                    " AND +hook_id IN (SELECT id FROM hooks WHERE active = 1)"
                    " ORDER BY next_attempt_at LIMIT ?", (now, now, window)).fetchall()
                take(rows)
                if len(rows) == window and len(picked) < limit:
                    # The oldest due deliveries belong to hooks that are full (one that
                    # hangs, with a long backlog): look at the others one by one.
                    for h in eligible:
                        if len(picked) >= limit:
                            break
                        if room(h) > 0:
                            take(seek(h, min(room(h), limit - len(picked)) + len(seen)))
            if not picked:
                return []
            self._db.executemany("UPDATE deliveries SET lease_until = ? WHERE seq = ?",
                                 [(now + lease_seconds, row[0]) for row in picked])
            event_seqs = sorted({row[5] for row in picked})
            bodies: dict[int, bytes] = {}
            for chunk_start in range(0, len(event_seqs), 500):
                chunk = event_seqs[chunk_start:chunk_start + 500]
                marks = ",".join("?" * len(chunk))
                bodies.update(self._db.execute(
                    f"SELECT seq, body FROM events WHERE seq IN ({marks})",  # noqa: S608
                    chunk).fetchall())
        picked.sort(key=lambda r: (r[6], r[0]))
        return [DeliveryJob(seq, id_, hook_id, type_, bytes(bodies[event_seq]), attempts)
                for seq, id_, hook_id, type_, attempts, event_seq, _ in picked]

    def renew(self, seqs: Sequence[int], lease_until: float) -> None:
        """Extend the leases of deliveries still being sent."""
        with self.transaction():
            self._db.executemany("UPDATE deliveries SET lease_until = ? WHERE seq = ?"
                                 " AND status = 'pending'", [(lease_until, s) for s in seqs])

    def release(self, seqs: Sequence[int]) -> None:
        """Drop the leases of deliveries that were claimed but not attempted."""
        with self.transaction():
            self._db.executemany("UPDATE deliveries SET lease_until = NULL WHERE seq = ?",
                                 [(s,) for s in seqs])

    def counted_attempts(self, delivery_seq: int) -> int:
        """Attempts of a delivery that count toward its retry schedule (waiting for an
        unavailable secret does not)."""
        return int(self._db.execute(
            "SELECT count(*) FROM attempts WHERE delivery_seq = ?"
            " AND error_kind IS NOT 'secret_unavailable'", (delivery_seq,)).fetchone()[0])

    def record_attempt(self, job: DeliveryJob, attempt: AttemptRecord, *,
                       next_attempt_at: float | None) -> str:
        """Store one attempt and move its delivery on.

        Args:
            job: the claimed delivery.
            attempt: what happened.
            next_attempt_at: when to try again (Unix seconds); None makes a failed
                attempt final.

        Returns:
            The delivery's new status: ``succeeded``, ``pending`` or ``failed``.
        """
        return self.record_attempts([(job, attempt, next_attempt_at)])[0]

    def record_attempts(self, items: Sequence[tuple[DeliveryJob, AttemptRecord, float | None]]
                        ) -> list[str]:
        """Store many attempts (each as :meth:`record_attempt` would) in one transaction.

        Args:
            items: (claimed delivery, what happened, when to try again or None), in the
                order the attempts ended. A delivery deleted meanwhile (its hook was
                deleted) is skipped.

        Returns:
            Each delivery's new status, in the order of ``items``.
        """
        now = time.time()
        statuses: list[str] = []
        attempt_rows: list[tuple[Any, ...]] = []
        delivery_rows: list[tuple[Any, ...]] = []
        # Per hook, what the batch does to failing_since, in order: any success clears
        # it; a failure sets it if unset, or to now if a success earlier in the batch
        # cleared it. Recorded when the failure is recorded, not when its attempt
        # began: an attempt that began before a success must not backdate it.
        failing: dict[int, str] = {}
        for job, attempt, next_attempt_at in items:
            if attempt.succeeded:
                status, next_at = "succeeded", None
                failing[job.hook_id] = "clear"
            else:
                status = "pending" if next_attempt_at is not None else "failed"
                next_at = next_attempt_at
                if attempt.error_kind != "secret_unavailable":
                    failing[job.hook_id] = "set" if failing.get(job.hook_id) == "clear" \
                        else failing.get(job.hook_id, "set_if_unset")
            statuses.append(status)
            number = job.attempts + 1
            attempt_rows.append(_attempt_row(job.seq, number, attempt, next_at))
            delivery_rows.append((status, number, next_at, attempt.status_code,
                                  attempt.error_kind, attempt.duration_ms, now, job.seq))
        with self.transaction():
            for hook_id, change in failing.items():
                if change == "clear":
                    self._db.execute("UPDATE hooks SET failing_since = NULL WHERE id = ?"
                                     " AND failing_since IS NOT NULL", (hook_id,))
                elif change == "set":
                    self._db.execute("UPDATE hooks SET failing_since = ? WHERE id = ?",
                                     (now, hook_id))
                else:
                    self._db.execute("UPDATE hooks SET failing_since = ? WHERE id = ?"
                                     " AND failing_since IS NULL", (now, hook_id))
            self._db.executemany(_INSERT_ATTEMPT_IF_DELIVERY, attempt_rows)
            self._db.executemany(
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
                " lease_until = NULL, last_status_code = ?, last_error_kind = ?,"
                " last_duration_ms = ?, updated_at = ? WHERE seq = ?", delivery_rows)
        return statuses

    def _insert_attempt(self, delivery_seq: int, number: int, a: AttemptRecord,
                        next_attempt_at: float | None) -> None:
        self._db.execute(_INSERT_ATTEMPT, _attempt_row(delivery_seq, number, a,
                                                       next_attempt_at))

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
            self._insert_attempt(cur.lastrowid, 1, attempt, None)

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
        with self.transaction():
            self._db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?"
                " WHERE seq = ?", (now, now, delivery.seq))
        return self.get_delivery(delivery_id)

    def redeliver_failed(self, hook_id: int, since: float, *, now: float | None = None) -> int:
        """Make every failed delivery of a hook updated at or after ``since`` (Unix
        seconds) due again now. Returns how many.

        Raises:
            NotFoundError: no such hook.
        """
        self.get_hook(hook_id)
        now = time.time() if now is None else now
        with self.transaction():
            cur = self._db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?"
                " WHERE hook_id = ? AND status = 'failed' AND event_type != 'ping'"
                " AND updated_at >= ?", (now, now, hook_id, since))
        return int(cur.rowcount)

    def prune(self, older_than: float, *, batch: int = 5000) -> int:
        """Delete finished deliveries (with their attempts) last updated before
        ``older_than`` (Unix seconds), and outbox events left with no delivery.
        Works in batches so other processes are never locked out for long.

        Returns:
            The number of deliveries deleted.
        """
        total = 0
        while True:
            with self.transaction():
                seqs = [r[0] for r in self._db.execute(
                    "SELECT seq FROM deliveries WHERE status != 'pending' AND updated_at < ?"
                    " LIMIT ?", (older_than, batch))]
                if not seqs:
                    break
                marks = ",".join("?" * len(seqs))
                self._db.execute(f"DELETE FROM attempts WHERE delivery_seq IN ({marks})",  # noqa: S608 - placeholders only
                                 seqs)
                self._db.execute(f"DELETE FROM deliveries WHERE seq IN ({marks})",  # noqa: S608 - placeholders only
                                 seqs)
                total += len(seqs)
        with self.transaction():
            self._db.execute(
                "DELETE FROM events WHERE fanned_out = 1 AND occurred_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)", (older_than,))
        return total

    # -- settings ---------------------------------------------------------------------------

    def get_setting(self, key: str) -> Any:
        """A setting's JSON value, or None when it was never set."""
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Store a setting (any JSON value)."""
        with self.transaction():
            self._db.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key)"
                             " DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    # -- queries --------------------------------------------------------------------------

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

    def next_due(self, *, count_leases: bool = True) -> float | None:
        """When (Unix seconds) the earliest pending delivery may be attempted, its lease
        counted (with ``count_leases`` False: when it is due, whoever holds it); None
        when nothing is pending. Deliveries of inactive hooks are not counted: they are
        never claimed until the hook is switched on again. Reads one row of the
        ``deliveries_due`` index, however long the queue."""
        due = "max(next_attempt_at, coalesce(lease_until, 0))" if count_leases \
            else "next_attempt_at"
        row = self._db.execute(
            f"SELECT {due} FROM deliveries"  # noqa: S608 - one of two constant texts
            " WHERE status = 'pending' AND +hook_id IN (SELECT id FROM hooks WHERE active = 1)"
            " ORDER BY next_attempt_at LIMIT 1").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def list_deliveries(self, *, hook_id: int | None = None, status: str | None = None,
                        limit: int = 100, before_seq: int | None = None,
                        event_type: str | None = None, since: float | None = None,
                        after_seq: int | None = None) -> list[Delivery]:
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
        """
        conditions = (("d.hook_id = ?", hook_id), ("d.status = ?", status),
                      ("d.event_type = ?", event_type), ("d.created_at >= ?", since),
                      ("d.seq > ?", after_seq), ("d.seq < ?", before_seq))
        where = [sql for sql, value in conditions if value is not None]
        params: list[object] = [value for _, value in conditions if value is not None]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq"  # noqa: S608 - fixed fragments
            f" {clause} ORDER BY d.seq DESC LIMIT ?", (*params, limit)).fetchall()
        return [Delivery(*r) for r in rows]

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
        row = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq"  # noqa: S608 - fixed fragments
            " WHERE d.id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no delivery {delivery_id}; `hookadmin deliveries` "
                                "lists them.", field="delivery")
        return Delivery(*row)

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
                " error_message, number, next_attempt_at FROM attempts"
                " WHERE delivery_seq = ? ORDER BY number", (delivery_seq,)):
            out.append(Attempt(
                started_at=r[0], duration_ms=r[1], request_url=r[2],
                request_headers=json.loads(r[3]), status_code=r[4],
                response_headers=None if r[5] is None else [tuple(p) for p in json.loads(r[5])],
                response_body=None if r[6] is None else bytes(r[6]),
                response_truncated=bool(r[7]), error_kind=r[8], error_message=r[9],
                number=r[10], next_attempt_at=r[11]))
        return out

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
        # Whole minutes come from activity_minutes (kept by triggers); only attempts
        # before the first whole minute, or all of them for a bucket that is not whole
        # minutes, are read from the attempts themselves.
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
            f" WHERE a.started_at >= ?{until_clause}{hook_clause} GROUP BY 1", params).fetchall()
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


_DELIVERY_COLUMNS = ("d.seq, d.id, e.id, d.hook_id, d.event_type, d.status, d.attempts,"
                     " d.next_attempt_at, d.last_status_code, d.last_error_kind,"
                     " d.last_duration_ms, d.created_at, d.updated_at")


_INSERT_ATTEMPT = (
    "INSERT INTO attempts (delivery_seq, number, started_at, duration_ms, request_url,"
    " request_headers, status_code, response_headers, response_body, response_truncated,"
    " error_kind, error_message, next_attempt_at)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13")
# The same, skipping a delivery deleted meanwhile (its hook was deleted while it was sent).
_INSERT_ATTEMPT_IF_DELIVERY = (_INSERT_ATTEMPT  # noqa: S608 - constant text only
                               + " WHERE EXISTS (SELECT 1 FROM deliveries WHERE seq = ?1)")


def _attempt_row(delivery_seq: int, number: int, a: AttemptRecord,
                 next_attempt_at: float | None) -> tuple[Any, ...]:
    return (delivery_seq, number, a.started_at, a.duration_ms, a.request_url,
            json.dumps(a.request_headers), a.status_code,
            None if a.response_headers is None else json.dumps(a.response_headers),
            a.response_body, int(a.response_truncated), a.error_kind, a.error_message,
            next_attempt_at)


# A random (version 4) UUID made by SQLite, as text: 8-4-4-4-12 hex digits, the
# version nibble 4 and the variant bits 10 (RFC 9562 §5.4).
_SQL_UUID4 = ("lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||"
              " substr(hex(randomblob(2)), 2) || '-' ||"
              " substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
              " || '-' || hex(randomblob(6)))")

# Deliveries for waiting events up to seq ?3: by subscription (?2 maps event type to
# active hook ids), or to the one target hook of a test event if it is active (?4).
_FAN_OUT = (
    "INSERT INTO deliveries (id, event_seq, hook_id, event_type, next_attempt_at,"  # noqa: S608
    " created_at, updated_at)"
    f" SELECT {_SQL_UUID4}, e.seq, h.value, e.type, ?1, ?1, ?1"
    " FROM events e JOIN json_each(?2) r ON r.key = e.type JOIN json_each(r.value) h"
    " WHERE e.fanned_out = 0 AND e.seq <= ?3 AND e.target_hook_id IS NULL"
    " UNION ALL"
    f" SELECT {_SQL_UUID4}, e.seq, e.target_hook_id, e.type, ?1, ?1, ?1"
    " FROM events e JOIN json_each(?4) a ON a.value = e.target_hook_id"
    " WHERE e.fanned_out = 0 AND e.seq <= ?3 AND e.target_hook_id IS NOT NULL"
    " ORDER BY 2, 3")

# Claims look at each hook's queue separately when at most this many hooks have room.
_SEEK_HOOKS = 32

_SELECT_HOOKS = ("SELECT id, name, url, events, active, insecure_ssl, created_at, updated_at,"
                 " deactivated_reason, ca_bundle, previous_secret_expires_at FROM hooks")


def _hook_from_row(row: Sequence[Any]) -> Hook:
    (id_, name, url, events, active, insecure_ssl, created_at, updated_at, reason, ca_bundle,
     previous_expiry) = row
    return Hook(id=id_, name=name, url=url, events=tuple(json.loads(events)),
                active=bool(active), insecure_ssl=bool(insecure_ssl), created_at=created_at,
                updated_at=updated_at, deactivated_reason=reason, ca_bundle=ca_bundle,
                previous_secret_expires_at=previous_expiry)
