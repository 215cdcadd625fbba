"""The dispatcher's limits and queues, by a state machine of random claims, takes, ends,
stops, drops and the clock's ticks (Hypothesis): after every step no hook exceeds its
limit, the global and retry limits hold, every claimed delivery is in exactly one place
(ready, in flight, ended, or put aside for release) — none lost, none sent twice — an
ordered hook's deliveries leave in the order they were claimed, and while fresh events
flow retries start no faster than the retry pace."""

from __future__ import annotations

from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hookadmin.core.store import DeliveryJob
from hookadmin.delivery.dispatcher import RETRY_BURST_SECONDS, Dispatcher
from hookadmin.delivery.policy import DeliverySettings

HOOKS = st.integers(min_value=1, max_value=5)


class DispatcherMachine(RuleBasedStateMachine):
    """A model of the engine around a :class:`Dispatcher`: claims arrive (new deliveries
    and retries), senders take and end them, hooks stop and start again."""

    @initialize(max_in_flight=st.integers(1, 12), per_hook=st.integers(1, 5),
                retry_in_flight=st.integers(1, 6), retry_per_hook=st.integers(1, 3),
                ordered=st.frozensets(HOOKS, max_size=2),
                retry_rate=st.sampled_from([0.5, 4.0, 50.0, 1e6]),
                fresh_flow=st.sampled_from([0.0, 0.3, 1.0]))
    def start(self, max_in_flight: int, per_hook: int, retry_in_flight: int,
              retry_per_hook: int, ordered: frozenset[int], retry_rate: float,
              fresh_flow: float) -> None:
        self.limits = DeliverySettings(max_in_flight=max_in_flight,
                                       per_hook_in_flight=per_hook,
                                       retry_in_flight=retry_in_flight,
                                       retry_per_hook_in_flight=retry_per_hook,
                                       retry_rate_while_fresh=retry_rate,
                                       fresh_flow_seconds=fresh_flow)
        self.stopped: set[int] = set()
        self.now = 1000.0
        self.dispatcher = Dispatcher(self.limits, lambda hook_id: hook_id in self.stopped,
                                     clock=lambda: self.now)
        self.fresh_at: float | None = None  # when a first attempt was last taken
        self.flow = 0  # numbers the spells of fresh events flowing
        self.paced: list[tuple[int, float]] = []  # (flow, time) of each paced retry taken
        self.dispatcher.ordered = ordered
        self.next_seq = 1
        self.claimed: dict[int, DeliveryJob] = {}
        self.taken: Counter[int] = Counter()  # seq -> times taken into flight
        self.ended: set[int] = set()
        self.released: set[int] = set()
        self.sent_order: dict[int, list[int]] = {}  # ordered hook -> seqs in take order

    # -- rules ------------------------------------------------------------------

    @rule(hook_id=HOOKS, retry=st.booleans(), count=st.integers(1, 4))
    def claim(self, hook_id: int, retry: bool, count: int) -> None:
        for _ in range(count):
            seq = self.next_seq
            self.next_seq += 1
            job = DeliveryJob(seq, f"d{seq}", hook_id, "etl.run.finished", b"{}",
                              1 if retry else 0)
            self.claimed[seq] = job
            if not self.dispatcher.add(job):
                assert hook_id in self.stopped
                self.released |= set(self.dispatcher.take_releases())

    def _took(self, job: DeliveryJob | None) -> None:
        if job is None:
            return
        self.taken[job.seq] += 1
        flowing = self.fresh_at is not None \
            and self.now - self.fresh_at <= self.limits.fresh_flow_seconds
        if not job.attempts:
            if not flowing:
                self.flow += 1
            self.fresh_at = self.now
        elif flowing:
            self.paced.append((self.flow, self.now))
        if job.hook_id in self.dispatcher.ordered:
            self.sent_order.setdefault(job.hook_id, []).append(job.seq)

    @rule(hook_id=HOOKS)
    def take(self, hook_id: int) -> None:
        d = self.dispatcher
        fresh = any(not j.attempts for j in d.ready.get(hook_id, ()))
        has_room = hook_id not in self.stopped and hook_id not in d.ordered \
            and len(d.in_flight) < self.limits.max_in_flight \
            and d.running(hook_id) < self.limits.per_hook_in_flight
        job = d.take(hook_id)
        if has_room and fresh:
            assert job is not None, "a fresh delivery waited behind retries"
        self._took(job)

    @rule()
    def take_any(self) -> None:
        self._took(self.dispatcher.take_any())

    @rule()
    def take_round(self) -> None:
        for job in self.dispatcher.take_round():
            self._took(job)

    @precondition(lambda self: bool(self.dispatcher.in_flight))
    @rule(data=st.data(), go_on=st.booleans())
    def end(self, data: st.DataObject, go_on: bool) -> None:
        seq = data.draw(st.sampled_from(sorted(self.dispatcher.in_flight)))
        job = self.dispatcher.in_flight[seq]
        self.dispatcher.end(job)
        self.ended.add(seq)
        if go_on:  # the sender keeps its slot busy
            self._took(self.dispatcher.take_next(job.hook_id))

    @rule(seconds=st.sampled_from([0.001, 0.01, 0.1, 0.4, 2.0]))
    def tick(self, seconds: float) -> None:
        self.now += seconds

    @rule(hook_id=HOOKS)
    def stop_hook(self, hook_id: int) -> None:
        self.stopped.add(hook_id)

    @rule(hook_id=HOOKS)
    def start_hook(self, hook_id: int) -> None:
        self.stopped.discard(hook_id)

    @rule(hook_id=HOOKS)
    def drop(self, hook_id: int) -> None:
        self.dispatcher.drop(hook_id)

    @rule(known=st.frozensets(HOOKS))
    def hooks_reread(self, known: frozenset[int]) -> None:
        self.dispatcher.drop_stopped(known)

    @rule()
    def turn(self) -> None:
        self.released |= set(self.dispatcher.take_releases())
        request = self.dispatcher.claim_request()
        if request is not None:
            assert request.held == self.dispatcher.held
            assert request.room == (self.limits.claimed_per_engine
                                    - len(self.dispatcher.in_flight)
                                    - self.dispatcher.ready_count)

    # -- invariants -------------------------------------------------------------

    @invariant()
    def limits_hold(self) -> None:
        d = self.dispatcher
        in_flight = list(d.in_flight.values())
        assert len(in_flight) <= self.limits.max_in_flight
        per_hook = Counter(j.hook_id for j in in_flight)
        retries = Counter(j.hook_id for j in in_flight if j.attempts)
        for hook_id, n in per_hook.items():
            limit = 1 if hook_id in d.ordered else self.limits.per_hook_in_flight
            assert n <= limit, (hook_id, n)
            assert d.running(hook_id) == n
        assert sum(retries.values()) <= self.limits.retry_in_flight
        assert d.retries_in_flight == sum(retries.values())
        for hook_id, n in retries.items():
            assert n <= self.limits.retry_per_hook_in_flight
            assert d.retrying(hook_id) == n

    @invariant()
    def nothing_lost_nothing_twice(self) -> None:
        d = self.dispatcher
        assert all(n == 1 for n in self.taken.values()), "a delivery was sent twice"
        ready = [j.seq for queue in d.ready.values() for j in queue]
        assert len(ready) == d.ready_count
        pending = set(d.take_releases())
        d.give_back_releases(sorted(pending))
        places = [set(ready), set(d.in_flight), self.ended, self.released | pending]
        assert sum(len(p) for p in places) == len(self.claimed), "a delivery is in two places"
        assert set().union(*places) == set(self.claimed), "a delivery was lost"
        assert self.ended.isdisjoint(self.released | pending), "released after it was sent"
        held = Counter(j.hook_id for j in d.in_flight.values())
        held.update(self.claimed[s].hook_id for s in ready)
        assert d.held == dict(held)

    @invariant()
    def retries_keep_the_pace_while_fresh_events_flow(self) -> None:
        rate = self.limits.retry_rate_while_fresh
        burst = max(1.0, rate * RETRY_BURST_SECONDS)
        for i, (flow, at) in enumerate(self.paced):
            for j in range(i + 1):
                if self.paced[j][0] == flow:
                    since = self.paced[j][1]
                    count = sum(1 for f, t in self.paced[j:i + 1] if f == flow)
                    assert count <= burst + rate * (at - since) + 1e-9, \
                        f"{count} retries in {at - since:.3f} s while fresh events flowed"

    @invariant()
    def ordered_hooks_are_fifo(self) -> None:
        for seqs in self.sent_order.values():
            assert seqs == sorted(seqs), "an ordered hook's deliveries left out of order"


DispatcherMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60,
                                              deadline=None)
test_dispatcher_state_machine = DispatcherMachine.TestCase


def test_a_retry_without_room_in_the_lane_lets_a_first_attempt_go_first() -> None:
    limits = DeliverySettings(retry_in_flight=1, retry_per_hook_in_flight=1)
    d = Dispatcher(limits, lambda hook_id: False)
    for seq, attempts in ((1, 1), (2, 1), (3, 0)):
        d.add(DeliveryJob(seq, f"d{seq}", 7, "e", b"", attempts))
    first = d.take(7)
    second = d.take(7)
    assert first is not None
    assert second is not None
    assert (first.seq, second.seq) == (1, 3)  # the second retry waits for the lane
    assert d.take(7) is None


def test_an_ordered_hook_waits_for_its_retry_in_order() -> None:
    limits = DeliverySettings(retry_in_flight=1, retry_per_hook_in_flight=1)
    d = Dispatcher(limits, lambda hook_id: False)
    d.ordered = frozenset({7})
    d.add(DeliveryJob(9, "d9", 8, "e", b"", 1))
    other = d.take(8)  # another hook's retry fills the lane
    assert other is not None
    d.add(DeliveryJob(1, "d1", 7, "e", b"", 1))
    d.add(DeliveryJob(2, "d2", 7, "e", b"", 0))
    assert d.take(7) is None  # the fresh one does not pass the waiting retry
    d.end(other)
    taken = d.take(7)
    assert taken is not None
    assert taken.seq == 1
    assert d.take(7) is None  # one in flight at a time


class _Clock:
    """Monotonic seconds that a test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _paced(rate: float, clock: _Clock) -> Dispatcher:
    limits = DeliverySettings(retry_in_flight=16, retry_per_hook_in_flight=16,
                              retry_rate_while_fresh=rate, fresh_flow_seconds=1.0)
    return Dispatcher(limits, lambda hook_id: False, clock=clock)


def test_while_fresh_events_flow_retries_start_at_the_paced_rate() -> None:
    clock = _Clock()
    d = _paced(8.0, clock)  # a bucket of one retry, refilled every 0.125 s
    d.add(DeliveryJob(1, "d1", 8, "e", b"", 0))
    for seq in range(2, 8):
        d.add(DeliveryJob(seq, f"d{seq}", 7, "e", b"", 1))
    assert d.take(8) is not None  # a first attempt: fresh events flow
    taken = d.take(7)
    assert taken is not None
    assert taken.seq == 2
    assert d.take(7) is None  # the bucket is empty
    clock.now += 0.0625
    assert d.take(7) is None
    clock.now += 0.0625
    taken = d.take(7)
    assert taken is not None
    assert taken.seq == 3


def test_a_first_attempt_passes_a_retry_that_waits_for_the_pace() -> None:
    clock = _Clock()
    d = _paced(1.0, clock)
    d.add(DeliveryJob(1, "d1", 8, "e", b"", 0))
    for seq, attempts in ((2, 1), (3, 1), (4, 0)):
        d.add(DeliveryJob(seq, f"d{seq}", 7, "e", b"", attempts))
    assert d.take(8) is not None
    assert [j.seq for j in (d.take(7), d.take(7)) if j is not None] == [2, 4]


def test_without_fresh_events_retries_go_at_the_lanes_speed() -> None:
    clock = _Clock()
    d = _paced(1.0, clock)
    for seq in range(1, 6):
        d.add(DeliveryJob(seq, f"d{seq}", 7, "e", b"", 1))
    assert len(list(d.take_round())) + len(list(d.take_round())) == 5


def test_the_pace_ends_when_fresh_events_stop_and_a_new_flow_starts_with_a_full_bucket(
) -> None:
    clock = _Clock()
    d = _paced(1.0, clock)
    d.add(DeliveryJob(1, "d1", 8, "e", b"", 0))
    for seq in range(2, 9):
        d.add(DeliveryJob(seq, f"d{seq}", 7, "e", b"", 1))
    assert d.take(8) is not None
    assert d.take(7) is not None
    assert d.take(7) is None
    clock.now += 1.01  # no first attempt for longer than fresh_flow_seconds
    assert not d.fresh_flowing(clock.now)
    assert [d.take(7) is not None for _ in range(3)] == [True, True, True]
    d.add(DeliveryJob(20, "d20", 8, "e", b"", 0))
    assert d.take(8) is not None  # fresh events flow again
    assert d.take(7) is not None  # the bucket's one retry
    assert d.take(7) is None
