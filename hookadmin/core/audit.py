"""The audit log of administrative actions: who did what, when, and from where.

Every change to hooks, every secret revealed, copied or reset, every export, import,
redelivery and settings change is appended to the store's audit log
(:class:`hookadmin.core.store.ports.AuditLog`) with the OS user, the machine name, the
origin (``window``, ``cli`` or ``engine``) and, in team mode, the database role. The
entries form a hash chain, so :func:`verify` detects an entry that was edited or
removed behind hookadmin's back. Audit retention is separate from delivery history:
by default every entry is kept.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from hookadmin.core.errors import InputError
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Repository, SettingsRepository
from hookadmin.core.store.audit_records import AuditAction, AuditEntry, ChainReport, check_chain

ORIGINS = ("window", "cli", "engine")
AUDIT_RETENTION_KEY = "audit_retention_days"
MAX_AUDIT_RETENTION_DAYS = 36500

__all__ = ["AUDIT_RETENTION_KEY", "ORIGINS", "Actor", "AuditEntry", "ChainReport",
           "audit_retention_days", "describe", "hook_snapshot", "prune_audit", "record", "verify"]


@dataclass(frozen=True)
class Actor:
    """Who acts: the OS user and machine, and where from (``window``, ``cli`` or
    ``engine``)."""

    user: str
    host: str
    origin: str

    @classmethod
    def current(cls, origin: str) -> Actor:
        """The user and machine of this process.

        Raises:
            ValueError: ``origin`` is not one of :data:`ORIGINS`.
        """
        if origin not in ORIGINS:
            raise ValueError(f"unknown origin {origin!r}")
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no name for the uid (a bare container)
            user = f"uid {os.getuid()}"
        return cls(user=user, host=socket.gethostname(), origin=origin)


def record(store: Repository, actor: Actor, action: str, *, hook_id: int | None = None,
           now: float | None = None, **details: Any) -> AuditEntry:
    """Append one entry to ``store``'s audit log (in the caller's transaction, if any).

    Args:
        store: the store.
        actor: who acts.
        action: what was done (``hook.created``, ``secret.revealed``, ...).
        hook_id: the hook concerned, if any.
        now: Unix seconds (default: now).
        **details: JSON-serialisable facts; never a secret value.
    """
    return store.append_audit(AuditAction(
        at=time.time() if now is None else now, user=actor.user, host=actor.host,
        origin=actor.origin, action=action, hook_id=hook_id, details=details))


def hook_snapshot(hook: Hook) -> dict[str, Any]:
    """The fields of a hook an audit entry shows before → after (no secret): its type,
    and its endpoint options with extra headers by name only (their values may be
    credentials); the option secrets themselves are never in a hook."""
    options = hook.options.to_json()
    if "headers" in options:
        options["headers"] = [name for name, _ in hook.options.headers]
    return {"name": hook.name, "type": hook.type, "url": hook.url,
            "events": list(hook.events), "active": hook.active,
            "insecure_ssl": hook.insecure_ssl, "ca_bundle": hook.ca_bundle,
            "options": options}


def changes(before: Hook, after: Hook) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for each field that differs."""
    old, new = hook_snapshot(before), hook_snapshot(after)
    return {k: [old[k], new[k]] for k in old if old[k] != new[k]}


def verify(store: Repository) -> ChainReport:
    """Check the whole audit log's hash chain, from the anchor left by pruning to the
    newest entry written."""
    anchor, head = store.audit_bounds()
    entries: list[AuditEntry] = []
    after = anchor[0]
    while True:  # in pages, so a long log is not one huge result
        page = store.list_audit(after_seq=after, limit=5000)
        entries.extend(page)
        if len(page) < 5000:
            break
        after = page[-1].seq
    return check_chain(entries, anchor, head)


def audit_retention_days(store: SettingsRepository) -> int | None:
    """Days of audit log kept, or None to keep every entry (the default)."""
    value = store.get_setting(AUDIT_RETENTION_KEY)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def check_audit_retention(days: int | None) -> int | None:
    """``days`` if it is None (keep all) or a whole number from 1 to 36,500.

    Raises:
        InputError: another value.
    """
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) \
            or not 1 <= days <= MAX_AUDIT_RETENTION_DAYS:
        raise InputError("Audit retention must be a whole number of days from 1 to 36500, "
                         "or 0 to keep every entry.", field="audit_retention_days")
    return days


def prune_audit(store: Repository, *, now: float | None = None) -> int:
    """Delete audit entries older than the audit retention setting (none when it keeps
    everything). Returns how many."""
    days = audit_retention_days(store)
    if days is None:
        return 0
    return store.prune_audit((time.time() if now is None else now) - days * 86400.0)


def describe(details: dict[str, Any]) -> str:
    """Details on one line: ``changes`` as ``field: before → after``, others as
    ``key=value``."""
    parts: list[str] = []
    for key, value in details.items():
        if key == "changes" and isinstance(value, dict):
            parts.extend(f"{k}: {v[0]!r} → {v[1]!r}" for k, v in value.items()
                         if isinstance(v, list) and len(v) == 2)
        elif key == "changes" and isinstance(value, list) and len(value) == 2:
            parts.append(f"{value[0]!r} → {value[1]!r}")
        elif key != "hook":
            parts.append(f"{key}={value}")
    return "; ".join(parts)
