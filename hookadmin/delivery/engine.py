"""The delivery engine: outbox → deliveries → signed POSTs → recorded attempts.

Plain asyncio, no Qt: the window hosts it in a QThread, ``hookadmin worker`` runs it
headless. Several engines (a window and a worker) may run on one data directory at
once: deliveries are leased in the database, so each is sent by one engine at a time,
and a dead engine's leases expire and are taken over.

At-least-once: a delivery is marked done only after its response is recorded, so a
crash between the POST and the record sends it again, with the same delivery id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from hookadmin.core.errors import InputError, NotFoundError, SecretStoreError
from hookadmin.core.hooks import Hook, redact_url
from hookadmin.core.secrets import SecretStore
from hookadmin.core.service import delivery_options, network_policy, prune_history
from hookadmin.core.signing import delivery_headers
from hookadmin.core.store import AttemptRecord, DeliveryJob, Store
from hookadmin.delivery.http import ERROR_SENTENCES, make_client, post, retry_after_seconds
from hookadmin.delivery.policy import DeliverySettings, with_options

log = logging.getLogger(__name__)
SECRET_CACHE_SECONDS = 10.0


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
    """Delivers the outbox of one data directory.

    Args:
        home: the data directory.
        settings: retry schedule, timeouts and limits.
        secrets: where secrets are read; defaults to the OS keyring for this database.
        on_attempt: called (on the engine's thread) with an :class:`AttemptOutcome`
            after every recorded attempt.
    """

    def __init__(self, home: Path, *, settings: DeliverySettings | None = None,
                 secrets: SecretStore | None = None,
                 on_attempt: Callable[[AttemptOutcome], None] | None = None) -> None:
        self.home = home
        self.settings = settings or DeliverySettings()
        self._secrets = secrets
        self._on_attempt = on_attempt
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None

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
        store = Store.in_home(self.home, durable=False)
        secrets = self._secrets or SecretStore(store.store_id,
                                               parent_ids=store.parent_store_ids)
        run = _Run(self, store, secrets)
        try:
            return await run.loop(until_idle=until_idle)
        finally:
            await run.close()
            store.close()
            self._loop = None


class _Run:
    """The state of one :meth:`Engine.run_async`."""

    def __init__(self, engine: Engine, store: Store, secrets: SecretStore) -> None:
        self.engine = engine
        self.settings = engine.settings
        self.store = store
        self.secrets = secrets
        self.in_flight: dict[asyncio.Task[None], DeliveryJob] = {}
        self.per_hook: dict[int, int] = {}
        self.clients: dict[tuple[bool, str | None], httpx.AsyncClient] = {}
        self.secret_cache: dict[tuple[int, str, float | None, bool], tuple[float, str]] = {}
        self.attempts = 0
        self.next_prune = 0.0
        self.next_renew = time.monotonic() + self.settings.lease_renew_interval
        self.forced_strict = self.settings.strict_network
        self.base_settings = self.settings
        self.retired_clients: list[httpx.AsyncClient] = []
        self._apply_network_policy()

    async def loop(self, *, until_idle: bool) -> int:
        stop = self.engine._stop
        assert stop is not None
        stop_wait = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                self._prune_when_due()
                self._renew_leases_when_due()
                self.store.fan_out()  # one batch per turn: requests in flight keep moving
                started = self._start_due()
                if until_idle and not self.in_flight and not started and self._idle():
                    break
                waiters: set[asyncio.Future[object]] = {stop_wait, *self.in_flight}  # type: ignore[arg-type]
                await asyncio.wait(waiters, timeout=self.settings.poll_interval,
                                   return_when=asyncio.FIRST_COMPLETED)
                self._reap()
        finally:
            stop_wait.cancel()
        return self.attempts

    def _renew_leases_when_due(self) -> None:
        now = time.monotonic()
        if now < self.next_renew:
            return
        self.next_renew = now + self.settings.lease_renew_interval
        self._apply_network_policy()
        if self.in_flight:
            self.store.renew([j.seq for j in self.in_flight.values()],
                             time.time() + self.settings.lease_seconds)

    def _apply_network_policy(self) -> None:
        """Follow the Settings (network policy, retry schedule, timeouts, response cap)
        while running: a change makes new clients (requests in flight finish on the
        old ones)."""
        strict = self.forced_strict or network_policy(self.store) == "strict"
        wanted = dataclasses.replace(with_options(self.base_settings,
                                                  delivery_options(self.store)),
                                     strict_network=strict)
        if wanted != self.settings:
            self.settings = wanted
            self.retired_clients += self.clients.values()
            self.clients = {}
            log.info("delivery settings changed (network policy %s)",
                     "strict" if strict else "workstation")

    def _prune_when_due(self) -> None:
        now = time.monotonic()
        if now < self.next_prune:
            return
        self.next_prune = now + self.settings.prune_interval
        deleted = prune_history(self.store)
        if deleted:
            log.info("pruned %d deliveries past the retention period", deleted)
        for hook in self.store.list_hooks():
            expiry = hook.previous_secret_expires_at
            if expiry is not None and expiry <= time.time():
                try:
                    self.secrets.delete(hook.id, previous=True)
                except SecretStoreError:
                    continue  # try again at the next prune
                self.store.update_hook(hook.id, clear_previous_secret=True)

    def _idle(self) -> bool:
        if self.store.outbox_waiting():
            return False
        due = self.store.next_due()
        return due is None or due > time.time()

    def _start_due(self) -> int:
        free = self.settings.max_in_flight - len(self.in_flight)
        if free <= 0:
            return 0
        limit = self.settings.per_hook_in_flight
        full = [h for h, n in self.per_hook.items() if n >= limit]
        jobs = self.store.claim_due(now=time.time(), lease_seconds=self.settings.lease_seconds,
                                    limit=free, skip_hooks=full, per_hook_limit=limit,
                                    in_flight=self.per_hook)
        for job in jobs:
            self.per_hook[job.hook_id] = self.per_hook.get(job.hook_id, 0) + 1
            task = asyncio.create_task(self._deliver(job))
            self.in_flight[task] = job
        return len(jobs)

    def _reap(self) -> None:
        for task in [t for t in self.in_flight if t.done()]:
            job = self.in_flight.pop(task)
            self.per_hook[job.hook_id] -= 1
            error = None if task.cancelled() else task.exception()
            if error is not None:
                log.error("delivery %s failed unexpectedly", job.id, exc_info=error)
                self._record_internal_error(job, error)

    async def _deliver(self, job: DeliveryJob) -> None:
        try:
            hook = self.store.get_hook(job.hook_id)
        except NotFoundError:
            return
        timestamp = int(time.time())
        try:
            secret = await self._secret(hook)
            previous = None
            if hook.previous_secret_expires_at is not None \
                    and hook.previous_secret_expires_at > time.time():
                previous = await self._secret(hook, previous=True)
        except SecretStoreError as err:
            attempt = AttemptRecord(
                started_at=time.time(), duration_ms=None, request_url=hook.url,
                request_headers={}, status_code=None, response_headers=None, response_body=None,
                response_truncated=False, error_kind="secret_unavailable",
                error_message=f"{ERROR_SENTENCES['secret_unavailable']} {err}")
        else:
            headers = delivery_headers(secret=secret, event_type=job.event_type,
                                       delivery_id=job.id, timestamp=timestamp, body=job.body,
                                       previous_secret=previous)
            try:
                client = self._client(hook)
            except InputError as err:
                attempt = AttemptRecord(
                    started_at=time.time(), duration_ms=None, request_url=hook.url,
                    request_headers=headers, status_code=None, response_headers=None,
                    response_body=None, response_truncated=False, error_kind="tls",
                    error_message=str(err))
            else:
                attempt = await post(client, hook.url, headers, job.body, self.settings)
        self._record(job, hook, attempt)

    def _record_internal_error(self, job: DeliveryJob, error: BaseException) -> None:
        """A bug or an unexpected failure, not the receiver's doing: record it as an
        attempt and retry on the schedule (never at once, which would spin)."""
        try:
            hook = self.store.get_hook(job.hook_id)
        except NotFoundError:
            return
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        self._record(job, hook, AttemptRecord(
            started_at=time.time(), duration_ms=None, request_url=redact_url(hook.url),
            request_headers={}, status_code=None, response_headers=None, response_body=None,
            response_truncated=False, error_kind="internal",
            error_message=f"hookadmin could not send this delivery ({detail}); it will be "
                          "retried."))

    def _record(self, job: DeliveryJob, hook: Hook, attempt: AttemptRecord) -> None:
        next_at: float | None = None
        number = job.attempts + 1
        if attempt.error_kind == "secret_unavailable":
            # Not the receiver's fault: wait for the keyring without using up the
            # retry schedule, however long it stays unavailable; never send unsigned.
            next_at = time.time() + self.settings.secret_retry_interval
            status = self.store.record_attempt(job, attempt, next_attempt_at=next_at)
            self._report(job, number, status, attempt, next_at)
            return
        if not attempt.succeeded:
            if attempt.error_kind == "policy":
                delay = None  # retrying cannot help until the URL or the policy changes
            elif attempt.status_code == 410:
                delay = None
                reason = ("The receiver answered 410 Gone, so the hook was deactivated "
                          f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
                self.store.update_hook(hook.id, active=False, deactivated_reason=reason)
            else:
                tried = self.store.counted_attempts(job.seq) + 1  # this one included
                delay = self.settings.next_delay(tried, retry_after=retry_after_seconds(attempt))
            next_at = None if delay is None else time.time() + delay
        status = self.store.record_attempt(job, attempt, next_attempt_at=next_at)
        if not attempt.succeeded and attempt.status_code != 410:
            self._deactivate_if_failing_too_long(hook, attempt)
        self._report(job, number, status, attempt, next_at)

    def _report(self, job: DeliveryJob, number: int, status: str, attempt: AttemptRecord,
                next_at: float | None) -> None:
        self.attempts += 1
        callback = self.engine._on_attempt
        if callback is not None:
            callback(AttemptOutcome(job.id, job.hook_id, job.event_type, number, status,
                                    attempt.status_code, attempt.error_kind,
                                    attempt.duration_ms, next_at))

    def _deactivate_if_failing_too_long(self, hook: Hook, attempt: AttemptRecord) -> None:
        since = self.store.failing_since(hook.id)
        if since is None or time.time() - since < self.settings.deactivate_after:
            return
        last = f"HTTP {attempt.status_code}" if attempt.status_code is not None \
            else attempt.error_kind
        reason = (f"Every delivery since {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(since))}"
                  f" failed ({_duration(self.settings.deactivate_after)} without a success; "
                  f"last: {last}), so the hook was deactivated. Fix the receiver, then "
                  "activate the hook again.")
        self.store.update_hook(hook.id, active=False, deactivated_reason=reason)
        log.warning("hook %d deactivated: %s", hook.id, reason)

    async def _secret(self, hook: Hook, *, previous: bool = False) -> str:
        """The hook's (or its replaced) secret, cached for a few seconds; a reset
        changes ``previous_secret_expires_at`` (``updated_at`` has whole seconds only)
        and so misses the cache at once."""
        key = (hook.id, hook.updated_at, hook.previous_secret_expires_at, previous)
        cached = self.secret_cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < SECRET_CACHE_SECONDS:
            return cached[1]
        if previous:
            value = await asyncio.to_thread(self.secrets.get_optional, hook.id, previous=True)
            if value is None:
                raise SecretStoreError("The replaced secret is gone.", cause="missing")
        else:
            value = await asyncio.to_thread(self.secrets.get, hook.id)
        self.secret_cache[key] = (now, value)
        return value

    def _client(self, hook: Hook) -> httpx.AsyncClient:
        key = (not hook.insecure_ssl, hook.ca_bundle)
        client = self.clients.get(key)
        if client is None:
            client = self.clients[key] = make_client(self.settings, verify=key[0],
                                                     ca_bundle=hook.ca_bundle)
        return client

    async def close(self) -> None:
        tasks = list(self.in_flight)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        leftover = [job.seq for job in self.in_flight.values()]
        self.in_flight.clear()
        if leftover:
            self.store.release(leftover)
        for client in [*self.clients.values(), *self.retired_clients]:
            await client.aclose()


def _duration(seconds: float) -> str:
    """``5 days``, ``3 hours``, ``12 minutes`` or ``4 seconds``."""
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            value = seconds / size
            return f"{value:g} {unit}{'' if value == 1 else 's'}"
    return f"{seconds:.3g} seconds"
