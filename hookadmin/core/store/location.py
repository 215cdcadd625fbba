"""Where a store is: SQLite in a data directory, or a team's PostgreSQL database.

A :class:`StoreLocation` is what the command line, the service layer, the engine, its
bookkeeping process and the window's engine child pass around instead of a bare data
directory. Its URL may hold a password, so it is never shown: ``repr`` and
:meth:`StoreLocation.describe` mask it, and child processes receive it through their
environment (:data:`DATABASE_ENV`) or an inherited pipe, never on a command line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hookadmin.core.database_url import DATABASE_ENV, URL_SCHEMES, given_database_url
from hookadmin.core.paths import data_home

__all__ = ["DATABASE_ENV", "URL_SCHEMES", "StoreLocation", "as_location", "resolve_location"]


@dataclass(frozen=True)
class StoreLocation:
    """A store's location (immutable, hashable, equal only to a location with the same
    home and URL).

    Attributes:
        home: the data directory (the SQLite database's folder; in team mode still
            this machine's folder for local files).
        url: the team database's ``postgresql://`` URL (libpq conventions), or None for
            SQLite in ``home``. Never shown by ``repr``.
    """

    home: Path
    url: str | None = field(default=None, repr=False)

    @property
    def team(self) -> bool:
        """True for a team (PostgreSQL) database."""
        return self.url is not None

    def describe(self) -> str:
        """Where this is, for messages, without a password: ``PostgreSQL database
        user@host:port/dbname`` or ``SQLite database in DIR``."""
        if self.url is None:
            return f"SQLite database in {self.home}"
        from hookadmin.core.store.postgres.schema import describe

        return describe(self.url)

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment for a child process that opens this same store: ``base``
        (default: this process's environment) with :data:`DATABASE_ENV` set to the URL,
        or removed for SQLite."""
        env = dict(os.environ if base is None else base)
        if self.url is None:
            env.pop(DATABASE_ENV, None)
        else:
            env[DATABASE_ENV] = self.url
        return env


def resolve_location(home: str | os.PathLike[str] | None = None,
                     database: str | None = None, *,
                     environ: Mapping[str, str] | None = None) -> StoreLocation:
    """The store a command uses: ``database`` (``--database``), else
    ``$HOOKADMIN_DATABASE``, else SQLite in the data directory (``--home``,
    ``$HOOKADMIN_HOME`` or the user data folder).

    Raises:
        InputError: the URL is not a PostgreSQL connection URL (one sentence, without
            the URL, which may hold a password).
    """
    url = given_database_url(database, environ=environ)
    return StoreLocation(data_home(home), url)


def as_location(location: StoreLocation | str | os.PathLike[str] | None) -> StoreLocation:
    """``location`` as a :class:`StoreLocation`: a data directory (or None) is resolved
    with :func:`resolve_location` (so ``$HOOKADMIN_DATABASE`` applies), a
    ``postgresql://`` string is that database.

    Raises:
        InputError: a malformed URL (see :func:`resolve_location`).
    """
    if isinstance(location, StoreLocation):
        return location
    if isinstance(location, str) and location.startswith(URL_SCHEMES):
        return resolve_location(None, location)
    return resolve_location(location)
