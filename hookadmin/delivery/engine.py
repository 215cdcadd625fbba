"""The delivery engine: outbox → deliveries → signed POSTs → recorded attempts.

Plain asyncio, no Qt: the window runs it in a child process
(:mod:`hookadmin.delivery.worker_process`), ``hookadmin worker`` headless (one or more
processes). Several engines may run on one data directory at once: deliveries are
leased in the database, so each is sent by one engine at a time, and a dead engine's
leases expire and are taken over.

Each engine sends from its event loop and leaves every database statement to its
bookkeeper (:mod:`hookadmin.delivery.bookkeeping`): a process of its own for SQLite,
which it starts and which ends with it, or a thread for a team database
(:mod:`hookadmin.delivery.bookkeeping_thread`). A team database is shared with engines
on other machines: a hook's limit of requests in flight holds for all of them together,
and an engine that loses the database keeps sending what it holds, claims nothing new
and records what it sent once the database is back.

At-least-once: a delivery is marked done only after its response is recorded, so a
crash between the POST and the record sends it again, with the same delivery id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hookadmin.core.errors import InputError, StoreBusyError, StoreUnavailable
from hookadmin.core.hooks import Hook, redact_url
from hookadmin.core.secret_source import open_hook_secrets
from hookadmin.core.secrets import HookSecrets
from hookadmin.core.store import DeliveryJob, StoreLocation, as_location, open_change_feed
from hookadmin.delivery.bookkeeping import BookkeepingProcess
from hookadmin.delivery.bookkeeping_thread import BookkeepingThread
from hookadmin.delivery.bookkeeping_wire import (
    Claimed,
    ClaimRequest,
    Opened,
    TurnRequest,
    TurnResult,
    job_from_wire,
)
from hookadmin.delivery.database_wait import DatabaseWait
from hookadmin.delivery.dispatcher import Dispatcher
from hookadmin.delivery.event_loop import EventLoop
from hookadmin.delivery.event_loop import run as run_on
from hookadmin.delivery.keyring_wait import KeyringWait
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.secret_cache import SecretCache
from hookadmin.delivery.sender import Ended, Sender, internal_error
from hookadmin.delivery.session_pool import SessionPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttemptOutcome:
    """What the engine reports after each attempt (plain data, safe across threads).

    ``status`` is the delivery's new status: ``succeeded``, ``pending`` or ``failed``.
    """

    delivery_id: str
    hook_id: int
    event_type: str
    attempt_number: int
    status: str
    status_code: int | None
    error_kind: str | None
    duration_ms: float | None
    next_attempt_at: float | None


class Engine:
    """Delivers the outbox of one store.

    Args:
        home: a :class:`StoreLocation`, or a data directory (``$HOOKADMIN_DATABASE``
            then selects a team database).
        settings: retry schedule, timeouts and limits.
        secrets: where secrets are read; defaults to the OS keyring for this database,
            or the team database's sealed secrets in team mode.
        on_attempt: called (on the engine's thread) with an :class:`AttemptOutcome`
            after every recorded attempt.
        on_keyring: called (on the engine's thread) when the OS keyring stops being
            usable, with the sentence saying why (deliveries that need a secret not yet
            read then wait, never sent unsigned), and with ``None`` when a secret is
            read again after that. Once per change, not per delivery.
        event_loop: the event loop :meth:`run` runs on; None: the one
            ``$HOOKADMIN_EVENT_LOOP`` names, else the standard loop (see
            :mod:`hookadmin.delivery.event_loop`).
    """

    def __init__(self, home: StoreLocation | Path, *, settings: DeliverySettings | None = None,
                 secrets: HookSecrets | None = None,
                 on_attempt: Callable[[AttemptOutcome], None] | None = None,
                 on_keyring: Callable[[str | None], None] | None = None,
                 event_loop: EventLoop | None = None) -> None:
        self.location = as_location(home)
        self.home = self.location.home
        self.settings = settings or DeliverySettings()
        self._secrets = secrets
        self._on_attempt = on_attempt
        self._on_keyring = on_keyring
        self.event_loop = event_loop or EventLoop.from_environment()
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._run: _Run | None = None
        # Team database: the bookkeeper runs on a thread, not in a child process (it
        # did not pay off there: docs/decisions.md); False for the benchmarks' comparison.
        self.inline_bookkeeping = True

    @property
    def bookkeeper_turns(self) -> int:
        """How many turns the current (or last) run asked of its bookkeeping process;
        an idle engine asks about once per ``poll_interval``."""
        return self._run.turns if self._run is not None else 0

    def stop(self) -> None:
        """Ask a running engine to stop; safe to call from any thread. In-flight
        requests are cancelled and their deliveries stay pending for the next start."""
        self._stop_requested = True  # honoured even if the loop has not started yet
        loop, stop, run = self._loop, self._stop, self._run
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
            if run is not None:  # a loop waiting for its next look stops now
                loop.call_soon_threadsafe(run.wake.set)

    def keyring_answered(self, ok: bool) -> None:
        """The window's own keyring call succeeded (``ok``: deliveries that wait for the
        keyring go out at once) or failed (the engine watches the keyring too and says
        when it can be used); safe to call from any thread, ignored when not running."""
        loop, run = self._loop, self._run
        if loop is not None and run is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(run.keyring_answered, ok)

    def run(self, *, until_idle: bool = False) -> int:
        """Run in the current thread, on a new event loop of the kind asked for, until
        stopped (or idle). Returns the number of attempts made."""
        return run_on(self.run_async(until_idle=until_idle), self.event_loop)

    async def run_async(self, *, until_idle: bool = False) -> int:
        """Deliver until :meth:`stop` is called, or, with ``until_idle``, until nothing
        is waiting in the outbox, nothing is in flight and no pending delivery is due
        now (retries scheduled for later stay queued).

        Returns:
            The number of attempts made.
        """
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        # DNS lookups and keyring reads run in threads: enough of them that a host whose
        # DNS hangs cannot hold up other hooks.
        self._loop.set_default_executor(ThreadPoolExecutor(max_workers=32,
                                                           thread_name_prefix="hookadmin"))
        # SQLite: bookkeeping in a process of its own; a team database: on a thread (it
        # waits for the server, which holds no GIL; measured in docs/decisions.md).
        keeper: BookkeepingProcess | BookkeepingThread
        if self.location.team and self.inline_bookkeeping:
            keeper = await BookkeepingThread.start(self.location, self.settings)
        else:
            keeper = await BookkeepingProcess.start(self.location, self.settings)
        try:
            opened = await keeper.open()
            # Never a password prompt from the engine: a locked keyring is waited for
            # (see KeyringWait); the window asks when the user acts.
            secrets = self._secrets or open_hook_secrets(
                self.location, opened.store_id, opened.parent_store_ids, prompt=False)
            run = self._run = _Run(self, keeper, opened, secrets)
            try:
                return await run.loop(until_idle=until_idle)
            finally:
                try:
                    await run.close()
                finally:
                    if self._secrets is None:  # its own keyring connection
                        await self._loop.run_in_executor(None, secrets.close)
        finally:
            await keeper.close()
            self._loop = None


class _Run:
    """The state of one :meth:`Engine.run_async`: the loop that ties the parts together.

    How a delivery moves: claimed (leased in the database, in batches) → ready in the
    :class:`~hookadmin.delivery.dispatcher.Dispatcher` → in flight (sent by a sender,
    one coroutine per busy slot, through the :class:`~hookadmin.delivery.sender.Sender`)
    → ``finished`` → recorded by the bookkeeper, many attempts per transaction, and only
    then reported. A sender goes on with the next ready delivery of its hook (else of
    any hook) at once, without a database round trip; the loop tops the ready queues up
    (at once when a hook is down to ``low_rounds`` rounds), records and looks for new
    events every few milliseconds (``wake_interval``), one bookkeeper turn at a time, so
    the database sees a few transactions per batch of deliveries instead of several per
    delivery.
    """

    def __init__(self, engine: Engine, keeper: BookkeepingProcess | BookkeepingThread,
                 opened: Opened, secrets: HookSecrets) -> None:
        self.engine = engine
        self.keeper = keeper
        self.settings = opened.settings
        self.hooks: dict[int, Hook] = {}
        self.gone: set[int] = set()  # hooks that answered 410, until seen inactive
        self.dispatch = Dispatcher(self.settings, self._stopped)
        self.keyring = KeyringWait(secrets, self._keyring_back,
                                   longest_pause=self.settings.secret_retry_interval)
        self.secrets = SecretCache(secrets, engine._on_keyring, self.keyring)
        self.sessions = SessionPool(self.settings)
        self.sender = Sender(self.secrets, self.sessions, self.settings)
        self.senders: set[asyncio.Task[None]] = set()
        self.finished: list[Ended] = []
        self.unsent: list[int] = []  # cancelled while in flight, to release
        self.warm_task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.closing = False
        self.attempts = 0
        self.next_renew = time.monotonic() + self.settings.lease_renew_interval
        self.changes = open_change_feed(engine.location)
        self.next_look = 0.0
        self.claims_exhausted = False
        self.busy_at = time.monotonic()  # when there last was something to do
        self.turns = 0  # bookkeeper turns (see Engine.bookkeeper_turns)
        self.claimed_early = 0  # deliveries the current turn's first part brought
        self.database = DatabaseWait()  # locked, or cannot be reached
        self.shared = engine.location.team  # other machines' engines claim too
        self._apply_hooks(opened.hooks)

    # -- the loop ---------------------------------------------------------------------

    async def loop(self, *, until_idle: bool) -> int:
        stop = self.engine._stop
        assert stop is not None
        dispatch = self.dispatch
        self.warm_task = asyncio.create_task(self.secrets.warm(list(self.hooks.values())))
        if self.changes is not None:  # a publisher's commit wakes the loop at once
            self.changes.watch(asyncio.get_running_loop(), self.wake.set)
        with contextlib.suppress(InputError):
            for hook in self.hooks.values():  # TLS set-up takes ~50 ms: not on a delivery
                if hook.active:
                    self.sessions.get(hook)
        while not stop.is_set():
            self.wake.clear()  # what happens from here on wakes the next turn
            if self.database.too_soon():
                await self._pause()  # the database is away: keep sending, try later
                continue
            finished, self.finished = self.finished, []
            renew: list[int] | None = None
            if time.monotonic() >= self.next_renew:
                self.next_renew = time.monotonic() + self.settings.lease_renew_interval
                renew = dispatch.leased()
            check_idle = until_idle and not dispatch.in_flight and not dispatch.ready_count
            release = dispatch.take_releases()
            claim = dispatch.claim_request() if not self.database.away else None
            look = self.changes is not None and self.changes.signalled()
            waits = self.keyring.take_due()  # the keyring is back: make them due now
            if finished or renew is not None or release or check_idle or look or waits \
                    or self.database.away or self._database_changed(claim):
                self.claimed_early = 0
                try:
                    turn = await self.keeper.turn(TurnRequest(
                        [f.to_wire() for f in finished], renew, release, claim, check_idle,
                        look, waits), self._take_claims)
                except (StoreBusyError, StoreUnavailable) as err:
                    # Nothing of this turn's records, releases and renewals was
                    # committed (its claims may have been, and are queued): keep
                    # them for the next one.
                    self.finished[:0] = finished
                    self.keyring.give_back(waits)
                    dispatch.give_back_releases(release)
                    if renew is not None:
                        self.next_renew = 0.0
                    if isinstance(err, StoreBusyError):
                        await self.database.locked(err, stop)
                    else:
                        self.database.lost(err)
                        await self._pause()
                    continue
                self.database.answered()
                self.turns += 1
                claimed = len(turn.jobs) + self.claimed_early
                self.claims_exhausted = claim is not None and not claimed
                if finished or claimed or turn.hooks is not None:
                    self.busy_at = time.monotonic()
                self._apply_turn(turn, finished)
                started = self._start_ready()
                if turn.idle and not dispatch.in_flight and not dispatch.ready_count \
                        and not self.finished and not started:
                    break
            elif dispatch.ready_count:
                self._start_ready()  # retries the retry pace held back may start now
            if stop.is_set():
                break
            await self._pause()
        return self.attempts

    async def _pause(self) -> None:
        """Wait until something wakes the loop, or the next look is due."""
        interval = self.database.pause(self._wait_interval())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await self.wake.wait()

    def keyring_answered(self, ok: bool) -> None:
        """See :meth:`Engine.keyring_answered` (on the loop)."""
        if not ok:
            self.keyring.unusable()
        elif self.secrets.problem is not None:  # else nothing waits for the keyring
            self.keyring.answered()

    def _keyring_back(self) -> None:
        """The keyring can be used again (see :class:`KeyringWait`): say so, and wake
        the loop, whose next turn makes the deliveries that wait for it due."""
        self.secrets.seen_usable()
        self.wake.set()

    def _wait_interval(self) -> float:
        """Seconds until the next look: ``wake_interval``, or ``idle_wake_interval``
        once nothing has happened for ``idle_after`` seconds (each wake-up costs CPU
        even when there is nothing to do; events published meanwhile then wait at most
        that long). The engine's own senders wake it at once either way."""
        if self.dispatch.in_flight or self.dispatch.ready_count or self.finished:
            self.busy_at = time.monotonic()
        elif time.monotonic() - self.busy_at >= self.settings.idle_after:
            return self.settings.idle_wake_interval
        return self.settings.wake_interval

    def _database_changed(self, claim: ClaimRequest | None) -> bool:
        """Whether a turn with nothing to record may find something: another process
        (or the bookkeeper) committed since the last turn, a full look is due
        (``poll_interval``: retries come due by the clock), or a hook running low may
        get more than the last claim found. Without it, an idle engine would wake its
        bookkeeper every ``wake_interval``; this costs one look at the store's change
        feed (SQLite: ``PRAGMA data_version`` on a read-only connection of its own)."""
        now = time.monotonic()
        changed = self.changes is None or self.changes.changed()
        if changed or now >= self.next_look \
                or (claim is not None and claim.running_low and not self.claims_exhausted):
            self.next_look = now + self.settings.poll_interval
            return True
        return False

    def _take_claims(self, claimed: Claimed) -> None:
        """A turn's first part (its claims, committed before it records what finished):
        queue the deliveries and start them at once."""
        if self.closing:  # winding up: their leases run out, they are sent again later
            return
        self._apply_hooks(claimed.hooks)
        self._apply_settings(claimed.settings)
        for wire in claimed.jobs:
            self.dispatch.add(job_from_wire(wire))
        self.claimed_early += len(claimed.jobs)
        self._start_ready()

    def _apply_settings(self, settings: DeliverySettings | None) -> None:
        """Use re-read delivery settings (None: not re-read)."""
        if settings is not None and settings != self.settings:
            self.settings = self.dispatch.settings = self.sender.settings = settings
            self.sessions.renew(settings)
            log.info("delivery settings changed (network policy %s)",
                     "strict" if settings.strict_network else "workstation")

    def _apply_turn(self, turn: TurnResult, finished: list[Ended]) -> None:
        """Take a turn's results on the event loop's thread."""
        for level, message in turn.logs:
            log.log(level, message)
        self._apply_hooks(turn.hooks)
        self._apply_settings(turn.settings)
        debug = log.isEnabledFor(logging.DEBUG)
        for f, (status, next_at) in zip(finished, turn.statuses, strict=True):
            if debug:
                result = f.attempt.status_code or f.attempt.error_kind
                log.debug("delivery %s attempt %d: POST %s -> %s in %.0f ms (%s)", f.job.id,
                          f.job.attempts + 1, redact_url(f.attempt.request_url), result,
                          f.attempt.duration_ms or 0.0, status)
            self._report(f, status, next_at)
        for wire in turn.jobs:
            self.dispatch.add(job_from_wire(wire))

    def _start_ready(self) -> int:
        """Start a sender for each ready delivery there is room for, hooks in turn."""
        started = 0
        for job in self.dispatch.take_round():
            sender = asyncio.create_task(self._send_from(job))
            self.senders.add(sender)
            sender.add_done_callback(self.senders.discard)
            started += 1
        return started

    async def _send_from(self, job: DeliveryJob | None) -> None:
        """A sender: one slot of ``max_in_flight``. It sends ``job``, then the next ready
        delivery of the same hook, else of any hook, and ends when none is ready (a
        new sender starts when more arrive), so a slot is not a new task per delivery."""
        dispatch = self.dispatch
        while job is not None:
            hook = self.hooks.get(job.hook_id)
            try:
                # None: deleted with its deliveries (claims come after the hooks' re-read)
                result = await self.sender.attempt(job, hook) if hook is not None else None
            except asyncio.CancelledError:
                dispatch.end(job)
                self.unsent.append(job.seq)  # stopping: released in close()
                raise
            except Exception as error:  # a bug: recorded as an attempt, retried
                dispatch.end(job)
                log.exception("delivery %s failed unexpectedly", job.id)
                if hook is not None:
                    self.finished.append(internal_error(job, hook, error))
            else:
                dispatch.end(job)
                if result is not None:
                    self.finished.append(result)
                    if result.attempt.status_code == 410:
                        self.gone.add(job.hook_id)  # deactivated when recorded
                        dispatch.drop(job.hook_id)
            # Wake the loop to record a full batch, to claim more for a hook that has
            # just run low (whatever other hooks, e.g. one that hangs, hold), or to
            # record at once the last delivery of a hook that ran dry.
            # On a team database an engine holds no more of a hook than may be in flight
            # (the limit is shared by every worker), so each finished request is room
            # to claim another at once.
            held = dispatch.held.get(job.hook_id, 0)
            if len(self.finished) >= _FLUSH_BATCH or held in (0, dispatch.low_water()) \
                    or self.shared:
                self.wake.set()
            if self.closing:
                return
            # Keep the slot busy: the hook's next ready delivery, else any hook's.
            job = dispatch.take_next(job.hook_id)

    def _stopped(self, hook_id: int) -> bool:
        """True when nothing more may be sent to the hook: it answered 410 Gone (and is
        being deactivated), or it is inactive or deleted."""
        hook = self.hooks.get(hook_id)
        return hook_id in self.gone or (hook is not None and not hook.active)

    def _apply_hooks(self, hooks: dict[int, Hook] | None) -> None:
        """Use re-read hooks, and forget cached secrets that no longer match a hook."""
        if hooks is None:
            return
        self.hooks = hooks
        # A hook that answered 410 stays stopped until it is seen deactivated; from
        # then on its "active" flag says whether it may be sent to again.
        self.gone = {h for h in self.gone if h in hooks and hooks[h].active}
        self.dispatch.drop_stopped(hooks)
        self.secrets.forget_except(hooks.values())
        self.sender.forget_except(hooks.values())

    def _report(self, f: Ended, status: str, next_at: float | None) -> None:
        self.attempts += 1
        callback = self.engine._on_attempt
        if callback is not None:
            callback(AttemptOutcome(f.job.id, f.job.hook_id, f.job.event_type,
                                    f.job.attempts + 1, status, f.attempt.status_code,
                                    f.attempt.error_kind, f.attempt.duration_ms, next_at))

    async def close(self) -> None:
        self.closing = True
        self.keyring.close()
        if self.warm_task is not None:
            self.warm_task.cancel()
        tasks = list(self.senders)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        leftover = self.unsent + self.dispatch.clear()
        finished, self.finished = self.finished, []
        try:
            # Attempts that ended are recorded, so they are not sent again.
            statuses = await self.keeper.wind_up([f.to_wire() for f in finished], leftover)
            for level, message in await self.keeper.take_logs():
                log.log(level, message)
            for f, (status, next_at) in zip(finished, statuses, strict=True):
                self._report(f, status, next_at)
        finally:  # even when the bookkeeper has gone
            await self.sessions.close()
            if self.changes is not None:
                self.changes.close()


_FLUSH_BATCH = 64  # finished attempts that wake the loop to record them at once
