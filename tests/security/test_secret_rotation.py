"""Secret reset with a 24-hour overlap, seen on the wire by a real receiver.

After ``hookadmin hooks reset-secret ID`` every delivery carries ``X-Hook-Signature``
by the new secret only and ``webhook-signature`` with two ``v1,`` entries (new first,
then old). Once the overlap is over only the new one is sent and the engine removes
the old secret from the keyring.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.service import SECRET_OVERLAP_SECONDS, HookService
from hookadmin.core.signing import check_secret, sign, sign_standard
from hookadmin.core.store.sqlite import hooks as store_hooks
from hookadmin.delivery.engine import Engine
from tests.helpers import FAST, body, run_cli, run_until_idle
from tests.receiver import ReceivedRequest, Receiver
from tests.security.support import HEX64, keyring_entry, one_line_error, run_main

Make = Callable[..., Receiver]


def _standard_entries(request: ReceivedRequest) -> list[str]:
    value = request.header("webhook-signature")
    assert value is not None
    return value.split(" ")


def _expected_standard(secret: str, request: ReceivedRequest) -> str:
    delivery_id = request.header("webhook-id")
    timestamp = request.header("webhook-timestamp")
    assert delivery_id is not None
    assert timestamp is not None
    return sign_standard(secret, delivery_id, int(timestamp), request.body)


def test_reset_secret_signs_with_both_secrets_for_24_hours_then_only_the_new_one(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    old = run_main("hooks", "secret", str(hook.id), home=home).stdout.strip()
    assert HEX64.fullmatch(old)

    reset = run_main("hooks", "reset-secret", str(hook.id), home=home)
    assert reset.returncode == 0
    new = reset.stdout.strip()
    assert HEX64.fullmatch(new)
    assert new != old
    assert reset.stdout == new + "\n"  # the reveal prints the secret and nothing else
    store_id = service.store.store_id
    assert keyring_entry(store_id, hook.id) == new
    assert keyring_entry(store_id, hook.id, previous=True) == old

    expiry = service.hook(hook.id).previous_secret_expires_at
    assert expiry is not None
    assert abs(expiry - (time.time() + SECRET_OVERLAP_SECONDS)) < 60
    shown = run_main("hooks", "show", str(hook.id), home=home).stdout
    until = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ("  Rotation: the replaced secret also signs webhook-signature until "
            f"{until}") in shown
    assert old not in shown
    assert new not in shown

    receiver.set_secrets({"new": new, "old": old})
    service.publish("job.failed", body("job.failed", 1))
    assert run_until_idle(home) == 1
    (during,) = receiver.wait_for_requests(1)
    assert during.header("X-Hook-Signature") == sign(new, during.body)
    assert during.verified_by == ("new",)  # X-Hook-Signature: the new secret only
    entries = _standard_entries(during)
    assert entries == [_expected_standard(new, during), _expected_standard(old, during)]
    assert all(e.startswith("v1,") for e in entries)
    assert during.standard_verified_by == ("new", "old")

    # The overlap is over (as if 24 hours had passed).
    service.store.update_hook(hook.id, previous_secret_expires_at=time.time() - 1)
    service.publish("job.failed", body("job.failed", 2))
    assert run_until_idle(home) == 1
    after = receiver.wait_for_requests(2)[1]
    assert after.header("X-Hook-Signature") == sign(new, after.body)
    assert _standard_entries(after) == [_expected_standard(new, after)]
    assert after.standard_verified_by == ("new",)
    # The engine's prune step removed the old secret.
    assert keyring_entry(store_id, hook.id, previous=True) is None
    assert keyring_entry(store_id, hook.id) == new
    assert service.hook(hook.id).previous_secret_expires_at is None
    assert "Rotation" not in run_main("hooks", "show", str(hook.id), home=home).stdout


def test_a_second_reset_keeps_only_the_secret_it_replaced(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    first = service.reveal_secret(hook.id)
    second = service.reset_secret(hook.id)
    third = service.reset_secret(hook.id)
    store_id = service.store.store_id
    assert keyring_entry(store_id, hook.id) == third
    assert keyring_entry(store_id, hook.id, previous=True) == second
    assert first not in {third, second}


def test_deleting_a_hook_during_the_overlap_removes_both_secrets(
        service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    service.reset_secret(hook.id)
    store_id = service.store.store_id
    assert keyring_entry(store_id, hook.id, previous=True) is not None
    service.delete_hook(hook.id)
    assert keyring_entry(store_id, hook.id) is None
    assert keyring_entry(store_id, hook.id, previous=True) is None  # no orphaned secret


def test_a_running_engine_signs_with_the_new_secret_right_after_a_reset(
        service: HookService, home: Path, make_receiver: Make,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine caches secrets for a few seconds, keyed by the hook's updated_at,
    which has whole seconds only: a reset within the same second as the previous
    change must still miss the cache."""
    monkeypatch.setattr(store_hooks, "utc_now_iso", lambda: "2026-11-29T10:00:00Z")
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    old = service.reveal_secret(hook.id)
    engine = Engine(home, settings=FAST)
    thread = threading.Thread(target=engine.run, name="engine")
    thread.start()
    try:
        service.publish("job.failed", body("job.failed", 1))
        (first,) = receiver.wait_for_requests(1)
        assert first.header("X-Hook-Signature") == sign(old, first.body)
        new = service.reset_secret(hook.id)
        assert service.hook(hook.id).updated_at == "2026-11-29T10:00:00Z"  # "same second"
        service.publish("job.failed", body("job.failed", 2))
        second = receiver.wait_for_requests(2)[1]
    finally:
        engine.stop()
        thread.join(20)
    assert not thread.is_alive()
    assert second.header("X-Hook-Signature") == sign(new, second.body)
    assert len(_standard_entries(second)) == 2


# -- secrets given as text ------------------------------------------------------------

SECRET = "0123456789abcdef" * 4


@pytest.mark.parametrize("given", [SECRET, f"  {SECRET}\n", f"\t{SECRET}\r\n", f"\n\n{SECRET} "])
def test_surrounding_whitespace_is_stripped(given: str) -> None:
    assert check_secret(given) == SECRET


@pytest.mark.parametrize(("given", "fragment"), [
    (SECRET[:32] + " " + SECRET[32:], "whitespace inside"),
    (SECRET[:32] + "\n" + SECRET[32:], "whitespace inside"),
    (SECRET[:32] + "\t" + SECRET[32:], "whitespace inside"),
    (SECRET[:32] + "\u00a0" + SECRET[32:], "whitespace inside"),
    (SECRET.upper(), "64 lowercase hex"),
    (SECRET[:-1], "64 lowercase hex"),
    (SECRET + "0", "64 lowercase hex"),
    ("", "64 lowercase hex"),
    ("g" * 64, "64 lowercase hex"),
    ("０" * 64, "64 lowercase hex"),  # full-width digits
])
def test_malformed_secrets_are_rejected(given: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as info:
        check_secret(given)
    assert info.value.field == "secret"
    assert "\n" not in str(info.value)


def test_secrets_from_a_file_are_stripped_and_inner_whitespace_is_refused(
        service: HookService, home: Path, tmp_path: Path) -> None:
    service.create_hook(url="https://example.com/a", events=["job"])
    export = tmp_path / "hooks.json"
    assert run_main("hooks", "export", str(export), home=home).returncode == 0
    with HookService(tmp_path / "other") as other:
        bad = tmp_path / "bad-secrets.json"
        bad.write_text(json.dumps({"1": f"{SECRET[:32]} {SECRET[32:]}"}))
        refused = run_main("hooks", "import", str(export), "--secrets", str(bad),
                           home=other.home)
        assert refused.returncode == 2
        line = one_line_error(refused.stderr)
        assert "Secret of hook 1" in line
        assert "whitespace inside" in line
        assert SECRET[:32] not in line
        assert other.hooks() == []
        padded = tmp_path / "secrets.json"
        padded.write_text(json.dumps({"1": f"  {SECRET}\n"}))
        imported = run_main("hooks", "import", str(export), "--secrets", str(padded),
                            home=other.home)
        assert imported.returncode == 0, imported.stderr
        (hook,) = other.hooks()
        assert other.reveal_secret(hook.id) == SECRET


def test_reset_to_a_given_secret_strips_it(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/a", events=["job"])
    assert service.reset_secret(hook.id, f"\n {SECRET}\t\n") == SECRET
    assert service.reveal_secret(hook.id) == SECRET
    with pytest.raises(InputError, match="whitespace inside"):
        service.reset_secret(hook.id, SECRET[:10] + " " + SECRET[10:])
    assert service.reveal_secret(hook.id) == SECRET




def test_a_ping_during_the_overlap_is_signed_by_both_secrets(
        home: Path, service: HookService, receiver: Receiver) -> None:
    hook = service.create_hook(url=receiver.url, events=["job"])
    old = service.reveal_secret(hook.id)
    new = service.reset_secret(hook.id)
    result = run_cli("ping", str(hook.id), home=home)
    assert result.returncode == 0, result.stderr
    (request,) = receiver.wait_for_requests(1)
    assert request.header("X-Hook-Event") == "ping"
    msg_id, stamp = request.header("webhook-id"), request.header("webhook-timestamp")
    assert msg_id is not None
    assert stamp is not None
    assert (request.header("webhook-signature") or "").split() == [
        sign_standard(new, msg_id, int(stamp), request.body),
        sign_standard(old, msg_id, int(stamp), request.body)]
    assert request.header("X-Hook-Signature") == sign(new, request.body)


def test_reset_secret_from_a_file_or_stdin(home: Path, service: HookService,
                                           tmp_path: Path) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    chosen = "0123456789abcdef" * 4
    path = tmp_path / "secret.txt"
    path.write_text(f"  {chosen}\n\n")
    result = run_cli("hooks", "reset-secret", str(hook.id), "--secret-file", str(path),
                     home=home)
    assert result.returncode == 0, result.stderr
    assert service.reveal_secret(hook.id) == chosen
    # The secret given is not echoed; the output says what happened instead.
    assert chosen not in result.stdout + result.stderr
    assert chosen[:32] not in result.stdout + result.stderr
    assert f"Hook {hook.id} now signs with the secret given" in result.stdout

    other = "fedcba9876543210" * 4
    result = run_cli("hooks", "reset-secret", str(hook.id), "--secret-file", "-",
                     home=home, input=f"{other}\n".encode())
    assert result.returncode == 0, result.stderr
    assert service.reveal_secret(hook.id) == other
    assert other not in result.stdout + result.stderr
    assert "webhook-signature until" in result.stdout  # the replaced one still signs

    inner = f"{other[:32]} {other[32:]}"
    result = run_cli("hooks", "reset-secret", str(hook.id), "--secret-file", "-",
                     home=home, input=inner.encode())
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "whitespace inside" in result.stderr
    assert other not in result.stderr
    assert service.reveal_secret(hook.id) == other  # nothing changed
