"""The team database a command is given: ``--database URL`` or ``$HOOKADMIN_DATABASE``,
checked before anything else is done with it.

Kept apart from :mod:`hookadmin.core.store` so that the window can refuse a bad URL
(exit status 2, one sentence) before it shows anything, without importing the store's
types first: they are imported after the window's first paint."""

from __future__ import annotations

import os
from collections.abc import Mapping

from hookadmin.core.errors import InputError

DATABASE_ENV = "HOOKADMIN_DATABASE"
URL_SCHEMES = ("postgresql://", "postgres://")


def given_database_url(database: str | None = None, *,
                       environ: Mapping[str, str] | None = None) -> str | None:
    """The team database's URL given as ``database`` (``--database``), else in
    ``$HOOKADMIN_DATABASE`` of ``environ`` (default: this process's environment),
    stripped; None when neither names one (SQLite in the data directory).

    Raises:
        InputError: the URL is not a PostgreSQL connection URL (one sentence, without
            the URL, which may hold a password).
    """
    env = os.environ if environ is None else environ
    url = database if database is not None else env.get(DATABASE_ENV) or None
    if url is None:
        return None
    url = url.strip()
    source = "--database" if database is not None else DATABASE_ENV
    if not url.startswith(URL_SCHEMES):
        raise InputError(f"{source} is not a PostgreSQL URL; give one like "
                         "postgresql://USER@HOST:5432/DBNAME (leave it out to use the "
                         "SQLite database in the data directory).", field="database")
    from hookadmin.core.store.postgres.schema import check_url

    check_url(url, source)
    return url
