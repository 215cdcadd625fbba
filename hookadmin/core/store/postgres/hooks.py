"""The PostgreSQL store's hooks table (see
:class:`hookadmin.core.store.ports.HookRepository`)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from hookadmin.core.errors import NotFoundError
from hookadmin.core.hook_types import WEB, HookOptions
from hookadmin.core.hooks import Hook, utc_now_iso
from hookadmin.core.store.hook_rows import SELECT_HOOKS, hook_from_row, options_text
from hookadmin.core.store.postgres.connection import PostgresConnection, translated


class HooksPart(PostgresConnection):
    """Hooks: add, read, change, delete; a change is seen by every machine at once (the
    engines compare :meth:`hooks_generation`)."""

    @translated
    def add_hook(self, *, name: str, url: str, events: Sequence[str], active: bool,
                 insecure_ssl: bool = False, ca_bundle: str | None = None,
                 type: str = WEB, options: HookOptions | None = None) -> Hook:
        """Insert a hook (values already validated) and return it with its new id."""
        now = utc_now_iso()
        row = self.db.execute(
            "INSERT INTO hooks (name, url, events, active, insecure_ssl, ca_bundle, type, options,"
            " created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name, url, json.dumps(list(events)), active, insecure_ssl, ca_bundle, type,
             options_text(options), now, now)
        ).fetchone()
        assert row is not None
        return self.get_hook(int(row[0]))

    @translated
    def get_hook(self, hook_id: int) -> Hook:
        """The hook with this id.

        Raises:
            NotFoundError: there is none.
        """
        row = self.db.execute(SELECT_HOOKS + " WHERE id = %s", (hook_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no hook {hook_id}; `hookadmin hooks list` shows "
                                "the hooks that exist.", field="id")
        return hook_from_row(row)

    @translated
    def list_hooks(self) -> list[Hook]:
        """Every hook, by id."""
        return [hook_from_row(r) for r in self.db.execute(SELECT_HOOKS + " ORDER BY id")]

    @translated
    def hooks_generation(self) -> int:
        """A number that changes whenever a hook is added, deleted or changed in a way
        that matters for sending (URL, events, active, TLS, secret reset): a digest of
        those columns of every hook, so no shared counter row is written (and locked)
        by every change. One short read of the hooks table."""
        row = self.db.execute(
            "SELECT ('x' || substr(md5(coalesce(string_agg(concat_ws(chr(31), id, name,"
            " url, events, active, insecure_ssl, ca_bundle, previous_secret_expires_at,"
            " updated_at, deactivated_reason), chr(30) ORDER BY id), '')), 1, 15))"
            "::bit(60)::bigint FROM hooks").fetchone()
        assert row is not None
        return int(row[0])

    @translated
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
            changes["insecure_ssl"] = insecure_ssl
        if ca_bundle is not None:
            changes["ca_bundle"] = ca_bundle or None
        if previous_secret_expires_at is not None:
            changes["previous_secret_expires_at"] = previous_secret_expires_at
        if clear_previous_secret:
            changes["previous_secret_expires_at"] = None
        if options is not None:
            changes["options"] = options_text(options)
        if active is not None:
            changes["active"] = active
            changes["deactivated_reason"] = None if active else deactivated_reason
            changes["deactivated_at"] = time.time() if not active and deactivated_reason \
                else None
            if active:
                changes["failing_since"] = None
        self.get_hook(hook_id)
        if changes:
            changes["updated_at"] = utc_now_iso()
            assignments = ", ".join(f"{k} = %s" for k in changes)
            self.db.execute(f"UPDATE hooks SET {assignments} WHERE id = %s",  # noqa: S608 - column names are ours
                            (*changes.values(), hook_id))
        return self.get_hook(hook_id)

    @translated
    def deactivated_at(self, hook_id: int) -> float | None:
        """When (Unix seconds) the hook was deactivated with its ``deactivated_reason``,
        or None: it is active, was switched off by hand, or does not exist."""
        row = self.db.execute("SELECT deactivated_at FROM hooks WHERE id = %s",
                              (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @translated
    def failing_since(self, hook_id: int) -> float | None:
        """Since when (Unix seconds) every attempt to the hook has failed, or None."""
        row = self.db.execute("SELECT failing_since FROM hooks WHERE id = %s",
                              (hook_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    @translated
    def delete_hook(self, hook_id: int) -> None:
        """Delete a hook with its deliveries and attempts.

        Raises:
            NotFoundError: there is no such hook.
        """
        self.get_hook(hook_id)
        self.db.execute("DELETE FROM hooks WHERE id = %s", (hook_id,))
