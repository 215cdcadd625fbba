"""The PostgreSQL store's audit log (see :class:`hookadmin.core.store.ports.AuditLog`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from psycopg import Connection

from hookadmin.core.store.audit_records import AuditAction, AuditEntry, entry_hash

_COLUMNS = "seq, at, os_user, host, role, origin, action, hook_id, details, prev_hash, hash"


class AuditPart:
    """The audit log in the ``audit_log`` table; the anchor and the head in
    ``hookadmin_meta``. Mixed into :class:`hookadmin.core.store.postgres.PostgresStore`,
    which provides :attr:`db` and :meth:`transaction`."""

    @property
    def db(self) -> Connection[tuple[Any, ...]]:
        """The connection (provided by the store)."""
        raise NotImplementedError

    def transaction(self, *, batched: bool = False
                    ) -> AbstractContextManager[Connection[tuple[Any, ...]]]:
        """One transaction (provided by the store)."""
        raise NotImplementedError

    def append_audit(self, action: AuditAction) -> AuditEntry:
        """Append one entry after the newest, with ``current_user`` as the role; the
        head's row is locked, so writers on every machine take turns."""
        with self.transaction() as db:
            row = db.execute("SELECT value, current_user FROM hookadmin_meta"
                             " WHERE key = 'audit_head' FOR UPDATE").fetchone()
            assert row is not None
            seq_text, prev = str(row[0]).split(" ", 1)
            role = str(row[1])
            seq = int(seq_text) + 1
            details = action.details_json()
            digest = entry_hash(seq, prev, action, role, details)
            db.execute(f"INSERT INTO audit_log ({_COLUMNS}) VALUES"  # noqa: S608 - fixed
                       " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                       (seq, action.at, action.user, action.host, role, action.origin,
                        action.action, action.hook_id, details, prev, digest))
            db.execute("UPDATE hookadmin_meta SET value = %s WHERE key = 'audit_head'",
                       (f"{seq} {digest}",))
        return AuditEntry(seq, action.at, action.user, action.host, role, action.origin,
                          action.action, action.hook_id, details, prev, digest)

    def list_audit(self, *, since: float | None = None, hook_id: int | None = None,
                   after_seq: int | None = None, limit: int | None = None
                   ) -> list[AuditEntry]:
        """Entries oldest first, filtered by time, hook and ``after_seq``."""
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE true"  # noqa: S608 - fixed fragments
        params: list[object] = []
        for clause, value in (("at >= %s", since), ("hook_id = %s", hook_id),
                              ("seq > %s", after_seq)):
            if value is not None:
                sql += f" AND {clause}"
                params.append(value)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        return [AuditEntry(*row) for row in self.db.execute(sql.encode(), params)]

    def audit_bounds(self) -> tuple[tuple[int, str], tuple[int, str]]:
        """``(anchor, head)`` as (seq, hash) pairs."""
        marks = dict(self.db.execute("SELECT key, value FROM hookadmin_meta WHERE key IN"
                                     " ('audit_anchor', 'audit_head')").fetchall())
        anchor, head = (str(marks[k]).split(" ", 1) for k in ("audit_anchor", "audit_head"))
        return (int(anchor[0]), anchor[1]), (int(head[0]), head[1])

    def prune_audit(self, older_than: float) -> int:
        """Delete entries written before ``older_than``; the newest of them becomes the
        anchor. Returns how many."""
        with self.transaction() as db:
            db.execute("SELECT 1 FROM hookadmin_meta WHERE key = 'audit_head' FOR UPDATE")
            row = db.execute("SELECT seq, hash FROM audit_log WHERE at < %s"
                             " ORDER BY seq DESC LIMIT 1", (older_than,)).fetchone()
            if row is None:
                return 0
            db.execute("UPDATE hookadmin_meta SET value = %s WHERE key = 'audit_anchor'",
                       (f"{row[0]} {row[1]}",))
            return db.execute("DELETE FROM audit_log WHERE seq <= %s", (row[0],)).rowcount
