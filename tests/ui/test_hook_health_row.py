"""The hook page's health row says how long ago the last success was as time goes on,
and no more precisely than the minute the store keeps it to."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from hookadmin.core.store import HookHealth
from hookadmin.ui.display import health_summary
from hookadmin.ui.hook_health import HookHealthRow

MINUTE_START = 1_800_000_000.0  # a whole minute, as the store stamps a last success


def _health(last_success_at: float | None) -> HookHealth:
    hourly = ((0, 0),) * 23 + ((1, 0),)
    return HookHealth(succeeded=1, failed=0, hourly=hourly,
                      last_success_at=last_success_at, failing_since=None)


def test_the_same_health_shown_later_says_the_later_time(qtbot: QtBot) -> None:
    row = HookHealthRow()
    qtbot.addWidget(row.label)
    qtbot.addWidget(row.spark)
    health = _health(MINUTE_START)
    row.show(health, now=MINUTE_START + 5 * 60)
    assert "last success 5 min ago" in row.label.text()
    # Unchanged figures on a later refresh (or another hook's equal figures): the
    # words follow the clock instead of keeping the first "5 min ago".
    row.show(health, now=MINUTE_START + 20 * 60)
    assert "last success 20 min ago" in row.label.text()


def test_a_last_success_kept_to_the_minute_is_not_said_in_seconds() -> None:
    # Stamped 03:18:00 for a success at 03:18:34 and read at 03:18:37: "37 s ago"
    # would be wrong (it was 3 s ago); the store only knows the minute.
    text = health_summary(_health(MINUTE_START), now=MINUTE_START + 37)
    assert "last success under a minute ago" in text
    assert "37 s" not in text
    assert "last success 2 min ago" in health_summary(_health(MINUTE_START),
                                                      now=MINUTE_START + 150)
