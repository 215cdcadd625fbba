"""Real keyring failures: no D-Bus session, no Secret Service daemon, a locked
collection. Each becomes one sentence naming the keyring and what to do, never a
traceback or a hang, creates nothing, and never lets a delivery go out unsigned.

The test Secret Service (scripts/with-test-keyring.sh) is locked for real through the
secretstorage package and unlocked again with its password afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.secrets import LOCKED, NO_BACKEND
from hookadmin.core.service import HookService
from hookadmin.core.signing import sign
from tests.helpers import (
    FAST,
    body,
    db_rows,
    run_cli,
    run_until_idle,
    running_engine,
    wait_until,
)
from tests.receiver import Receiver
from tests.security.support import (
    default_collection_locked,
    keyring_entry,
    locked_keyring,
    one_line_error,
    run_main,
)

Make = Callable[..., Receiver]
NOWHERE = "unix:path=/nonexistent/hookadmin-test-bus"


@pytest.fixture
def hook_with_receiver(service: HookService, make_receiver: Make
                       ) -> tuple[HookService, int, str, Receiver]:
    """A hook (with its secret in the real keyring) pointing at a live receiver."""
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    return service, hook.id, service.reveal_secret(hook.id), receiver


def _no_keyring(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stderr
    assert one_line_error(result.stderr) == f"hookadmin: {NO_BACKEND}"
    assert result.stdout == ""


# -- no D-Bus session at all ----------------------------------------------------------

@pytest.mark.parametrize("bus", [None, NOWHERE], ids=["unset", "nowhere"])
def test_hooks_add_without_a_session_bus_creates_nothing(home: Path, bus: str | None) -> None:
    result = run_cli("hooks", "add", "--url", "https://example.com/h", home=home,
                     env={"DBUS_SESSION_BUS_ADDRESS": bus}, timeout=60)
    _no_keyring(result)
    assert "keyring" in result.stderr
    assert "start one and try again" in result.stderr  # what to do
    assert db_rows(home, "SELECT count(*) FROM hooks") == [(0,)]


@pytest.mark.slow
def test_reading_and_replacing_secrets_without_a_session_bus(
        home: Path, hook_with_receiver: tuple[HookService, int, str, Receiver],
        tmp_path: Path) -> None:
    service, hook_id, secret, receiver = hook_with_receiver
    _no_keyring(run_cli("hooks", "secret", str(hook_id), home=home,
                        env={"DBUS_SESSION_BUS_ADDRESS": NOWHERE}))
    _no_keyring(run_cli("hooks", "reset-secret", str(hook_id), home=home,
                        env={"DBUS_SESSION_BUS_ADDRESS": None}))
    assert keyring_entry(service.store.store_id, hook_id) == secret  # unchanged
    assert service.hook(hook_id).previous_secret_expires_at is None
    _no_keyring(run_cli("ping", str(hook_id), home=home,
                        env={"DBUS_SESSION_BUS_ADDRESS": NOWHERE}))
    assert receiver.requests() == []
    assert service.store.list_deliveries() == []
    export = tmp_path / "hooks.json"
    assert run_main("hooks", "export", str(export), home=home).returncode == 0
    _no_keyring(run_cli("hooks", "import", str(export), home=home,
                        env={"DBUS_SESSION_BUS_ADDRESS": None}))
    assert [h.id for h in service.hooks()] == [hook_id]


def test_worker_without_a_session_bus_sends_nothing_unsigned(
        home: Path, hook_with_receiver: tuple[HookService, int, str, Receiver]) -> None:
    service, _hook_id, _secret, receiver = hook_with_receiver
    service.publish("job.failed", body("job.failed"))
    result = run_cli("worker", "--until-idle", home=home,
                     env={"DBUS_SESSION_BUS_ADDRESS": NOWHERE}, timeout=60)
    # The environment's fault: exit 1, one sentence saying what is wrong and what to do.
    assert result.returncode == 1, result.stderr
    assert one_line_error(result.stderr) == (
        "hookadmin: 1 delivery waits, unsent and still pending, because the OS "
        f"keyring cannot be used: {NO_BACKEND}")
    assert receiver.requests() == []
    (delivery,) = service.store.list_deliveries()
    assert (delivery.status, delivery.last_error_kind) == ("pending", "secret_unavailable")
    (attempt,) = service.store.list_attempts(delivery.seq)
    assert attempt.request_headers == {}  # nothing was even signed
    assert NO_BACKEND in (attempt.error_message or "")


def test_a_session_without_a_secret_service_daemon(home: Path, tmp_path: Path) -> None:
    """A fresh D-Bus session where no keyring runs: D-Bus starts gnome-keyring on
    demand, which has no login keyring and cannot ask for a password without a
    display. That must end in one sentence, quickly."""
    env = dict(os.environ)
    for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(tmp_path / "run"),
               HOOKADMIN_HOME=str(home))
    (tmp_path / "run").mkdir(mode=0o700)
    started = time.monotonic()
    proc = subprocess.run(
        ["dbus-run-session", "--", sys.executable, "-m", "hookadmin",
         "hooks", "add", "--url", "https://example.com/h"],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert time.monotonic() - started < 30
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("hookadmin: ")]
    assert len(lines) == 1, proc.stderr  # the rest is the bus's and daemon's own chatter
    assert "keyring" in lines[0]
    assert "try again" in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert db_rows(home, "SELECT count(*) FROM hooks") == [(0,)]


# -- a locked collection --------------------------------------------------------------

def _in_thread(fn: Callable[[], object], timeout: float = 30.0) -> BaseException | object:
    """Run ``fn`` in a thread; its result or exception. Fails instead of hanging."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(fn())
        except BaseException as err:
            outcome.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the keyring call hung for {timeout} s"
    return outcome[0]


def test_a_locked_keyring_is_reported_as_locked_without_hanging(
        home: Path, hook_with_receiver: tuple[HookService, int, str, Receiver]) -> None:
    service, hook_id, secret, _receiver = hook_with_receiver
    assert not default_collection_locked()
    with locked_keyring():
        assert default_collection_locked()
        error = _in_thread(lambda: service.reveal_secret(hook_id))
        assert isinstance(error, SecretStoreError)
        assert (error.cause, str(error)) == ("locked", LOCKED)
        del error
        for args in (("hooks", "secret", str(hook_id)),
                     ("hooks", "add", "--url", "https://example.com/other")):
            started = time.monotonic()
            result = run_cli(*args, home=home, timeout=60)
            assert time.monotonic() - started < 30
            assert result.returncode == 1
            assert one_line_error(result.stderr) == f"hookadmin: {LOCKED}"
            assert result.stdout == ""
    assert not default_collection_locked()
    assert [h.id for h in service.hooks()] == [hook_id]  # nothing created
    assert service.reveal_secret(hook_id) == secret  # readable again once unlocked


def test_deliveries_wait_while_the_keyring_is_locked_and_go_out_signed_after(
        home: Path, hook_with_receiver: tuple[HookService, int, str, Receiver]) -> None:
    service, _hook_id, secret, receiver = hook_with_receiver
    # The default wait between tries of a delivery whose secret could not be read: an
    # engine that reads secrets again sends it at once, not a minute later.
    settings = dataclasses.replace(FAST, secret_retry_interval=60.0)
    service.publish("job.failed", body("job.failed"))
    with locked_keyring():
        locked_at = time.time()
        assert run_until_idle(home, settings, timeout=60) == 1
        assert receiver.requests() == []  # never sent unsigned
        (delivery,) = service.store.list_deliveries()
        assert (delivery.status, delivery.last_error_kind) == ("pending",
                                                               "secret_unavailable")
        assert delivery.next_attempt_at is not None
        assert delivery.next_attempt_at >= locked_at + settings.secret_retry_interval
        (attempt,) = service.store.list_attempts(delivery.seq)
        assert "locked" in (attempt.error_message or "")
        assert attempt.request_headers == {}
        assert db_rows(home, "SELECT failing_since FROM hooks") == [(None,)]
    started = time.time()
    with running_engine(home, settings):
        (request,) = receiver.wait_for_requests(1, timeout=20.0)
        wait_until(lambda: service.store.list_deliveries()[0].status == "succeeded",
                   "the delivery succeeded")
    # The new engine's reads succeed: the keyring is back, so it did not wait for the
    # try the locked one scheduled.
    assert request.received_at < delivery.next_attempt_at
    assert request.received_at - started < 20.0
    assert request.header("X-Hook-Signature") == sign(secret, request.body)
    (delivery,) = service.store.list_deliveries()
    assert delivery.attempts == 2


def test_reading_many_secrets_from_a_locked_keyring_says_it_is_locked(
        hook_with_receiver: tuple[HookService, int, str, Receiver]) -> None:
    service, hook_id, secret, _receiver = hook_with_receiver
    with locked_keyring():
        error = _in_thread(lambda: service.secrets.get_many([hook_id]))
        assert isinstance(error, SecretStoreError)
        assert (error.cause, str(error)) == ("locked", LOCKED)
        del error  # see locked_keyring
    assert service.secrets.get_many([hook_id]) == {hook_id: secret}
