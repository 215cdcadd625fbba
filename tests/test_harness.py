"""The test harness itself: a dead test keyring daemon fails each keyring test with one
sentence, a hung one fails the clean-up with one sentence instead of hanging, each
pytest-xdist worker's private keyring is its own and leaves nothing running, and the
in-process keyring really stores secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.service import HookService
from tests import keyring_bus, worker_keyring
from tests.helpers import REPO_ROOT, process_alive
from tests.keyring_bus import KeyringCallTimeout
from tests.memory_keyring import MemoryKeyring, memory_service

KEYRING_TEST = "tests/core/test_retention.py::test_retention_is_a_setting"


def _outside_xdist() -> dict[str, str]:
    """This environment less pytest-xdist's worker variables, for a pytest run in a
    subprocess (or it would take itself for a worker and start a keyring of its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}


def _dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_a_dead_keyring_daemon_fails_keyring_tests_with_one_sentence() -> None:
    pid = _dead_pid()
    env = {**_outside_xdist(), "HOOKADMIN_TEST_KEYRING_PID": str(pid)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:cacheprovider", "--rootdir",
         str(REPO_ROOT), KEYRING_TEST,
         "tests/core/test_events.py"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    sentence = (f"The test keyring daemon (gnome-keyring-daemon, pid {pid}) has died, so "
                "this test cannot use the Secret Service; run the tests again.")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count(sentence) >= 1, result.stdout
    assert "Traceback" not in result.stdout
    # Only the keyring test failed (in its set-up); the event catalog's tests passed.
    assert result.stdout.count(sentence) == 1
    assert " passed, 1 error in " in result.stdout


def test_the_in_process_keyring_stores_returns_and_deletes(home: Path) -> None:
    backend = MemoryKeyring()
    with memory_service(home, backend) as service:
        hook = service.create_hook(url="https://example.com/h", events=["job"])
        secret = service.reveal_secret(hook.id)
        assert backend.usernames("hookadmin") == [f"{service.store.store_id}/hook/{hook.id}"]
        new = service.reset_secret(hook.id)
        assert new != secret
        assert service.reveal_secret(hook.id) == new
        assert service.secrets.get_optional(hook.id, previous=True) == secret
        assert service.secrets.get_many([hook.id, 99]) == {hook.id: new}
        backend.delete_password("hookadmin", f"{service.store.store_id}/hook/{hook.id}")
        with pytest.raises(SecretStoreError) as err:
            service.reveal_secret(hook.id)
        assert err.value.cause == "missing"
        del err
        service.delete_hook(hook.id)
        assert backend.usernames("hookadmin") == []
    # A second service over the same database and keyring sees nothing of the first.
    with memory_service(home, MemoryKeyring()) as other:
        assert isinstance(other, HookService)
        assert other.hooks() == []


def _keyring_value(address: str, username: str) -> str | None:
    """``keyring.get_password("hookadmin", username)`` on the bus at ``address``, in a
    process of its own (the keyring library reads the bus address from the environment)."""
    code = (f"import keyring; v = keyring.get_password('hookadmin', {username!r}); "
            "print('' if v is None else v, end='')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
                            timeout=60, check=True)
    return result.stdout or None


def test_a_worker_keyring_is_private_and_leaves_nothing_running(
        monkeypatch: pytest.MonkeyPatch) -> None:
    shared_bus = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    for name in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR",
                 worker_keyring.KEYRING_PID_ENV):
        monkeypatch.setenv(name, os.environ[name])  # start() changes them; restored after
    private = worker_keyring.start("probe")
    try:
        assert private.address != shared_bus
        assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == private.address
        assert private.daemon is not None
        assert os.environ[worker_keyring.KEYRING_PID_ENV] == str(private.daemon.pid)
        keyring.set_password("hookadmin", "harness/probe", "only-here")
        assert _keyring_value(private.address, "harness/probe") == "only-here"
        assert _keyring_value(shared_bus, "harness/probe") is None
        daemons = worker_keyring._keyring_daemons_of(private.address, private.folder)
        assert daemons == {private.daemon.pid}
    finally:
        private.stop()
    assert not process_alive(private.bus.pid)
    assert not any(process_alive(pid) for pid in daemons)
    assert not private.folder.exists()


def test_a_hung_keyring_daemon_fails_the_clean_up_in_one_sentence() -> None:
    pid = int(os.environ[worker_keyring.KEYRING_PID_ENV])
    os.kill(pid, signal.SIGSTOP)  # alive, but answers nothing
    try:
        with keyring_bus.session_bus() as conn, pytest.raises(KeyringCallTimeout) as hung:
            keyring_bus.search_items(conn, {"service": "hookadmin"}, timeout=0.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert str(hung.value) == (
        "The test keyring daemon did not answer Collection.SearchItems on "
        "/org/freedesktop/secrets/aliases/default within 0.5 s; it hangs, so this test's "
        "keyring clean-up could not run.")
