"""Ordered (FIFO) hooks: opt-in, one request in flight, and a later delivery waits while
an earlier one is retried, so the receiver sees the hook's deliveries in the order
their events were published.

Which hooks are ordered is the ``ordered_hooks`` setting (a list of hook ids), shared
by every process of the database; engines take a change up within a few seconds.

The queries here only read: what an ordered hook's deliveries wait behind, for the
window (a banner on the hook page, "waits in order" in the tables) and ``hooks show``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hookadmin.core.store import Delivery, SettingsRepository

ORDERED_KEY = "ordered_hooks"


class OrderingSource(SettingsRepository, Protocol):
    """What the queries read: the settings and each hook's oldest pending delivery
    (every store has both)."""

    def first_pending(self, hook_id: int) -> Delivery | None:
        """The hook's oldest pending delivery, or None."""
        ...


def ordered_hooks(store: SettingsRepository) -> frozenset[int]:
    """The ids of the ordered hooks."""
    value = store.get_setting(ORDERED_KEY)
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, int) and not isinstance(v, bool))


def order_heads(store: OrderingSource) -> dict[int, Delivery]:
    """Each ordered hook's oldest pending delivery (the head its later pending
    deliveries wait behind), by hook id; hooks with nothing pending are left out.
    One read of the settings and one indexed row per ordered hook.

    Raises:
        StoreError: the database cannot be read.
    """
    heads: dict[int, Delivery] = {}
    for hook_id in sorted(ordered_hooks(store)):
        head = store.first_pending(hook_id)
        if head is not None:
            heads[hook_id] = head
    return heads


def blocking_delivery(store: OrderingSource, hook_id: int) -> Delivery | None:
    """The delivery an ordered hook's later deliveries wait behind while it is retried:
    its oldest pending delivery once that has been tried (``attempts`` > 0; its
    ``next_attempt_at`` says when it is tried again). None when the hook is not
    ordered, nothing is pending, or the head has not been tried yet (it is simply
    next in line).

    Raises:
        StoreError: the database cannot be read.
    """
    if hook_id not in ordered_hooks(store):
        return None
    return head_blocks(store.first_pending(hook_id))


def head_blocks(head: Delivery | None) -> Delivery | None:
    """``head``, an ordered hook's oldest pending delivery, when the hook's later
    deliveries wait behind its retry (it has been tried: ``attempts`` > 0); else None."""
    return head if head is not None and head.attempts > 0 else None


def waits_in_order(delivery: Delivery, heads: Mapping[int, int]) -> bool:
    """True when ``delivery`` is pending behind an earlier delivery of its ordered hook;
    ``heads`` maps each ordered hook's id to its oldest pending delivery's ``seq`` (see
    :func:`order_heads`)."""
    head = heads.get(delivery.hook_id)
    return delivery.status == "pending" and head is not None and delivery.seq > head
