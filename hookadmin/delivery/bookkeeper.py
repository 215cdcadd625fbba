"""One engine run's database work: what its bookkeeper does, in whatever process or
thread runs it.

An engine (:mod:`hookadmin.delivery.engine`) sends; its bookkeeper records. Every
database statement of an engine run happens here, through the store's protocols:
fanning new events out to deliveries, claiming (leasing) due deliveries, renewing and
releasing leases, recording attempts and carrying out what
:mod:`hookadmin.delivery.retry` decides comes next (the retry schedule, ``410 Gone``,
deactivating a hook that keeps failing), pruning old history. The engine asks for one
*turn* at a time and waits for its answer before the next, so at most one transaction
is open at a time.

A :class:`Bookkeeper` runs in a child process for SQLite
(:mod:`hookadmin.delivery.bookkeeping`) and on a thread for a team database
(:mod:`hookadmin.delivery.bookkeeping_thread`); both call it through the typed requests
of :mod:`hookadmin.delivery.bookkeeping_wire`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hookadmin.core.errors import SecretStoreError, StoreError
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
    Claimed,
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
    Status,
    TakeLogs,
    TurnRequest,
    TurnResult,
    WindUp,
    WoundUp,
    job_to_wire,
)
from hookadmin.delivery.operator import AttemptSummary, OperatorEvents
from hookadmin.delivery.policy import DeliverySettings, with_options, with_proxy

if TYPE_CHECKING:  # the child process never imports the keyring it does not need
    from hookadmin.core.secrets import HookSecrets


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
        # Its turns never wait for a checkpoint of SQLite's log (a thread does them).
        self.store: Repository = open_store(self.location, durable=False,
                                            checkpoint_thread=True)
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

    def turn(self, request: TurnRequest,
             early: Callable[[Claimed], None] | None = None) -> TurnResult:
        """One turn: record what finished, keep leases, and when something changed or
        is due, fan out new events and claim deliveries.

        Without ``early``, or with no finished attempt to record, the turn is one
        transaction. With ``early`` and attempts to record, it is two: the fan-out and
        the claim are committed first and handed to ``early`` as a :class:`Claimed`
        (when they claimed something, or hooks or settings were re-read), then the
        attempts are recorded and the leases renewed and released in a transaction of
        their own. Fresh deliveries then go out while a batch of finished attempts (a
        retry storm's) is being recorded, instead of waiting for it; an attempt's status
        still comes back only once its record is committed. The returned
        :class:`TurnResult` then leaves out what ``early`` was given. The first
        transaction looks for new events again once it holds the write lock, and after
        the records' commit a third, short one fans out and claims (with the room the
        first left) whatever another connection committed meanwhile; those deliveries
        come with the :class:`TurnResult`, not a turn later. A failure of that third
        transaction is logged and left to the next turn (the records stand).

        Args:
            request: the turn's work.
            early: called (on this thread) with the first part of the reply, at most once.

        Raises:
            StoreError: a transaction failed and was rolled back; when ``early`` was
                called before, its claims stand (committed) and only the records,
                renewals and releases were not written.
        """
        statuses: list[Status] = []
        settings: DeliverySettings | None = None
        self._prune_when_due()
        now = time.monotonic()
        version = self.store.data_version()
        # A full fan-out batch last turn: more events wait, so look again now. A
        # publisher's signal (request.look) may come before this connection sees its
        # commit (a team database's NOTIFY reaches each connection on its own).
        full = version != self.data_version or now >= self.next_full_turn or self.backlog \
            or request.look
        if request.secret_waits_due:  # the keyring is back: they go out at once
            brought = self.store.retry_secret_waits(time.time())
            self.logs.append((logging.INFO, f"{brought} deliveries that waited for the "
                                            "keyring are due now"))
            full = True
        if full:
            self.data_version = version
            self.next_full_turn = now + self.settings.poll_interval
        if request.renew is not None:
            settings = self.settings = self._wanted_settings()
            self.ordered = ordered_hooks(self.store)
        claim = request.claim
        if claim is not None and not (full or claim.running_low):
            claim = None
        hooks: dict[int, Hook] | None = None
        jobs: list[JobWire] = []
        early_jobs: list[JobWire] = []
        two_parts = early is not None and bool(request.finished)
        if early is not None and request.finished and (full or claim is not None):
            # Fresh work first, committed on its own: it never waits for the records.
            with self.store.transaction(batched=True):
                # Looked again with the write lock held: a publisher that held it
                # while this turn waited has committed by now.
                full = self._arrived() or full
                hooks, early_jobs = self._fan_out_and_claim(full, claim)
            if early_jobs or hooks is not None or settings is not None:
                early(Claimed(early_jobs, hooks, settings))
                hooks, settings = None, None
            full, claim = False, None
        if request.finished or request.release or request.renew or full or claim is not None:
            # One commit; batched: the writes that return nothing (records, releases,
            # renewals) reach a team database with the transaction's next read.
            with self.store.transaction(batched=True):
                if request.finished:
                    statuses = self._record([Finished.from_wire(f) for f in request.finished])
                if request.release:
                    self.store.release(request.release)
                if request.renew:
                    self.store.renew(request.renew, time.time() + self.settings.lease_seconds)
                if full or claim is not None:
                    hooks, jobs = self._fan_out_and_claim(full, claim)
        if two_parts and request.claim is not None and self._arrived():
            # Events committed while this turn recorded (a publisher waits for the
            # write lock the records hold): fanned out and claimed in this turn, not
            # the next one.
            again, more = self._claim_arrived(_after(request.claim, early_jobs + jobs))
            hooks = again if again is not None else hooks
            jobs += more
        idle = request.check_idle and not (jobs or early_jobs) and self._idle()
        return TurnResult(statuses, jobs, hooks, settings, idle, self.take_logs())

    def _arrived(self) -> bool:
        """Whether another connection committed since the last look (the store's
        :meth:`~hookadmin.core.store.ports.Outbox.data_version`); remembers the new
        version."""
        version = self.store.data_version()
        if version == self.data_version:
            return False
        self.data_version = version
        return True

    def _claim_arrived(self, claim: ClaimRequest
                       ) -> tuple[dict[int, Hook] | None, list[JobWire]]:
        """After a turn's records are committed: fan out and claim in a transaction of
        its own. A failure here is not the turn's (its records stand): it is logged
        and the next turn looks again."""
        try:
            with self.store.transaction(batched=True):
                return self._fan_out_and_claim(True, claim if claim.room > 0 else None)
        except StoreError as err:
            self.data_version = -1  # look again next turn
            self.logs.append((logging.INFO, f"new events wait for the next turn: {err}"))
            return None, []

    def _fan_out_and_claim(self, full: bool, claim: ClaimRequest | None
                           ) -> tuple[dict[int, Hook] | None, list[JobWire]]:
        """In a turn's transaction: with ``full``, re-read the hooks when one changed
        and fan out one batch of new events; then claim per ``claim`` (None: nothing).
        Returns every hook by id (None: none changed or not ``full``) and the claimed
        deliveries."""
        hooks: dict[int, Hook] | None = None
        if full:
            hooks = self._changed_hooks()
            # One batch per turn (see DeliverySettings.fan_out_batch).
            batch = self.settings.fan_out_batch
            self.backlog = self.store.fan_out(limit=batch) >= batch
        jobs = [job_to_wire(job) for job in self._claim(claim)] if claim is not None else []
        return hooks, jobs

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

    def answer(self, request: Request, early: Callable[[Claimed], None] | None = None
               ) -> Reply:
        """The reply to one request from the engine (see
        :mod:`hookadmin.delivery.bookkeeping_wire`); ``early`` gets a turn's first part
        (see :meth:`turn`).

        Raises:
            whatever the call raised (the caller sends it back as a Failure).
        """
        match request:
            case TurnRequest():
                return self.turn(request, early)
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

                    self.secrets = open_hook_secrets(  # never a password prompt
                        self.location, self.store.store_id, self.store.parent_store_ids,
                        prompt=False)
                try:
                    self.secrets.delete(hook.id, previous=True)
                except SecretStoreError:
                    continue  # try again at the next prune
                self.store.update_hook(hook.id, clear_previous_secret=True)


def _after(claim: ClaimRequest, claimed: list[JobWire]) -> ClaimRequest:
    """``claim`` with the deliveries of ``claimed`` (job tuples, see
    :func:`~hookadmin.delivery.bookkeeping_wire.job_to_wire`) taken out of its room and
    counted as held."""
    held = dict(claim.held)
    retries = dict(claim.held_retries)
    for _, _, hook_id, _, _, attempts in claimed:
        held[hook_id] = held.get(hook_id, 0) + 1
        if attempts:
            retries[hook_id] = retries.get(hook_id, 0) + 1
    return dataclasses.replace(claim, room=claim.room - len(claimed), held=held,
                               held_retries=retries)
