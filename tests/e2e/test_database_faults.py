"""The database's faults that are the machine's, not hookadmin's: another process
holding a write lock for long (a ``sqlite3`` shell, a backup) and a full disk.
Both are real: a second process holds ``BEGIN IMMEDIATE``, and the data directory
sits on a small tmpfs filled to the last byte. Each ends in one sentence, never a
traceback, and nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from hookadmin.core.dbfaults import BUSY_TIMEOUT_ENV
from hookadmin.core.service import HookService
from tests.helpers import WriteLock, body, db_rows, run_cli
from tests.receiver import Receiver, delay

SHORT_BUSY = {BUSY_TIMEOUT_ENV: "0.3"}  # seconds: a lock held longer is "too long"


def _wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _succeeded(home: Path) -> int:
    ((count,),) = db_rows(home, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")
    assert isinstance(count, int)
    return count


# -- a database locked by another process ----------------------------------------------

def test_publish_while_the_database_stays_locked_fails_with_one_sentence(
        home: Path, service: HookService) -> None:
    with WriteLock(home):
        result = run_cli("publish", "job.failed", "--resource", "-", home=home,
                         input=body("job.failed"), env=SHORT_BUSY)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hookadmin: hookadmin's database was locked by another process")
    assert "nothing was queued" in line
    assert db_rows(home, "SELECT count(*) FROM events") == [(0,)]


def test_a_worker_waits_for_a_long_lock_and_goes_on(home: Path, service: HookService,
                                                     make_receiver: object,
                                                     tmp_path: Path) -> None:
    receiver: Receiver = make_receiver(delay(1.0))  # type: ignore[operator]
    service.create_hook(url=receiver.url, events=["job"])
    stderr_path = tmp_path / "worker.stderr"
    with stderr_path.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                   "worker"], stdin=subprocess.DEVNULL, stderr=stderr,
                                  env={**os.environ, **SHORT_BUSY})
    try:
        service.publish("job.failed", body("job.failed", 1))
        receiver.wait_for_requests(1, timeout=60)  # in flight: answered in 1 s
        with WriteLock(home):  # held for 3 s: ten busy timeouts
            _wait_until(lambda: "waiting" in stderr_path.read_text(), 10, "the warning")
            time.sleep(2.0)  # the lock is held on purpose for this long
            assert worker.poll() is None, stderr_path.read_text()
            assert _succeeded(home) == 0  # recorded only after the lock
        service.publish("job.failed", body("job.failed", 2))
        _wait_until(lambda: _succeeded(home) == 2, 60, "both deliveries")
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    stderr = stderr_path.read_text()
    assert "Traceback" not in stderr
    assert worker.returncode == 0, stderr
    warnings = [line for line in stderr.splitlines() if "locked" in line]
    assert len(warnings) == 2, stderr  # once when it starts waiting, once when it resumes
    assert "waiting" in warnings[0]
    assert "resumed" in warnings[1]
    assert len(receiver.requests()) == 2  # the first was recorded, not sent again
