"""The engine's database work on a thread of its own process, for a team database.

With PostgreSQL the bookkeeping mostly waits for the server, and
``benchmarks/team_throughput.py --process`` measured a thread at least as fast as the
child process SQLite needs (about twice as fast since a turn is pipelined), for less CPU
per delivery (docs/decisions.md), so an engine
on a team database uses this (``Engine.inline_bookkeeping``).

One thread runs the :class:`~hookadmin.delivery.bookkeeper.Bookkeeper`, one call at a
time, with the same typed requests and replies as the child process; errors are the
bookkeeper's own (they never cross a process).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from hookadmin.core.store import StoreLocation, as_location
from hookadmin.delivery.bookkeeper import Bookkeeper
from hookadmin.delivery.bookkeeping_wire import (
    Claimed,
    FinishedWire,
    LogEntry,
    Opened,
    Status,
    TurnRequest,
    TurnResult,
)
from hookadmin.delivery.policy import DeliverySettings

_R = TypeVar("_R")
_P = ParamSpec("_P")


class BookkeepingThread:
    """A :class:`Bookkeeper` on a thread of its own, called from an asyncio event loop
    one request at a time (create it with :meth:`start`); the methods of
    :class:`~hookadmin.delivery.bookkeeping.BookkeepingProcess`.

    Every method raises what the bookkeeper raised (``StoreUnavailable``,
    ``StoreError``, ...).
    """

    def __init__(self, keeper: Bookkeeper, executor: ThreadPoolExecutor) -> None:
        self._keeper = keeper
        self._executor = executor

    @classmethod
    async def start(cls, home: StoreLocation | Path,
                    settings: DeliverySettings) -> BookkeepingThread:
        """Open the store at ``home`` on the bookkeeping thread.

        Raises:
            StoreUnavailable, StoreError: the database cannot be opened.
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hookadmin-books")
        try:
            keeper = await asyncio.get_running_loop().run_in_executor(
                executor, Bookkeeper, as_location(home), settings)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(keeper, executor)

    async def _run(self, call: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        loop = asyncio.get_running_loop()
        # Shielded: a cancelled caller leaves the call to finish on its thread, so the
        # next call never overlaps it (the executor has one thread).
        return await asyncio.shield(loop.run_in_executor(
            self._executor, functools.partial(call, *args, **kwargs)))

    async def open(self) -> Opened:
        """See :meth:`Bookkeeper.open`."""
        return await self._run(self._keeper.open)

    async def turn(self, request: TurnRequest,
                   on_claimed: Callable[[Claimed], None] | None = None) -> TurnResult:
        """See :meth:`Bookkeeper.turn`: ``on_claimed`` is called (on the event loop) with
        the turn's claims as soon as they are committed, before the turn records what
        finished; without it they come in the returned result.

        Raises:
            as the class says; when ``on_claimed`` was called before, its claims stand.
        """
        if on_claimed is None:
            return await self._run(self._keeper.turn, request)
        loop = asyncio.get_running_loop()

        def early(claimed: Claimed) -> None:
            # Scheduled before the turn's own result, so it runs first on the loop.
            loop.call_soon_threadsafe(on_claimed, claimed)

        return await self._run(self._keeper.turn, request, early)

    async def wind_up(self, finished: list[FinishedWire], leftover: list[int]) -> list[Status]:
        """See :meth:`Bookkeeper.wind_up`."""
        return await self._run(self._keeper.wind_up, finished, leftover)

    async def take_logs(self) -> list[LogEntry]:
        """See :meth:`Bookkeeper.take_logs`."""
        return await self._run(self._keeper.take_logs)

    async def close(self) -> None:
        """Close the store on the bookkeeping thread, then end the thread."""
        try:
            await self._run(self._keeper.close)
        finally:
            self._executor.shutdown(wait=False)
