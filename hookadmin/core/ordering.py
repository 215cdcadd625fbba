"""Ordered (FIFO) hooks: opt-in, one request in flight, and a later delivery waits while
an earlier one is retried, so the receiver sees the hook's deliveries in the order
their events were published.

Which hooks are ordered is the ``ordered_hooks`` setting (a list of hook ids), shared
by every process of the database; engines take a change up within a few seconds.
"""

from __future__ import annotations

from hookadmin.core.store import SettingsRepository

ORDERED_KEY = "ordered_hooks"


def ordered_hooks(store: SettingsRepository) -> frozenset[int]:
    """The ids of the ordered hooks."""
    value = store.get_setting(ORDERED_KEY)
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, int) and not isinstance(v, bool))
