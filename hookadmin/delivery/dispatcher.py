"""Which claimed delivery is sent next: the engine's in-memory queues and limits.

Pure bookkeeping, no I/O and no event loop, so it is tested on its own (a state
machine in ``tests/delivery/test_dispatcher.py``). A delivery moves:

    claimed (:meth:`Dispatcher.add`) → ready, a FIFO queue per hook
    → in flight (:meth:`Dispatcher.take`) → ended (:meth:`Dispatcher.end`)

or, for a hook that stopped (410 Gone, made inactive, deleted), from ready to
"to release" (:meth:`Dispatcher.drop`): claimed, never sent, given back to the store.

Limits, from :class:`~hookadmin.delivery.policy.DeliverySettings`:

* ``per_hook_in_flight`` requests in flight to one hook (one for an ordered hook),
* ``max_in_flight`` over all hooks,
* the retry lane: ``retry_in_flight`` retries (deliveries tried before) in all and
  ``retry_per_hook_in_flight`` per hook; a retry without room in the lane lets the
  hook's next first attempt go first, so a backlog of retries never holds fresh events
  up — except on an ordered hook, whose queue leaves strictly in order;
* the retry pace: while fresh events flow (a first attempt was taken within the last
  ``fresh_flow_seconds``), retries start at most ``retry_rate_while_fresh`` per second
  over all hooks (a token bucket holding :data:`RETRY_BURST_SECONDS` of that rate, at
  least one), so a recovering receiver's backlog neither takes the engine's CPU and
  disk from fresh events nor stops draining; with no fresh events it goes at the
  lane's full speed.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from hookadmin.core.store import DeliveryJob
from hookadmin.delivery.bookkeeping_wire import ClaimRequest
from hookadmin.delivery.policy import DeliverySettings

RETRY_BURST_SECONDS = 0.05
"""Seconds of ``retry_rate_while_fresh`` that retries may start at once while fresh
events flow (the pace's bucket; at least one retry): about the engine's slowest look."""


class Dispatcher:
    """The ready queues and in-flight accounting of one engine run.

    Args:
        settings: the limits (read at every call, so a new value may be assigned to
            :attr:`settings` at any time).
        stopped: tells whether nothing more may be sent to a hook (by hook id); a
            stopped hook's ready deliveries are dropped when next looked at.
        clock: monotonic seconds, for the retry pace (a test passes its own).

    Attributes:
        ordered: ids of ordered (FIFO) hooks: one in flight at a time, never reordered.
        in_flight: delivery seq → delivery, for every delivery taken and not yet ended.
        ready_count: deliveries ready (claimed, not yet taken) over all hooks.
        held: hook id → deliveries of that hook held (ready + in flight); hooks that
            hold none are absent.
    """

    def __init__(self, settings: DeliverySettings, stopped: Callable[[int], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._fresh_at = -math.inf  # when a first attempt was last taken
        self._retry_budget = 0.0  # retries that may start now while fresh events flow
        self._budget_at = 0.0
        self.ordered: frozenset[int] = frozenset()
        self._stopped = stopped
        self.in_flight: dict[int, DeliveryJob] = {}
        self.ready: dict[int, deque[DeliveryJob]] = {}
        self.ready_count = 0
        self.held: dict[int, int] = {}
        self._running: dict[int, int] = {}  # hook id -> requests in flight
        self._retrying: dict[int, int] = {}  # hook id -> retries in flight
        self.retries_in_flight = 0
        self._to_release: list[int] = []

    # -- in -----------------------------------------------------------------------

    def add(self, job: DeliveryJob) -> bool:
        """Queue a claimed delivery at the end of its hook's queue. A delivery of a
        stopped hook is put aside for release instead (returns False)."""
        if self._stopped(job.hook_id):
            self._to_release.append(job.seq)
            return False
        queue = self.ready.get(job.hook_id)
        if queue is None:
            queue = self.ready[job.hook_id] = deque()
        queue.append(job)
        self.held[job.hook_id] = self.held.get(job.hook_id, 0) + 1
        self.ready_count += 1
        return True

    # -- out ----------------------------------------------------------------------

    def take(self, hook_id: int) -> DeliveryJob | None:
        """Take the next ready delivery of a hook into flight, if it has one and room
        under every limit, else None. A retry needs room in the retry lane too; without
        it the hook's next first attempt goes instead (not on an ordered hook)."""
        queue = self.ready.get(hook_id)
        if not queue:
            return None
        settings = self.settings
        ordered = hook_id in self.ordered
        limit = 1 if ordered else settings.per_hook_in_flight
        if len(self.in_flight) >= settings.max_in_flight \
                or self._running.get(hook_id, 0) >= limit:
            return None
        if self._stopped(hook_id):
            self.drop(hook_id)
            return None
        job = queue[0]
        now = self._clock()
        if job.attempts and (
                self.retries_in_flight >= settings.retry_in_flight
                or self._retrying.get(hook_id, 0) >= settings.retry_per_hook_in_flight
                or self._retry_allowance(now) < 1.0):
            if ordered:
                return None
            index = next((i for i, j in enumerate(queue) if not j.attempts), None)
            if index is None:
                return None
            job = queue[index]
            del queue[index]
        else:
            queue.popleft()
        if not queue:
            del self.ready[hook_id]
        self.ready_count -= 1
        self._running[hook_id] = self._running.get(hook_id, 0) + 1
        if job.attempts:
            self.retries_in_flight += 1
            self._retrying[hook_id] = self._retrying.get(hook_id, 0) + 1
            if self.fresh_flowing(now):
                self._retry_budget -= 1.0
        else:
            if not self.fresh_flowing(now):  # fresh events begin to flow: a full bucket
                self._retry_budget = self._burst()
                self._budget_at = now
            self._fresh_at = now
        self.in_flight[job.seq] = job
        return job

    def fresh_flowing(self, now: float) -> bool:
        """Whether fresh events flow at ``now`` (monotonic seconds): a first attempt
        was taken within the last ``fresh_flow_seconds``."""
        return now - self._fresh_at <= self.settings.fresh_flow_seconds

    def _burst(self) -> float:
        return max(1.0, self.settings.retry_rate_while_fresh * RETRY_BURST_SECONDS)

    def _retry_allowance(self, now: float) -> float:
        """Retries the pace lets start at ``now``: unlimited while no fresh events
        flow, else the bucket refilled at ``retry_rate_while_fresh`` per second."""
        if not self.fresh_flowing(now):
            return math.inf
        rate = self.settings.retry_rate_while_fresh
        self._retry_budget = min(self._burst(),
                                 self._retry_budget + max(0.0, now - self._budget_at) * rate)
        self._budget_at = now
        return self._retry_budget

    def take_any(self) -> DeliveryJob | None:
        """Take a ready delivery of any hook with room, or None."""
        for hook_id in list(self.ready):
            job = self.take(hook_id)
            if job is not None:
                return job
        return None

    def take_next(self, hook_id: int) -> DeliveryJob | None:
        """What a sender that has just ended a delivery of ``hook_id`` sends next: the
        same hook's next delivery, else any hook's (a slot stays busy without a trip
        through the loop), or None."""
        return self.take(hook_id) or self.take_any()

    def take_round(self) -> Iterator[DeliveryJob]:
        """Take ready deliveries while there is room, hooks in turn (one per hook per
        round), so no hook starts all of its queue before the others start any."""
        progress = True
        while progress and self.ready_count \
                and len(self.in_flight) < self.settings.max_in_flight:
            progress = False
            for hook_id in list(self.ready):
                if len(self.in_flight) >= self.settings.max_in_flight:
                    break
                job = self.take(hook_id)
                if job is not None:
                    progress = True
                    yield job

    def end(self, job: DeliveryJob) -> None:
        """A delivery taken by :meth:`take` is no longer in flight (sent, failed or
        cancelled).

        Raises:
            KeyError: the delivery is not in flight.
        """
        del self.in_flight[job.seq]
        hook_id = job.hook_id
        self._running[hook_id] -= 1
        if job.attempts:
            self.retries_in_flight -= 1
            self._retrying[hook_id] -= 1
        self.held[hook_id] -= 1
        self._forget_if_empty(hook_id)

    def drop(self, hook_id: int) -> None:
        """Put the hook's ready deliveries aside for release, so none of them is sent
        (those in flight go on)."""
        queue = self.ready.pop(hook_id, None)
        if not queue:
            return
        self.ready_count -= len(queue)
        self.held[hook_id] -= len(queue)
        self._to_release += [j.seq for j in queue]
        self._forget_if_empty(hook_id)

    def drop_stopped(self, known: Iterable[int]) -> None:
        """Drop the ready deliveries of every stopped hook, and of hooks not in
        ``known`` (deleted)."""
        keep = set(known)
        for hook_id in [h for h in self.ready if h not in keep or self._stopped(h)]:
            self.drop(hook_id)

    def _forget_if_empty(self, hook_id: int) -> None:
        if self.held.get(hook_id) == 0:
            del self.held[hook_id]
            self._running.pop(hook_id, None)
            self._retrying.pop(hook_id, None)

    # -- for the bookkeeper ---------------------------------------------------------

    def take_releases(self) -> list[int]:
        """The seqs put aside for release since the last call (emptied)."""
        release, self._to_release = self._to_release, []
        return release

    def give_back_releases(self, seqs: list[int]) -> None:
        """Seqs from :meth:`take_releases` that the store did not take after all."""
        self._to_release[:0] = seqs

    def leased(self) -> list[int]:
        """The seqs of every delivery held (in flight and ready): their leases to renew."""
        seqs = list(self.in_flight)
        for queue in self.ready.values():
            seqs += [j.seq for j in queue]
        return seqs

    def low_water(self) -> int:
        """Deliveries held by a hook at or below which it is running low."""
        return (1 + self.settings.low_rounds) * self.settings.per_hook_in_flight

    def claim_request(self) -> ClaimRequest | None:
        """What to claim to top the ready queues up: room up to ``claimed_per_engine``
        beyond those held; None when too little would fit and something is ready
        (claims come in batches, not one delivery per transaction)."""
        settings = self.settings
        room = settings.claimed_per_engine - len(self.in_flight) - self.ready_count
        if room < max(1, settings.max_in_flight // 4) and self.ready_count:
            return None
        retries = {h: n for h, queue in self.ready.items()
                   if (n := sum(1 for j in queue if j.attempts) + self._retrying.get(h, 0))}
        retries.update((h, n) for h, n in self._retrying.items() if n and h not in retries)
        low = self.low_water()
        running_low = any(n <= low for n in self.held.values())
        return ClaimRequest(room, dict(self.held), running_low, retries)

    def clear(self) -> list[int]:
        """Forget everything held (the run is over); returns the seqs of every delivery
        that was ready, in flight or put aside, to release."""
        leftover = self.take_releases() + self.leased()
        self.in_flight.clear()
        self.ready.clear()
        self.ready_count = 0
        self.held.clear()
        self._running.clear()
        self._retrying.clear()
        self.retries_in_flight = 0
        return leftover

    def running(self, hook_id: int) -> int:
        """Requests in flight to a hook."""
        return self._running.get(hook_id, 0)

    def retrying(self, hook_id: int) -> int:
        """Retries in flight to a hook."""
        return self._retrying.get(hook_id, 0)
