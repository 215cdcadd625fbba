"""Ping: a signed test notification to a real receiver process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hookadmin.core.service import HookService
from hookadmin.delivery.ping import ZEN, ping
from tests import receiver as rx
from tests.helpers import FAST, body, run_cli, run_until_idle

Make = Callable[..., rx.Receiver]


def test_ping_is_signed_and_recorded(service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job.failed"], name="ops")
    secret = service.reveal_secret(hook.id)
    receiver.set_secrets({"ops": secret})

    result = ping(service, hook.id, FAST)

    assert result.attempt.succeeded
    assert result.attempt.status_code == 200
    (req,) = receiver.requests()
    assert req.method == "POST"
    assert req.header("X-Hook-Event") == "ping"
    assert req.header("Content-Type") == "application/json"
    assert req.header("X-Hook-Delivery") == req.header("webhook-id") == result.delivery_id
    assert req.verified_by == ("ops",)
    assert req.standard_verified_by == ("ops",)
    assert req.body == result.body
    payload = req.json()
    assert set(payload) == {"zen", "hook_id", "hook"}
    assert payload["zen"] in ZEN
    assert payload["hook_id"] == hook.id
    assert payload["hook"] == hook.to_json()
    assert secret not in req.body.decode("utf-8")

    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.id, delivery.event_type, delivery.status, delivery.attempts,
            delivery.last_status_code) == (result.delivery_id, "ping", "succeeded", 1, 200)
    assert service.store.delivery_body(delivery.id) == req.body
    (attempt,) = service.store.list_attempts(delivery.seq)
    assert attempt.request_headers["X-Hook-Signature"] == req.signature


def test_a_failed_ping_is_recorded_and_never_retried(service: HookService, home: Path,
                                                     make_receiver: Make) -> None:
    receiver = make_receiver(rx.status(500))
    hook = service.create_hook(url=receiver.url, events=["job"])
    result = ping(service, hook.id, FAST)
    assert not result.attempt.succeeded
    assert (result.attempt.status_code, result.attempt.error_kind) == (500, "http_status")
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert (delivery.event_type, delivery.status, delivery.attempts) == ("ping", "failed", 1)
    assert run_until_idle(home) == 0
    assert len(receiver.requests()) == 1


def test_ping_works_for_a_hook_that_subscribes_to_nothing_it_would_get(
        service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["cluster.idled"], active=False)
    assert ping(service, hook.id, FAST).attempt.succeeded
    assert receiver.requests()[0].json()["hook"]["active"] is False


def test_cli_ping_json(home: Path, service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    result = run_cli("ping", str(hook.id), "--json", home=home)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    (req,) = receiver.requests()
    assert out["delivery_id"] == req.header("X-Hook-Delivery")
    assert out["status_code"] == 200
    assert out["error_kind"] is None
    assert json.loads(out["response_body"]) == {"ok": True}
    assert out["request"]["body"].encode() == req.body
    assert req.verified_by == ("hook",)


def test_cli_ping_to_a_failing_receiver_exits_1(home: Path, service: HookService,
                                                make_receiver: Make) -> None:
    receiver = make_receiver(rx.status(404))
    hook = service.create_hook(url=receiver.url, events=["job"])
    result = run_cli("ping", str(hook.id), home=home)
    assert result.returncode == 1
    assert result.stdout.startswith("404 in ")
    assert "Traceback" not in result.stderr
    assert len(receiver.requests()) == 1


# DESIGN.md §3 spells them so; a receiver that matches names case-sensitively (a raw
# header list, a proxy rule) must see the same names from a ping and a delivery.
WIRE_NAMES = ["Content-Type", "User-Agent", "X-Hook-Event", "X-Hook-Delivery",
              "X-Hook-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"]


def test_pings_and_deliveries_send_the_same_header_names(service: HookService, home: Path,
                                                         make_receiver: Make) -> None:
    receiver = make_receiver()  # records each header name exactly as it arrived
    hook = service.create_hook(url=receiver.url, events=["job"])
    assert ping(service, hook.id, FAST).attempt.succeeded
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home) == 1

    pinged, delivered = receiver.wait_for_requests(2)
    assert pinged.header("X-Hook-Event") == "ping"
    for request in (pinged, delivered):
        names = [name for name, _ in request.headers]
        assert [n for n in names if n.lower() in {w.lower() for w in WIRE_NAMES}] \
            == WIRE_NAMES, names
