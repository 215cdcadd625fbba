"""The engine's bookkeeping turns on the PostgreSQL store: the hot path (fan-out,
claim, record, renew, release, idle) in one transaction per turn, or two when the
claims go ahead of the records, as with SQLite.

The bookkeeper opens the SQLite store of its data directory; until team mode chooses
the store by URL, these tests put a :class:`PostgresStore` in its place."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.hooks import Hook
from hookadmin.core.store import AttemptRecord, DeliveryJob
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.delivery.bookkeeper import Bookkeeper
from hookadmin.delivery.bookkeeping import (
    Claimed,
    ClaimRequest,
    Finished,
    TurnRequest,
    job_from_wire,
)
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import wait_until


@pytest.fixture
def keeper(tmp_path: Path, postgres_url: str) -> Iterator[Bookkeeper]:
    keeper = Bookkeeper(tmp_path / "home", DeliverySettings())
    keeper.store.close()
    keeper.store = PostgresStore.init(postgres_url)  # type: ignore[assignment]
    keeper.settings = keeper._wanted_settings()
    try:
        yield keeper
    finally:
        keeper.close()


def _answer(status: int) -> AttemptRecord:
    return AttemptRecord(started_at=time.time(), duration_ms=2.0, request_url="https://x/",
                         request_headers={}, status_code=status, response_headers=[],
                         response_body=b"", response_truncated=False,
                         error_kind=None if status < 300 else "http_status",
                         error_message=None)


def _claim(room: int = 10) -> TurnRequest:
    return TurnRequest([], None, [], ClaimRequest(room=room, held={}, running_low=True),
                       check_idle=True)


def _claimed_and_one_fresh(keeper: Bookkeeper) -> tuple[Hook, list[DeliveryJob]]:
    """Hooks A (job.failed) and B (job.completed), A's five deliveries claimed (as
    though being tried), then one job.completed event published for B, not yet fanned
    out: B, and A's claimed deliveries."""
    store = keeper.store
    store.add_hook(name="", url="https://example.com/a", events=["job.failed"], active=True)
    b = store.add_hook(name="", url="https://example.com/b", events=["job.completed"],
                       active=True)
    keeper.open()
    store.add_events([("job.failed", b"{}")] * 5)
    claimed = [job_from_wire(w) for w in keeper.turn(_claim()).jobs]
    store.add_events([("job.completed", b'{"id": 1}')])
    return b, claimed


def _record_and_claim(succeeded: list[DeliveryJob]) -> TurnRequest:
    """A turn that records a 200 for each of ``succeeded`` and claims what is due."""
    return TurnRequest([Finished.to_wire(j, _answer(200)) for j in succeeded], None, [],
                       ClaimRequest(room=10, held={}, running_low=True), check_idle=False)


def test_a_turn_fans_out_claims_and_records(keeper: Bookkeeper) -> None:
    store = keeper.store
    ok = store.add_hook(name="", url="https://example.com/ok", events=["job"], active=True)
    gone = store.add_hook(name="", url="https://example.com/gone", events=["job.failed"],
                          active=True)
    opened = keeper.open()
    assert set(opened.hooks) == {ok.id, gone.id}
    assert opened.store_id == store.store_id
    store.add_events([("job.failed", b'{"id": 1}'), ("job.started", b'{"id": 2}')])

    turn = keeper.turn(_claim())
    jobs = [job_from_wire(w) for w in turn.jobs]
    assert sorted((j.hook_id, j.event_type) for j in jobs) == sorted(
        [(ok.id, "job.failed"), (ok.id, "job.started"), (gone.id, "job.failed")])
    assert turn.idle is False

    # One turn records every answer, renews nothing and claims nothing new: the
    # receiver of `gone` answered 410, so that hook is switched off in the same commit.
    finished = [Finished.to_wire(j, _answer(410 if j.hook_id == gone.id else 200))
                for j in jobs]
    recorded = keeper.turn(TurnRequest(finished, [], [], None, check_idle=True))
    assert [s for s, _ in recorded.statuses] == ["failed" if j.hook_id == gone.id
                                                 else "succeeded" for j in jobs]
    assert recorded.idle is True
    hook = store.get_hook(gone.id)
    assert hook.active is False
    assert "410 Gone" in (hook.deactivated_reason or "")
    # The change reaches the engine's cached hooks in that turn or the next full one.
    hooks = recorded.hooks or keeper.turn(_claim()).hooks
    assert hooks is not None
    assert hooks[gone.id].active is False


def test_released_and_renewed_leases_and_retries(keeper: Bookkeeper) -> None:
    store = keeper.store
    hook = store.add_hook(name="", url="https://example.com/h", events=["job"], active=True)
    keeper.open()
    store.add_events([("job.failed", b"{}"), ("job.failed", b"{}")])
    first, second = (job_from_wire(w) for w in keeper.turn(_claim()).jobs)
    assert keeper.turn(_claim()).jobs == []  # both leased
    # The engine stops: one attempt finished, the other is given back.
    statuses = keeper.wind_up([Finished.to_wire(first, _answer(503))], [second.seq])
    ((status, next_at),) = statuses
    assert status == "pending"
    assert next_at is not None
    assert next_at > time.time() - 1
    again = [job_from_wire(w) for w in keeper.turn(_claim()).jobs]
    assert [j.id for j in again] == [second.id]
    keeper.turn(TurnRequest([], [second.seq], [], None, check_idle=False))
    delivery = store.get_delivery(first.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) \
        == ("pending", 1, 503)
    assert store.failing_since(hook.id) is not None
    assert isinstance(again[0], DeliveryJob)


def test_with_attempts_to_record_the_claims_are_committed_first(keeper: Bookkeeper,
                                                                postgres_url: str) -> None:
    store = keeper.store
    b, retries = _claimed_and_one_fresh(keeper)
    seen: list[tuple[list[int], str, str, int]] = []

    def early(claimed: Claimed) -> None:
        # Between the two commits, seen from another connection (another machine).
        (fresh,) = [job_from_wire(w) for w in claimed.jobs]
        with PostgresStore.init(postgres_url) as other:
            seen.append(([fresh.hook_id], other.get_delivery(retries[0].id).status,
                         other.get_delivery(fresh.id).status,
                         len(other.claim_due(now=time.time(), lease_seconds=10, limit=10))))

    turn = keeper.turn(_record_and_claim(retries), early)
    # B's delivery was claimed (nothing left to claim for another engine) while A's
    # attempts were not yet recorded; they were once the turn returned.
    assert seen == [([b.id], "pending", "pending", 0)]
    assert turn.jobs == []
    assert [s for s, _ in turn.statuses] == ["succeeded"] * 5
    assert {store.get_delivery(j.id).status for j in retries} == {"succeeded"}


def test_events_published_while_a_turn_records_are_claimed_in_that_turn(
        keeper: Bookkeeper, postgres_url: str) -> None:
    store = keeper.store
    b, retries = _claimed_and_one_fresh(keeper)
    published: list[str] = []
    first: list[int] = []

    def early(claimed: Claimed) -> None:
        first.extend(job_from_wire(w).hook_id for w in claimed.jobs)
        # Another machine publishes between the claims' commit and the records'.
        before = store.data_version()
        with PostgresStore.init(postgres_url) as other:
            published.extend(other.add_events([("job.completed", b'{"id": 2}')]))
        wait_until(lambda: store.data_version() != before, "the NOTIFY reached the keeper")

    turn = keeper.turn(_record_and_claim(retries), early)
    assert first == [b.id]
    assert [s for s, _ in turn.statuses] == ["succeeded"] * 5
    claimed = [job_from_wire(w) for w in turn.jobs]
    assert [(j.hook_id, store.get_delivery(j.id).event_id) for j in claimed] \
        == [(b.id, published[0])]
    assert keeper.turn(_claim()).jobs == []  # claimed once
