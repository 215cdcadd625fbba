"""The Deliveries and Activity tabs' reads as query objects (and the count of the
Deliveries tab's "Redeliver all failed since…"). Each runs on the window's
reads lane (:class:`~hookadmin.ui.background.Lane`) against the lane's own store, off the
GUI thread, and gives back frozen rows: the GUI thread only applies them (a model's
insert, ``dataChanged`` or a chart's points). A read on the GUI thread held it up for
the query and for turning its rows into objects while the engine delivered."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookadmin.core.store import Delivery, DeliveryHistory

BUCKET_SECONDS = 60.0  # the Activity charts' points are per minute


@dataclass(frozen=True)
class DeliveryFilter:
    """What the Deliveries view shows; ``None`` fields do not filter.

    Attributes:
        status: ``pending``, ``succeeded`` or ``failed``.
        event_type: an event type id (``job.failed``).
        hook_id: one hook's deliveries.
        since_seconds: created in the last this many seconds.
        search: a delivery or event id, or text of the body, event type or hook name.
        status_class: the last answer's HTTP status class (``2xx`` … ``5xx``) or
            ``none`` (tried, no HTTP answer).
    """

    status: str | None = None
    event_type: str | None = None
    hook_id: int | None = None
    since_seconds: float | None = None
    search: str | None = None
    status_class: str | None = None

    def read(self, store: DeliveryHistory, *, limit: int, before_seq: int | None = None,
             after_seq: int | None = None) -> tuple[Delivery, ...]:
        """The matching deliveries, newest first, at most ``limit``; only those with a
        ``seq`` below ``before_seq`` / above ``after_seq`` when given.

        Raises:
            StoreError: the database cannot be read.
        """
        since = None if self.since_seconds is None else time.time() - self.since_seconds
        return tuple(store.list_deliveries(
            hook_id=self.hook_id, status=self.status, event_type=self.event_type,
            since=since, search=self.search, status_class=self.status_class, limit=limit,
            before_seq=before_seq, after_seq=after_seq))


@dataclass(frozen=True)
class DeliveryPageQuery:
    """A page of the Deliveries view: at most ``limit`` deliveries matching ``filter``,
    newest first, older than ``before_seq`` (None: from the newest)."""

    filter: DeliveryFilter
    limit: int
    before_seq: int | None = None

    def run(self, store: DeliveryHistory) -> tuple[Delivery, ...]:
        """Read it.

        Raises:
            StoreError: the database cannot be read.
        """
        return self.filter.read(store, limit=self.limit, before_seq=self.before_seq)


@dataclass(frozen=True)
class DeliveryUpdates:
    """What a refresh of the Deliveries view read.

    Attributes:
        arrivals: deliveries newer than the query's ``after_seq``, newest first (at
            most its ``limit``: that many means more may have arrived).
        fresh: the deliveries asked for by ``seq`` as they are now (gone ones left out).
    """

    arrivals: tuple[Delivery, ...]
    fresh: tuple[Delivery, ...]


@dataclass(frozen=True)
class DeliveryUpdatesQuery:
    """New arrivals after ``after_seq`` (None: none read) matching ``filter``, and
    the deliveries whose ``seq`` is in ``seqs`` read again (the pending ones on screen
    and the selected one: their status may have moved on)."""

    filter: DeliveryFilter
    after_seq: int | None
    limit: int
    seqs: tuple[int, ...] = ()

    def run(self, store: DeliveryHistory) -> DeliveryUpdates:
        """Read them.

        Raises:
            StoreError: the database cannot be read.
        """
        arrivals = (() if self.after_seq is None else
                    self.filter.read(store, limit=self.limit, after_seq=self.after_seq))
        fresh = tuple(store.deliveries_by_seq(list(self.seqs))) if self.seqs else ()
        return DeliveryUpdates(arrivals, fresh)


@dataclass(frozen=True)
class FailedCountQuery:
    """How many deliveries "Redeliver all failed since…" would queue again: the failed
    ones of hook ``hook_id`` (None: of every hook) whose last attempt was at or after
    ``since`` (Unix seconds)."""

    since: float
    hook_id: int | None = None

    def run(self, store: DeliveryHistory) -> int:
        """Count them.

        Raises:
            StoreError: the database cannot be read.
        """
        return store.count_failed(hook_id=self.hook_id, since=self.since)


Points = tuple[tuple[float, float], ...]


def zero_filled(points: Points, start: float, end: float) -> Points:
    """One ``(Unix seconds, value)`` point per :data:`BUCKET_SECONDS` bucket from
    ``start`` to ``end``; buckets without attempts are 0, so the line drops to zero
    between bursts instead of joining them."""
    by_bucket = dict(points)
    first = int(start // BUCKET_SECONDS) * BUCKET_SECONDS
    count = int((end - first) // BUCKET_SECONDS) + 1
    buckets = (first + i * BUCKET_SECONDS for i in range(count))
    return tuple((t, by_bucket.get(t, 0.0)) for t in buckets)


@dataclass(frozen=True)
class ActivityPoints:
    """The Activity charts' points, ``(Unix seconds, value)`` per minute.

    Attributes:
        succeeded: attempts that succeeded per minute (0 in quiet minutes).
        failed: attempts that failed per minute (0 in quiet minutes).
        latency: mean duration in milliseconds, only for minutes with attempts.
        totals: all succeeded and all failed attempts in the range.
        start: the range's start, Unix seconds.
        end: the range's end, Unix seconds.
    """

    start: float
    end: float
    succeeded: Points
    failed: Points
    latency: Points
    totals: tuple[int, int]


@dataclass(frozen=True)
class ActivityQuery:
    """Attempts per minute from ``start`` to ``end`` (Unix seconds) of one hook
    (``hook_id``) or of every hook (None)."""

    start: float
    end: float
    hook_id: int | None = None

    def run(self, store: DeliveryHistory) -> ActivityPoints:
        """Read them.

        Raises:
            StoreError: the database cannot be read.
        """
        rows = store.activity(since=self.start, bucket=BUCKET_SECONDS, hook_id=self.hook_id)
        ok = tuple((t, float(n)) for t, n, _, _ in rows)
        bad = tuple((t, float(n)) for t, _, n, _ in rows)
        latency = tuple((t, ms) for t, _, _, ms in rows if ms is not None)
        totals = (sum(n for _, n, _, _ in rows), sum(n for _, _, n, _ in rows))
        return ActivityPoints(self.start, self.end, zero_filled(ok, self.start, self.end),
                              zero_filled(bad, self.start, self.end), latency, totals)
