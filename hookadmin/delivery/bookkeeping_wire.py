"""The calls between an engine and its bookkeeping process, as types.

Each request is a small frozen dataclass and has exactly one reply type
(:data:`REPLIES`); an error comes back as a :class:`Failure` (its kind and its
sentence), never as a pickled exception. The per-delivery items a turn carries
(finished attempts, claimed deliveries) are plain tuples (:data:`FinishedWire`,
:data:`JobWire`): a tuple pickles several times faster than a dataclass, and there is
one per delivery.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hookadmin.core.errors import (
    HookadminError,
    InputError,
    NotFoundError,
    SecretStoreError,
    StoreBusyError,
    StoreError,
    StoreFault,
    StoreFullError,
    StoreUnavailable,
)
from hookadmin.core.hooks import Hook
from hookadmin.core.store import AttemptRecord, DeliveryJob, StoreLocation
from hookadmin.delivery.policy import DeliverySettings

# (seq, hook id, attempts before, started_at, duration_ms, request_url, request_headers,
#  status_code, response_headers, response_body, response_truncated, error_kind,
#  error_message, request_body)
FinishedWire = tuple[int, int, int, float, float | None, str, dict[str, str], int | None,
                     list[tuple[str, str]] | None, bytes | None, bool, str | None, str | None,
                     bytes | None]
# (seq, id, hook id, event type, body, attempts): a DeliveryJob's fields in order
JobWire = tuple[int, str, int, str, bytes, int]
# A recorded attempt's delivery: its new status and its next attempt time (or None)
Status = tuple[str, float | None]
# What the bookkeeper logged: (logging level, message)
LogEntry = tuple[int, str]
# A database fault's sentence in parts: (what, unsaved, advice), see StoreFault
FaultWire = tuple[str, str, str]


class BookkeepingError(HookadminError):
    """The bookkeeping process could not be started, ended unexpectedly, or could not
    answer a call."""


@dataclass(frozen=True)
class Finished:
    """An attempt that ended, as the bookkeeper needs it to record it: the delivery's
    ``seq``, its hook, the attempts made before this one, and what happened. On the
    wire it is a :data:`FinishedWire`."""

    seq: int
    hook_id: int
    attempts: int
    attempt: AttemptRecord

    @staticmethod
    def to_wire(job: DeliveryJob, a: AttemptRecord) -> FinishedWire:
        """The attempt ``a`` of the claimed ``job`` as a plain tuple."""
        return (job.seq, job.hook_id, job.attempts, a.started_at, a.duration_ms,
                a.request_url, a.request_headers, a.status_code, a.response_headers,
                a.response_body, a.response_truncated, a.error_kind, a.error_message,
                a.request_body)

    @classmethod
    def from_wire(cls, wire: FinishedWire) -> Finished:
        """The tuple made by :meth:`to_wire`, read back."""
        return cls(wire[0], wire[1], wire[2], AttemptRecord(*wire[3:]))


def job_to_wire(job: DeliveryJob) -> JobWire:
    """A claimed delivery as a plain tuple (see :class:`Finished`)."""
    return (job.seq, job.id, job.hook_id, job.event_type, job.body, job.attempts)


def job_from_wire(wire: JobWire) -> DeliveryJob:
    """The tuple made by :func:`job_to_wire`, read back."""
    return DeliveryJob(*wire)


# -- requests -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Start:
    """The first message: open the store at ``home`` with the engine's ``settings``
    (before the Settings dialog's options are applied). Reply: :class:`Started`."""

    home: StoreLocation
    settings: DeliverySettings


@dataclass(frozen=True)
class Open:
    """What the engine needs to start sending. Reply: :class:`Opened`."""


@dataclass(frozen=True)
class ClaimRequest:
    """How much to claim: ``room`` deliveries in all, ``held`` (hook id → deliveries
    already claimed by this engine) counted against the per-hook limit;
    ``running_low``: some hook is about to run out, so claim even in a turn that would
    otherwise only record; ``held_retries`` (hook id → how many of ``held`` were tried
    before), so a team database's claim takes no more retries than the retry lane
    starts."""

    room: int
    held: dict[int, int]
    running_low: bool
    held_retries: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnRequest:
    """One turn's work: record ``finished`` (in the order the attempts ended), renew
    the leases of ``renew`` (delivery seqs; None: not due), release ``release``, claim
    per ``claim`` (None: the engine has no room), and with ``check_idle`` tell whether
    nothing is queued or due now. With ``look``, a publisher has just signalled new work
    (:meth:`hookadmin.core.store.ports.ChangeFeed.signalled`): fan out now, even if the
    bookkeeper's own connection has not seen the change yet. With ``secret_waits_due``,
    the keyring can be used again: deliveries that waited for their secret are made due
    now, before the claim. Reply:
    :class:`TurnResult`, perhaps after a :class:`Claimed`."""

    finished: list[FinishedWire]
    renew: list[int] | None
    release: list[int]
    claim: ClaimRequest | None
    check_idle: bool
    look: bool = False
    secret_waits_due: bool = False


@dataclass(frozen=True)
class WindUp:
    """The last call of a run: record ``finished`` and release ``leftover`` (delivery
    seqs claimed but not sent). Reply: :class:`WoundUp`."""

    finished: list[FinishedWire]
    leftover: list[int]


@dataclass(frozen=True)
class TakeLogs:
    """What the bookkeeper logged since its last reply. Reply: :class:`Logs`."""


Request = Start | Open | TurnRequest | WindUp | TakeLogs


# -- replies ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    """The store is open."""


@dataclass(frozen=True)
class Opened:
    """The database's keyring namespace (``store_id`` and the ``parent_store_ids`` of a
    copied database), the delivery settings in force, and every hook by id."""

    store_id: str
    parent_store_ids: list[str]
    settings: DeliverySettings
    hooks: dict[int, Hook]


@dataclass(frozen=True)
class TurnResult:
    """What a turn brings back: per finished attempt (same order) its :data:`Status`;
    the claimed ``jobs``; every hook by id when one changed (else None); the delivery
    settings when they were re-read (else None); whether the engine may stop
    (``check_idle``); and what the bookkeeper logged."""

    statuses: list[Status] = field(default_factory=list)
    jobs: list[JobWire] = field(default_factory=list)
    hooks: dict[int, Hook] | None = None
    settings: DeliverySettings | None = None
    idle: bool = False
    logs: list[LogEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    """The first part of a turn's reply, sent once the turn's fan-out and claim are
    committed and before it records the finished attempts it was given (see
    :meth:`hookadmin.delivery.bookkeeper.Bookkeeper.turn`): the claimed ``jobs``, every
    hook by id when one changed (else None) and the delivery settings when they were
    re-read (else None). The :class:`TurnResult` that follows then carries none of
    these."""

    jobs: list[JobWire]
    hooks: dict[int, Hook] | None = None
    settings: DeliverySettings | None = None

    def merged(self, rest: TurnResult) -> TurnResult:
        """The turn's whole reply: this part and the :class:`TurnResult` after it."""
        return TurnResult(rest.statuses, self.jobs + rest.jobs,
                          self.hooks if rest.hooks is None else rest.hooks,
                          self.settings if rest.settings is None else rest.settings,
                          rest.idle, rest.logs)


@dataclass(frozen=True)
class WoundUp:
    """The statuses of the attempts :class:`WindUp` recorded, in order."""

    statuses: list[Status]


@dataclass(frozen=True)
class Logs:
    """What the bookkeeper logged."""

    entries: list[LogEntry]


class ErrorKind(enum.Enum):
    """Which error a :class:`Failure` stands for."""

    STORE = "store"
    STORE_FULL = "store_full"  # the disk under the database is full
    STORE_BUSY = "store_busy"  # another process held the database's lock too long
    STORE_FAULT = "store_fault"  # the disk under the database failed otherwise
    STORE_UNAVAILABLE = "store_unavailable"  # the database server cannot be reached
    NOT_FOUND = "not_found"
    INPUT = "input"
    SECRET_STORE = "secret_store"  # noqa: S105 - a name, not a password
    BOOKKEEPING = "bookkeeping"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Failure:
    """A call that raised: the error's kind, its sentence, for a keyring error its
    ``cause`` (see :class:`hookadmin.core.errors.SecretStoreError`), for an input
    error its ``field`` and for a database fault (``STORE_FULL``, ``STORE_BUSY``,
    ``STORE_FAULT``) its sentence's parts (see
    :class:`hookadmin.core.errors.StoreFault`)."""

    kind: ErrorKind
    message: str
    cause: str | None = None
    field: str | None = None
    fault: FaultWire | None = None

    @classmethod
    def of(cls, error: Exception) -> Failure:
        """The failure that stands for ``error``."""
        if isinstance(error, SecretStoreError):
            return cls(ErrorKind.SECRET_STORE, str(error), error.cause)
        if isinstance(error, InputError):
            kind = ErrorKind.NOT_FOUND if isinstance(error, NotFoundError) else ErrorKind.INPUT
            return cls(kind, str(error), field=error.field)
        if isinstance(error, StoreFault):
            kind = next(k for k, fault_type in _FAULTS if isinstance(error, fault_type))
            return cls(kind, str(error), fault=(error.what, error.unsaved, error.advice))
        for kind, error_type in _ERRORS:
            if isinstance(error, error_type):
                return cls(kind, str(error))
        return cls(ErrorKind.INTERNAL, f"{type(error).__name__}: {error}")

    def error(self) -> HookadminError:
        """The error to raise in the engine: of the same class as the bookkeeper's
        (a BookkeepingError for an unexpected one)."""
        if self.kind is ErrorKind.SECRET_STORE:
            return SecretStoreError(self.message, cause=self.cause or "failed")
        if self.kind is ErrorKind.INTERNAL:
            return BookkeepingError(f"The engine's bookkeeping process failed ({self.message}).")
        if self.kind is ErrorKind.NOT_FOUND:
            return NotFoundError(self.message, field=self.field)
        if self.kind is ErrorKind.INPUT:
            return InputError(self.message, field=self.field)
        faults = dict(_FAULTS)
        if self.kind in faults and self.fault is not None:
            what, unsaved, advice = self.fault
            return faults[self.kind](what, advice, unsaved=unsaved)
        if self.kind in faults:  # made by hand without its parts: the sentence alone
            return StoreError(self.message)
        return dict(_ERRORS)[self.kind](self.message)


_ERRORS: tuple[tuple[ErrorKind, type[HookadminError]], ...] = (
    (ErrorKind.STORE_UNAVAILABLE, StoreUnavailable), (ErrorKind.STORE, StoreError),
    (ErrorKind.BOOKKEEPING, BookkeepingError))
# Most specific first: the first class an error is an instance of names its kind.
_FAULTS: tuple[tuple[ErrorKind, type[StoreFault]], ...] = (
    (ErrorKind.STORE_FULL, StoreFullError), (ErrorKind.STORE_BUSY, StoreBusyError),
    (ErrorKind.STORE_FAULT, StoreFault))

Reply = Started | Opened | Claimed | TurnResult | WoundUp | Logs | Failure

# The reply each request gets (besides a Failure).
REPLIES: dict[type[Request], type[Reply]] = {
    Start: Started, Open: Opened, TurnRequest: TurnResult, WindUp: WoundUp, TakeLogs: Logs}
