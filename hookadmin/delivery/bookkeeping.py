"""The engine's database work, in a process of its own.

An engine (:mod:`hookadmin.delivery.engine`) sends; its bookkeeper records. Every
SQLite statement of an engine run happens here: fanning new events out to deliveries,
claiming (leasing) due deliveries, renewing and releasing leases, recording attempts
and deciding what comes next (the retry schedule, ``410 Gone``, deactivating a hook
that keeps failing), pruning old history. The engine asks for one *turn* at a time and
waits for its answer before the next, so at most one transaction is open at a time.

Why another process: the engine is bound by CPU, and in one process the bookkeeping's
Python work (binding rows, building attempt records) took the GIL from the event loop
that sends. Here it runs on another core beside the sends (``docs/decisions.md``).

The wire: :class:`BookkeepingProcess` starts
``python -P -m hookadmin.delivery.bookkeeping FD`` with one end of a socket pair as
``FD``, and sends ``(method name, args)`` tuples pickled with
:class:`multiprocessing.connection.Connection` framing; each call gets back
``("ok", result)`` or ``("error", exception)``. The child is its own process group (a
Ctrl+C in the terminal reaches the engine, which then winds up through it) and exits
when the engine's end of the socket closes, so an engine killed with ``kill -9``
never leaves it behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookadmin.core.dbfaults import store_error
from hookadmin.core.errors import HookadminError, SecretStoreError
from hookadmin.core.hooks import Hook
from hookadmin.core.service import delivery_options, network_policy, prune_history
from hookadmin.core.store import AttemptRecord, DeliveryJob, Store
from hookadmin.delivery.policy import DeliverySettings, retry_after_seconds, with_options

if TYPE_CHECKING:  # the child never imports asyncio or the keyring it does not need
    import asyncio

    from hookadmin.core.secrets import SecretStore

MODULE = "hookadmin.delivery.bookkeeping"
START_SECONDS = 30.0  # the child must answer its first call within this
# What a failed write leaves undone, in the sentence of a StoreError (see dbfaults).
UNSAVED = ("the delivery engine could not record its work (deliveries it had not "
           "recorded go out again once their leases expire)")


@dataclass(frozen=True)
class Finished:
    """An attempt that ended, as the bookkeeper needs it to record it: the delivery's
    ``seq``, its hook, the attempts made before this one, and what happened.

    On the wire it is a plain tuple (:meth:`to_wire`): a tuple pickles several times
    faster than a dataclass, and the engine sends one per delivery."""

    seq: int
    hook_id: int
    attempts: int
    attempt: AttemptRecord

    @staticmethod
    def to_wire(job: DeliveryJob, a: AttemptRecord) -> tuple[Any, ...]:
        return (job.seq, job.hook_id, job.attempts, a.started_at, a.duration_ms,
                a.request_url, a.request_headers, a.status_code, a.response_headers,
                a.response_body, a.response_truncated, a.error_kind, a.error_message)

    @classmethod
    def from_wire(cls, wire: tuple[Any, ...]) -> Finished:
        return cls(wire[0], wire[1], wire[2], AttemptRecord(*wire[3:]))


def job_to_wire(job: DeliveryJob) -> tuple[Any, ...]:
    """A claimed delivery as a plain tuple (see :class:`Finished`)."""
    return (job.seq, job.id, job.hook_id, job.event_type, job.body, job.attempts)


def job_from_wire(wire: tuple[Any, ...]) -> DeliveryJob:
    return DeliveryJob(*wire)


@dataclass(frozen=True)
class ClaimRequest:
    """How much to claim: ``room`` deliveries in all, ``held`` (hook id → deliveries
    already claimed by this engine) counted against the per-hook limit;
    ``running_low``: some hook is about to run out, so claim even in a turn that would
    otherwise only record."""

    room: int
    held: dict[int, int]
    running_low: bool


@dataclass(frozen=True)
class TurnRequest:
    """One turn's work: record ``finished`` (in the order the attempts ended), renew
    the leases of ``renew`` (delivery seqs; None: not due), release ``release``, claim
    per ``claim`` (None: the engine has no room), and with ``check_idle`` tell whether
    nothing is queued or due now."""

    finished: list[tuple[Any, ...]]  # Finished.to_wire
    renew: list[int] | None
    release: list[int]
    claim: ClaimRequest | None
    check_idle: bool


@dataclass
class TurnResult:
    """What a turn brings back: per finished attempt (same order) the delivery's new
    status and its next attempt time (Unix seconds, or None); the claimed ``jobs``;
    every hook by id when one changed (else None); the delivery settings when they were
    re-read (else None); whether the engine may stop (``check_idle``); and what the
    bookkeeper logged, as (level, message) pairs for the engine's log."""

    statuses: list[tuple[str, float | None]] = dataclasses.field(default_factory=list)
    jobs: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)  # job_to_wire
    hooks: dict[int, Hook] | None = None
    settings: DeliverySettings | None = None
    idle: bool = False
    logs: list[tuple[int, str]] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Opened:
    """The answer to :meth:`Bookkeeper.open`: the database's keyring namespace
    (``store_id`` and the ``parent_store_ids`` of a copied database), the delivery
    settings in force, and every hook by id."""

    store_id: str
    parent_store_ids: list[str]
    settings: DeliverySettings
    hooks: dict[int, Hook]


class Bookkeeper:
    """One engine run's database work (see the module's docstring).

    Args:
        home: the data directory.
        settings: the engine's settings before the Settings dialog's options (the
            network policy, retry schedule, timeouts, response cap) are applied.

    Raises:
        StoreError: the database cannot be opened.
    """

    def __init__(self, home: Path, settings: DeliverySettings) -> None:
        self.store = Store.in_home(home, durable=False)
        self.secrets: SecretStore | None = None  # made when a replaced secret expires
        self.base_settings = settings
        self.forced_strict = settings.strict_network
        self.settings = self._wanted_settings()
        self.hooks_generation: int | None = None
        self.data_version = -1
        self.next_full_turn = 0.0
        self.next_prune = 0.0
        self.backlog = False  # the last fan-out left events waiting
        self.logs: list[tuple[int, str]] = []

    def open(self) -> Opened:
        """The first call of a run: what the engine needs to start sending."""
        hooks = self._changed_hooks()
        assert hooks is not None
        return Opened(self.store.store_id, list(self.store.parent_store_ids), self.settings,
                      hooks)

    def close(self) -> None:
        self.store.close()

    def turn(self, request: TurnRequest) -> TurnResult:
        """One turn, in one transaction: record what finished, keep leases, and when
        something changed or is due, fan out new events and claim deliveries."""
        result = TurnResult()
        self._prune_when_due()
        now = time.monotonic()
        version = self.store.data_version()
        # A full fan-out batch last turn: more events wait, so look again now.
        full = version != self.data_version or now >= self.next_full_turn or self.backlog
        if full:
            self.data_version = version
            self.next_full_turn = now + self.settings.poll_interval
        if request.renew is not None:
            result.settings = self.settings = self._wanted_settings()
        claim = request.claim
        claiming = claim is not None and (full or claim.running_low)
        if request.finished or request.release or request.renew or full or claiming:
            with self.store.transaction():  # one commit per turn
                if request.finished:
                    result.statuses = self._record([Finished.from_wire(f)
                                                    for f in request.finished])
                if request.release:
                    self.store.release(request.release)
                if request.renew:
                    self.store.renew(request.renew, time.time() + self.settings.lease_seconds)
                if full:
                    result.hooks = self._changed_hooks()
                    # One batch per turn (see DeliverySettings.fan_out_batch).
                    batch = self.settings.fan_out_batch
                    self.backlog = self.store.fan_out(limit=batch) >= batch
                if claim is not None and claiming:
                    result.jobs = [job_to_wire(job) for job in self._claim(claim)]
        if request.check_idle and not result.jobs:
            result.idle = self._idle()
        result.logs, self.logs = self.logs, []
        return result

    def wind_up(self, finished: list[tuple[Any, ...]], leftover: list[int]
                ) -> list[tuple[str, float | None]]:
        """The last call of a run: record the attempts that ended (so they are not sent
        again) and release the deliveries that were claimed but not sent. Returns the
        recorded attempts' statuses, as :meth:`turn` does."""
        with self.store.transaction():
            statuses = self._record([Finished.from_wire(f) for f in finished]) \
                if finished else []
            if leftover:
                self.store.release(leftover)
        return statuses

    def take_logs(self) -> list[tuple[int, str]]:
        logs, self.logs = self.logs, []
        return logs

    # -- recording ----------------------------------------------------------------------

    def _record(self, finished: list[Finished]) -> list[tuple[str, float | None]]:
        """Record finished attempts (inside the turn's transaction); deactivate hooks
        that have failed too long."""
        items = [(DeliveryJob(f.seq, "", f.hook_id, "", b"", f.attempts), f.attempt,
                  self._next_attempt_at(f)) for f in finished]
        statuses = self.store.record_attempts(items)
        failing: dict[int, AttemptRecord] = {}
        for f in finished:
            if not f.attempt.succeeded and f.attempt.status_code != 410 \
                    and f.attempt.error_kind != "secret_unavailable":
                failing[f.hook_id] = f.attempt
        for hook_id, attempt in failing.items():
            self._deactivate_if_failing_too_long(hook_id, attempt)
        return [(status, next_at) for status, (_, _, next_at) in zip(statuses, items, strict=True)]

    def _next_attempt_at(self, f: Finished) -> float | None:
        """When the delivery is tried next (Unix seconds), or None: it succeeded, or
        failed for good. A 410 deactivates the hook at once."""
        attempt = f.attempt
        if attempt.succeeded:
            return None
        if attempt.error_kind == "secret_unavailable":
            # Not the receiver's fault: wait for the keyring without using up the
            # retry schedule, however long it stays unavailable; never send unsigned.
            return time.time() + self.settings.secret_retry_interval
        if attempt.error_kind == "policy":
            return None  # retrying cannot help until the URL or the policy changes
        if attempt.status_code == 410:
            reason = ("The receiver answered 410 Gone, so the hook was deactivated "
                      f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
            self.store.update_hook(f.hook_id, active=False, deactivated_reason=reason)
            return None
        tried = self.store.counted_attempts(f.seq) + 1  # this one included
        delay = self.settings.next_delay(tried, retry_after=retry_after_seconds(attempt))
        return None if delay is None else time.time() + delay

    def _deactivate_if_failing_too_long(self, hook_id: int, attempt: AttemptRecord) -> None:
        since = self.store.failing_since(hook_id)
        if since is None or time.time() - since < self.settings.deactivate_after:
            return
        last = f"HTTP {attempt.status_code}" if attempt.status_code is not None \
            else attempt.error_kind
        reason = (f"Every delivery since {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(since))}"
                  f" failed ({_duration(self.settings.deactivate_after)} without a success; "
                  f"last: {last}), so the hook was deactivated. Fix the receiver, then "
                  "activate the hook again.")
        self.store.update_hook(hook_id, active=False, deactivated_reason=reason)
        self.logs.append((logging.WARNING, f"hook {hook_id} deactivated: {reason}"))

    # -- claims and housekeeping --------------------------------------------------------

    def _claim(self, request: ClaimRequest) -> list[DeliveryJob]:
        per_hook = self.settings.claimed_per_hook
        full = [h for h, n in request.held.items() if n >= per_hook]
        return self.store.claim_due(now=time.time(), lease_seconds=self.settings.lease_seconds,
                                    limit=request.room, skip_hooks=full,
                                    per_hook_limit=per_hook, in_flight=request.held)

    def _idle(self) -> bool:
        """Nothing to fan out and nothing due now, including deliveries another engine
        holds: a running one sends them soon, a dead one's leases run out within
        ``lease_seconds`` and they are claimed here."""
        if self.store.outbox_waiting():
            return False
        due = self.store.next_due(count_leases=False)
        return due is None or due > time.time()

    def _changed_hooks(self) -> dict[int, Hook] | None:
        """Every hook by id when one changed since the last look (see
        :meth:`Store.hooks_generation`), else None."""
        generation = self.store.hooks_generation()
        if generation == self.hooks_generation:
            return None
        self.hooks_generation = generation
        return {h.id: h for h in self.store.list_hooks()}

    def _wanted_settings(self) -> DeliverySettings:
        """The settings as the Settings dialog (network policy, retry schedule, timeouts,
        response cap) has them now."""
        strict = self.forced_strict or network_policy(self.store) == "strict"
        return dataclasses.replace(with_options(self.base_settings,
                                                delivery_options(self.store)),
                                   strict_network=strict)

    def _prune_when_due(self) -> None:
        now = time.monotonic()
        if now < self.next_prune:
            return
        self.next_prune = now + self.settings.prune_interval
        deleted = prune_history(self.store)
        if deleted:
            self.logs.append((logging.INFO,
                              f"pruned {deleted} deliveries past the retention period"))
        for hook in self.store.list_hooks():
            expiry = hook.previous_secret_expires_at
            if expiry is not None and expiry <= time.time():
                if self.secrets is None:
                    from hookadmin.core.secrets import SecretStore

                    self.secrets = SecretStore(self.store.store_id,
                                               parent_ids=self.store.parent_store_ids)
                try:
                    self.secrets.delete(hook.id, previous=True)
                except SecretStoreError:
                    continue  # try again at the next prune
                self.store.update_hook(hook.id, clear_previous_secret=True)


class BookkeepingError(HookadminError):
    """The bookkeeping process could not be started, or ended unexpectedly."""


class BookkeepingProcess:
    """A :class:`Bookkeeper` in a child process, called one method at a time from an
    asyncio event loop (create it with :meth:`start`)."""

    def __init__(self, proc: subprocess.Popen[bytes], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._proc = proc
        self._reader = reader
        self._writer = writer
        self._exchange: asyncio.Future[tuple[str, Any]] | None = None

    @classmethod
    async def start(cls, home: Path, settings: DeliverySettings) -> BookkeepingProcess:
        """Start the child and its :class:`Bookkeeper` for ``home``.

        Raises:
            BookkeepingError: the child did not start within :data:`START_SECONDS`.
            StoreError: the database cannot be opened.
        """
        import asyncio

        ours, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [sys.executable, "-P", "-m", MODULE, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as err:
            ours.close()
            raise BookkeepingError(f"The engine's bookkeeping process could not be started "
                                   f"({err.strerror or err}).") from None
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        keeper = cls(proc, reader, writer)
        try:
            async with asyncio.timeout(START_SECONDS):
                await keeper.call("start", home, settings)
        except TimeoutError:
            await keeper.close()
            raise BookkeepingError("The engine's bookkeeping process did not start within "
                                   f"{START_SECONDS:g} s.") from None
        except BaseException:
            await keeper.close()
            raise
        return keeper

    async def call(self, name: str, *args: object) -> Any:
        """Call the bookkeeper's method ``name`` and wait for its result.

        Raises:
            whatever the method raised; BookkeepingError when the child has gone.
        """
        import asyncio

        previous = self._exchange
        if previous is not None and not previous.done():
            # A cancelled caller's call is still under way: its answer must be read
            # before this call's, or every later answer would be one call late.
            await asyncio.wait({previous})
        exchange = self._exchange = asyncio.ensure_future(self._send_and_receive(name, args))
        exchange.add_done_callback(_retrieved)
        status, value = await asyncio.shield(exchange)  # a cancelled caller leaves it going
        if status == "error":
            raise value
        return value

    async def _send_and_receive(self, name: str, args: tuple[object, ...]) -> tuple[str, Any]:
        import asyncio

        _write(self._writer.write, (name, args))
        try:
            size = int.from_bytes(await self._reader.readexactly(4), "big")
            answer: tuple[str, Any] = pickle.loads(  # noqa: S301 - our own child's bytes
                await self._reader.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            code = self._proc.poll()
            raise BookkeepingError(
                "The engine's bookkeeping process ended unexpectedly"
                + (f" (exit status {code})" if code is not None else "")
                + "; deliveries it had claimed go out again once their leases expire.") from None
        return answer

    async def close(self, timeout: float = 2.0) -> None:
        """End the child: it exits when its end of the socket closes."""
        import asyncio

        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        deadline = time.monotonic() + timeout
        while self._proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a call's outcome as seen (its caller may have been cancelled meanwhile)."""
    if not future.cancelled():
        future.exception()


def _write(write: Callable[[bytes], object], message: object) -> None:
    """One message: its length (4 bytes, big-endian), then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    write(len(data).to_bytes(4, "big"))
    write(data)


def _serve(sock: socket.socket) -> None:
    """The child's loop: answer calls until the engine closes its end."""
    incoming = sock.makefile("rb")
    keeper: Bookkeeper | None = None
    while True:
        try:
            header = incoming.read(4)
            size = int.from_bytes(header, "big")
            data = incoming.read(size) if len(header) == 4 else b""
        except OSError:  # reset: the engine died (kill -9) before reading an answer
            break
        if len(header) < 4 or len(data) < size:
            break  # the engine closed its end, or died, perhaps in the middle of a call
        name, args = pickle.loads(data)  # noqa: S301 - our own engine's bytes
        reply: tuple[str, Any]
        try:
            if name == "start":
                keeper = Bookkeeper(*args)
                reply = ("ok", None)
            elif keeper is None or name.startswith("_"):
                reply = ("error", BookkeepingError(f"The bookkeeper cannot answer {name!r} now."))
            else:
                reply = ("ok", getattr(keeper, name)(*args))
        except sqlite3.Error as err:  # a full disk, a lock held too long: typed, one sentence
            reply = ("error", store_error(err, unsaved=UNSAVED))
        except Exception as err:  # noqa: BLE001 - every error goes back to the engine
            reply = ("error", _picklable(err))
        try:
            _write(sock.sendall, reply)
        except OSError:
            break
    if keeper is not None:
        keeper.close()


def _picklable(err: Exception) -> Exception:
    """``err`` if it survives pickling, else a BookkeepingError with its text."""
    try:
        pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes, just made
    except Exception:  # noqa: BLE001 - any failure to round-trip
        return BookkeepingError(f"{type(err).__name__}: {err}")
    return err


def _duration(seconds: float) -> str:
    """``5 days``, ``3 hours``, ``12 minutes`` or ``4 seconds``."""
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            value = seconds / size
            return f"{value:g} {unit}{'' if value == 1 else 's'}"
    return f"{seconds:.3g} seconds"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    with socket.socket(fileno=int(args[0])) as sock:
        _serve(sock)
    return 0


if __name__ == "__main__":
    # Run the module under its own name, so what it pickles names its classes as
    # hookadmin.delivery.bookkeeping.X, not __main__.X.
    from hookadmin.delivery import bookkeeping

    raise SystemExit(bookkeeping.main())
