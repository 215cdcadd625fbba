"""The engine's side of a database it cannot use for a while: locked, or away.

Two cases, both met by a bookkeeper turn that committed nothing (its records, releases
and renewals are kept for the next turn by the engine):

* **locked** (:class:`~hookadmin.core.errors.StoreBusyError`): another process holds
  SQLite's write lock beyond the busy timeout. Said once; the next turn comes after a
  growing pause, 0.5 s doubling up to :data:`LOCK_BACKOFF_MAX`, or sooner when the
  engine is asked to stop.
* **away** (:class:`~hookadmin.core.errors.StoreUnavailable`): the database cannot be
  reached (a team database's server). Said once; requests in flight go on, nothing
  more is claimed, and the next turn comes after :data:`OUTAGE_FIRST_DELAY` doubling up
  to :data:`OUTAGE_MAX_DELAY`.

The first turn that succeeds again ends either state, with one line saying how long it
lasted. Times are monotonic seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from hookadmin.core.errors import StoreBusyError, StoreUnavailable

# The engine's log, where these lines have always been written.
log = logging.getLogger("hookadmin.delivery.engine")

LOCK_BACKOFF_MAX = 30.0  # seconds between tries while the database stays locked
OUTAGE_FIRST_DELAY = 0.25  # seconds before the first try after the database was lost
OUTAGE_MAX_DELAY = 5.0  # the longest wait between tries


class Outage:
    """Since when the database has been away, and when to try it again (monotonic
    seconds).

    Args:
        since: when a turn first failed to reach it.
    """

    def __init__(self, since: float) -> None:
        self.since = since
        self.delay = OUTAGE_FIRST_DELAY / 2
        self.retry_at = since


class DatabaseWait:
    """Whether the engine's database is locked or away, and how long to wait before the
    next turn. Used on the engine's event loop only."""

    def __init__(self) -> None:
        self.locked_since: float | None = None  # monotonic, while the database is locked
        self.lock_waits = 0
        self.outage: Outage | None = None  # the database cannot be reached

    @property
    def away(self) -> bool:
        """True while the database cannot be reached (claim nothing new)."""
        return self.outage is not None

    def too_soon(self) -> bool:
        """True while the database is away and its next try is not due yet (the loop
        keeps sending what it holds and pauses instead of taking a turn)."""
        return self.outage is not None and time.monotonic() < self.outage.retry_at

    def pause(self, interval: float) -> float:
        """The loop's pause of ``interval`` seconds, shortened to end when the next try
        of a database that is away is due (never below 0)."""
        if self.outage is None:
            return interval
        return max(0.0, min(interval, self.outage.retry_at - time.monotonic()))

    async def locked(self, err: StoreBusyError, stop: asyncio.Event) -> None:
        """A turn found the write lock held by another process: say so once (with
        ``err.what``), then wait 0.5 s doubling up to :data:`LOCK_BACKOFF_MAX` seconds,
        or until ``stop`` is set."""
        if self.locked_since is None:
            self.locked_since = time.monotonic()
            log.warning("waiting: %s; delivery goes on by itself once it is released",
                        err.what)
        pause = min(0.5 * 2 ** self.lock_waits, LOCK_BACKOFF_MAX)
        self.lock_waits += 1
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pause):
                await stop.wait()

    def lost(self, err: StoreUnavailable) -> None:
        """A turn failed because the database cannot be reached: say so once (with
        ``err``'s sentence) and set the next try, each delay twice the last up to
        :data:`OUTAGE_MAX_DELAY` seconds."""
        if self.outage is None:
            self.outage = Outage(time.monotonic())
            log.warning("%s Deliveries in flight go on; nothing more is claimed until it "
                        "is back, and what they sent is recorded then (hookadmin tries "
                        "again every few seconds).", err)
        self.outage.delay = min(OUTAGE_MAX_DELAY, self.outage.delay * 2)
        self.outage.retry_at = time.monotonic() + self.outage.delay

    def answered(self) -> None:
        """A turn succeeded: end a lock wait or an outage, saying how long it lasted."""
        if self.locked_since is not None:
            log.warning("the database is no longer locked; delivery resumed after "
                        "%.0f s", time.monotonic() - self.locked_since)
            self.locked_since = None
            self.lock_waits = 0
        if self.outage is not None:
            log.warning("The database is back after %.0f s; delivering again.",
                        time.monotonic() - self.outage.since)
            self.outage = None
