"""The garbage collector's first threshold while an engine runs.

CPython collects its youngest generation whenever the container objects allocated
since the last collection outnumber those freed by 700 (``gc.get_threshold()[0]``).
Each delivery allocates dozens of them (its request, response, record, coroutines
and futures), nearly all freed at once by reference counting, yet the count crossed
700 often: one engine delivering 80,000 ran 1,352 to 1,450 young, 123 to 132 middle and
11 or 12 full collections, 9 to 11 µs of CPU per delivery (README, benchmarks). With
:data:`GEN0_THRESHOLD` the same run made 5 young collections and no others. What the
collector exists for, cycles no reference count frees, is still collected, only after
more allocations.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

GEN0_THRESHOLD = 20_000
"""Net container allocations between two collections of the youngest generation."""


def raise_gen0_threshold() -> None:
    """Raise the youngest generation's threshold to :data:`GEN0_THRESHOLD` for the rest
    of the process (never lowers it; the older generations' thresholds stay)."""
    gen0, gen1, gen2 = gc.get_threshold()
    if gen0 < GEN0_THRESHOLD:
        gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


@contextlib.contextmanager
def engine_gc() -> Iterator[None]:
    """:func:`raise_gen0_threshold` while the block runs, the thresholds as they were
    after it (the thresholds are the whole process's: the window's process keeps its
    own once an engine it hosts has stopped)."""
    before = gc.get_threshold()
    raise_gen0_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*before)
