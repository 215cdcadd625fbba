"""What happens after an attempt (hookadmin.delivery.retry), decided without a
database or a process: the next attempt time, 410 Gone, and five days of failures."""

from __future__ import annotations

import calendar
import random

import pytest

from hookadmin.core.store import AttemptRecord
from hookadmin.delivery import retry
from hookadmin.delivery.policy import DEFAULT_RETRY_SCHEDULE, DeliverySettings

NOW = float(calendar.timegm((2026, 11, 29, 14, 21, 0)))
SETTINGS = DeliverySettings()


def _attempt(status: int | None = 500, kind: str | None = "http_status",
             headers: list[tuple[str, str]] | None = None) -> AttemptRecord:
    return AttemptRecord(started_at=NOW - 1, duration_ms=12.0,
                         request_url="https://example.com/h", request_headers={},
                         status_code=status, response_headers=headers, response_body=b"",
                         response_truncated=False, error_kind=kind, error_message=None)


def test_a_success_is_final_and_stops_the_failing_clock() -> None:
    ok = _attempt(200, None)
    assert not retry.uses_schedule(ok)
    assert retry.after_attempt(ok, SETTINGS, now=NOW, tried=0) == retry.NextStep(None)
    assert not retry.counts_as_failing(ok)


@pytest.mark.parametrize("tried", range(1, len(DEFAULT_RETRY_SCHEDULE)))
def test_a_failure_waits_the_scheduled_delay_within_the_jitter(tried: int) -> None:
    failed = _attempt()
    assert retry.uses_schedule(failed)
    step = retry.after_attempt(failed, SETTINGS, now=NOW, tried=tried, rng=random.Random(1))
    assert step.deactivate_reason is None
    assert step.next_attempt_at is not None
    delay = DEFAULT_RETRY_SCHEDULE[tried]
    assert delay * 0.8 <= step.next_attempt_at - NOW <= delay * 1.2


def test_the_last_scheduled_failure_is_final() -> None:
    step = retry.after_attempt(_attempt(), SETTINGS, now=NOW,
                               tried=len(DEFAULT_RETRY_SCHEDULE))
    assert step == retry.NextStep(None)


def test_a_retry_after_on_503_is_honoured_without_jitter() -> None:
    busy = _attempt(503, "http_status", [("Retry-After", "120")])
    step = retry.after_attempt(busy, SETTINGS, now=NOW, tried=1)
    assert step.next_attempt_at == NOW + 120


def test_410_gone_is_final_and_deactivates_the_hook_with_the_date() -> None:
    gone = _attempt(410)
    assert not retry.uses_schedule(gone)
    assert not retry.counts_as_failing(gone)  # it deactivates by itself
    step = retry.after_attempt(gone, SETTINGS, now=NOW, tried=0)
    assert step.next_attempt_at is None
    assert step.deactivate_reason == ("The receiver answered 410 Gone, so the hook was "
                                      "deactivated on 2026-11-29 14:21 UTC.")


def test_a_missing_secret_waits_without_using_up_the_schedule() -> None:
    locked = _attempt(None, "secret_unavailable")
    assert not retry.uses_schedule(locked)
    assert not retry.counts_as_failing(locked)  # not the receiver's fault
    step = retry.after_attempt(locked, SETTINGS, now=NOW, tried=0)
    assert step == retry.NextStep(NOW + SETTINGS.secret_retry_interval)


def test_an_address_the_policy_refuses_is_final_at_once() -> None:
    refused = _attempt(None, "policy")
    assert not retry.uses_schedule(refused)
    assert retry.after_attempt(refused, SETTINGS, now=NOW, tried=0) == retry.NextStep(None)
    assert retry.counts_as_failing(refused)


def test_a_hook_is_deactivated_after_five_days_of_failures_not_sooner() -> None:
    five_days = 5 * 86400.0
    assert retry.failing_too_long(None, _attempt(), SETTINGS, now=NOW) is None
    assert retry.failing_too_long(NOW - five_days + 1, _attempt(), SETTINGS, now=NOW) is None
    reason = retry.failing_too_long(NOW - five_days, _attempt(), SETTINGS, now=NOW)
    assert reason == ("Every delivery since 2026-11-24 14:21 UTC failed (5 days without a "
                      "success; last: HTTP 500), so the hook was deactivated. Fix the "
                      "receiver, then activate the hook again.")
    timeout = retry.failing_too_long(NOW - five_days, _attempt(None, "timeout"), SETTINGS,
                                     now=NOW)
    assert timeout is not None
    assert "last: timeout)" in timeout


@pytest.mark.parametrize(("seconds", "text"), [
    (5 * 86400.0, "5 days"), (86400.0, "1 day"), (3 * 3600.0, "3 hours"),
    (12 * 60.0, "12 minutes"), (4.0, "4 seconds")])
def test_durations_are_named_in_their_largest_unit(seconds: float, text: str) -> None:
    assert retry.duration(seconds) == text
