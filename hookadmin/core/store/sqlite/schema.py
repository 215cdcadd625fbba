"""The SQLite schema: its migrations, applied in order when a file is opened.

The schema version is SQLite's ``user_version``; :data:`MIGRATIONS` brings an older
file up to date.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from hookadmin.core.errors import StoreError

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
    # 7: when the engine deactivated a hook (Unix seconds), beside its reason; hooks
    # deactivated before this schema take their last update time
    """
    ALTER TABLE hooks ADD COLUMN deactivated_at REAL;
    UPDATE hooks SET deactivated_at = CAST(strftime('%s', updated_at) AS REAL)
        WHERE active = 0 AND deactivated_reason IS NOT NULL;
    """,
    # 8: hook types and endpoint options: the type (web, slack, pagerduty, email) and the
    # options that are not secret, as JSON (NULL for none; secret ones are in the keyring);
    # the count of events a filter left out
    """
    ALTER TABLE hooks ADD COLUMN type TEXT NOT NULL DEFAULT 'web';
    ALTER TABLE hooks ADD COLUMN options TEXT;
    ALTER TABLE hooks ADD COLUMN filtered_out INTEGER NOT NULL DEFAULT 0;
    """,
    # 9: the audit log: append-only (triggers refuse changes, and deletes except of
    # entries up to the anchor pruning sets), each entry chained to the one before by
    # its hash; meta keeps the anchor and the head as "seq hash"
    """
    CREATE TABLE IF NOT EXISTS audit_log (
        seq INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        os_user TEXT NOT NULL,
        host TEXT NOT NULL,
        role TEXT,
        origin TEXT NOT NULL,
        action TEXT NOT NULL,
        hook_id INTEGER,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log(at);
    CREATE INDEX IF NOT EXISTS audit_by_hook ON audit_log(hook_id, seq);
    INSERT OR IGNORE INTO meta VALUES
        ('audit_anchor', '0 0000000000000000000000000000000000000000000000000000000000000000');
    INSERT OR IGNORE INTO meta VALUES
        ('audit_head', '0 0000000000000000000000000000000000000000000000000000000000000000');
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit log entries cannot be changed');
    END;
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_log
        WHEN OLD.seq > CAST((SELECT substr(value, 1, instr(value, ' ') - 1) FROM meta
                             WHERE key = 'audit_anchor') AS INTEGER) BEGIN
        SELECT RAISE(ABORT, 'audit log entries cannot be deleted');
    END;
    """,
    # 10: per-hook health: each hook's last successful minute in one short index walk
    """
    CREATE INDEX IF NOT EXISTS activity_succeeded ON activity_minutes(hook_id, minute)
        WHERE succeeded > 0;
    """,
    # 11: finding deliveries by event id, and counting failed ones before redelivering
    # them (the window's delivery search and "Redeliver all failed since…")
    """
    CREATE INDEX IF NOT EXISTS deliveries_by_event ON deliveries(event_seq);
    CREATE INDEX IF NOT EXISTS deliveries_failed ON deliveries(updated_at, hook_id, event_type)
        WHERE status = 'failed';
    """,
    # 12: hook types: what an attempt sent when it is not the delivery's body (a Slack
    # message, a PagerDuty event, an e-mail's text), secrets masked
    """
    ALTER TABLE attempts ADD COLUMN request_body BLOB;
    """,
    # 13: activity_minutes is kept by the code that records attempts, one upsert per
    # minute and hook of a batch, instead of a trigger's lookup and upsert per attempt
    # (deletes still go through activity_remove)
    """
    DROP TRIGGER IF EXISTS activity_add;
    """,
    # 14: an attempt that only waited for the keyring (error kind secret_unavailable)
    # is no failure of the receiver: it is left out of activity_minutes (the health
    # row's success rate, the activity chart); those counted before are taken out
    """
    DROP TRIGGER IF EXISTS activity_remove;
    CREATE TRIGGER activity_remove AFTER DELETE ON attempts
            WHEN OLD.error_kind IS NOT 'secret_unavailable' BEGIN
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
    UPDATE activity_minutes SET failed = failed - w.n,
            duration_sum = duration_sum - w.ms, duration_count = duration_count - w.timed
        FROM (SELECT CAST(a.started_at / 60 AS INTEGER) AS minute, d.hook_id AS hook_id,
                     count(*) AS n, total(a.duration_ms) AS ms, count(a.duration_ms) AS timed
              FROM attempts a JOIN deliveries d ON d.seq = a.delivery_seq
              WHERE a.error_kind = 'secret_unavailable' GROUP BY 1, 2) w
        WHERE activity_minutes.minute = w.minute AND activity_minutes.hook_id = w.hook_id;
    DELETE FROM activity_minutes WHERE succeeded = 0 AND failed = 0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the database on ``db`` (an autocommit connection) up to
    :data:`SCHEMA_VERSION`, in one ``BEGIN IMMEDIATE`` transaction; a new database gets
    its ``store_id``.

    Raises:
        StoreError: the file was written by a newer hookadmin.
        StoreFault: the file is not a database, or the disk is full or failed (on a
            connection made with
            :class:`~hookadmin.core.store.sqlite.faults.FaultTranslatingConnection`;
            a :class:`sqlite3.DatabaseError` on another).
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"The database {path} was written by a newer hookadmin "
                         f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade "
                         "hookadmin to use it.")
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, SCHEMA_VERSION):
            statement = ""  # a trigger's body holds ";" too: split on whole statements
            for part in MIGRATIONS[number].split(";"):
                statement += part + ";"
                if sqlite3.complete_statement(statement):
                    if statement.strip(" \n;"):
                        db.execute(statement)
                    statement = ""
        if version == 0:
            db.execute("INSERT INTO meta VALUES ('store_id', ?)", (str(uuid.uuid4()),))
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # a failed COMMIT (a full disk) may leave it open
            db.execute("ROLLBACK")
        raise
