"""The SQLite store's hooks table."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from hookadmin.core.errors import NotFoundError
from hookadmin.core.hook_types import WEB, HookOptions
from hookadmin.core.hooks import Hook, utc_now_iso
from hookadmin.core.store.hook_rows import SELECT_HOOKS, hook_from_row, options_text
from hookadmin.core.store.sqlite.connection import Connected


class HooksPart(Connected):
    """Hooks: add, read, change, delete (see :class:`hookadmin.core.store.ports.HookRepository`)."""

    def add_hook(self, *, name: str, url: str, events: Sequence[str], active: bool,
                 insecure_ssl: bool = False, ca_bundle: str | None = None,
                 type: str = WEB, options: HookOptions | None = None) -> Hook:
        """Insert a hook (values already validated) and return it with its new id."""
        now = utc_now_iso()
        cur = self._db.execute(
            "INSERT INTO hooks (name, url, events, active, insecure_ssl, ca_bundle, type, options,"
            " created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, url, json.dumps(list(events)), int(active), int(insecure_ssl), ca_bundle,
             type, options_text(options), now, now))
        assert cur.lastrowid is not None
        return self.get_hook(cur.lastrowid)

    def get_hook(self, hook_id: int) -> Hook:
        """The hook with this id.

        Raises:
            NotFoundError: there is none.
        """
        return fetch_hook(self._db, hook_id)

    def list_hooks(self) -> list[Hook]:
        """Every hook, by id."""
        return [hook_from_row(r)
                for r in self._db.execute(SELECT_HOOKS + " ORDER BY id")]

    def hooks_generation(self) -> int:
        """A number that changes whenever a hook is added, deleted or changed in a way
        that matters for sending (URL, events, active, TLS, secret reset); cheap to
        read, so an engine can keep its hooks cached and re-read them only then."""
        return int(self._db.execute(
            "SELECT value FROM meta WHERE key = 'hooks_generation'").fetchone()[0])

    def update_hook(self, hook_id: int, *, name: str | None = None, url: str | None = None,
                    events: Sequence[str] | None = None, active: bool | None = None,
                    insecure_ssl: bool | None = None,
                    deactivated_reason: str | None = None, ca_bundle: str | None = None,
                    previous_secret_expires_at: float | None = None,
                    clear_previous_secret: bool = False,
                    options: HookOptions | None = None) -> Hook:
        """Change some fields of a hook (values already validated); returns the result.

        Activating a hook clears its ``deactivated_reason``; deactivating it with a reason
        records the time too (see :meth:`deactivated_at`).

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
        if options is not None:
            changes["options"] = options_text(options)
        if active is not None:
            changes["active"] = int(active)
            changes["deactivated_reason"] = None if active else deactivated_reason
            changes["deactivated_at"] = time.time() if not active and deactivated_reason \
                else None
            if active:
                changes["failing_since"] = None
        self.get_hook(hook_id)
        if changes:
            changes["updated_at"] = utc_now_iso()
            assignments = ", ".join(f"{k} = ?" for k in changes)
            self._db.execute(f"UPDATE hooks SET {assignments} WHERE id = ?",  # noqa: S608 - column names are ours
                             (*changes.values(), hook_id))
        return self.get_hook(hook_id)

    def deactivated_at(self, hook_id: int) -> float | None:
        """When (Unix seconds) the hook was deactivated with its ``deactivated_reason``,
        or None: it is active, was switched off by hand, or does not exist."""
        row = self._db.execute("SELECT deactivated_at FROM hooks WHERE id = ?",
                               (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

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


def fetch_hook(db: sqlite3.Connection, hook_id: int) -> Hook:
    """The hook with this id.

    Raises:
        NotFoundError: there is none.
    """
    row = db.execute(SELECT_HOOKS + " WHERE id = ?", (hook_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"There is no hook {hook_id}; `hookadmin hooks list` shows "
                            "the hooks that exist.", field="id")
    return hook_from_row(row)
