"""The collector's first threshold is raised while an engine's event loop runs, and put
back after it."""

from __future__ import annotations

import gc

import pytest

from hookadmin.delivery.event_loop import EventLoop, run
from hookadmin.delivery.gc_tuning import GEN0_THRESHOLD, engine_gc


def _stop_inside_engine_gc() -> None:
    with engine_gc():
        assert gc.get_threshold() == (GEN0_THRESHOLD * 2, 10, 10)
        raise RuntimeError("stop")


async def _threshold() -> tuple[int, int, int]:
    return gc.get_threshold()


def test_the_engine_loop_runs_with_the_raised_threshold_and_puts_it_back() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 11, 12)
    try:
        assert run(_threshold(), EventLoop.STANDARD) == (GEN0_THRESHOLD, 11, 12)
        assert gc.get_threshold() == (700, 11, 12)
    finally:
        gc.set_threshold(*before)


def test_a_higher_threshold_is_kept_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD * 2, 10, 10)
    try:
        with pytest.raises(RuntimeError):
            _stop_inside_engine_gc()
        assert gc.get_threshold() == (GEN0_THRESHOLD * 2, 10, 10)
        gc.set_threshold(5, 10, 10)
        with engine_gc():
            assert gc.get_threshold()[0] == GEN0_THRESHOLD
        assert gc.get_threshold() == (5, 10, 10)
    finally:
        gc.set_threshold(*before)
