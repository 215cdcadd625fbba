"""The team's encrypted hook secrets in PostgreSQL: the ``hook_secrets`` table that
:class:`hookadmin.core.team.secrets.EncryptedSecretStore` keeps its sealed entries in
(its :class:`~hookadmin.core.team.secrets.SecretBlobs`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import LiteralString

import psycopg
from psycopg.rows import TupleRow

from hookadmin.core.errors import SecretStoreError

# The table (the PostgreSQL store's schema creates exactly this).
HOOK_SECRETS_DDL = ("CREATE TABLE hook_secrets (name text PRIMARY KEY, nonce bytea NOT NULL, "
                    "ciphertext bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())")

UNAVAILABLE = ("The team database did not answer ({detail}); check that it is running and "
               "reachable, and try again.")
FAILED = ("The team database refused a hook secret's read or write ({detail}); check that "
          "it was set up with `hookadmin team init` and that this user may use it.")


class PostgresSecretBlobs:
    """:class:`SecretBlobs` in the ``hook_secrets`` table of a PostgreSQL database
    (:data:`HOOK_SECRETS_DDL`), over one psycopg connection in autocommit mode, opened on
    first use, shared by threads one statement at a time, and opened again after it
    breaks.

    Args:
        conninfo: a libpq connection string or ``postgresql://`` URL.
        connect_timeout: seconds to wait for the server when connecting.
    """

    def __init__(self, conninfo: str, *, connect_timeout: float = 10.0) -> None:
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._conn: psycopg.Connection[TupleRow] | None = None
        self._lock = threading.Lock()

    def put(self, name: str, nonce: bytes, ciphertext: bytes) -> None:
        """Insert or replace the entry ``name`` (``updated_at`` becomes now).

        Raises:
            SecretStoreError: the database cannot be reached or refused the write.
        """
        self._execute("INSERT INTO hook_secrets (name, nonce, ciphertext) VALUES (%s, %s, %s) "
                      "ON CONFLICT (name) DO UPDATE SET nonce = EXCLUDED.nonce, "
                      "ciphertext = EXCLUDED.ciphertext, updated_at = now()",
                      (name, nonce, ciphertext))

    def get_many(self, names: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
        """The entries among ``names`` that exist, in one query.

        Raises:
            SecretStoreError: the database cannot be reached or read.
        """
        if not names:
            return {}
        rows = self._execute("SELECT name, nonce, ciphertext FROM hook_secrets "
                             "WHERE name = ANY(%s)", (list(names),))
        return {str(name): (bytes(nonce), bytes(sealed)) for name, nonce, sealed in rows}

    def delete(self, name: str) -> None:
        """Remove the entry ``name`` if it exists.

        Raises:
            SecretStoreError: the database cannot be reached or written.
        """
        self._execute("DELETE FROM hook_secrets WHERE name = %s", (name,))

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            self._drop()

    def _execute(self, query: LiteralString, params: tuple[object, ...]) -> list[TupleRow]:
        """Run one statement (each is idempotent) and return its rows. A connection the
        server dropped (a restart, an idle timeout) is opened again and the statement
        run once more.

        Raises:
            SecretStoreError: the database cannot be reached, or refused the statement.
        """
        with self._lock:
            for again in (True, False):
                try:
                    return self._run(query, params)
                except psycopg.Error as err:
                    broken = self._conn is not None and self._conn.broken
                    if broken:
                        self._drop()
                    if not (again and broken):
                        raise _database_error(err) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(self, query: LiteralString, params: tuple[object, ...]) -> list[TupleRow]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo, autocommit=True,
                                         connect_timeout=max(1, round(self._connect_timeout)))
        cursor = self._conn.execute(query, params)
        return cursor.fetchall() if cursor.description is not None else []

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _database_error(err: psycopg.Error) -> SecretStoreError:
    if isinstance(err, psycopg.OperationalError):
        return SecretStoreError(UNAVAILABLE.format(detail=_one_line(err)), cause="unavailable")
    return SecretStoreError(FAILED.format(detail=_one_line(err)), cause="failed")


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    return line.rstrip(".")[:200]
