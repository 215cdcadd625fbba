"""The PostgreSQL store of team mode: the same repository as :class:`~hookadmin.core.store.Store`.

Every window and any number of ``hookadmin worker`` processes, on any number of
machines, share one PostgreSQL database (DESIGN §9). :class:`PostgresStore` has the
public methods of the SQLite :class:`~hookadmin.core.store.Store`, with the same
arguments, results, units (Unix seconds, bytes) and errors, so the engine, the CLI and
the window use either without knowing which. The schema and its migrations are in
:mod:`hookadmin.core.store.postgres.schema`.

What a shared server changes:

* **Claims** lock the rows they take with ``FOR UPDATE SKIP LOCKED``, so two engines
  never lease the same delivery, and neither waits for the other. Leases work as in
  SQLite: a claimed delivery carries ``lease_until``; a dead engine's deliveries are
  claimable again once it passes, with the same delivery id.
* **A hook's limit holds across all engines together**: with ``per_hook_limit``, a
  claim counts every engine's leased deliveries of the hook, under a per-hook
  advisory lock taken with ``pg_try_advisory_xact_lock`` (a hook another engine is
  claiming for at this moment is left to it this time), so two claims can never both
  see the same room.
* **Change feed**: publishing and hook changes ``NOTIFY``
  :data:`~hookadmin.core.store.postgres.schema.CHANNEL`;
  :meth:`PostgresStore.wait_for_change` blocks until one arrives, and
  :meth:`PostgresStore.data_version` counts them (the SQLite ``data_version`` an engine
  polls).
* **Errors**: a wrong URL, a refused connection, a bad password, a server that went
  down are one sentence each (:class:`~hookadmin.core.errors.StoreUnavailable`),
  never with the password. A lost connection is opened again by the next call.

The class is built of parts, one concern a file, as the SQLite store is: the
connection, transactions and change feed (:mod:`~hookadmin.core.store.postgres.connection`),
hooks (:mod:`~hookadmin.core.store.postgres.hooks`), the outbox, redelivery and pruning
(:mod:`~hookadmin.core.store.postgres.queue`), claims and leases
(:mod:`~hookadmin.core.store.postgres.claims`), recording attempts
(:mod:`~hookadmin.core.store.postgres.recording`), the history queries and settings
(:mod:`~hookadmin.core.store.postgres.history`), the audit log, metrics and ordered
hooks; the longer statements are in :mod:`hookadmin.core.store.postgres.sql`. One
instance holds one connection: use it from one thread at a time; open one per thread
or process.
"""

from __future__ import annotations

from hookadmin.core.errors import StoreError
from hookadmin.core.store.postgres.audit import AuditPart
from hookadmin.core.store.postgres.claims import ClaimsPart
from hookadmin.core.store.postgres.metrics import MetricsPart
from hookadmin.core.store.postgres.ordered import OrderedPart
from hookadmin.core.store.postgres.queue import QueuePart
from hookadmin.core.store.postgres.recording import RecordingPart


class PostgresStore(QueuePart, ClaimsPart, RecordingPart, AuditPart, MetricsPart,
                    OrderedPart):
    """The PostgreSQL repository: :class:`~hookadmin.core.store.Store`'s public methods
    on a database shared by every machine (see the module's docstring and, for the
    arguments and errors of opening one, :class:`~hookadmin.core.store.postgres.connection.
    PostgresConnection`)."""

    @classmethod
    def init(cls, url: str) -> PostgresStore:
        """Open ``url``, creating hookadmin's schema if the database is empty
        (``hookadmin team init``, ``created`` then says so); an existing hookadmin
        database is just opened.

        Raises:
            StoreUnavailable, StoreError: as opening does.
        """
        return cls(url, create=True)

    @classmethod
    def init_new(cls, url: str) -> PostgresStore:
        """Create hookadmin's schema in the empty database ``url`` and open it
        (``hookadmin team init``).

        Raises:
            StoreUnavailable: as the constructor.
            StoreError: the database holds other tables, or hookadmin's schema already
                (it was set up before: nothing changed).
        """
        store = cls(url, create=True)
        if not store.created:
            store.close()
            raise StoreError(f"The {store.where} is already set up for hookadmin (team "
                             f"database {store.store_id}); use it with --database or "
                             "HOOKADMIN_DATABASE, and get its team key with `hookadmin "
                             "team export-key FILE` on a machine that has it.")
        return store
