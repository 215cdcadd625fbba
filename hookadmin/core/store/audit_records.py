"""The audit log's records and its hash chain, shared by every store.

Each entry carries the SHA-256 of the entry before it (``prev_hash``) and its own
(``hash``, over its fields and ``prev_hash``), so removing or editing an entry breaks
the chain (:func:`check_chain`). Pruning by the audit retention setting keeps the chain
checkable: the store remembers the last removed entry as the *anchor* (its seq and
hash), where the chain now starts.

No database code here. Times are Unix seconds (float).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry ever written."""


@dataclass(frozen=True)
class AuditAction:
    """One administrative action about to be recorded.

    Attributes:
        at: Unix seconds.
        user: the OS user name.
        host: the machine name.
        origin: ``window``, ``cli`` or ``engine``.
        action: what was done, e.g. ``hook.created``, ``secret.revealed``.
        hook_id: the hook concerned, or None.
        details: JSON-serialisable facts (before → after, counts); never a secret value.
    """

    at: float
    user: str
    host: str
    origin: str
    action: str
    hook_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def details_json(self) -> str:
        """``details`` as canonical JSON (sorted keys, compact): what is stored and
        hashed."""
        return canonical_json(self.details)


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry of the audit log.

    ``role`` is the database role in team mode (PostgreSQL's ``current_user``), None in
    the embedded store; ``details_json`` is the exact stored text.
    """

    seq: int
    at: float
    user: str
    host: str
    role: str | None
    origin: str
    action: str
    hook_id: int | None
    details_json: str
    prev_hash: str
    hash: str

    @property
    def details(self) -> dict[str, Any]:
        """The parsed details (an empty dict when the stored text is not an object)."""
        try:
            value = json.loads(self.details_json)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (times as ISO-8601 UTC)."""
        from hookadmin.core.store.records import iso

        return {"seq": self.seq, "at": iso(self.at), "user": self.user, "host": self.host,
                "role": self.role, "origin": self.origin, "action": self.action,
                "hook_id": self.hook_id, "details": self.details,
                "prev_hash": self.prev_hash, "hash": self.hash}


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same text for the same value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(seq: int, prev_hash: str, action: AuditAction, role: str | None,
               details_json: str | None = None) -> str:
    """The SHA-256 (64 hex digits) of one entry's fields and the previous hash.

    ``at`` is hashed as ``repr(float)``, which both stores return exactly (SQLite REAL
    and PostgreSQL ``double precision`` are IEEE doubles).
    """
    text = canonical_json([seq, prev_hash, repr(float(action.at)), action.user, action.host,
                           role, action.origin, action.action, action.hook_id,
                           action.details_json() if details_json is None else details_json])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def recompute(entry: AuditEntry) -> str:
    """The hash ``entry`` should carry, from its stored fields."""
    action = AuditAction(at=entry.at, user=entry.user, host=entry.host, origin=entry.origin,
                         action=entry.action, hook_id=entry.hook_id)
    return entry_hash(entry.seq, entry.prev_hash, action, entry.role, entry.details_json)


@dataclass(frozen=True)
class ChainReport:
    """What :func:`check_chain` found.

    Attributes:
        ok: True when the chain is whole.
        checked: how many entries were checked.
        problem: one sentence naming the first break, or None.
        seq: the seq where the first break is, or None.
    """

    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


def check_chain(entries: list[AuditEntry], anchor: tuple[int, str],
                head: tuple[int, str]) -> ChainReport:
    """Check entries (oldest first) against the anchor (the last pruned entry's seq and
    hash, or ``(0, GENESIS)``) and the head the store recorded (the newest entry's seq
    and hash).

    Detects an edited entry (its hash no longer matches its fields), a removed one (a
    gap in the seqs or a ``prev_hash`` that names another hash) and removed newest
    entries (the head names a later entry).
    """
    seq, prev = anchor
    for number, entry in enumerate(entries):
        if entry.seq != seq + 1:
            return ChainReport(False, number, f"Entry {seq + 1} is missing: the log goes "
                               f"from {seq} to {entry.seq}.", seq + 1)
        if entry.prev_hash != prev:
            return ChainReport(False, number, f"Entry {entry.seq} does not follow entry "
                               f"{seq}: an entry before it was changed or replaced.",
                               entry.seq)
        if recompute(entry) != entry.hash:
            return ChainReport(False, number, f"Entry {entry.seq} was changed after it was "
                               "written: its hash does not match its contents.", entry.seq)
        seq, prev = entry.seq, entry.hash
    if (seq, prev) != head:
        return ChainReport(False, len(entries), f"The log ends at entry {seq}, but entry "
                           f"{head[0]} was written: the newest entries were removed or "
                           "changed.", seq + 1)
    return ChainReport(True, len(entries))
