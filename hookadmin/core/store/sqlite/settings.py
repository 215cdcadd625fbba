"""The SQLite store's settings table: JSON values by key, shared by the window and
every worker of the database."""

from __future__ import annotations

import json
from typing import Any

from hookadmin.core.store.sqlite.connection import Connected


class SettingsPart(Connected):
    """Settings (see :class:`hookadmin.core.store.ports.SettingsRepository`)."""

    def get_setting(self, key: str) -> Any:
        """A setting's JSON value, or None when it was never set."""
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Store a setting (any JSON value)."""
        with self.transaction():
            self._db.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key)"
                             " DO UPDATE SET value = excluded.value", (key, json.dumps(value)))
