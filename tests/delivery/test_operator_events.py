"""Operator events: a failing hook is reported to administrators' hooks (once per
failing period), its recovery and its exhausted deliveries too, signed like every
delivery and received by real receivers; never about the receiving hook itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from hookadmin.core.alerts import FAILING_AFTER_KEY
from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from tests.helpers import FAST, drain, resource
from tests.receiver import Receiver, fail_first, status

Make = Callable[..., Receiver]
SLOW_RETRIES = dataclasses.replace(FAST, retry_schedule=(0, 0.6, 0.6, 0.6))


def test_failing_exhausted_and_recovered_reach_the_administrators_hook(
        service: HookService, make_receiver: Make) -> None:
    flaky = make_receiver(fail_first(4))
    ops = make_receiver()
    broken_ops = make_receiver(status(500))
    hook = service.create_hook(url=flaky.url, events=["job"], name="etl")
    admin = service.create_hook(url=ops.url, events=["hook", "job.completed"], name="ops")
    broken = service.create_hook(url=broken_ops.url, events=["hook"], name="pager")
    ops.set_secrets({"admin": service.reveal_secret(admin.id)})
    broken_ops.set_secrets({"broken": service.reveal_secret(broken.id)})
    service.set_failing_alert_after(1)
    assert service.store.get_setting(FAILING_AFTER_KEY) == 1

    service.publish("job.failed", resource("job.failed", id=1))
    drain(service.home, SLOW_RETRIES)  # 4 failures over 1.8 s or more: failing from 1 s
    service.publish("job.failed", resource("job.failed", id=2))
    drain(service.home, SLOW_RETRIES)  # a success: recovered

    got = [r for r in ops.requests()]
    kinds = [(r.header("X-Hook-Event"), r.json()["hook"]["id"]) for r in got]
    assert ("hook.failing", hook.id) in kinds
    assert kinds.count(("hook.failing", hook.id)) == 1  # debounced: once per period
    assert ("delivery.exhausted", hook.id) in kinds
    assert ("hook.recovered", hook.id) in kinds
    assert [k for k in kinds if k[1] == hook.id] == [
        ("hook.failing", hook.id), ("delivery.exhausted", hook.id),
        ("hook.recovered", hook.id)]
    assert all(r.verified_by == ("admin",) for r in got)  # signed with the hook's secret
    failing = next(r.json() for r in got if r.header("X-Hook-Event") == "hook.failing")
    assert failing["type"] == "hook.failing"
    assert failing["hook"] == service.hook(hook.id).to_json() | {
        "updated_at": failing["hook"]["updated_at"]}
    assert failing["failing_since"].endswith("Z")
    assert failing["counts"]["failed_attempts"] >= 2  # the first, and one 1 s or more later
    assert failing["delivery"] is None
    exhausted = next(r.json() for r in got if r.header("X-Hook-Event") == "delivery.exhausted")
    assert exhausted["delivery"]["attempts"] == 4
    assert exhausted["delivery"]["event"] == "job.failed"
    assert exhausted["delivery"]["status_code"] == 500

    # The broken administrators' hook: reported to the other one, never to itself, and
    # the failure of a report never makes another report (no ping-pong).
    about_broken = [k for k in kinds if k[1] == broken.id]
    assert ("hook.failing", broken.id) in about_broken
    assert ("delivery.exhausted", broken.id) not in about_broken
    assert all(r.json()["hook"]["id"] != broken.id for r in broken_ops.requests())
    assert all(r.json()["hook"]["id"] != admin.id for r in ops.requests())


def test_a_410_reports_hook_disabled_with_the_reason(service: HookService,
                                                       make_receiver: Make) -> None:
    gone = make_receiver(status(410))
    ops = make_receiver()
    hook = service.create_hook(url=gone.url, events=["job"])
    admin = service.create_hook(url=ops.url, events=["hook.disabled"])
    ops.set_secrets({"ops": service.reveal_secret(admin.id)})
    service.publish("job.failed", resource("job.failed"))
    drain(service.home, FAST)
    (report,) = ops.requests()
    body = report.json()
    assert report.verified_by == ("ops",)  # signed like every delivery
    assert report.standard_verified_by == ("ops",)
    assert report.header("X-Hook-Event") == "hook.disabled"
    assert body["hook"]["id"] == hook.id
    assert body["hook"]["active"] is False
    assert "410" in body["reason"]


def test_no_subscriber_means_no_operator_events(service: HookService,
                                                make_receiver: Make) -> None:
    gone = make_receiver(status(410))
    service.create_hook(url=gone.url, events=["job"])
    service.publish("job.failed", resource("job.failed"))
    drain(service.home, FAST)
    assert [d.event_type for d in service.store.list_deliveries()] == ["job.failed"]


def test_operator_events_cannot_be_published(service_in_memory: HookService) -> None:
    with pytest.raises(InputError, match="sent by the engine"):
        service_in_memory.publish("hook.failing", {"id": 1})
