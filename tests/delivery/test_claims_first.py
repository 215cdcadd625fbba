"""A bookkeeper turn that has finished attempts to record commits and hands over its
claims first: a fresh delivery is claimed, and can be sent, while a batch of a retry
storm's attempts is still being recorded; an attempt's status still comes back only
once its record is committed."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookadmin.core.errors import StoreBusyError
from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME, AttemptRecord, DeliveryJob
from hookadmin.delivery.bookkeeper import Bookkeeper
from hookadmin.delivery.bookkeeping import BookkeepingProcess
from hookadmin.delivery.bookkeeping_wire import (
    Claimed,
    ClaimRequest,
    Finished,
    FinishedWire,
    TurnRequest,
    TurnResult,
    job_from_wire,
)
from tests.delivery.test_lanes import _retries_due
from tests.helpers import FAST, body, db_rows, running_engine, wait_until
from tests.receiver import Receiver

RETRIES = 40  # a hook's claim holds at most claimed_per_hook (40) deliveries


def _ok(job: DeliveryJob) -> FinishedWire:
    """The wire form of a successful attempt of ``job``."""
    return Finished.to_wire(job, AttemptRecord(
        started_at=time.time(), duration_ms=1.0, request_url="http://127.0.0.1/",
        request_headers={}, status_code=204, response_headers=[], response_body=b"",
        response_truncated=False, error_kind=None, error_message=None))


def _claim() -> ClaimRequest:
    return ClaimRequest(room=200, held={}, running_low=True)


def _recorded(home: Path, hook_id: int) -> int:
    """Attempts of the hook's deliveries that are recorded as succeeded, read on a
    connection of the test's own (what another process sees committed)."""
    ((count,),) = db_rows(home, "SELECT count(*) FROM deliveries WHERE hook_id = ?"
                                " AND status = 'succeeded'", (hook_id,))
    return int(count)


def _leased(home: Path, hook_id: int) -> int:
    ((count,),) = db_rows(home, "SELECT count(*) FROM deliveries WHERE hook_id = ?"
                                " AND lease_until IS NOT NULL", (hook_id,))
    return int(count)


@pytest.fixture
def storm(service: HookService) -> Iterator[tuple[Bookkeeper, int, int, list[DeliveryJob]]]:
    """A bookkeeper holding (claimed) :data:`RETRIES` retries of hook A, and one fresh
    event published to hook B since: (keeper, A's id, B's id, A's claimed deliveries)."""
    a = service.create_hook(url="http://127.0.0.1:9/a", events=["job.failed"], name="A")
    b = service.create_hook(url="http://127.0.0.1:9/b", events=["job.completed"], name="B")
    _retries_due(service, a.id, RETRIES)
    keeper = Bookkeeper(service.home, FAST)
    try:
        keeper.open()
        retries = [job_from_wire(w) for w in keeper.turn(
            TurnRequest([], None, [], _claim(), False)).jobs]
        assert [j.hook_id for j in retries] == [a.id] * RETRIES
        service.publish("job.completed", body("job.completed"))
        yield keeper, a.id, b.id, retries
    finally:
        keeper.close()


def test_the_claims_are_committed_and_handed_over_before_the_records(
        service: HookService, storm: tuple[Bookkeeper, int, int, list[DeliveryJob]]) -> None:
    keeper, a, b, retries = storm
    seen: list[tuple[list[int], int, int]] = []

    def early(claimed: Claimed) -> None:
        # Between the two commits: B's claim is in the database, A's records are not.
        seen.append(([job_from_wire(w).hook_id for w in claimed.jobs],
                     _leased(service.home, b), _recorded(service.home, a)))

    turn = keeper.turn(TurnRequest([_ok(j) for j in retries], None, [], _claim(), False),
                       early)
    assert seen == [([b], 1, 0)]
    assert turn.jobs == []  # they came first
    assert [status for status, _ in turn.statuses] == ["succeeded"] * RETRIES
    assert _recorded(service.home, a) == RETRIES


def test_without_attempts_to_record_a_turn_is_one_reply(
        service: HookService, storm: tuple[Bookkeeper, int, int, list[DeliveryJob]]) -> None:
    keeper, _, b, _ = storm
    seen: list[Claimed] = []
    turn = keeper.turn(TurnRequest([], None, [], _claim(), False), seen.append)
    assert seen == []
    assert [job_from_wire(w).hook_id for w in turn.jobs] == [b]


def test_when_the_records_fail_the_claims_stand_and_the_attempts_are_recorded_later(
        service: HookService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKADMIN_BUSY_TIMEOUT", "0.2")
    a = service.create_hook(url="http://127.0.0.1:9/a", events=["job.failed"], name="A")
    b = service.create_hook(url="http://127.0.0.1:9/b", events=["job.completed"], name="B")
    _retries_due(service, a.id, 5)
    keeper = Bookkeeper(service.home, FAST)  # opened with the short busy timeout
    other = sqlite3.connect(service.home / DB_FILENAME, isolation_level=None)
    try:
        keeper.open()
        retries = [job_from_wire(w) for w in keeper.turn(
            TurnRequest([], None, [], _claim(), False)).jobs]
        service.publish("job.completed", body("job.completed"))
        finished = [_ok(j) for j in retries]
        claimed: list[Claimed] = []

        def early(part: Claimed) -> None:
            claimed.append(part)
            other.execute("BEGIN IMMEDIATE")  # another process takes the write lock

        with pytest.raises(StoreBusyError):
            keeper.turn(TurnRequest(finished, None, [], _claim(), False), early)
        other.execute("ROLLBACK")
        assert [job_from_wire(w).hook_id for w in claimed[0].jobs] == [b.id]
        assert _leased(service.home, b.id) == 1  # the claim was committed
        assert _recorded(service.home, a.id) == 0  # the records were not
        # The engine keeps the attempts and hands them to its next turn.
        again = keeper.turn(TurnRequest(finished, None, [], _claim(), False))
        assert [status for status, _ in again.statuses] == ["succeeded"] * 5
        assert again.jobs == []  # B's delivery stays with the claim that holds it
        assert _recorded(service.home, a.id) == 5
    finally:
        other.close()
        keeper.close()


def test_the_child_process_sends_the_claims_ahead_of_the_turns_result(
        service: HookService) -> None:
    a = service.create_hook(url="http://127.0.0.1:9/a", events=["job.failed"], name="A")
    b = service.create_hook(url="http://127.0.0.1:9/b", events=["job.completed"], name="B")
    _retries_due(service, a.id, RETRIES)

    async def main() -> tuple[list[object], list[object]]:
        keeper = await BookkeepingProcess.start(service.home, FAST)
        try:
            await keeper.open()
            got: list[object] = []
            retries = [job_from_wire(w) for w in (await keeper.turn(
                TurnRequest([], None, [], _claim(), False))).jobs]
            service.publish("job.completed", body("job.completed"))
            turn = await keeper.turn(
                TurnRequest([_ok(j) for j in retries[:20]], None, [], _claim(), False),
                got.append)
            got.append(turn)
            # Without a handler the two parts come back as one result.
            service.publish("job.completed", body("job.completed", id=2))
            merged = await keeper.turn(
                TurnRequest([_ok(j) for j in retries[20:]], None, [], _claim(), False))
            return got, [merged]
        finally:
            await keeper.close()

    got, (merged,) = asyncio.run(main())
    claimed, turn = got
    assert isinstance(claimed, Claimed)
    assert [job_from_wire(w).hook_id for w in claimed.jobs] == [b.id]
    assert isinstance(turn, TurnResult)
    assert (turn.jobs, len(turn.statuses)) == ([], 20)
    assert isinstance(merged, TurnResult)
    assert [job_from_wire(w).hook_id for w in merged.jobs] == [b.id]
    assert len(merged.statuses) == 20
    assert _recorded(service.home, a.id) == RETRIES


def test_a_fresh_event_in_a_retry_storm_is_delivered_and_every_retry_recorded_once(
        service: HookService, make_receiver: Callable[..., Receiver]) -> None:
    receiver_a = make_receiver()
    receiver_b = make_receiver()
    a = service.create_hook(url=receiver_a.url, events=["job.failed"], name="A")
    b = service.create_hook(url=receiver_b.url, events=["job.completed"], name="B")
    _retries_due(service, a.id, 400)
    with running_engine(service.home, FAST):
        receiver_a.wait_for_requests(20)  # the storm is under way
        service.publish("job.completed", body("job.completed"))
        receiver_b.wait_for_requests(1)
        wait_until(lambda: _recorded(service.home, a.id) == 400, "every retry recorded")
        wait_until(lambda: _recorded(service.home, b.id) == 1, "B's delivery recorded")
    assert db_rows(service.home, "SELECT count(*), min(number), max(number) FROM attempts"
                                 " JOIN deliveries d ON d.seq = delivery_seq"
                                 " WHERE d.hook_id = ?", (a.id,)) == [(400, 2, 2)]
    assert len(receiver_a.requests()) == 400
    assert [r.header("X-Hook-Event") for r in receiver_b.requests()] == ["job.completed"]


def _delivery_of(home: Path, event_id: str) -> int:
    ((seq,),) = db_rows(home, "SELECT d.seq FROM deliveries d JOIN events e"
                              " ON e.seq = d.event_seq WHERE e.id = ?", (event_id,))
    assert isinstance(seq, int)
    return seq


def test_an_event_committed_while_the_turn_records_is_claimed_in_that_turn(
        service: HookService, storm: tuple[Bookkeeper, int, int, list[DeliveryJob]]) -> None:
    keeper, a, b, retries = storm
    published: list[str] = []
    early_jobs: list[DeliveryJob] = []

    def early(claimed: Claimed) -> None:
        early_jobs.extend(job_from_wire(w) for w in claimed.jobs)
        # Between the claims' commit and the records' transaction (a publisher that
        # waited for the write lock commits right when it is free).
        published.append(service.publish("job.completed", body("job.completed", id=2)))

    turn = keeper.turn(TurnRequest([_ok(j) for j in retries], None, [], _claim(), False),
                       early)
    assert [j.hook_id for j in early_jobs] == [b]
    assert [status for status, _ in turn.statuses] == ["succeeded"] * RETRIES
    assert [job_from_wire(w).seq for w in turn.jobs] == [_delivery_of(service.home,
                                                                      published[0])]
    assert _recorded(service.home, a) == RETRIES
    assert _leased(service.home, b) == 2
    # Nothing is claimed twice: the next turn has nothing new.
    assert keeper.turn(TurnRequest([], None, [], _claim(), False)).jobs == []


def test_the_claim_after_the_records_keeps_to_the_room_left(
        service: HookService, storm: tuple[Bookkeeper, int, int, list[DeliveryJob]]) -> None:
    keeper, _, b, retries = storm
    published: list[str] = []

    def early(claimed: Claimed) -> None:
        published.append(service.publish("job.completed", body("job.completed", id=2)))

    one = ClaimRequest(room=1, held={}, running_low=True)
    turn = keeper.turn(TurnRequest([_ok(j) for j in retries], None, [], one, False), early)
    assert turn.jobs == []  # the first part took the room there was
    assert _leased(service.home, b) == 1
    # The event was fanned out all the same; it is claimed once there is room.
    seq = _delivery_of(service.home, published[0])
    assert [job_from_wire(w).seq for w in keeper.turn(
        TurnRequest([], None, [], _claim(), False)).jobs] == [seq]


def test_a_failed_claim_after_the_records_leaves_the_records_and_the_next_turn_claims(
        service: HookService, storm: tuple[Bookkeeper, int, int, list[DeliveryJob]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    keeper, a, _, retries = storm
    published: list[str] = []
    fan_out = keeper.store.fan_out

    def busy(**kwargs: object) -> int:
        # A lock held past the busy timeout, at exactly this point: not producible
        # for real without stopping the bookkeeper in between.
        raise StoreBusyError("hookadmin's database was locked", "try again")

    def early(claimed: Claimed) -> None:
        published.append(service.publish("job.completed", body("job.completed", id=2)))
        monkeypatch.setattr(keeper.store, "fan_out", busy)

    turn = keeper.turn(TurnRequest([_ok(j) for j in retries], None, [], _claim(), False),
                       early)
    assert [status for status, _ in turn.statuses] == ["succeeded"] * RETRIES
    assert turn.jobs == []
    assert _recorded(service.home, a) == RETRIES
    monkeypatch.setattr(keeper.store, "fan_out", fan_out)
    again = keeper.turn(TurnRequest([], None, [], _claim(), False))
    assert [job_from_wire(w).seq for w in again.jobs] == [_delivery_of(service.home,
                                                                       published[0])]
