"""Operator events (the ``hook`` group) rendered by the hook types: a Slack message, a
PagerDuty trigger or resolve, and the summary e-mail subjects start from."""

from __future__ import annotations

import json

from hookadmin.core.formats import allowed_events, pagerduty_event, slack_message, summary

BODY = json.dumps({
    "type": "hook.failing", "occurred_at": "2026-11-29T10:15:00Z",
    "hook": {"id": 3, "name": "billing"},
    "reason": "every attempt has failed for 15 minutes",
    "failing_since": "2026-11-29T10:00:00Z",
    "counts": {"failed_attempts": 12, "succeeded_attempts": 0}, "delivery": None,
}).encode()


def test_summary_names_the_hook_and_the_reason() -> None:
    assert summary("hook.failing", json.loads(BODY)) == (
        "Hook 3 (billing) is failing: every attempt has failed for 15 minutes")
    exhausted = {"hook": {"id": 3}, "reason": "8 attempts failed",
                 "delivery": {"id": "d-1"}}
    assert summary("delivery.exhausted", exhausted) == (
        "Delivery d-1 of hook 3 gave up: 8 attempts failed")


def test_slack_shows_the_summary_in_red() -> None:
    message = json.loads(slack_message("hook.failing", BODY))
    assert message["text"].startswith("Hook 3 (billing) is failing")
    assert message["attachments"][0]["color"] == "#e01e5a"


def test_pagerduty_triggers_and_resolves_the_hooks_incident() -> None:
    assert {"hook.failing", "hook.recovered", "delivery.exhausted"} <= set(
        allowed_events("pagerduty") or ())
    trigger = pagerduty_event("hook.failing", BODY, "rk")
    assert trigger is not None
    event = json.loads(trigger)
    assert (event["event_action"], event["dedup_key"]) == ("trigger", "hookadmin-hook/3")
    assert event["payload"]["summary"].startswith("Hook 3 (billing) is failing")
    assert event["payload"]["timestamp"] == "2026-11-29T10:15:00Z"
    resolve = pagerduty_event("hook.recovered", BODY, "rk")
    assert resolve is not None
    assert json.loads(resolve) == {"routing_key": "rk", "event_action": "resolve",
                                   "dedup_key": "hookadmin-hook/3"}
