"""The test harness itself: a dead test keyring daemon fails each keyring test with one
sentence, and the in-process keyring really stores secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.service import HookService
from tests.helpers import REPO_ROOT
from tests.memory_keyring import MemoryKeyring, memory_service

KEYRING_TEST = "tests/core/test_retention.py::test_retention_is_a_setting"


def _dead_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_a_dead_keyring_daemon_fails_keyring_tests_with_one_sentence() -> None:
    pid = _dead_pid()
    env = {**os.environ, "HOOKADMIN_TEST_KEYRING_PID": str(pid)}
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
