"""What the window shows, the command line tells too: why and when a hook was
deactivated, each attempt of a delivery, the secret's Standard Webhooks form."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hookadmin.core.service import HookService
from hookadmin.core.signing import standard_webhooks_secret
from hookadmin.core.store import DB_FILENAME, Store
from tests.helpers import FAST, body, run_until_idle
from tests.receiver import Receiver, big_body, fail_first, status
from tests.security.support import one_line_error, run_main

Make = Callable[..., Receiver]
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _json(*args: str, home: Path) -> Any:
    result = run_main(*args, "--json", home=home)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- why and when a hook was deactivated ----------------------------------------------

def test_show_and_list_tell_why_and_when_the_engine_deactivated_a_hook(
        service: HookService, home: Path, make_receiver: Make) -> None:
    gone = make_receiver(status(410))
    fine = make_receiver()
    dead = service.create_hook(url=gone.url, events=["job"], name="gone")
    alive = service.create_hook(url=fine.url, events=["job"], name="fine")
    before = time.time()
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home) == 2
    after = time.time()

    shown = _json("hooks", "show", str(dead.id), home=home)
    assert shown["active"] is False
    assert "410 Gone" in shown["deactivated_reason"]
    assert before - 1 <= _seconds(shown["deactivated_at"]) <= after + 1
    listed = {h["id"]: h for h in _json("hooks", "list", home=home)}
    assert {k: listed[dead.id][k] for k in ("deactivated_reason", "deactivated_at")} == {
        k: shown[k] for k in ("deactivated_reason", "deactivated_at")}
    assert "deactivated_reason" not in listed[alive.id]  # §4 objects of others unchanged
    assert "deactivated_at" not in listed[alive.id]

    text = run_main("hooks", "show", str(dead.id), home=home).stdout
    assert "Why off:  The receiver answered 410 Gone" in text
    assert f"Off at:   {shown['deactivated_at']}" in text

    # Switched on again: the reason and time are gone; switched off by hand: no reason.
    for flag in ("--active", "--inactive"):
        edited = _json("hooks", "edit", str(dead.id), flag, home=home)
        assert "deactivated_reason" not in edited
        assert "deactivated_at" not in edited
    assert "Why off" not in run_main("hooks", "show", str(dead.id), home=home).stdout


def test_a_database_from_before_the_deactivation_time_takes_it_from_updated_at(
        tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    with Store(path) as store:
        off = store.add_hook(name="", url="https://a.example/", events=["job"], active=True)
        on = store.add_hook(name="", url="https://b.example/", events=["job"], active=True)
        off = store.update_hook(off.id, active=False, deactivated_reason="410 Gone.")
    db = sqlite3.connect(path)  # as the previous schema left it
    for column in ("deactivated_at", "type", "options", "filtered_out"):  # schemas 7, 8
        db.execute(f"ALTER TABLE hooks DROP COLUMN {column}")
    db.execute("ALTER TABLE attempts DROP COLUMN request_body")  # the sent-body schema
    db.execute("PRAGMA user_version = 6")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.deactivated_at(off.id) == _seconds(off.updated_at)
        assert store.deactivated_at(on.id) is None


# -- deliveries show ------------------------------------------------------------------

def test_deliveries_show_tells_each_attempt(service: HookService, home: Path,
                                            make_receiver: Make) -> None:
    script = fail_first(1, 503)
    script["script"][0]["headers"] = {"X-Why": "maintenance"}
    receiver = make_receiver(script)
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", body("job.failed", 7))
    # The retry is due at once, so one run makes both attempts.
    assert run_until_idle(home, dataclasses.replace(FAST, retry_schedule=(0, 0, 0))) == 2
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    first, second = receiver.wait_for_requests(2)

    shown = _json("deliveries", "show", delivery.id, home=home)
    assert shown["delivery"] == delivery.to_json()
    assert json.loads(shown["body"]) == json.loads(body("job.failed", 7))
    one, two = shown["attempts"]
    assert (one["number"], one["status_code"], one["error_kind"]) == (1, 503, "http_status")
    assert (two["number"], two["status_code"], two["error_kind"]) == (2, 200, None)
    assert ISO_MS.fullmatch(one["started_at"])
    assert _seconds(one["started_at"]) <= _seconds(two["started_at"])
    assert one["duration_ms"] > 0
    assert one["request"]["url"] == receiver.url
    assert one["request"]["headers"]["X-Hook-Signature"] == first.header("X-Hook-Signature")
    assert two["request"]["headers"]["X-Hook-Delivery"] == second.header("X-Hook-Delivery") \
        == delivery.id
    assert ["X-Why", "maintenance"] in one["response_headers"]
    assert json.loads(one["response_body"]) == {"error": 503}
    assert one["response_truncated"] is False
    assert one["error"]
    assert ISO_MS.fullmatch(one["next_attempt_at"])  # when the retry was scheduled for
    assert two["next_attempt_at"] is None

    text = run_main("deliveries", "show", delivery.id, home=home)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert f"Delivery {delivery.id}" in out
    assert "Attempt 1 · " in out
    assert "HTTP 503" in out
    assert "Attempt 2 · " in out
    assert "X-Why: maintenance" in out
    assert f"X-Hook-Signature: {first.header('X-Hook-Signature')}" in out
    assert f"Next attempt: {one['next_attempt_at']}" in out
    assert '"error": 503' in out  # the response body, pretty-printed


def test_deliveries_show_marks_a_capped_body(service: HookService, home: Path,
                                             make_receiver: Make) -> None:
    receiver = make_receiver(big_body(100_000))
    service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home) == 1
    (delivery,) = service.store.list_deliveries()
    (attempt,) = _json("deliveries", "show", delivery.id, home=home)["attempts"]
    assert attempt["response_truncated"] is True
    assert len(attempt["response_body"]) == 64 * 1024
    out = run_main("deliveries", "show", delivery.id, home=home).stdout
    assert "Response body (truncated to 65536 bytes):" in out


def test_deliveries_show_of_a_pending_delivery_says_when_it_is_tried(
        service: HookService, home: Path) -> None:
    hook = service.create_hook(url="https://unreachable.example/h", events=["job"])
    service.publish("job.failed", body("job.failed"))
    service.store.fan_out()
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    shown = _json("deliveries", "show", delivery.id, home=home)
    assert shown["attempts"] == []
    assert shown["delivery"]["next_attempt_at"] is not None
    out = run_main("deliveries", "show", delivery.id, home=home).stdout
    assert "No attempt yet." in out
    assert f"Next attempt: {shown['delivery']['next_attempt_at']}" in out


@pytest.mark.parametrize(("given", "fragment"), [
    ("00000000-0000-4000-8000-000000000000", "There is no delivery"),
    ("not-a-uuid", "is not a delivery id"),
    ("line\nbreak", "is not a delivery id"),
])
def test_deliveries_show_of_an_unknown_id_exits_2_with_one_line(
        service: HookService, home: Path, given: str, fragment: str) -> None:
    result = run_main("deliveries", "show", given, home=home)
    assert result.returncode == 2
    assert fragment in one_line_error(result.stderr)
    assert result.stdout == ""


def test_the_delivery_list_still_works_beside_show(service: HookService, home: Path) -> None:
    assert run_main("deliveries", home=home).stdout == "No deliveries yet.\n"
    assert _json("deliveries", home=home) == []


# -- the secret's Standard Webhooks form ----------------------------------------------

def test_hooks_secret_whsec_prints_the_standard_webhooks_form(service: HookService,
                                                              home: Path) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    secret = service.reveal_secret(hook.id)
    result = run_main("hooks", "secret", str(hook.id), "--whsec", home=home)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, standard_webhooks_secret(secret) + "\n", "")
    assert run_main("hooks", "secret", str(hook.id), home=home).stdout == secret + "\n"
