"""Delivery settings shared by several engines (`worker --processes N`)."""

from __future__ import annotations

import pytest

from hookadmin.delivery.policy import DeliverySettings, engine_share


@pytest.mark.parametrize(("engines", "each"), [(1, 8), (2, 4), (3, 2), (8, 1), (16, 1)])
def test_engines_split_a_hooks_limit_between_them(engines: int, each: int) -> None:
    settings = DeliverySettings(per_hook_in_flight=8)
    share = engine_share(settings, engines)
    assert share.per_hook_in_flight == each
    assert engines * share.per_hook_in_flight <= max(8, engines)  # never more at once
    assert engines * share.retry_rate_while_fresh == pytest.approx(
        settings.retry_rate_while_fresh)  # the retry pace is the data directory's
    assert share.max_in_flight == settings.max_in_flight  # the rest is unchanged
    assert share.retry_schedule == settings.retry_schedule


@pytest.mark.parametrize("retry_after", [0.0, 2.0, 60.0])
def test_retry_after_never_makes_a_delivery_give_up_sooner(retry_after: float) -> None:
    """A receiver answering every attempt with a short ``Retry-After`` must not burn the
    whole schedule in seconds: each wait is at least the schedule's own."""
    settings = DeliverySettings(jitter=0.0)
    delays = [settings.next_delay(made, retry_after=retry_after)
              for made in range(1, len(settings.retry_schedule))]
    assert None not in delays
    for made, wait in enumerate(delays, start=1):
        assert wait is not None
        assert wait >= settings.retry_schedule[made]
        assert wait >= min(max(retry_after, 1.0), settings.retry_after_max)
    assert sum(d for d in delays if d is not None) >= sum(settings.retry_schedule)
    assert settings.next_delay(len(settings.retry_schedule), retry_after=retry_after) is None


def test_retry_after_longer_than_the_schedule_delays_the_attempt() -> None:
    settings = DeliverySettings(jitter=0.0, retry_after_max=3600.0)
    assert settings.next_delay(1, retry_after=120.0) == 120.0  # the schedule says 5 s
    assert settings.next_delay(1, retry_after=10**6) == 3600.0  # clamped
