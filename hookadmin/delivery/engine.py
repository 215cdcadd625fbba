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
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from hookadmin.core.errors import (
    InputError,
    SecretStoreError,
    StoreBusyError,
    StoreUnavailable,
)
from hookadmin.core.hook_types import (
    EMAIL,
    SMTP_PASSWORD,
    WEB,
    OptionSecrets,
    read_option_secrets,
)
from hookadmin.core.hooks import Hook, redact_url
from hookadmin.core.proxy_settings import global_proxy_password
from hookadmin.core.secret_source import open_hook_secrets
from hookadmin.core.secrets import HookSecrets
from hookadmin.core.signing import delivery_headers
from hookadmin.core.store import (
    AttemptRecord,
    DeliveryJob,
    StoreLocation,
    as_location,
    open_change_feed,
)
from hookadmin.delivery.bookkeeping import BookkeepingProcess
from hookadmin.delivery.bookkeeping_thread import BookkeepingThread
from hookadmin.delivery.bookkeeping_wire import (
    ClaimRequest,
    Finished,
    FinishedWire,
    Opened,
    TurnRequest,
    TurnResult,
    job_from_wire,
)
from hookadmin.delivery.http import ERROR_SENTENCES, ClientCert, make_session, send
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.proxy import (
    choose_route,
    route_ca_bundle,
    send_via_proxy,
    wants_proxy,
)
from hookadmin.delivery.typed import MissingOptionSecret, client_cert, outgoing

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
    """

    def __init__(self, home: StoreLocation | Path, *, settings: DeliverySettings | None = None,
                 secrets: HookSecrets | None = None,
                 on_attempt: Callable[[AttemptOutcome], None] | None = None,
                 on_keyring: Callable[[str | None], None] | None = None) -> None:
        self.location = as_location(home)
        self.home = self.location.home
        self.settings = settings or DeliverySettings()
        self._secrets = secrets
        self._on_attempt = on_attempt
        self._on_keyring = on_keyring
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
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)

    def run(self, *, until_idle: bool = False) -> int:
        """Run in the current thread until stopped (or idle). Returns the number of
        attempts made."""
        return asyncio.run(self.run_async(until_idle=until_idle))

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
            secrets = self._secrets or open_hook_secrets(self.location, opened.store_id,
                                                         opened.parent_store_ids)
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
    """The state of one :meth:`Engine.run_async`.

    How a delivery moves: claimed (leased in the database, in batches) → ``ready``, a
    queue per hook in memory → in flight (sent by a sender, one coroutine per busy
    slot: at most ``per_hook_in_flight`` per hook and ``max_in_flight`` in all) →
    ``finished`` → recorded by the bookkeeper, many attempts per transaction, and only
    then reported. A sender goes on with the next ready delivery of its hook (else of
    any hook) at once, without a database round trip; the loop tops the ready queues up
    (at once when a hook is down to ``low_rounds`` rounds), records and looks for new
    events every few milliseconds (``wake_interval``), one bookkeeper turn at a time, so
    the database sees a few transactions per batch of deliveries instead of several per
    delivery.
    """

    def __init__(self, engine: Engine, keeper: BookkeepingProcess | BookkeepingThread,
                 opened: Opened,
                 secrets: HookSecrets) -> None:
        self.engine = engine
        self.keeper = keeper
        self.settings = opened.settings
        self.secrets = secrets
        self.loop_: asyncio.AbstractEventLoop = asyncio.get_running_loop()
        self.in_flight: dict[int, DeliveryJob] = {}  # delivery seq -> delivery
        self.senders: set[asyncio.Task[None]] = set()
        self.ready: dict[int, deque[DeliveryJob]] = {}
        self.ready_count = 0
        self.running: dict[int, int] = {}  # hook id -> requests in flight
        self.retrying: dict[int, int] = {}  # hook id -> retries in flight (the retry lane)
        self.retries_in_flight = 0
        self.held: dict[int, int] = {}  # hook id -> claimed deliveries (ready + in flight)
        self.finished: list[_Ended] = []
        self.unsent: list[int] = []  # cancelled while in flight, to release
        self.to_release: list[int] = []  # claimed but not to be sent (hook stopped)
        self.gone: set[int] = set()  # hooks that answered 410, until seen inactive
        self.sessions: dict[tuple[bool, str | None, ClientCert | None, bool, str | None],
                            aiohttp.ClientSession] = {}
        self.retired_sessions: list[aiohttp.ClientSession] = []
        self.hooks: dict[int, Hook] = {}
        self.secret_cache: dict[_SecretKey, str] = {}
        self.secret_reads: dict[_SecretKey, asyncio.Future[str]] = {}
        self.warming: dict[_SecretKey, asyncio.Future[str | None]] = {}  # the start's read
        self.warm_task: asyncio.Task[None] | None = None
        self.keyring_problem: str | None = None  # why the keyring cannot be used now
        # Hooks of other types or with options (see delivery/typed.py): their option
        # secrets by (hook id, updated_at), and the next free time of rate-limited ones.
        self.option_cache: dict[tuple[int, str], OptionSecrets] = {}
        self.proxy_password: tuple[int, str | None] | None = None  # (proxy_serial, value)
        self.pace: dict[int, float] = {}
        self.wake = asyncio.Event()
        self.closing = False
        self.attempts = 0
        self.next_renew = time.monotonic() + self.settings.lease_renew_interval
        self.changes = open_change_feed(engine.location)
        self.next_look = 0.0
        self.claims_exhausted = False
        self.busy_at = time.monotonic()  # when there last was something to do
        self.turns = 0  # bookkeeper turns (see Engine.bookkeeper_turns)
        self.locked_since: float | None = None  # monotonic, while the database is locked
        self.lock_waits = 0
        self.outage: _Outage | None = None  # the database cannot be reached
        self.shared = engine.location.team  # other machines' engines claim too
        self._apply_hooks(opened.hooks)

    # -- the loop ---------------------------------------------------------------------

    async def loop(self, *, until_idle: bool) -> int:
        stop = self.engine._stop
        assert stop is not None
        self.warm_task = asyncio.create_task(self._warm_secrets())
        with contextlib.suppress(InputError):
            for hook in self.hooks.values():  # TLS set-up takes ~50 ms: not on a delivery
                if hook.active:
                    self._session(hook)
        while not stop.is_set():
            self.wake.clear()  # what happens from here on wakes the next turn
            if self.outage is not None and time.monotonic() < self.outage.retry_at:
                await self._pause()  # the database is away: keep sending, try later
                continue
            finished, self.finished = self.finished, []
            renew: list[int] | None = None
            if time.monotonic() >= self.next_renew:
                self.next_renew = time.monotonic() + self.settings.lease_renew_interval
                renew = [j.seq for j in self.in_flight.values()]
                renew += [j.seq for queue in self.ready.values() for j in queue]
            check_idle = until_idle and not self.in_flight and not self.ready_count
            release, self.to_release = self.to_release, []
            claim = self._claim_request() if self.outage is None else None
            if finished or renew is not None or release or check_idle \
                    or self.outage is not None or self._database_changed(claim):
                try:
                    turn = await self.keeper.turn(TurnRequest(
                        [_for_bookkeeper(f) for f in finished], renew, release, claim,
                        check_idle))
                except StoreBusyError as err:
                    # Nothing of the turn was written: keep it for the next one.
                    self.finished[:0] = finished
                    self.to_release[:0] = release
                    if renew is not None:
                        self.next_renew = 0.0
                    await self._wait_for_lock(err, stop)
                    continue
                except StoreUnavailable as err:
                    # Nothing of this turn was committed: keep it for the next one.
                    self.finished[:0] = finished
                    self.to_release[:0] = release
                    if renew is not None:
                        self.next_renew = 0.0
                    self._database_lost(err)
                    await self._pause()
                    continue
                if self.locked_since is not None:
                    log.warning("the database is no longer locked; delivery resumed after "
                                "%.0f s", time.monotonic() - self.locked_since)
                    self.locked_since = None
                    self.lock_waits = 0
                self._database_back()
                self.turns += 1
                self.claims_exhausted = claim is not None and not turn.jobs
                if finished or turn.jobs or turn.hooks is not None:
                    self.busy_at = time.monotonic()
                self._apply_turn(turn, finished)
                started = self._start_ready()
                if turn.idle and not self.in_flight and not self.ready_count \
                        and not self.finished and not started:
                    break
            if stop.is_set():
                break
            await self._pause()
        return self.attempts

    async def _wait_for_lock(self, err: StoreBusyError, stop: asyncio.Event) -> None:
        """Another process holds the database's write lock beyond the busy timeout: say
        so once, then try again after a growing pause (0.5 s doubling up to
        :data:`_LOCK_BACKOFF_MAX`), or sooner when asked to stop. Requests already in
        flight go on; their attempts are recorded once the lock is gone."""
        if self.locked_since is None:
            self.locked_since = time.monotonic()
            log.warning("waiting: %s; delivery goes on by itself once it is released",
                        err.what)
        pause = min(0.5 * 2 ** self.lock_waits, _LOCK_BACKOFF_MAX)
        self.lock_waits += 1
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pause):
                await stop.wait()

    async def _pause(self) -> None:
        """Wait until something wakes the loop, or the next look is due."""
        interval = self._wait_interval()
        if self.outage is not None:
            interval = max(0.0, min(interval, self.outage.retry_at - time.monotonic()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await self.wake.wait()

    def _database_lost(self, err: StoreUnavailable) -> None:
        """A turn failed because the database cannot be reached: keep what is in flight,
        claim nothing more, and try again with a growing delay (said once)."""
        if self.outage is None:
            self.outage = _Outage(time.monotonic())
            log.warning("%s Deliveries in flight go on; nothing more is claimed until it "
                        "is back, and what they sent is recorded then (hookadmin tries "
                        "again every few seconds).", err)
        self.outage.delay = min(OUTAGE_MAX_DELAY, self.outage.delay * 2)
        self.outage.retry_at = time.monotonic() + self.outage.delay

    def _database_back(self) -> None:
        if self.outage is not None:
            log.warning("The database is back after %.0f s; delivering again.",
                        time.monotonic() - self.outage.since)
            self.outage = None

    def _wait_interval(self) -> float:
        """Seconds until the next look: ``wake_interval``, or ``idle_wake_interval``
        once nothing has happened for ``idle_after`` seconds (each wake-up costs CPU
        even when there is nothing to do; events published meanwhile then wait at most
        that long). The engine's own senders wake it at once either way."""
        if self.in_flight or self.ready_count or self.finished:
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

    def _apply_turn(self, turn: TurnResult, finished: list[_Ended]) -> None:
        """Take a turn's results on the event loop's thread."""
        for level, message in turn.logs:
            log.log(level, message)
        if turn.hooks is not None:
            self._apply_hooks(turn.hooks)
        if turn.settings is not None and turn.settings != self.settings:
            self.settings = turn.settings
            self.retired_sessions += self.sessions.values()
            self.sessions = {}
            log.info("delivery settings changed (network policy %s)",
                     "strict" if turn.settings.strict_network else "workstation")
        debug = log.isEnabledFor(logging.DEBUG)
        for f, (status, next_at) in zip(finished, turn.statuses, strict=True):
            if debug:
                result = f.attempt.status_code or f.attempt.error_kind
                log.debug("delivery %s attempt %d: POST %s -> %s in %.0f ms (%s)", f.job.id,
                          f.job.attempts + 1, redact_url(f.attempt.request_url), result,
                          f.attempt.duration_ms or 0.0, status)
            self._report(f.job, f.job.attempts + 1, status, f.attempt, next_at)
        for wire in turn.jobs:
            job = job_from_wire(wire)
            if self._stopped(job.hook_id):
                self.to_release.append(job.seq)
                continue
            self.ready.setdefault(job.hook_id, deque()).append(job)
            self.held[job.hook_id] = self.held.get(job.hook_id, 0) + 1
            self.ready_count += 1

    def _running_low(self) -> bool:
        """True when a hook this engine is sending to has at most ``low_rounds`` rounds
        of ``per_hook_in_flight`` deliveries ready beyond those in flight: claim more
        now, so they arrive before the last round is sent."""
        low = self._low_water()
        return any(n <= low for n in self.held.values())

    def _low_water(self) -> int:
        return (1 + self.settings.low_rounds) * self.settings.per_hook_in_flight

    def _claim_request(self) -> ClaimRequest | None:
        """What to claim to top the ready queues up: up to ``max_in_flight``
        deliveries beyond those in flight, at most two rounds of
        ``per_hook_in_flight`` per hook; None when too few would fit (claims come in
        batches, not one delivery per transaction)."""
        room = self.settings.claimed_per_engine - len(self.in_flight) - self.ready_count
        if room < max(1, self.settings.max_in_flight // 4) and self.ready_count:
            return None
        retries = {h: n for h, queue in self.ready.items()
                   if (n := sum(1 for j in queue if j.attempts) + self.retrying.get(h, 0))}
        retries.update((h, n) for h, n in self.retrying.items() if n and h not in retries)
        return ClaimRequest(room, dict(self.held), self._running_low(), retries)

    def _start_ready(self) -> int:
        """Start ready deliveries while there is room, taking hooks in turn."""
        started = 0
        progress = True
        while progress and self.ready_count and len(self.in_flight) < self.settings.max_in_flight:
            progress = False
            for hook_id in list(self.ready):
                if len(self.in_flight) >= self.settings.max_in_flight:
                    break
                if self._start_one(hook_id):
                    started += 1
                    progress = True
        return started

    def _start_one(self, hook_id: int) -> bool:
        """Start a sender with the next ready delivery of a hook, if it has one and room
        for it."""
        job = self._take(hook_id)
        if job is None:
            return False
        sender = asyncio.create_task(self._send_from(job))
        self.senders.add(sender)
        sender.add_done_callback(self.senders.discard)
        return True

    def _take(self, hook_id: int) -> DeliveryJob | None:
        """Take the next ready delivery of a hook in flight, if it has one and room. A
        retry needs room in the retry lane too; without it the hook's next first attempt
        goes instead (lanes: a backlog of retries never holds fresh events up)."""
        queue = self.ready.get(hook_id)
        if not queue or self.running.get(hook_id, 0) >= self.settings.per_hook_in_flight:
            return None
        if self._stopped(hook_id):
            self._drop_ready(hook_id)
            return None
        if queue[0].attempts and (
                self.retries_in_flight >= self.settings.retry_in_flight
                or self.retrying.get(hook_id, 0) >= self.settings.retry_per_hook_in_flight):
            index = next((i for i, j in enumerate(queue) if not j.attempts), None)
            if index is None:
                return None
            job = queue[index]
            del queue[index]
        else:
            job = queue.popleft()
        if not queue:
            del self.ready[hook_id]
        self.ready_count -= 1
        self.running[hook_id] = self.running.get(hook_id, 0) + 1
        if job.attempts:
            self.retries_in_flight += 1
            self.retrying[hook_id] = self.retrying.get(hook_id, 0) + 1
        self.in_flight[job.seq] = job
        return job

    def _take_any(self) -> DeliveryJob | None:
        """Take a ready delivery of any hook with room, or None."""
        for hook_id in list(self.ready):
            job = self._take(hook_id)
            if job is not None:
                return job
        return None

    async def _send_from(self, job: DeliveryJob | None) -> None:
        """A sender: one slot of ``max_in_flight``. It sends ``job``, then the next ready
        delivery of the same hook, else of any hook, and ends when none is ready (a
        new sender starts when more arrive), so a slot is not a new task per delivery."""
        while job is not None:
            try:
                result = await self._deliver(job)
            except asyncio.CancelledError:
                self._end(job)
                self.unsent.append(job.seq)  # stopping: released in close()
                raise
            except Exception as error:  # a bug: recorded as an attempt, retried
                self._end(job)
                log.exception("delivery %s failed unexpectedly", job.id)
                self._finish_internal_error(job, error)
            else:
                self._end(job)
                if result is not None:
                    self.finished.append(result)
                    if result.attempt.status_code == 410:
                        self.gone.add(job.hook_id)  # deactivated when recorded
                        self._drop_ready(job.hook_id)
            # Wake the loop to record a full batch, to claim more for a hook that has
            # just run low (whatever other hooks, e.g. one that hangs, hold), or to
            # record at once the last delivery of a hook that ran dry.
            # On a team database an engine holds no more of a hook than may be in flight
            # (the limit is shared by every worker), so each finished request is room
            # to claim another at once.
            held = self.held.get(job.hook_id, 0)
            if len(self.finished) >= _FLUSH_BATCH or held in (0, self._low_water()) \
                    or self.shared:
                self.wake.set()
            if self.closing:
                return
            # Keep the slot busy: the hook's next ready delivery, else any hook's.
            job = self._take(job.hook_id) or self._take_any()

    def _end(self, job: DeliveryJob) -> None:
        """A delivery is no longer in flight."""
        del self.in_flight[job.seq]
        self.running[job.hook_id] -= 1
        if job.attempts:
            self.retries_in_flight -= 1
            self.retrying[job.hook_id] -= 1
        self.held[job.hook_id] -= 1
        self._release_hold(job.hook_id)

    def _stopped(self, hook_id: int) -> bool:
        """True when nothing more may be sent to the hook: it answered 410 Gone (and is
        being deactivated), or it is inactive or deleted."""
        hook = self.hooks.get(hook_id)
        return hook_id in self.gone or (hook is not None and not hook.active)

    def _drop_ready(self, hook_id: int) -> None:
        """Give the hook's claimed but unsent deliveries back (released at the next
        turn), so none of them is sent."""
        queue = self.ready.pop(hook_id, None)
        if not queue:
            return
        self.ready_count -= len(queue)
        self.held[hook_id] -= len(queue)
        self.to_release += [j.seq for j in queue]
        self._release_hold(hook_id)

    def _release_hold(self, hook_id: int) -> None:
        if self.held.get(hook_id) == 0:
            del self.held[hook_id]
            self.running.pop(hook_id, None)

    def _apply_hooks(self, hooks: dict[int, Hook] | None) -> None:
        """Use re-read hooks, and forget cached secrets that no longer match a hook."""
        if hooks is None:
            return
        self.hooks = hooks
        # A hook that answered 410 stays stopped until it is seen deactivated; from
        # then on its "active" flag says whether it may be sent to again.
        self.gone = {h for h in self.gone if h in hooks and hooks[h].active}
        for hook_id in [h for h in self.ready if self._stopped(h) or h not in hooks]:
            self._drop_ready(hook_id)
        current = {_secret_key(h, previous) for h in hooks.values() for previous in (False, True)}
        for key in [k for k in self.secret_cache if k not in current]:
            del self.secret_cache[key]


    # -- one delivery -----------------------------------------------------------------

    async def _deliver(self, job: DeliveryJob) -> _Ended | None:
        hook = self.hooks.get(job.hook_id)
        if hook is None:
            return None  # deleted with its deliveries (claims come after the hooks' re-read)
        if hook.type != WEB or not hook.options.empty or wants_proxy(hook, self.settings):
            return await self._deliver_typed(job, hook)
        try:
            secret = self.secret_cache.get(_secret_key(hook, False)) \
                or await self._secret(hook)
            previous = None
            if hook.previous_secret_expires_at is not None \
                    and hook.previous_secret_expires_at > time.time():
                previous = await self._secret(hook, previous=True)
        except SecretStoreError as err:
            if err.cause != "missing":
                self._keyring_state(str(err))
            return _Ended(job, hook, AttemptRecord(
                started_at=time.time(), duration_ms=None, request_url=hook.url,
                request_headers={}, status_code=None, response_headers=None, response_body=None,
                response_truncated=False, error_kind="secret_unavailable",
                error_message=f"{ERROR_SENTENCES['secret_unavailable']} {err}"))
        headers = delivery_headers(secret=secret, event_type=job.event_type,
                                   delivery_id=job.id, timestamp=int(time.time()),
                                   body=job.body, previous_secret=previous)
        try:
            session = self._session(hook)
        except InputError as err:
            return _Ended(job, hook, AttemptRecord(
                started_at=time.time(), duration_ms=None, request_url=hook.url,
                request_headers=headers, status_code=None, response_headers=None,
                response_body=None, response_truncated=False, error_kind="tls",
                error_message=str(err)))
        return _Ended(job, hook, await send(session, hook.url, headers, job.body,
                                               self.settings))

    async def _deliver_typed(self, job: DeliveryJob, hook: Hook) -> _Ended:
        """A delivery to a hook of another type than ``web``, or with options: its
        request is built by :func:`hookadmin.delivery.typed.outgoing`, it waits for
        the hook's rate limit, and its record masks every secret."""
        if hook.type == EMAIL:
            from hookadmin.delivery.email import send_email

            try:
                secrets = await self._option_secrets(hook)
            except SecretStoreError as err:
                return self._secret_missing(job, hook, err)
            await self._wait_for_rate(hook)
            return _Ended(job, hook, await send_email(
                hook, event_type=job.event_type, delivery_id=job.id, body=job.body,
                password=secrets.get(SMTP_PASSWORD), settings=self.settings))
        try:
            secret = self.secret_cache.get(_secret_key(hook, False)) \
                or await self._secret(hook)
            previous = None
            if hook.previous_secret_expires_at is not None \
                    and hook.previous_secret_expires_at > time.time():
                previous = await self._secret(hook, previous=True)
            request = outgoing(hook, event_type=job.event_type, delivery_id=job.id,
                               body=job.body, secret=secret, previous_secret=previous,
                               option_secrets=await self._option_secrets(hook),
                               timestamp=int(time.time()))
        except (SecretStoreError, MissingOptionSecret) as err:
            return self._secret_missing(job, hook, err)
        await self._wait_for_rate(hook)
        secrets = self.option_cache.get((hook.id, hook.updated_at), {})
        try:
            route = choose_route(hook, request.url, self.settings, hook_secrets=secrets,
                                 global_password=await self._global_proxy_password())
        except SecretStoreError as err:
            return self._secret_missing(job, hook, err)
        try:
            session = self._session(hook, client_cert(hook, secrets),
                                    proxied=route is not None,
                                    proxy_ca=route_ca_bundle(route, self.settings))
        except InputError as err:
            return _Ended(job, hook, request.masked(AttemptRecord(
                started_at=time.time(), duration_ms=None, request_url=hook.url,
                request_headers={}, status_code=None, response_headers=None,
                response_body=None, response_truncated=False, error_kind="tls",
                error_message=str(err))))
        if route is not None:
            attempt = await send_via_proxy(session, route, request.url, request.headers,
                                           request.body, self.settings)
        else:
            attempt = await send(session, request.url, request.headers, request.body,
                                 self.settings)
        return _Ended(job, hook, request.masked(attempt))

    def _secret_missing(self, job: DeliveryJob, hook: Hook,
                        err: SecretStoreError | MissingOptionSecret) -> _Ended:
        """The attempt of a delivery whose secrets cannot be read; a keyring that cannot
        be used is told as :meth:`_deliver`'s path tells it."""
        if isinstance(err, SecretStoreError) and err.cause not in ("missing", "damaged"):
            self._keyring_state(str(err))
        why = str(err)
        return _Ended(job, hook, AttemptRecord(
            started_at=time.time(), duration_ms=None, request_url=hook.url,
            request_headers={}, status_code=None, response_headers=None, response_body=None,
            response_truncated=False, error_kind="secret_unavailable",
            error_message=f"{ERROR_SENTENCES['secret_unavailable']} {why}"))

    async def _wait_for_rate(self, hook: Hook) -> None:
        """Wait for the hook's next free slot under its rate limit (none is dropped:
        each delivery takes the next slot, ``per`` / ``count`` seconds apart)."""
        limit = hook.options.rate_limit
        if limit is None:
            return
        now = self.loop_.time()
        slot = max(now, self.pace.get(hook.id, now))
        self.pace[hook.id] = slot + limit.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _option_secrets(self, hook: Hook) -> OptionSecrets:
        """The hook's option secrets, read once per change of the hook (its
        ``updated_at``) and kept.

        Raises:
            SecretStoreError: the store cannot be read.
        """
        key = (hook.id, hook.updated_at)
        cached = self.option_cache.get(key)
        if cached is None:
            cached = await self.loop_.run_in_executor(None, read_option_secrets,
                                                      self.secrets, hook.id)
            self.option_cache = {k: v for k, v in self.option_cache.items()
                                 if k[0] != hook.id}
            self.option_cache[key] = cached
        return cached

    async def _global_proxy_password(self) -> str | None:
        """The global proxy's password (None without a global proxy or user), read once
        per change of the proxy setting.

        Raises:
            SecretStoreError: the store cannot be read.
        """
        proxy = self.settings.proxy
        if proxy is None or "@" not in proxy:
            return None
        serial = self.settings.proxy_serial
        if self.proxy_password is None or self.proxy_password[0] != serial:
            value = await self.loop_.run_in_executor(None, global_proxy_password, self.secrets)
            self.proxy_password = (serial, value)
        return self.proxy_password[1]

    def _finish_internal_error(self, job: DeliveryJob, error: BaseException) -> None:
        """A bug or an unexpected failure, not the receiver's doing: record it as an
        attempt and retry on the schedule (never at once, which would spin)."""
        hook = self.hooks.get(job.hook_id)
        if hook is None:
            return
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        self.finished.append(_Ended(job, hook, AttemptRecord(
            started_at=time.time(), duration_ms=None, request_url=redact_url(hook.url),
            request_headers={}, status_code=None, response_headers=None, response_body=None,
            response_truncated=False, error_kind="internal",
            error_message=f"hookadmin could not send this delivery ({detail}); it will be "
                          "retried.")))

    # -- reporting --------------------------------------------------------------------

    def _report(self, job: DeliveryJob, number: int, status: str, attempt: AttemptRecord,
                next_at: float | None) -> None:
        self.attempts += 1
        callback = self.engine._on_attempt
        if callback is not None:
            callback(AttemptOutcome(job.id, job.hook_id, job.event_type, number, status,
                                    attempt.status_code, attempt.error_kind,
                                    attempt.duration_ms, next_at))

    # -- secrets and sessions ---------------------------------------------------------

    async def _secret(self, hook: Hook, *, previous: bool = False) -> str:
        """The hook's (or its replaced) secret. Read from the keyring once and kept for
        as long as the engine runs: a reset changes the hook's ``updated_at`` and
        ``previous_secret_expires_at``, so the new one is read at once. Deliveries
        that need the same secret at the same time share one keyring read.

        Raises:
            SecretStoreError: the keyring cannot be read, or holds no such secret.
        """
        key = _secret_key(hook, previous)
        cached = self.secret_cache.get(key)
        if cached is not None:
            return cached
        warm = self.warming.get(key)
        if warm is not None:
            value = await asyncio.shield(warm)
            if value is not None:
                return value
        read = self.secret_reads.get(key)
        if read is None:
            read = self.loop_.run_in_executor(None, self._read_secret, hook.id, previous)
            self.secret_reads[key] = read

            def done(fut: asyncio.Future[str]) -> None:
                self.secret_reads.pop(key, None)
                if not fut.cancelled() and fut.exception() is None:
                    self.secret_cache[key] = fut.result()
                    self._keyring_state(None)
            read.add_done_callback(done)
        return await asyncio.shield(read)

    def _keyring_state(self, problem: str | None) -> None:
        """Tell ``on_keyring`` when the keyring stops (``problem``: why) or starts
        being usable again (None); only changes are told."""
        if problem == self.keyring_problem or (problem is not None
                                               and self.keyring_problem is not None):
            return
        self.keyring_problem = problem
        if problem is None:
            log.info("the OS keyring can be used again")
        else:
            log.info("the OS keyring cannot be used: %s", problem)
        callback = self.engine._on_keyring
        if callback is not None:
            callback(problem)

    def _read_secret(self, hook_id: int, previous: bool) -> str:
        if not previous:
            return self.secrets.get(hook_id)
        value = self.secrets.get_optional(hook_id, previous=True)
        if value is None:
            raise SecretStoreError("The replaced secret is gone.", cause="missing")
        return value

    async def _warm_secrets(self) -> None:
        """Read every active hook's secret in one go when the engine starts (see
        :meth:`SecretStore.get_many`: one keyring session for all, instead of one per
        hook), so the first event to many hooks does not wait for a read per hook.
        Deliveries that need one of these secrets meanwhile wait until theirs is read
        (each is handed over as soon as it is, not when all are)."""
        keys = {h.id: _secret_key(h, False) for h in self.hooks.values()
                if h.active and _secret_key(h, False) not in self.secret_cache}
        if not keys:
            return
        waiting = {hook_id: self.loop_.create_future() for hook_id in keys}
        for hook_id, fut in waiting.items():
            self.warming[keys[hook_id]] = fut
        found: dict[int, str] = {}

        def arrived(hook_id: int, secret: str) -> None:  # on the loop, as each is read
            key = keys[hook_id]
            self.secret_cache[key] = secret
            fut = self.warming.pop(key, None)
            if fut is not None and not fut.done():
                fut.set_result(secret)

        def found_one(hook_id: int, secret: str) -> None:  # on the executor's thread
            with contextlib.suppress(RuntimeError):  # the loop closed: the run is over
                self.loop_.call_soon_threadsafe(arrived, hook_id, secret)

        def read_all() -> dict[int, str]:
            return self.secrets.get_many(list(keys), on_found=found_one)
        try:
            found = await self.loop_.run_in_executor(None, read_all)
        except SecretStoreError as err:
            log.info("secrets not read at start (%s)", err)
            if err.cause != "missing":
                self._keyring_state(str(err))
        finally:
            for hook_id, fut in waiting.items():
                self.warming.pop(keys[hook_id], None)
                if hook_id in found:
                    self.secret_cache[keys[hook_id]] = found[hook_id]
                # None: not read here; a delivery that needs it reads it alone, which
                # names the reason (missing, locked, ...) precisely.
                if not fut.done():
                    fut.set_result(found.get(hook_id))

    def _session(self, hook: Hook, cert: ClientCert | None = None, *,
                 proxied: bool = False, proxy_ca: str | None = None) -> aiohttp.ClientSession:
        key = (not hook.insecure_ssl, hook.ca_bundle, cert, proxied, proxy_ca)
        session = self.sessions.get(key)
        if session is None:
            session = self.sessions[key] = make_session(
                self.settings, verify=key[0], ca_bundle=hook.ca_bundle, client_cert=cert,
                proxied=proxied, proxy_ca_bundle=proxy_ca)
        return session

    async def close(self) -> None:
        self.closing = True
        if self.warm_task is not None:
            self.warm_task.cancel()
        tasks = list(self.senders)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        leftover = self.unsent + self.to_release + [job.seq for job in self.in_flight.values()]
        leftover += [j.seq for queue in self.ready.values() for j in queue]
        self.in_flight.clear()
        self.ready.clear()
        finished, self.finished = self.finished, []
        try:
            # Attempts that ended are recorded, so they are not sent again.
            statuses = await self.keeper.wind_up([_for_bookkeeper(f) for f in finished],
                                                 leftover)
            for level, message in await self.keeper.take_logs():
                log.log(level, message)
            for f, (status, next_at) in zip(finished, statuses, strict=True):
                self._report(f.job, f.job.attempts + 1, status, f.attempt, next_at)
        finally:  # even when the bookkeeper has gone
            for session in [*self.sessions.values(), *self.retired_sessions]:
                await session.close()
            if self.changes is not None:
                self.changes.close()


_FLUSH_BATCH = 64  # finished attempts that wake the loop to record them at once
_LOCK_BACKOFF_MAX = 30.0  # seconds between tries while the database stays locked
OUTAGE_FIRST_DELAY = 0.25  # seconds before the first try after the database was lost
OUTAGE_MAX_DELAY = 5.0  # the longest wait between tries


class _Outage:
    """Since when the database has been away, and when to try it again (monotonic
    seconds)."""

    def __init__(self, since: float) -> None:
        self.since = since
        self.delay = OUTAGE_FIRST_DELAY / 2
        self.retry_at = since


_SecretKey = tuple[int, str, float | None, bool]


def _secret_key(hook: Hook, previous: bool) -> _SecretKey:
    return (hook.id, hook.updated_at, hook.previous_secret_expires_at, previous)


@dataclass(frozen=True)
class _Ended:
    """An attempt that ended and is waiting to be recorded."""

    job: DeliveryJob
    hook: Hook
    attempt: AttemptRecord


def _for_bookkeeper(f: _Ended) -> FinishedWire:
    return Finished.to_wire(f.job, f.attempt)

