"""The window's periodic reads as query objects: each is run by the reads lane
(:mod:`hookadmin.ui.background`) against a store of its own, off the GUI thread, and
gives back frozen rows that the GUI thread only applies. In team mode every read is a
round trip to the server, which must never hold up a repaint."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hookadmin.core.errors import NotFoundError
from hookadmin.core.hooks import Hook
from hookadmin.core.ordering import head_blocks, order_heads, ordered_hooks
from hookadmin.core.store import Attempt, Delivery, DeliveryHistory, HookHealth, Repository

STATUS_COUNT_CAP = 100_000  # counting further would slow the 2 s refresh
RATE_WINDOW = 10.0  # seconds of attempts the status bar's deliveries/s is averaged over


@dataclass(frozen=True)
class StatusCounts:
    """What the status bar shows from the database.

    Attributes:
        pending: deliveries waiting to be sent (at most ``STATUS_COUNT_CAP``).
        waiting: events in the outbox not yet fanned out to deliveries.
        rate: attempts recorded per second over the last ``RATE_WINDOW`` seconds.
    """

    pending: int
    waiting: int
    rate: float

    @property
    def capped(self) -> bool:
        """True when counting stopped at ``STATUS_COUNT_CAP``: there are at least
        that many pending."""
        return self.pending >= STATUS_COUNT_CAP


def read_status_counts(store: DeliveryHistory) -> StatusCounts:
    """Read the status bar's figures (any thread, with a store of its own).

    The queue is read before the attempts: an attempt is committed with its
    delivery's new state, so a delivery no longer counted as pending is already
    counted in the rate.

    Raises:
        StoreError: the database cannot be read.
    """
    pending = store.pending_count(cap=STATUS_COUNT_CAP)
    waiting = store.outbox_waiting()
    attempts = sum(ok + bad for _, ok, bad, _ in
                   store.activity(since=time.time() - RATE_WINDOW, bucket=RATE_WINDOW))
    return StatusCounts(pending=pending, waiting=waiting, rate=attempts / RATE_WINDOW)


@dataclass(frozen=True)
class HookPageRows:
    """One hook and its most recent deliveries (None: the hook is gone); for an ordered
    hook, the delivery the others wait behind while it is retried (``blocking``) and
    its oldest pending delivery's ``seq`` (``head_seq``); ``ordered``: the hook is
    ordered."""

    hook_id: int
    hook: Hook | None
    deliveries: list[Delivery]
    blocking: Delivery | None = None
    head_seq: int | None = None
    ordered: bool = False


@dataclass(frozen=True)
class HookPageQuery:
    """A hook and its ``limit`` most recent deliveries, newest first."""

    hook_id: int
    limit: int

    def run(self, store: Repository) -> HookPageRows:
        """Read them.

        Raises:
            StoreError: the database cannot be read.
        """
        try:
            hook = store.get_hook(self.hook_id)
        except NotFoundError:
            return HookPageRows(self.hook_id, None, [])
        deliveries = store.list_deliveries(hook_id=self.hook_id, limit=self.limit)
        ordered = self.hook_id in ordered_hooks(store)
        head = store.first_pending(self.hook_id) if ordered else None
        return HookPageRows(self.hook_id, hook, deliveries, head_blocks(head),
                            None if head is None else head.seq, ordered)


@dataclass(frozen=True)
class WindowRows:
    """Everything a refresh of the Webhooks tab and the status bar shows.

    Attributes:
        hooks: every hook, by id.
        last: each hook's most recent delivery, by hook id.
        page: the shown hook's page, when one is shown.
        counts: the status bar's figures.
        health: every hook's health by hook id, when it was read (None: keep the last).
        order_heads: each ordered hook's oldest pending delivery's ``seq``, by hook id
            (the later pending ones wait in order behind it).
    """

    hooks: list[Hook]
    last: dict[int, Delivery]
    page: HookPageRows | None
    counts: StatusCounts
    health: dict[int, HookHealth] | None = None
    order_heads: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WindowQuery:
    """The reads of one refresh: hooks, their last deliveries, the shown hook's page
    (``shown_hook_id``, None when no page is shown), the status bar's counts and, with
    ``health``, every hook's health (a heavier read, done every 30 s)."""

    shown_hook_id: int | None
    limit: int
    health: bool = False

    def run(self, store: Repository) -> WindowRows:
        """Read them.

        Raises:
            StoreError: the database cannot be read.
        """
        hooks = store.list_hooks()
        last = store.last_deliveries()
        page = (None if self.shown_hook_id is None
                else HookPageQuery(self.shown_hook_id, self.limit).run(store))
        health = store.hook_health() if self.health else None
        heads = {hook_id: d.seq for hook_id, d in order_heads(store).items()}
        return WindowRows(hooks, last, page, read_status_counts(store), health, heads)


@dataclass(frozen=True)
class DeliveryRows:
    """One delivery with its attempts and request body."""

    delivery: Delivery
    attempts: list[Attempt]
    body: bytes


@dataclass(frozen=True)
class DeliveryQuery:
    """A delivery's attempts and body, for its details."""

    delivery_id: str

    def run(self, store: Repository) -> DeliveryRows:
        """Read them.

        Raises:
            NotFoundError: there is no such delivery (any more).
            StoreError: the database cannot be read.
        """
        delivery = store.get_delivery(self.delivery_id)
        return DeliveryRows(delivery, store.list_attempts(delivery.seq),
                            store.delivery_body(self.delivery_id))
