"""The SQLite store's audit log (see :class:`hookadmin.core.store.ports.AuditLog`)."""

from __future__ import annotations

from hookadmin.core.store.audit_records import AuditAction, AuditEntry, entry_hash
from hookadmin.core.store.sqlite.connection import Connected

_COLUMNS = "seq, at, os_user, host, role, origin, action, hook_id, details, prev_hash, hash"


class AuditPart(Connected):
    """The audit log in the ``audit_log`` table; the anchor and the head in ``meta``."""

    def append_audit(self, action: AuditAction) -> AuditEntry:
        """Append one entry after the newest, in the caller's transaction or its own
        (``BEGIN IMMEDIATE`` serialises writers); returns it."""
        with self.transaction():
            seq, prev = self._audit_mark("audit_head")
            seq += 1
            details = action.details_json()
            digest = entry_hash(seq, prev, action, None, details)
            self._db.execute(f"INSERT INTO audit_log ({_COLUMNS}) VALUES"  # noqa: S608 - fixed
                             " (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
                             (seq, action.at, action.user, action.host, action.origin,
                              action.action, action.hook_id, details, prev, digest))
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'",
                             (f"{seq} {digest}",))
        return AuditEntry(seq, action.at, action.user, action.host, None, action.origin,
                          action.action, action.hook_id, details, prev, digest)

    def list_audit(self, *, since: float | None = None, hook_id: int | None = None,
                   after_seq: int | None = None, limit: int | None = None
                   ) -> list[AuditEntry]:
        """Entries oldest first, filtered by time, hook and ``after_seq``."""
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE 1"  # noqa: S608 - fixed fragments
        params: list[object] = []
        for clause, value in (("at >= ?", since), ("hook_id = ?", hook_id),
                              ("seq > ?", after_seq)):
            if value is not None:
                sql += f" AND {clause}"
                params.append(value)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [AuditEntry(*row) for row in self._db.execute(sql, params)]

    def audit_bounds(self) -> tuple[tuple[int, str], tuple[int, str]]:
        """``(anchor, head)`` as (seq, hash) pairs."""
        return self._audit_mark("audit_anchor"), self._audit_mark("audit_head")

    def prune_audit(self, older_than: float) -> int:
        """Delete entries written before ``older_than``; the newest of them becomes the
        anchor. Returns how many."""
        with self.transaction():
            row = self._db.execute("SELECT seq, hash FROM audit_log WHERE at < ?"
                                   " ORDER BY seq DESC LIMIT 1", (older_than,)).fetchone()
            if row is None:
                return 0
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'audit_anchor'",
                             (f"{row[0]} {row[1]}",))
            return self._db.execute("DELETE FROM audit_log WHERE seq <= ?",
                                    (row[0],)).rowcount

    def _audit_mark(self, key: str) -> tuple[int, str]:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        seq, digest = str(row[0]).split(" ", 1)
        return int(seq), digest
