"""What the rest of hookadmin may ask of a store, as :class:`typing.Protocol`\\ s.

The engine's bookkeeping, the CLI, the service layer and the window depend on these,
never on a database: :class:`hookadmin.core.store.sqlite.SQLiteStore` (the embedded
default) implements them all, and so does any other implementation. Each protocol is
one concern:

- :class:`HookRepository`: hooks.
- :class:`Outbox`: publishing events.
- :class:`DeliveryQueue`: what an engine's bookkeeping does (fan-out, claims and
  leases, recording attempts, pruning) and redelivery.
- :class:`DeliveryHistory`: what the window and the CLI list and count.
- :class:`SettingsRepository`: settings shared by every process of a database.
- :class:`ChangeFeed`: whether anyone committed since the last look.
- :class:`MetricsSource`: the figures the Prometheus metrics show.
- :class:`AuditLog`: the append-only, hash-chained record of administrative actions.

:class:`Repository` is all of them on one connection, with its transactions.

Times are Unix seconds (float) except a hook's ``created_at``/``updated_at``, which
are the DESIGN §4 ISO-8601 strings. Methods that name a missing hook or delivery raise
:class:`hookadmin.core.errors.NotFoundError`; a database that cannot be used raises
:class:`hookadmin.core.errors.StoreError`: a fault of the machine under it (a full disk,
a lock another process held too long) is a
:class:`~hookadmin.core.errors.StoreFault` (``StoreFullError``, ``StoreBusyError``),
after which nothing of the failed transaction was written; a server that cannot be
reached is :class:`~hookadmin.core.errors.StoreUnavailable`. Callers catch these,
never an implementation's own exceptions (``sqlite3``, ``psycopg``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from hookadmin.core.hook_types import WEB, HookOptions
from hookadmin.core.hooks import Hook
from hookadmin.core.store.audit_records import AuditAction, AuditEntry
from hookadmin.core.store.metrics_records import AttemptSample, DeliveryGauges
from hookadmin.core.store.records import (
    Attempt,
    AttemptRecord,
    Delivery,
    DeliveryJob,
    HookHealth,
    ImportedDelivery,
)

if TYPE_CHECKING:
    import asyncio

SEARCH_SCAN = 100_000  # deliveries a text search looks through, newest first

STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "none")


def is_uuid(text: str) -> bool:
    """True for text shaped like a UUID (delivery and event ids are UUIDs)."""
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class HookRepository(Protocol):
    """Hooks: their settings, never their secrets."""

    def add_hook(self, *, name: str, url: str, events: Sequence[str], active: bool,
                 insecure_ssl: bool = False, ca_bundle: str | None = None,
                 type: str = WEB, options: HookOptions | None = None) -> Hook:
        """Insert a hook (values already validated) and return it with its new id;
        ``type`` and ``options`` as in :mod:`hookadmin.core.hook_types`."""
        ...

    def get_hook(self, hook_id: int) -> Hook:
        """The hook with this id. Raises NotFoundError."""
        ...

    def list_hooks(self) -> list[Hook]:
        """Every hook, by id."""
        ...

    def update_hook(self, hook_id: int, *, name: str | None = None, url: str | None = None,
                    events: Sequence[str] | None = None, active: bool | None = None,
                    insecure_ssl: bool | None = None,
                    deactivated_reason: str | None = None, ca_bundle: str | None = None,
                    previous_secret_expires_at: float | None = None,
                    clear_previous_secret: bool = False,
                    options: HookOptions | None = None) -> Hook:
        """Change some fields (None leaves one as it is); activating clears the
        deactivation reason and the failing clock. Raises NotFoundError."""
        ...

    def delete_hook(self, hook_id: int) -> None:
        """Delete a hook with its deliveries and attempts. Raises NotFoundError."""
        ...

    def hooks_generation(self) -> int:
        """A number that changes whenever a hook is added, deleted or changed in a way
        that matters for sending; cheap, so an engine re-reads hooks only then."""
        ...

    def failing_since(self, hook_id: int) -> float | None:
        """Since when every attempt to the hook has failed, or None."""
        ...

    def deactivated_at(self, hook_id: int) -> float | None:
        """When (Unix seconds) the engine deactivated the hook with a reason, or None."""
        ...


class Outbox(Protocol):
    """Publishing: events wait here until an engine fans them out."""

    def add_events(self, events: Sequence[tuple[str, bytes]], *,
                   target_hook_id: int | None = None) -> list[str]:
        """Put (event type, body bytes) pairs on the outbox in one durable transaction;
        with ``target_hook_id`` only that hook gets them (a test event). Returns the
        new event UUIDs, in order."""
        ...


class DeliveryQueue(Protocol):
    """The deliveries waiting to be sent, as an engine's bookkeeping works them."""

    def data_version(self) -> int:
        """A number that changes when another connection commits (cheap)."""
        ...

    def fan_out(self, *, now: float | None = None, limit: int = 1000) -> int:
        """Turn at most ``limit`` waiting events into deliveries, one per active
        subscribed hook, in one transaction. Returns the number of events."""
        ...

    def claim_due(self, *, now: float, lease_seconds: float, limit: int,
                  skip_hooks: Sequence[int] = (), per_hook_limit: int | None = None,
                  in_flight: Mapping[int, int] | None = None,
                  first_attempts_only: bool | Sequence[int] = ()) -> list[DeliveryJob]:
        """Lease up to ``limit`` due deliveries for ``lease_seconds``, oldest due first,
        at most ``per_hook_limit`` per hook counting ``in_flight`` (hook id → held),
        none for ``skip_hooks``; for the hooks in ``first_attempts_only`` (every hook
        when True) only deliveries never tried before (their retry lane is full)."""
        ...

    def claim_ordered(self, hook_ids: Sequence[int], *, now: float,
                      lease_seconds: float) -> list[DeliveryJob]:
        """Lease the oldest pending delivery of each of these (ordered) hooks for
        ``lease_seconds``, when it is due and nobody holds it."""
        ...

    def first_pending(self, hook_id: int) -> Delivery | None:
        """The hook's oldest pending delivery (for an ordered hook: what the others
        wait behind), or None."""
        ...

    def renew(self, seqs: Sequence[int], lease_until: float) -> None:
        """Extend the leases of deliveries still being sent."""
        ...

    def release(self, seqs: Sequence[int]) -> None:
        """Drop the leases of deliveries that were claimed but not attempted."""
        ...

    def retry_secret_waits(self, now: float) -> int:
        """Make every pending delivery whose last attempt waited for its secret (error
        kind ``secret_unavailable``) due at ``now`` (Unix seconds), for when the
        keyring can be used again; returns how many were brought forward."""
        ...

    def counted_attempts(self, delivery_seq: int) -> int:
        """Attempts that count toward the retry schedule (not ``secret_unavailable``)."""
        ...

    def record_attempt(self, job: DeliveryJob, attempt: AttemptRecord, *,
                       next_attempt_at: float | None) -> str:
        """Store one attempt; returns the new status (``succeeded``, ``pending`` or
        ``failed``; None for ``next_attempt_at`` makes a failure final)."""
        ...

    def record_attempts(self, items: Sequence[tuple[DeliveryJob, AttemptRecord, float | None]]
                        ) -> list[str]:
        """Store many attempts in one transaction; returns each new status, in order."""
        ...

    def next_due(self, *, count_leases: bool = True,
                 ordered: Collection[int] = ()) -> float | None:
        """When (Unix seconds) the earliest pending delivery of an active hook may be
        attempted (its lease counted unless ``count_leases`` is False), or None. Of the
        ``ordered`` hooks' deliveries only each one's oldest pending delivery counts:
        the later ones are held behind it (see :mod:`hookadmin.core.ordering`)."""
        ...

    def outbox_waiting(self) -> int:
        """Events not yet fanned out."""
        ...

    def redeliver(self, delivery_id: str, *, now: float | None = None) -> Delivery:
        """Make a delivery due again now (same id, same body). Raises NotFoundError,
        and InputError for a ping."""
        ...

    def redeliver_failed(self, hook_id: int, since: float, *, now: float | None = None,
                         until: float | None = None) -> int:
        """Make a hook's failed deliveries updated since ``since`` (and before
        ``until``, if given) due again now; returns how many. Raises NotFoundError."""
        ...

    def prune(self, older_than: float, *, batch: int = 5000) -> int:
        """Delete finished deliveries last updated before ``older_than`` (and events
        left without one), in batches; returns how many deliveries."""
        ...


class DeliveryHistory(Protocol):
    """The delivery history as the window and the CLI show it."""

    def record_ping(self, hook_id: int, delivery_id: str, body: bytes,
                    attempt: AttemptRecord) -> None:
        """Store a ping as a one-attempt delivery of event type ``ping``."""
        ...

    def outbox_waiting(self) -> int:
        """Events not yet fanned out."""
        ...

    def pending_count(self, *, cap: int | None = None) -> int:
        """Deliveries not yet final, counted up to ``cap`` at most."""
        ...

    def list_deliveries(self, *, hook_id: int | None = None, status: str | None = None,
                        limit: int = 100, before_seq: int | None = None,
                        event_type: str | None = None, since: float | None = None,
                        after_seq: int | None = None, search: str | None = None,
                        status_class: str | None = None) -> list[Delivery]:
        """Deliveries, newest first, filtered; paged by ``before_seq``/``after_seq``.

        ``search`` finds a delivery id or event id (a UUID, exactly, by index) or else
        the text in the body (case-sensitive, among the newest
        :data:`SEARCH_SCAN` deliveries so a search stays quick with millions);
        ``status_class`` is ``2xx``, ``3xx``, ``4xx``, ``5xx`` (the last answer's
        status) or ``none`` (tried, no HTTP answer)."""
        ...

    def count_failed(self, *, hook_id: int | None = None, since: float) -> int:
        """Failed deliveries (pings left out) updated at or after ``since`` (Unix
        seconds), of one hook or of every hook: what ``redeliver_failed`` would
        queue again."""
        ...

    def deliveries_by_seq(self, seqs: Sequence[int]) -> list[Delivery]:
        """The deliveries with these ``seq`` values (any order; missing ones left out)."""
        ...

    def get_delivery(self, delivery_id: str) -> Delivery:
        """One delivery by its UUID. Raises NotFoundError."""
        ...

    def delivery_body(self, delivery_id: str) -> bytes:
        """The body bytes a delivery sends. Raises NotFoundError."""
        ...

    def list_attempts(self, delivery_seq: int) -> list[Attempt]:
        """The attempts of a delivery, first to last."""
        ...

    def activity(self, *, since: float, bucket: float = 60.0,
                 hook_id: int | None = None) -> list[tuple[float, int, int, float | None]]:
        """``(bucket start, succeeded, failed, mean duration in ms)`` per ``bucket``
        seconds since ``since``, oldest first; empty buckets left out."""
        ...

    def last_deliveries(self) -> dict[int, Delivery]:
        """The newest tried delivery of each hook, by hook id."""
        ...

    def hook_health(self, *, now: float | None = None, hours: int = 24
                    ) -> dict[int, HookHealth]:
        """Every hook's health over the last ``hours`` hours (the current one included)
        by hook id, in two queries whatever the number of hooks (from the per-minute
        activity, so bounded by 60 * ``hours`` rows per hook)."""
        ...


@runtime_checkable
class HistoryImport(Protocol):
    """Taking in another store's deliveries with their history (``hookadmin team
    import-local``: a workstation's SQLite history into the team database). Only the
    PostgreSQL store offers it."""

    def import_deliveries(self, items: Sequence[ImportedDelivery]) -> int:
        """Insert deliveries with their events and attempts, keeping their ids, in one
        transaction; a delivery whose id is already here is skipped with its attempts,
        so importing the same history twice copies nothing twice.

        Returns:
            How many deliveries were new.
        """
        ...


class SettingsRepository(Protocol):
    """Settings every process of a database shares (JSON values by key)."""

    def get_setting(self, key: str) -> Any:
        """A setting's JSON value, or None when it was never set."""
        ...

    def set_setting(self, key: str, value: Any) -> None:
        """Store a setting (any JSON value)."""
        ...


class MetricsSource(Protocol):
    """The figures of ``/metrics`` and ``hookadmin metrics``, read at a scrape (never
    on the engine's path)."""

    def delivery_gauges(self) -> DeliveryGauges:
        """The queue now: pending, retrying and failed deliveries, the outbox, the
        oldest waiting publish time, active and inactive hooks."""
        ...

    def last_attempt_id(self) -> int:
        """The id of the newest attempt (0 when none)."""
        ...

    def attempt_samples(self, after_id: int, *, limit: int = 10000,
                        since: float | None = None) -> list[AttemptSample]:
        """Attempts (pings left out) with an id above ``after_id`` and started at
        ``since`` (Unix seconds) or later, oldest first, at most ``limit``."""
        ...


class AuditLog(Protocol):
    """The audit log: append-only (the store refuses to change or delete an entry,
    except pruning the oldest by the audit retention), each entry chained to the one
    before it by its hash (see :mod:`hookadmin.core.store.audit_records`)."""

    def append_audit(self, action: AuditAction) -> AuditEntry:
        """Append one entry after the newest (serialised with every other writer of
        the database), with the database role in team mode; returns it."""
        ...

    def list_audit(self, *, since: float | None = None, hook_id: int | None = None,
                   after_seq: int | None = None, limit: int | None = None
                   ) -> list[AuditEntry]:
        """Entries oldest first, filtered by time (Unix seconds, inclusive) and hook,
        after ``after_seq``, at most ``limit``."""
        ...

    def audit_bounds(self) -> tuple[tuple[int, str], tuple[int, str]]:
        """``(anchor, head)``: the seq and hash of the last pruned entry (``(0,
        GENESIS)`` when none) and of the newest entry written (the anchor when none)."""
        ...

    def prune_audit(self, older_than: float) -> int:
        """Delete entries written before ``older_than`` (oldest first, keeping the
        chain checkable from the new anchor); returns how many."""
        ...


class ChangeFeed(Protocol):
    """Whether anyone committed to the database since the last look: an engine looks
    every few milliseconds, so a look must be cheap (SQLite: ``PRAGMA data_version``
    on a read-only connection). Once watched, a publisher's commit of new work (events,
    deliveries made due again) wakes the engine at once instead (SQLite: a datagram
    to the engine's socket, :mod:`hookadmin.core.store.sqlite.wake`; PostgreSQL:
    ``NOTIFY``; either, directly from a publisher in the same process)."""

    def changed(self) -> bool:
        """True when something was committed since the last call (and at the first
        call, or when it cannot tell)."""
        ...

    def watch(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        """From now on until :meth:`close`, call ``wake`` on ``loop`` as soon as a
        publisher signals new work (best effort: a signal that cannot be given is
        found at the next look). Called on ``loop``'s thread, as are the other
        methods from then on."""
        ...

    def signalled(self) -> bool:
        """True when a publisher signalled new work since the last call: look at the
        outbox now, even if the looking connection has not seen the commit yet."""
        ...

    def close(self) -> None:
        """Stop watching and let go of the connection."""
        ...


class Repository(HookRepository, Outbox, DeliveryQueue, DeliveryHistory, SettingsRepository,
                 MetricsSource, AuditLog, Protocol):
    """A whole store on one connection: every concern above, its transactions, and the
    database's identity (its keyring namespace)."""

    @property
    def store_id(self) -> str:
        """The database's id (a UUID), which namespaces its secrets in the keyring."""
        ...

    @property
    def parent_store_ids(self) -> list[str]:
        """The ids of the databases this one was copied from, newest first."""
        ...

    def transaction(self, *, batched: bool = False) -> AbstractContextManager[object]:
        """One transaction: committed at the end, rolled back on any exception; nested
        uses join the outer one.

        Args:
            batched: statements whose results are not read inside it may be sent to the
                server together with the next one that is read (PostgreSQL's pipeline
                mode: ``BEGIN`` and the writes of a bookkeeping turn travel with its
                claim); their errors then surface there or at the commit. SQLite
                ignores it.
        """
        ...

    def close(self) -> None:
        """Close the connection."""
        ...
