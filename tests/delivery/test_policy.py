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
    assert share.max_in_flight == settings.max_in_flight  # the rest is unchanged
    assert share.retry_schedule == settings.retry_schedule
