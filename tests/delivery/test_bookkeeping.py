"""The engine's bookkeeping process, called directly: answers stay in step with calls
even when a caller is cancelled, and its errors come back as exceptions of their own
class."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.errors import (
    NotFoundError,
    SecretStoreError,
    StoreBusyError,
    StoreError,
    StoreFault,
    StoreFullError,
)
from hookadmin.core.service import HookService
from hookadmin.delivery.bookkeeping import BookkeepingProcess
from hookadmin.delivery.bookkeeping_wire import (
    BookkeepingError,
    ClaimRequest,
    ErrorKind,
    Failure,
    Opened,
    TurnRequest,
    TurnResult,
)
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import FAST, body, run_until_idle, running_engine, wait_until
from tests.receiver import Receiver

IDLE_TURNS = 20  # bookkeeper turns of an idle engine to time


def test_a_cancelled_call_does_not_put_later_answers_out_of_step(
        home: Path, service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    service.publish("job.failed", body("job.failed"))

    async def main() -> tuple[Opened, TurnResult, list[tuple[int, str]]]:
        keeper = await BookkeepingProcess.start(home, DeliverySettings())
        try:
            opened = await keeper.open()
            claim = ClaimRequest(room=10, held={}, running_low=True)
            cancelled = asyncio.ensure_future(
                keeper.turn(TurnRequest([], None, [], claim, check_idle=False)))
            await asyncio.sleep(0)  # the request is on its way
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            turn = await keeper.turn(TurnRequest([], None, [], claim, False))
            logs = await keeper.take_logs()
        finally:
            await keeper.close()
        return opened, turn, logs

    opened, turn, logs = asyncio.run(main())
    assert list(opened.hooks) == [hook.id]
    # The cancelled turn still ran (it claimed the delivery); this turn's answer is its
    # own (nothing left to claim), and the next call got a list of logs, not a turn.
    assert isinstance(turn, TurnResult)
    assert turn.jobs == []
    assert logs == []


def test_a_request_the_bookkeeper_does_not_know_is_answered_with_a_failure(
        home: Path, service: HookService) -> None:
    async def main() -> None:
        keeper = await BookkeepingProcess.start(home, DeliverySettings())
        try:
            reply = await keeper.call(("_record", []))  # type: ignore[arg-type]
            assert reply == Failure(ErrorKind.BOOKKEEPING,
                                    "The bookkeeper cannot answer tuple now.")
            assert isinstance(await keeper.open(), Opened)  # still usable
        finally:
            await keeper.close()

    asyncio.run(main())


@pytest.mark.parametrize("error", [
    StoreError("The database is gone."),
    NotFoundError("There is no hook 7.", field="id"),
    SecretStoreError("The keyring is locked.", cause="locked"),
    BookkeepingError("The bookkeeper cannot answer that."),
    StoreFullError("The disk is full", "free some space", unsaved="nothing was recorded"),
    StoreBusyError("The database was locked for more than 30 s", "try again later"),
    StoreFault("The database failed (disk I/O error)", "check the disk"),
])
def test_an_error_crosses_as_its_kind_and_sentence_and_is_raised_as_its_class(
        error: Exception) -> None:
    failure = Failure.of(error)
    assert failure.message == str(error)
    raised = failure.error()
    assert type(raised) is type(error)
    assert str(raised) == str(error)
    for attribute in ("field", "cause", "what", "unsaved", "advice"):
        assert getattr(raised, attribute, None) == getattr(error, attribute, None)


def test_each_database_fault_has_a_kind_of_its_own() -> None:
    kinds = {Failure.of(error).kind for error in (
        StoreFullError("full", "free space"), StoreBusyError("locked", "wait"),
        StoreFault("failed", "check"), StoreError("gone"))}
    assert kinds == {ErrorKind.STORE_FULL, ErrorKind.STORE_BUSY, ErrorKind.STORE_FAULT,
                     ErrorKind.STORE}


def test_an_unexpected_error_crosses_as_a_bookkeeping_error_with_its_text() -> None:
    raised = Failure.of(ZeroDivisionError("division by zero")).error()
    assert isinstance(raised, BookkeepingError)
    assert "ZeroDivisionError: division by zero" in str(raised)


def test_a_data_directory_that_cannot_be_opened_fails_the_start(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")

    async def main() -> None:
        await BookkeepingProcess.start(not_a_folder, DeliverySettings())

    with pytest.raises(StoreError, match="choose another --home"):
        asyncio.run(main())


def test_an_idle_engine_rarely_wakes_its_bookkeeper_and_still_sees_new_events(
        home: Path, service: HookService, make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver()
    service.create_hook(url=receiver.url, events=["job"])
    settings = DeliverySettings()
    with running_engine(home, settings) as engine:
        wait_until(lambda: engine.bookkeeper_turns >= 3, "the engine's first turns")
        # Count the time the next turns take instead of the turns in a fixed time: a
        # loaded machine can only make them slower, never pass a busy engine.
        before = engine.bookkeeper_turns
        took = wait_until(lambda: engine.bookkeeper_turns >= before + IDLE_TURNS,
                          f"{IDLE_TURNS} idle turns")
        service.publish("job.failed", body("job.failed"))  # from another connection
        receiver.wait_for_requests(1, timeout=10)
    # Once per poll_interval (50 ms) at most, not once per wake_interval (5 ms).
    assert took >= IDLE_TURNS * settings.poll_interval / 1.5, took


def test_a_backlog_is_fanned_out_batch_after_batch_without_waiting_for_the_clock(
        home: Path, service: HookService, make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver()
    service.create_hook(url=receiver.url, events=["job"])
    service.publish_many([("job.failed", body("job.failed", i)) for i in range(50)])
    # 10 events per turn, and a full look by the clock only every 60 s: the batches
    # after the first come only from the backlog itself.
    settings = dataclasses.replace(FAST, fan_out_batch=10, poll_interval=60.0)
    assert run_until_idle(home, settings, timeout=30) == 50
    assert len(receiver.wait_for_requests(50)) == 50
