"""The delivery engine against real receiver processes on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import keyring

import hookadmin
from hookadmin.core.hooks import Hook
from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.service import HookService
from hookadmin.core.store import Attempt, Delivery
from hookadmin.delivery.engine import AttemptOutcome, Engine
from tests import receiver as rx
from tests.helpers import FAST, FIXTURES_DIR, body, db_rows, drain, run_until_idle

Make = Callable[..., rx.Receiver]
ONE_TRY = dataclasses.replace(FAST, retry_schedule=(0,))


def _hook(service: HookService, receiver: rx.Receiver, events: list[str], *,
          path: str = "/hook", label: str = "hook", active: bool = True) -> Hook:
    """Create a hook pointing at ``receiver`` and teach the receiver its secret."""
    hook = service.create_hook(url=receiver.url_for(path), events=events, active=active)
    receiver.set_secrets({label: service.reveal_secret(hook.id)})
    return hook


def _only_delivery(service: HookService, hook: Hook) -> tuple[Delivery, list[Attempt]]:
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    return delivery, service.store.list_attempts(delivery.seq)


def test_delivers_signed_event_with_all_headers(service: HookService, home: Path,
                                                make_receiver: Make) -> None:
    receiver = make_receiver(rx.ok())
    hook = _hook(service, receiver, ["job"], path="/etl/hooks?token=abc")
    _hook(service, receiver, ["cluster"], path="/clusters-only", label="clusters")
    fixture_body = (FIXTURES_DIR / "job-failed-unicode.json").read_bytes()
    event_id = service.publish("job.failed", fixture_body)
    before = int(time.time())
    outcomes: list[AttemptOutcome] = []
    attempts = Engine(home, settings=FAST, on_attempt=outcomes.append).run(until_idle=True)
    after = int(time.time())
    assert attempts == 1

    (req,) = receiver.requests()
    assert (req.method, req.path) == ("POST", "/etl/hooks?token=abc")
    assert req.body == fixture_body
    assert req.verified_by == ("hook",)
    assert req.standard_verified_by == ("hook",)
    assert req.header("Content-Type") == "application/json"
    assert req.header("User-Agent") == f"hookadmin/{hookadmin.__version__}"
    assert req.header("X-Hook-Event") == "job.failed"
    assert req.signature == req.expected_signatures["hook"]  # 64 lowercase hex, no prefix
    delivery, (attempt,) = _only_delivery(service, hook)
    assert req.header("X-Hook-Delivery") == delivery.id
    assert req.header("webhook-id") == delivery.id
    uuid.UUID(delivery.id)
    stamp = req.header("webhook-timestamp")
    assert stamp is not None
    assert before <= int(stamp) <= after
    assert req.header_values("X-Hook-Signature") == [req.signature]  # sent once

    assert (delivery.status, delivery.attempts, delivery.last_status_code,
            delivery.event_id, delivery.event_type) == ("succeeded", 1, 200, event_id,
                                                        "job.failed")
    assert attempt.error_kind is None
    assert attempt.response_body == b'{"ok": true}'
    assert not attempt.response_truncated
    assert attempt.request_url == receiver.url_for("/etl/hooks?token=abc")
    assert attempt.request_headers["X-Hook-Signature"] == req.signature
    assert ("content-type", "application/json") in [
        (k.lower(), v) for k, v in attempt.response_headers or []]
    assert [(o.delivery_id, o.attempt_number, o.status, o.status_code) for o in outcomes] \
        == [(delivery.id, 1, "succeeded", 200)]


def test_500_then_200_is_retried_with_the_same_delivery_id(service: HookService, home: Path,
                                                           make_receiver: Make) -> None:
    receiver = make_receiver(rx.fail_first(1, 500))
    hook = _hook(service, receiver, ["job.failed"])
    sent = body("job.failed", 1)
    service.publish("job.failed", sent)
    assert drain(home) == 2

    first, second = receiver.requests()
    assert (first.response_status, second.response_status) == (500, 200)
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery")
    assert first.body == second.body == sent
    assert first.verified_by == second.verified_by == ("hook",)
    assert second.standard_verified_by == ("hook",)
    assert second.received_at - first.received_at >= FAST.retry_schedule[1] * 0.9

    delivery, attempts = _only_delivery(service, hook)
    assert delivery.id == first.header("X-Hook-Delivery")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) \
        == ("succeeded", 2, 200)
    assert [(a.number, a.status_code, a.error_kind) for a in attempts] \
        == [(1, 500, "http_status"), (2, 200, None)]
    assert attempts[0].response_body == b'{"error": 500}'
    assert attempts[0].next_attempt_at is not None
    assert attempts[1].next_attempt_at is None


def test_retries_stop_after_the_schedule_and_the_delivery_fails(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.status(503))
    hook = _hook(service, receiver, ["job"])
    service.publish("job.completed", body("job.completed"))
    assert drain(home) == len(FAST.retry_schedule)
    assert len(receiver.requests()) == len(FAST.retry_schedule)
    delivery, attempts = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts, delivery.last_error_kind) \
        == ("failed", 3, "http_status")
    assert [a.status_code for a in attempts] == [503, 503, 503]
    assert attempts[-1].next_attempt_at is None
    assert len({r.header("X-Hook-Delivery") for r in receiver.requests()}) == 1


def test_a_redirect_is_not_followed(service: HookService, home: Path,
                                    make_receiver: Make) -> None:
    # The Location points back at the same receiver: following it would show up there.
    receiver = make_receiver(rx.status(301, Location="/moved"))
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, ONE_TRY)
    (req,) = receiver.requests()
    assert req.path == "/hook"
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_status_code, delivery.last_error_kind) \
        == ("failed", 301, "redirect")
    assert attempt.error_message is not None
    assert "/moved" in attempt.error_message


def test_a_redirect_to_an_absolute_url_is_recorded(service: HookService, home: Path,
                                                   make_receiver: Make) -> None:
    target = make_receiver()
    receiver = make_receiver(rx.status(308, Location=target.url_for("/new-home")))
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, ONE_TRY)
    assert len(receiver.requests()) == 1
    assert target.requests() == []
    _, (attempt,) = _only_delivery(service, hook)
    assert attempt.error_kind == "redirect"
    assert target.url_for("/new-home") in (attempt.error_message or "")


def test_410_gone_deactivates_the_hook(service: HookService, home: Path,
                                       make_receiver: Make) -> None:
    receiver = make_receiver({"script": [{"status": 410}]})  # 410 once, then 200
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed", 1))
    service.publish("job.failed", body("job.failed", 2))
    one_at_a_time = dataclasses.replace(FAST, per_hook_in_flight=1)
    run_until_idle(home, one_at_a_time)  # returns although a delivery is left pending
    (req,) = receiver.requests()
    assert req.body == body("job.failed", 1)
    second, first = service.store.list_deliveries(hook_id=hook.id)
    assert (first.status, first.attempts, first.last_status_code) == ("failed", 1, 410)
    assert (second.status, second.attempts) == ("pending", 0)
    off = service.hook(hook.id)
    assert off.active is False
    assert off.deactivated_reason is not None
    assert "410" in off.deactivated_reason
    # Later events are not even queued for the deactivated hook.
    service.publish("job.failed", body("job.failed", 3))
    assert run_until_idle(home, one_at_a_time) == 0
    assert len(receiver.requests()) == 1
    assert len(service.store.list_deliveries(hook_id=hook.id)) == 2
    # Switched on again, the delivery that was waiting goes out.
    assert service.edit_hook(hook.id, active=True).deactivated_reason is None
    assert run_until_idle(home, one_at_a_time) == 1
    assert [r.body for r in receiver.requests()] == [body("job.failed", 1),
                                                     body("job.failed", 2)]
    assert service.store.get_delivery(second.id).status == "succeeded"


def test_a_slow_receiver_times_out(service: HookService, home: Path,
                                   make_receiver: Make) -> None:
    receiver = make_receiver(rx.delay(10))
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed"))
    settings = dataclasses.replace(ONE_TRY, attempt_timeout=0.5)
    started = time.monotonic()
    run_until_idle(home, settings)
    assert time.monotonic() - started < 5
    assert len(receiver.requests()) == 1
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_error_kind, delivery.last_status_code) \
        == ("failed", "timeout", None)
    assert attempt.duration_ms is not None
    assert 400 <= attempt.duration_ms < 4000
    assert attempt.response_body is None


def test_connection_refused(service: HookService, home: Path, closed_port: int) -> None:
    hook = service.create_hook(url=f"http://127.0.0.1:{closed_port}/hook", events=["job"])
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, ONE_TRY)
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_error_kind, delivery.last_status_code) \
        == ("failed", "connect", None)
    assert attempt.error_message
    assert attempt.response_headers is None


def test_the_response_body_is_capped(service: HookService, home: Path,
                                     make_receiver: Make) -> None:
    receiver = make_receiver(rx.big_body(200_000))
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed"))
    settings = dataclasses.replace(FAST, response_cap=1000)
    run_until_idle(home, settings)
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_status_code) == ("succeeded", 200)
    assert attempt.response_truncated is True
    assert attempt.response_body == rx.pattern_bytes(200_000)[:1000]


def test_a_body_exactly_at_the_cap_is_not_truncated(service: HookService, home: Path,
                                                    make_receiver: Make) -> None:
    receiver = make_receiver(rx.big_body(1000))
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, dataclasses.replace(FAST, response_cap=1000))
    _, (attempt,) = _only_delivery(service, hook)
    assert attempt.response_truncated is False
    assert attempt.response_body == rx.pattern_bytes(1000)


def test_an_inactive_hook_gets_no_deliveries(service: HookService, home: Path,
                                             make_receiver: Make) -> None:
    receiver = make_receiver()
    off = _hook(service, receiver, ["job"], path="/off", active=False)
    on = _hook(service, receiver, ["job"], path="/on", label="on")
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home) == 1
    assert [r.path for r in receiver.requests()] == ["/on"]
    assert service.store.list_deliveries(hook_id=off.id) == []
    assert len(service.store.list_deliveries(hook_id=on.id)) == 1


def test_a_hook_switched_off_after_fan_out_is_not_sent_to(service: HookService, home: Path,
                                                          make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed"))
    assert service.store.fan_out() == 1
    service.edit_hook(hook.id, active=False)
    assert run_until_idle(home) == 0
    assert receiver.requests() == []
    service.edit_hook(hook.id, active=True)
    assert run_until_idle(home) == 1
    assert len(receiver.requests()) == 1


def test_a_missing_secret_sends_nothing(service: HookService, home: Path,
                                        make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = _hook(service, receiver, ["job"])
    keyring.delete_password(SERVICE_NAME, f"{service.store.store_id}/hook/{hook.id}")
    service.publish("job.failed", body("job.failed"))
    before = time.time()
    run_until_idle(home, ONE_TRY)  # one try in the schedule: waiting must not use it up
    assert receiver.requests() == []
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_error_kind) == ("pending", "secret_unavailable")
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at >= before + ONE_TRY.secret_retry_interval - 1
    assert "reset-secret" in (attempt.error_message or "")

    service.reset_secret(hook.id)  # the secret is back: the waiting delivery goes out
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    service.store.redeliver(delivery.id)
    run_until_idle(home, ONE_TRY)
    (request,) = receiver.wait_for_requests(1)
    assert request.header("X-Hook-Delivery") == delivery.id
    assert request.verified_by == ("hook",)
    assert service.store.get_delivery(delivery.id).status == "succeeded"


def test_each_event_goes_to_each_subscribed_hook_once(service: HookService, home: Path,
                                                      make_receiver: Make) -> None:
    receiver = make_receiver()
    _hook(service, receiver, ["job"], path="/jobs", label="jobs")
    _hook(service, receiver, ["job.failed", "cluster.error"], path="/bad", label="bad")
    for i in range(1, 6):
        service.publish("job.failed", body("job.failed", i))
        service.publish("cluster.available", body("cluster.available", i))
    assert drain(home) == 10
    got = sorted((r.path, r.body) for r in receiver.requests())
    expected = sorted([("/jobs", body("job.failed", i)) for i in range(1, 6)]
                      + [("/bad", body("job.failed", i)) for i in range(1, 6)])
    assert got == expected
    assert all(r.verified_by == (r.path.strip("/"),) for r in receiver.requests())
    assert len({r.header("X-Hook-Delivery") for r in receiver.requests()}) == 10


def test_stop_from_another_thread_leaves_the_delivery_pending(
        service: HookService, home: Path, make_receiver: Make) -> None:
    # The first request hangs for a minute; later ones are answered at once.
    receiver = make_receiver({"script": [{"delay": 60}]})
    hook = _hook(service, receiver, ["job"])
    service.publish("job.failed", body("job.failed", 7))
    settings = dataclasses.replace(FAST, attempt_timeout=60)
    engine = Engine(home, settings=settings)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(engine.run()))
    thread.start()
    try:
        receiver.wait_for_requests(1)  # the request is in flight now
        stopped_at = time.monotonic()
        engine.stop()
        thread.join(timeout=10)
    finally:
        if thread.is_alive():
            engine.stop()
            thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - stopped_at < 2
    assert result == [0]  # nothing was recorded

    delivery, attempts = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts, attempts) == ("pending", 0, [])
    assert db_rows(home, "SELECT lease_until FROM deliveries") == [(None,)]  # lease released

    assert run_until_idle(home) == 1
    first, second = receiver.requests()
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery") == delivery.id
    assert second.verified_by == ("hook",)
    delivery, attempts = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts, len(attempts)) == ("succeeded", 1, 1)


def test_secrets_read_at_start_sign_each_hook_and_a_missing_one_sends_nothing(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    hooks = [service.create_hook(url=f"{receiver.url}?hook={i}", events=["job"])
             for i in range(6)]
    secrets = {str(h.id): service.reveal_secret(h.id) for h in hooks}
    receiver.set_secrets(secrets)
    missing = hooks[2].id
    keyring.delete_password(SERVICE_NAME, f"{service.store.store_id}/hook/{missing}")
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home, ONE_TRY) == len(hooks)
    requests = receiver.requests()
    assert sorted(r.verified_by for r in requests) == [(str(h.id),) for h in hooks
                                                       if h.id != missing]
    delivery, (attempt,) = _only_delivery(service, hooks[2])
    assert (delivery.status, attempt.error_kind) == ("pending", "secret_unavailable")
    assert "reset-secret" in (attempt.error_message or "")


def test_a_secret_reset_while_the_engine_runs_signs_the_next_delivery(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = _hook(service, receiver, ["job"])
    old = service.reveal_secret(hook.id)
    engine = Engine(home, settings=FAST)
    thread = threading.Thread(target=engine.run)
    thread.start()
    try:
        service.publish("job.failed", body("job.failed", 1))
        (first,) = receiver.wait_for_requests(1)
        assert first.verified_by == ("hook",)
        new = service.reset_secret(hook.id)  # the engine has the old one cached
        receiver.set_secrets({"new": new, "old": old})
        service.publish("job.failed", body("job.failed", 2))
        _, second = receiver.wait_for_requests(2)
    finally:
        engine.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    # Signed with the new secret; during the overlap the Standard Webhooks header
    # carries a signature by each, so receivers can switch when they like.
    assert second.verified_by == ("new",)
    assert {"new", "old"} <= set(second.standard_verified_by)


def test_a_url_edited_while_the_engine_runs_takes_the_next_delivery(
        service: HookService, home: Path, make_receiver: Make) -> None:
    # The sender works out a plain hook's secret and session once per hook it was
    # given; an edited hook is a new one, so nothing of the old URL is reused.
    first_receiver, second_receiver = make_receiver(), make_receiver()
    hook = _hook(service, first_receiver, ["job"])
    second_receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    engine = Engine(home, settings=FAST)
    thread = threading.Thread(target=engine.run)
    thread.start()
    try:
        service.publish("job.failed", body("job.failed", 1))
        service.publish("job.failed", body("job.failed", 2))
        first_receiver.wait_for_requests(2)
        service.edit_hook(hook.id, url=second_receiver.url_for("/moved"))
        service.publish("job.failed", body("job.failed", 3))
        (moved,) = second_receiver.wait_for_requests(1)
    finally:
        engine.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert (moved.path, moved.verified_by) == ("/moved", ("hook",))
    assert len(first_receiver.requests()) == 2
