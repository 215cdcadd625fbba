"""The engine's database work, in a process of its own.

An engine (:mod:`hookadmin.delivery.engine`) sends; its bookkeeper records. Every
database statement of an engine run happens here, through the store's protocols:
fanning new events out to deliveries, claiming (leasing) due deliveries, renewing and
releasing leases, recording attempts and carrying out what
:mod:`hookadmin.delivery.retry` decides comes next (the retry schedule, ``410 Gone``,
deactivating a hook that keeps failing), pruning old history. The engine asks for one
*turn* at a time and waits for its answer before the next, so at most one transaction
is open at a time.

Why another process: the engine is bound by CPU, and in one process the bookkeeping's
Python work (binding rows, building attempt records) took the GIL from the event loop
that sends. Here it runs on another core beside the sends (``docs/decisions.md``).

The wire: :class:`BookkeepingProcess` starts
``python -P -m hookadmin.delivery.bookkeeping FD`` with one end of a socket pair as
``FD``, and sends typed requests (:mod:`hookadmin.delivery.bookkeeping_wire`), pickled
with a 4-byte length before each; each request gets its one reply type back, or a
:class:`~hookadmin.delivery.bookkeeping_wire.Failure` (an error's kind and sentence).
The child is its own process group (a Ctrl+C in the terminal reaches the engine, which
then winds up through it) and exits when the engine's end of the socket closes, so an
engine killed with ``kill -9`` never leaves it behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hookadmin.core.errors import SecretStoreError, StoreFault
from hookadmin.core.hooks import Hook
from hookadmin.core.ordering import ordered_hooks
from hookadmin.core.proxy_settings import proxy_setting
from hookadmin.core.service import delivery_options, network_policy, prune_history
from hookadmin.core.store import (
    AttemptRecord,
    DeliveryJob,
    Repository,
    StoreLocation,
    as_location,
    open_store,
)
from hookadmin.delivery import retry
from hookadmin.delivery.bookkeeping_wire import (
    REPLIES,
    BookkeepingError,
    ClaimRequest,
    ErrorKind,
    Failure,
    Finished,
    FinishedWire,
    JobWire,
    LogEntry,
    Logs,
    Open,
    Opened,
    Reply,
    Request,
    Start,
    Started,
    Status,
    TakeLogs,
    TurnRequest,
    TurnResult,
    WindUp,
    WoundUp,
    job_from_wire,
    job_to_wire,
)
from hookadmin.delivery.operator import AttemptSummary, OperatorEvents
from hookadmin.delivery.policy import DeliverySettings, with_options, with_proxy

if TYPE_CHECKING:  # the child never imports asyncio or the keyring it does not need
    import asyncio

    from hookadmin.core.secrets import HookSecrets

__all__ = [  # the wire's names, for the engine and the tests
    "BookkeepingError", "BookkeepingProcess", "ClaimRequest", "Finished", "Opened",
    "TurnRequest", "TurnResult", "job_from_wire", "job_to_wire",
]

MODULE = "hookadmin.delivery.bookkeeping"
START_SECONDS = 30.0  # the child must answer its first call within this
# What a failed write leaves undone, in the sentence of a StoreFault.
UNSAVED = ("the delivery engine could not record its work (deliveries it had not "
           "recorded go out again once their leases expire)")


class Bookkeeper:
    """One engine run's database work (see the module's docstring).

    Args:
        home: the store's location (a data directory: SQLite there).
        settings: the engine's settings before the Settings dialog's options (the
            network policy, retry schedule, timeouts, response cap) are applied.

    Raises:
        StoreError: the database cannot be opened.
    """

    def __init__(self, home: StoreLocation | Path, settings: DeliverySettings) -> None:
        self.location = as_location(home)
        self.store: Repository = open_store(self.location, durable=False)
        self.secrets: HookSecrets | None = None  # made when a replaced secret expires
        self.base_settings = settings
        self.forced_strict = settings.strict_network
        self.settings = self._wanted_settings()
        self.hooks_generation: int | None = None
        self.data_version = -1
        self.next_full_turn = 0.0
        self.next_prune = 0.0
        self.backlog = False  # the last fan-out left events waiting
        self.logs: list[tuple[int, str]] = []
        self.operator = OperatorEvents(self.store)
        self.ordered = ordered_hooks(self.store)  # re-read at each lease renewal

    def open(self) -> Opened:
        """The first call of a run: what the engine needs to start sending."""
        hooks = self._changed_hooks()
        assert hooks is not None
        return Opened(self.store.store_id, list(self.store.parent_store_ids), self.settings,
                      hooks)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def turn(self, request: TurnRequest) -> TurnResult:
        """One turn, in one transaction: record what finished, keep leases, and when
        something changed or is due, fan out new events and claim deliveries."""
        statuses: list[Status] = []
        jobs: list[JobWire] = []
        hooks: dict[int, Hook] | None = None
        settings: DeliverySettings | None = None
        self._prune_when_due()
        now = time.monotonic()
        version = self.store.data_version()
        # A full fan-out batch last turn: more events wait, so look again now.
        full = version != self.data_version or now >= self.next_full_turn or self.backlog
        if full:
            self.data_version = version
            self.next_full_turn = now + self.settings.poll_interval
        if request.renew is not None:
            settings = self.settings = self._wanted_settings()
            self.ordered = ordered_hooks(self.store)
        claim = request.claim
        claiming = claim is not None and (full or claim.running_low)
        if request.finished or request.release or request.renew or full or claiming:
            # One commit per turn; batched: the writes that return nothing (records,
            # releases, renewals) reach a team database with the turn's next read.
            with self.store.transaction(batched=True):
                if request.finished:
                    statuses = self._record([Finished.from_wire(f) for f in request.finished])
                if request.release:
                    self.store.release(request.release)
                if request.renew:
                    self.store.renew(request.renew, time.time() + self.settings.lease_seconds)
                if full:
                    hooks = self._changed_hooks()
                    # One batch per turn (see DeliverySettings.fan_out_batch).
                    batch = self.settings.fan_out_batch
                    self.backlog = self.store.fan_out(limit=batch) >= batch
                if claim is not None and claiming:
                    jobs = [job_to_wire(job) for job in self._claim(claim)]
        idle = request.check_idle and not jobs and self._idle()
        return TurnResult(statuses, jobs, hooks, settings, idle, self.take_logs())

    def wind_up(self, finished: list[FinishedWire], leftover: list[int]) -> list[Status]:
        """The last call of a run: record the attempts that ended (so they are not sent
        again) and release the deliveries that were claimed but not sent. Returns the
        recorded attempts' statuses, as :meth:`turn` does."""
        with self.store.transaction():
            statuses = self._record([Finished.from_wire(f) for f in finished]) \
                if finished else []
            if leftover:
                self.store.release(leftover)
        return statuses

    def take_logs(self) -> list[LogEntry]:
        """What was logged since the last call, as (level, message) pairs."""
        logs, self.logs = self.logs, []
        return logs

    def answer(self, request: Request) -> Reply:
        """The reply to one request from the engine (see
        :mod:`hookadmin.delivery.bookkeeping_wire`).

        Raises:
            whatever the call raised (the caller sends it back as a Failure).
        """
        match request:
            case TurnRequest():
                return self.turn(request)
            case Open():
                return self.open()
            case WindUp(finished=finished, leftover=leftover):
                return WoundUp(self.wind_up(finished, leftover))
            case TakeLogs():
                return Logs(self.take_logs())
        return Failure(ErrorKind.BOOKKEEPING,
                       f"The bookkeeper cannot answer {type(request).__name__} now.")

    # -- recording ----------------------------------------------------------------------

    def _record(self, finished: list[Finished]) -> list[Status]:
        """Record finished attempts (inside the turn's transaction) and carry out what
        :mod:`hookadmin.delivery.retry` decides: when each is tried next, and which
        hooks are deactivated (410 Gone, or failing too long)."""
        now = time.time()
        items: list[tuple[DeliveryJob, AttemptRecord, float | None]] = []
        disabled: list[tuple[int, str]] = []
        for f in finished:
            tried = self.store.counted_attempts(f.seq) + 1 if retry.uses_schedule(f.attempt) \
                else 0  # this one included
            step = retry.after_attempt(f.attempt, self.settings, now=now, tried=tried)
            if step.deactivate_reason is not None:
                self.store.update_hook(f.hook_id, active=False,
                                       deactivated_reason=step.deactivate_reason)
                disabled.append((f.hook_id, step.deactivate_reason))
            items.append((DeliveryJob(f.seq, "", f.hook_id, "", b"", f.attempts), f.attempt,
                          step.next_attempt_at))
        statuses = self.store.record_attempts(items)
        failing = {f.hook_id: f.attempt for f in finished if retry.counts_as_failing(f.attempt)}
        failing_since: dict[int, float | None] = {}
        for hook_id, attempt in failing.items():
            since = failing_since[hook_id] = self.store.failing_since(hook_id)
            reason = retry.failing_too_long(since, attempt, self.settings, now=time.time())
            if reason is not None:
                self.store.update_hook(hook_id, active=False, deactivated_reason=reason)
                self.logs.append((logging.WARNING, f"hook {hook_id} deactivated: {reason}"))
                disabled.append((hook_id, reason))
        if self.operator.wanted:
            self.operator.after_record(
                [AttemptSummary(f.hook_id, f.seq, f.attempt.succeeded, status)
                 for f, status in zip(finished, statuses, strict=True)],
                disabled, failing_since)
        return [(status, next_at) for status, (_, _, next_at) in zip(statuses, items, strict=True)]

    # -- claims and housekeeping --------------------------------------------------------

    def _claim(self, request: ClaimRequest) -> list[DeliveryJob]:
        # A team database is shared by engines on other machines, each unaware of the
        # others' requests in flight: every delivery of a hook that any engine holds
        # counts against the hook's limit there, so no engine holds (and with it sends)
        # more than the limit leaves. Alone (SQLite), an engine keeps ready rounds too.
        per_hook = self.settings.per_hook_in_flight if self.location.team \
            else self.settings.claimed_per_hook
        full = [h for h, n in request.held.items() if n >= per_hook]
        now = time.time()
        fresh: bool | list[int] = []
        if self.location.team:
            fresh = self._retry_lane_full(request)
        jobs = self.store.claim_due(now=now, lease_seconds=self.settings.lease_seconds,
                                    limit=request.room, skip_hooks=full + list(self.ordered),
                                    per_hook_limit=per_hook, in_flight=request.held,
                                    first_attempts_only=fresh)
        if self.location.team:
            jobs = self._within_retry_lane(jobs, request)
        # An ordered hook: its oldest pending delivery only, one at a time.
        free = sorted(h for h in self.ordered if not request.held.get(h))
        if free:
            jobs += self.store.claim_ordered(free, now=now,
                                             lease_seconds=self.settings.lease_seconds)
        return jobs

    # On a team database the claim counts every engine's held deliveries against a
    # hook's limit of requests in flight, so retries that the retry lane will not start
    # yet must not be held: they would keep fresh events from being claimed by this
    # engine or any other. An engine holds at most the retries its lane may start.

    def _retry_lane_full(self, request: ClaimRequest) -> bool | list[int]:
        """The hooks to claim first attempts only for (True: every hook)."""
        held = request.held_retries
        if sum(held.values()) >= self.settings.retry_in_flight:
            return True
        return sorted(h for h, n in held.items()
                      if n >= self.settings.retry_per_hook_in_flight)

    def _within_retry_lane(self, jobs: list[DeliveryJob],
                           request: ClaimRequest) -> list[DeliveryJob]:
        """``jobs`` without the retries beyond the retry lane's room, whose leases are
        dropped again at once (in this turn's transaction)."""
        per_hook = dict(request.held_retries)
        total = sum(per_hook.values())
        kept: list[DeliveryJob] = []
        extra: list[int] = []
        for job in jobs:
            if job.attempts:
                if total >= self.settings.retry_in_flight or \
                        per_hook.get(job.hook_id, 0) >= self.settings.retry_per_hook_in_flight:
                    extra.append(job.seq)
                    continue
                total += 1
                per_hook[job.hook_id] = per_hook.get(job.hook_id, 0) + 1
            kept.append(job)
        if extra:
            self.store.release(extra)
        return kept

    def _idle(self) -> bool:
        """Nothing to fan out and nothing due now, including deliveries another engine
        holds: a running one sends them soon, a dead one's leases run out within
        ``lease_seconds`` and they are claimed here."""
        if self.store.outbox_waiting():
            return False
        due = self.store.next_due(count_leases=False, ordered=self.ordered)
        return due is None or due > time.time()

    def _changed_hooks(self) -> dict[int, Hook] | None:
        """Every hook by id when one changed since the last look (see
        :meth:`HookRepository.hooks_generation`), else None."""
        generation = self.store.hooks_generation()
        if generation == self.hooks_generation:
            return None
        self.hooks_generation = generation
        hooks = {h.id: h for h in self.store.list_hooks()}
        self.operator.set_hooks(hooks)
        return hooks

    def _wanted_settings(self) -> DeliverySettings:
        """The settings as the Settings dialog (network policy, retry schedule, timeouts,
        response cap) has them now."""
        strict = self.forced_strict or network_policy(self.store) == "strict"
        return with_proxy(dataclasses.replace(with_options(self.base_settings,
                                                           delivery_options(self.store)),
                                              strict_network=strict),
                          proxy_setting(self.store))

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
                    from hookadmin.core.secret_source import open_hook_secrets

                    self.secrets = open_hook_secrets(self.location, self.store.store_id,
                                                     self.store.parent_store_ids)
                try:
                    self.secrets.delete(hook.id, previous=True)
                except SecretStoreError:
                    continue  # try again at the next prune
                self.store.update_hook(hook.id, clear_previous_secret=True)


_R = TypeVar("_R", Started, Opened, TurnResult, WoundUp, Logs)


class BookkeepingProcess:
    """A :class:`Bookkeeper` in a child process, called one request at a time from an
    asyncio event loop (create it with :meth:`start`). Each method sends one request of
    :mod:`hookadmin.delivery.bookkeeping_wire` and returns its reply.

    Every method raises the error the bookkeeper raised (a
    :class:`~hookadmin.core.errors.StoreError`, ...; a BookkeepingError for an
    unexpected one), or BookkeepingError when the child has gone.
    """

    def __init__(self, proc: subprocess.Popen[bytes], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._proc = proc
        self._reader = reader
        self._writer = writer
        self._exchange: asyncio.Future[Reply] | None = None

    @classmethod
    async def start(cls, home: StoreLocation | Path,
                    settings: DeliverySettings) -> BookkeepingProcess:
        """Start the child and its :class:`Bookkeeper` for ``home`` (its location,
        a team database's URL included, goes through the socket, never on the child's
        command line).

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
                await keeper._ask(Start(as_location(home), settings), Started)
        except TimeoutError:
            await keeper.close()
            raise BookkeepingError("The engine's bookkeeping process did not start within "
                                   f"{START_SECONDS:g} s.") from None
        except BaseException:
            await keeper.close()
            raise
        return keeper

    async def open(self) -> Opened:
        """See :meth:`Bookkeeper.open`."""
        return await self._ask(Open(), Opened)

    async def turn(self, request: TurnRequest) -> TurnResult:
        """See :meth:`Bookkeeper.turn`."""
        return await self._ask(request, TurnResult)

    async def wind_up(self, finished: list[FinishedWire], leftover: list[int]) -> list[Status]:
        """See :meth:`Bookkeeper.wind_up`."""
        return (await self._ask(WindUp(finished, leftover), WoundUp)).statuses

    async def take_logs(self) -> list[LogEntry]:
        """See :meth:`Bookkeeper.take_logs`."""
        return (await self._ask(TakeLogs(), Logs)).entries

    async def call(self, request: Request) -> Reply:
        """Send one request and wait for its reply (a :class:`Failure` is returned, not
        raised; the typed methods above raise it).

        Raises:
            BookkeepingError: the child has gone.
        """
        import asyncio

        previous = self._exchange
        if previous is not None and not previous.done():
            # A cancelled caller's call is still under way: its answer must be read
            # before this call's, or every later answer would be one call late.
            await asyncio.wait({previous})
        exchange = self._exchange = asyncio.ensure_future(self._send_and_receive(request))
        exchange.add_done_callback(_retrieved)
        return await asyncio.shield(exchange)  # a cancelled caller leaves it going

    async def _ask(self, request: Request, expected: type[_R]) -> _R:
        reply = await self.call(request)
        if isinstance(reply, expected):
            return reply
        if isinstance(reply, Failure):
            raise reply.error()
        raise BookkeepingError(f"The engine's bookkeeping process answered "
                               f"{type(request).__name__} with {type(reply).__name__}.")

    async def _send_and_receive(self, request: Request) -> Reply:
        import asyncio

        _write(self._writer.write, request)
        try:
            size = int.from_bytes(await self._reader.readexactly(4), "big")
            answer: Reply = pickle.loads(  # noqa: S301 - our own child's bytes
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


def _retrieved(future: asyncio.Future[Reply]) -> None:
    """Mark a call's outcome as seen (its caller may have been cancelled meanwhile)."""
    if not future.cancelled():
        future.exception()


def _write(write: Callable[[bytes], object], message: Request | Reply) -> None:
    """One message: its length (4 bytes, big-endian), then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    write(len(data).to_bytes(4, "big"))
    write(data)


def _serve(sock: socket.socket) -> None:
    """The child's loop: answer requests until the engine closes its end."""
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
        request = pickle.loads(data)  # noqa: S301 - our own engine's bytes
        reply: Reply
        try:
            if isinstance(request, Start):
                keeper = Bookkeeper(request.home, request.settings)
                reply = Started()
            elif keeper is None or type(request) not in REPLIES:
                reply = Failure(ErrorKind.BOOKKEEPING, "The bookkeeper cannot answer "
                                f"{type(request).__name__} now.")
            else:
                reply = keeper.answer(request)
        except StoreFault as err:  # a full disk, a lock held too long: typed, one sentence
            reply = Failure.of(err.saying(UNSAVED))
        except Exception as err:  # noqa: BLE001 - every error goes back to the engine
            reply = Failure.of(err)
        try:
            _write(sock.sendall, reply)
        except OSError:
            break
    if keeper is not None:
        keeper.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The child's entry point: ``FD``, the inherited end of the socket pair."""
    args = list(sys.argv[1:] if argv is None else argv)
    with socket.socket(fileno=int(args[0])) as sock:
        _serve(sock)
    return 0


if __name__ == "__main__":
    # Run the module under its own name, so what it pickles names its classes as
    # hookadmin.delivery.bookkeeping.X, not __main__.X.
    from hookadmin.delivery import bookkeeping

    raise SystemExit(bookkeeping.main())
