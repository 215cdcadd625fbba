"""The database's faults that are the machine's, not hookadmin's: another process
holding a write lock for long (a ``sqlite3`` shell, a backup) and a full disk.
Both are real: a second process holds ``BEGIN IMMEDIATE``, and the data directory
sits on a small tmpfs filled to the last byte. Each ends in one sentence, never a
traceback, and nothing is lost."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from hookadmin.core.store.sqlite.faults import BUSY_TIMEOUT_ENV
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
    receiver: Receiver = make_receiver(delay(3.0))  # type: ignore[operator]
    service.create_hook(url=receiver.url, events=["job"])
    stderr_path = tmp_path / "worker.stderr"
    with stderr_path.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                   "worker"], stdin=subprocess.DEVNULL, stderr=stderr,
                                  env={**os.environ, **SHORT_BUSY})
    try:
        service.publish("job.failed", body("job.failed", 1))
        receiver.wait_for_requests(1, timeout=60)  # in flight: answered in 3 s
        with WriteLock(home):  # held past that answer: many busy timeouts
            _wait_until(lambda: "waiting" in stderr_path.read_text(), 10, "the warning")
            time.sleep(3.0)  # the lock is held on purpose for this long
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


# -- a full disk ---------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory on a tmpfs of its own, 8 MiB (mounting it needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
            capture_output=True, check=False).returncode != 0:
        pytest.skip("a real full disk needs a small tmpfs, which only root can mount")
    home = mount / "home"
    monkeypatch.setenv("HOOKADMIN_HOME", str(home))
    try:
        yield home
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@contextlib.contextmanager
def _full(disk: Path) -> Iterator[None]:
    """Fill the file system holding ``disk`` to the last byte, until the block ends."""
    filler = disk.parent / "filler"
    with filler.open("wb", buffering=0) as f:
        for chunk in (b"\0" * 65536, b"\0" * 4096, b"\0" * 512, b"\0"):
            with contextlib.suppress(OSError):
                while True:
                    f.write(chunk)
    try:
        with pytest.raises(OSError, match="No space left") as err:
            (disk.parent / "probe").write_bytes(b"\0" * 8192)
        assert err.value.errno == errno.ENOSPC
        yield
    finally:
        filler.unlink()
        (disk.parent / "probe").unlink(missing_ok=True)


def test_publish_on_a_full_disk_fails_with_one_sentence_and_loses_nothing(
        small_disk: Path) -> None:
    home = small_disk
    with HookService(home) as service:  # keeps the WAL open, so writes must grow it
        service.publish("job.failed", body("job.failed", 1))
        with _full(home):
            for args, data in ((["publish", "job.failed", "--resource", "-"],
                                body("job.failed", 2)),
                               (["publish", "--batch", "-"],
                                b'{"type": "job.failed", "resource": ' + body("job.failed", 3)
                                + b"}\n")):
                result = run_cli(*args, home=home, input=data)
                assert result.returncode == 1, result
                assert "Traceback" not in result.stderr
                (line,) = result.stderr.strip().splitlines()
                assert line == ("hookadmin: The disk holding hookadmin's database is full, so "
                                "nothing was queued; free some space and try again.")
        assert db_rows(home, "SELECT body FROM events") == [(body("job.failed", 1),)]
        again = run_cli("publish", "job.failed", "--resource", "-", home=home,
                        input=body("job.failed", 2))
        assert again.returncode == 0, again.stderr
        assert db_rows(home, "PRAGMA integrity_check") == [("ok",)]
        assert len(db_rows(home, "SELECT id FROM events")) == 2


def test_a_worker_on_a_full_disk_stops_with_one_sentence_and_loses_nothing(
        small_disk: Path, receiver: Receiver) -> None:
    home = small_disk
    with HookService(home) as service:  # keeps the WAL open, so writes must grow it
        service.create_hook(url=receiver.url, events=["job"])
        service.publish_many([("job.failed", body("job.failed", i)) for i in range(20)])
        with _full(home):
            result = run_cli("worker", "--until-idle", home=home, timeout=120)
        assert result.returncode == 1, result
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("hookadmin: The disk holding hookadmin's database is "
                                    "full, so the delivery engine could not record"), lines
        assert all("Traceback" not in line and "Error" not in line for line in lines)
        # Nothing lost: with room again, the next run delivers every event.
        again = run_cli("worker", "--until-idle", home=home, timeout=120)
        assert again.returncode == 0, again.stderr
        assert _succeeded(home) == 20
        assert {r.body for r in receiver.requests()} == {body("job.failed", i)
                                                         for i in range(20)}
