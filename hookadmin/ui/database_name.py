"""The name the window gives the database it is on, in its title and status bar."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # the store is not imported before the window's first frame
    from hookadmin.core.store.location import StoreLocation


def database_name(location: StoreLocation) -> str:
    """Which database the window is on, for its title and status bar: ``Local
    (SQLite)``, or ``Team: HOST/DBNAME`` for a team database (never a password)."""
    if location.url is None:
        return "Local (SQLite)"
    parts = urlsplit(location.url)
    host = parts.hostname or "local socket"
    dbname = unquote(parts.path.lstrip("/")) or "default"
    return f"Team: {host}/{dbname}"
