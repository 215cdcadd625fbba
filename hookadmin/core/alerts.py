"""The setting behind ``hook.failing`` (see :mod:`hookadmin.delivery.operator`): how long
a hook's attempts must fail with no success before administrators' hooks are told."""

from __future__ import annotations

from typing import Any

from hookadmin.core.errors import InputError
from hookadmin.core.store import SettingsRepository

FAILING_AFTER_KEY = "operator_failing_after"
"""Setting: seconds of failing with no success before ``hook.failing`` (default 900)."""
DEFAULT_FAILING_AFTER = 900.0
MIN_FAILING_AFTER = 1.0
MAX_FAILING_AFTER = 7 * 86400.0


def failing_after(store: SettingsRepository) -> float:
    """The ``hook.failing`` threshold in seconds (1 s to 7 days; default 900)."""
    value = store.get_setting(FAILING_AFTER_KEY)
    if _valid(value):
        return float(value)
    return DEFAULT_FAILING_AFTER


def check_failing_after(seconds: float) -> float:
    """``seconds`` if it is from 1 second to 7 days.

    Raises:
        InputError: another value.
    """
    if not _valid(seconds):
        raise InputError("The failing alert threshold must be from 1 second to 7 days "
                         "(default 15 minutes).", field="failing_after")
    return float(seconds)


def _valid(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and MIN_FAILING_AFTER <= value <= MAX_FAILING_AFTER
