"""Keyring trouble hookadmin gets over: a keyring daemon that dies and is started again,
hooks deleted while the keyring is unavailable, a worker told once (not per delivery)
that it waits for the keyring, and no D-Bus connection left open on an error path."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.hook_types import BASIC_AUTH_PASSWORD, HookOptions
from hookadmin.core.secrets import LOCKED, NO_BACKEND, SecretStore
from hookadmin.core.service import HookService
from hookadmin.core.signing import sign
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body, run_cli
from tests.receiver import Receiver
from tests.security.keyring_daemon import (
    end_activated_daemons,
    keep_activation_away_from,
    restore_activation,
    secret_service_running,
    start_secret_service,
    stop_secret_service,
    wait_for,
)
from tests.security.support import (
    keyring_entry,
    lock_default_collection,
    unlock_default_collection,
)

NOWHERE = "unix:path=/nonexistent/hookadmin-test-bus"
# Deliveries whose secret cannot be read are tried again after 0.5 s.
QUICK = DeliverySettings(retry_schedule=(0, 0.2, 0.2), jitter=0, connect_timeout=2.0,
                         attempt_timeout=3.0, poll_interval=0.02, secret_retry_interval=0.5)


# -- hooks deleted while the keyring is unavailable -----------------------------------

def test_delete_without_a_keyring_removes_the_secret_on_the_next_run(home: Path) -> None:
    with HookService(home) as service:
        hook = service.create_hook(url="https://example.com/h", events=["job"])
        service.reset_secret(hook.id)  # the replaced secret is an entry of its own
        store_id = service.store.store_id
    assert keyring_entry(store_id, hook.id) is not None
    assert keyring_entry(store_id, hook.id, previous=True) is not None

    deleted = run_cli("hooks", "delete", str(hook.id), home=home,
                      env={"DBUS_SESSION_BUS_ADDRESS": NOWHERE})
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith(f"Deleted hook {hook.id} ")
    (line,) = deleted.stderr.splitlines()
    assert line == ("hookadmin: the hook's secret stays in the OS keyring for now (no OS "
                    "keyring was found); the next hookadmin command that can use the "
                    "keyring removes it.")
    assert keyring_entry(store_id, hook.id) is not None  # still there, remembered

    # Still no keyring: nothing is said, the names are kept.
    listed = run_cli("hooks", "list", home=home, env={"DBUS_SESSION_BUS_ADDRESS": NOWHERE})
    assert (listed.returncode, listed.stderr) == (0, "")

    listed = run_cli("hooks", "list", home=home)
    assert listed.returncode == 0
    assert listed.stderr == ("hookadmin: removed from the OS keyring the secrets of deleted "
                             "hooks that it could not remove when they were deleted (2 "
                             "entries).\n")
    assert keyring_entry(store_id, hook.id) is None
    assert keyring_entry(store_id, hook.id, previous=True) is None
    again = run_cli("hooks", "list", home=home)
    assert again.stderr == ""  # said once


def test_delete_hook_reports_a_kept_secret(home: Path) -> None:
    with HookService(home) as service:
        hook = service.create_hook(url="https://example.com/h", events=["job"])
        kept_id = service.create_hook(url="https://example.com/k", events=["job"]).id
        secret = service.reveal_secret(kept_id)
        store_id = service.store.store_id
    with HookService(home, secrets=SecretStore(store_id, backend=_NoKeyring())) as service:
        kept = service.delete_hook(hook.id)
        assert isinstance(kept, SecretStoreError)
        assert str(kept) == NO_BACKEND
        assert service.orphaned_secrets() == [f"{store_id}/hook/{hook.id}",
                                              f"{store_id}/hook/{hook.id}/previous"]
    with HookService(home) as service:
        assert service.remove_orphaned_secrets() == 2
        assert service.orphaned_secrets() == []
        assert service.delete_hook(kept_id) is None
    assert keyring_entry(store_id, hook.id) is None
    assert keyring_entry(store_id, kept_id) is None
    assert secret  # the other hook's secret was never part of the orphans


def test_deleting_a_typed_hook_removes_its_option_secrets_too(home: Path) -> None:
    with HookService(home) as service:
        typed = service.create_hook(url="https://example.com/t", events=["job"],
                                    options=HookOptions(basic_auth_user="alice"),
                                    option_secrets={BASIC_AUTH_PASSWORD: "Pa55-word-x"})
        gone = service.create_hook(url="https://example.com/g", events=["job"],
                                   options=HookOptions(basic_auth_user="bob"),
                                   option_secrets={BASIC_AUTH_PASSWORD: "Pa55-word-y"})
        plain = service.create_hook(url="https://example.com/p", events=["job"])
        store_id = service.store.store_id
    assert keyring_entry(store_id, typed.id, options=True) is not None
    with HookService(home) as service:
        assert service.delete_hook(gone.id) is None
    assert keyring_entry(store_id, gone.id, options=True) is None
    assert keyring_entry(store_id, gone.id) is None
    with HookService(home, secrets=SecretStore(store_id, backend=_NoKeyring())) as service:
        assert isinstance(service.delete_hook(typed.id), SecretStoreError)
        assert isinstance(service.delete_hook(plain.id), SecretStoreError)
        assert service.orphaned_secrets() == [
            f"{store_id}/hook/{typed.id}", f"{store_id}/hook/{typed.id}/previous",
            f"{store_id}/hook/{typed.id}/options",  # a plain web hook has none
            f"{store_id}/hook/{plain.id}", f"{store_id}/hook/{plain.id}/previous"]
    with HookService(home) as service:
        assert service.remove_orphaned_secrets() == 5
    assert keyring_entry(store_id, typed.id, options=True) is None
    assert keyring_entry(store_id, typed.id) is None


class _NoKeyring:
    """keyring's "no backend" stand-in (what keyring selects without a keyring)."""

    def __new__(cls) -> object:
        from keyring.backends import fail

        return fail.Keyring()


# -- a worker without a usable keyring ------------------------------------------------

def test_worker_says_once_that_it_waits_for_the_keyring(
        home: Path, make_receiver: type[Receiver]) -> None:
    receiver = make_receiver()
    with HookService(home) as service:
        for i in range(3):
            service.create_hook(url=receiver.url_for(f"/h{i}"), events=["job"])
        for _ in range(2):
            service.publish("job.failed", body("job.failed"))
    result = run_cli("worker", "--until-idle", home=home,
                     env={"DBUS_SESSION_BUS_ADDRESS": NOWHERE}, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "hookadmin: 6 deliveries wait, unsent and still pending, because the OS "
        f"keyring cannot be used: {NO_BACKEND}"], result.stderr
    assert receiver.requests() == []
    with HookService(home) as service:
        assert {d.status for d in service.store.list_deliveries()} == {"pending"}


def test_a_worker_that_runs_on_prints_when_it_waits_for_the_keyring(
        home: Path, make_receiver: type[Receiver], tmp_path: Path) -> None:
    """Without --until-idle the worker waits for the keyring instead of exiting."""
    receiver = make_receiver()
    with HookService(home) as service:
        service.create_hook(url=receiver.url, events=["job"])
        service.publish("job.failed", body("job.failed"))
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": NOWHERE}
    stderr_path = tmp_path / "worker.stderr"
    with stderr_path.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                   "worker"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        wait_for(lambda: "until the OS keyring" in stderr_path.read_text(),
                 "the worker said it waits for the keyring")
        assert worker.poll() is None  # still running, waiting
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=20)
    assert worker.returncode == 0
    assert stderr_path.read_text().splitlines()[0] == (
        "hookadmin worker: deliveries wait, and are never sent unsigned, until the OS "
        f"keyring can be used: {NO_BACKEND}")
    assert receiver.requests() == []


# -- a keyring daemon that dies and is started again -----------------------------------

@pytest.mark.parametrize("late_options", [False, True], ids=["plain", "basic-auth"])
def test_engine_waits_for_a_restarted_keyring_daemon_and_signs(
        home: Path, tmp_path: Path, make_receiver: type[Receiver],
        late_options: bool) -> None:
    receiver = make_receiver()
    service = HookService(home)
    early = service.create_hook(url=receiver.url_for("/early"), events=["job"])
    told: list[str | None] = []
    changed = threading.Event()

    def on_keyring(problem: str | None) -> None:
        told.append(problem)
        changed.set()

    engine = Engine(home, settings=QUICK, on_keyring=on_keyring)
    runner = threading.Thread(target=engine.run, name="engine")
    runner.start()
    try:
        service.publish("job.failed", body("job.failed", id=1))
        receiver.wait_for_requests(1)
        assert told == [None]  # its first read said the keyring can be used
        changed.clear()
        # A hook whose secret the running engine has not read yet.
        # With options it goes through the engine's path for typed hooks.
        late = service.create_hook(
            url=receiver.url_for("/late"), events=["cluster"],
            options=HookOptions(basic_auth_user="alice") if late_options else None,
            option_secrets={BASIC_AUTH_PASSWORD: "Pa55-word-x"} if late_options else None)
        secrets = {"early": service.reveal_secret(early.id),
                   "late": service.reveal_secret(late.id)}

        keep_activation_away_from(tmp_path)
        stop_secret_service()
        service.publish("job.failed", body("job.failed", id=2))  # secret kept: goes out
        service.publish("cluster.error", body("cluster.error", id=3))  # must wait
        assert changed.wait(30), "the engine never said the keyring is unusable"
        assert told[1] is not None
        assert "keyring" in told[1]
        changed.clear()
        with pytest.raises(SecretStoreError):
            service.reveal_secret(late.id)

        end_activated_daemons(tmp_path)  # one D-Bus may have started meanwhile
        start_secret_service(tmp_path / "daemon.log", tmp_path)
        end_activated_daemons(tmp_path)
        assert changed.wait(30), "the engine never read the secret again"
        assert told[-1] is None
        requests = receiver.wait_for_requests(3)
        assert [r.path for r in requests] == ["/early", "/early", "/late"]
        for request in requests:
            expected = secrets[request.path.strip("/")]
            assert request.header("X-Hook-Signature") == sign(expected, request.body)
        assert service.reveal_secret(late.id) == secrets["late"]  # reconnected too
    finally:
        engine.stop()
        runner.join(20)
        service.close()
        end_activated_daemons(tmp_path)  # none may stay on the bus for the next tests
        if not secret_service_running():  # failed half way: the next tests need one
            start_secret_service(tmp_path / "daemon.log", tmp_path)
        restore_activation()
    assert not runner.is_alive()
    wait_for(lambda: {d.status for d in _deliveries(home)} == {"succeeded"},
             "every delivery succeeded")


def _deliveries(home: Path) -> list[object]:
    with HookService(home) as service:
        return list(service.store.list_deliveries())


# -- no connection left open ------------------------------------------------------------

def test_keyring_errors_leave_no_connection_open(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    many = [service.create_hook(url=f"https://example.com/{i}", events=["job"]).id
            for i in range(20)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lock_default_collection()
        try:
            for call in (lambda: service.reveal_secret(hook.id),
                         lambda: service.secrets.get_many(many),
                         lambda: service.create_hook(url="https://example.com/x",
                                                     events=["job"]),
                         service.secrets.check):
                with pytest.raises(SecretStoreError) as info:
                    call()
                assert str(info.value) == LOCKED
                del info
            store = SecretStore(service.store.store_id)
            with pytest.raises(SecretStoreError):
                store.get(hook.id)
            del store  # never closed: collected without a warning
        finally:
            unlock_default_collection()
        unclosed = SecretStore(service.store.store_id)
        assert unclosed.get(hook.id) == service.reveal_secret(hook.id)
        del unclosed
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
