"""Shared helpers for the non-GUI tests: fixture files, the CLI as a subprocess,
running the engine until every due delivery is final or in a thread until stopped, and
waiting for a condition with a deadline."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hookadmin.core.events import EVENT_TYPE_IDS
from hookadmin.core.store import DB_FILENAME
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.policy import DeliverySettings

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"

# Short retries and timeouts so failures, retries and timeouts take well under a second.
FAST = DeliverySettings(retry_schedule=(0, 0.2, 0.2), jitter=0, connect_timeout=2.0,
                        attempt_timeout=3.0, poll_interval=0.02)


def fixture_files(pattern: str = "*.json") -> list[Path]:
    """The example bodies in ``tests/fixtures`` (sorted); fails if there are none."""
    files = sorted(FIXTURES_DIR.glob(pattern))
    assert files, f"no {pattern} in {FIXTURES_DIR}"
    return files


def event_type_for(fixture: Path) -> str:
    """``job-failed-unicode.json`` → ``job.failed``: the first two words of the name."""
    group, kind = fixture.stem.split("-")[:2]
    type_id = f"{group}.{kind}"
    assert type_id in EVENT_TYPE_IDS, f"cannot tell the event type of {fixture.name}"
    return type_id


# The status a resource has right after each event type (DESIGN.md §2, §7).
STATUS_AFTER = {
    "job.submitted": "pending", "job.started": "running", "job.stopped": "stopped",
    "job.completed": "completed", "job.failed": "failed",
    "cluster.requested": "pending", "cluster.available": "available",
    "cluster.terminated": "terminated", "cluster.idled": "idle", "cluster.error": "error",
}


def resource(event_type: str, id: int = 1, **fields: Any) -> dict[str, Any]:
    """A small valid job (``job.*``) or cluster (``cluster.*``) for ``event_type``: only
    the required fields of DESIGN.md §7, with the status the event implies; ``fields``
    are added or replace them."""
    plural = event_type.split(".", 1)[0] + "s"
    out: dict[str, Any] = {
        "id": id, "status": STATUS_AFTER[event_type],
        "created_at": "2026-11-29T06:00:00Z", "updated_at": "2026-11-29T06:05:00Z",
        "url": f"https://api.etl.example.com/acme/api/{plural}/{id}",
        "html_url": f"https://etl.example.com/acme/{plural}/{id}",
    }
    if plural == "clusters":
        out["name"] = f"cluster-{id}"
    out.update(fields)
    return out


def body(event_type: str, id: int = 1, **fields: Any) -> bytes:
    """:func:`resource` as compact UTF-8 JSON bytes (a body to publish and compare)."""
    return json.dumps(resource(event_type, id, **fields), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def run_cli(*args: str, home: Path | None = None, input: bytes | None = None,
            env: Mapping[str, str | None] | None = None,
            timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hookadmin [--home HOME] ARGS...`` and capture its output as text.

    ``env`` entries override the current environment; a ``None`` value removes one.
    ``input`` is sent to standard input as bytes.
    """
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    cmd = [sys.executable, "-m", "hookadmin"]
    if home is not None:
        cmd += ["--home", str(home)]
    proc = subprocess.run([*cmd, *args], input=input, capture_output=True, env=full_env,
                          timeout=timeout, check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))


def run_until_idle(home: Path, settings: DeliverySettings = FAST,
                   timeout: float = 20.0) -> int:
    """``Engine(home, settings).run(until_idle=True)`` in a thread, failing the test
    (after stopping the engine) if it has not returned within ``timeout`` seconds.
    Returns the number of attempts made."""
    engine = Engine(home, settings=settings)
    result: list[int] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(engine.run(until_idle=True))
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=target, name="engine-until-idle")
    thread.start()
    thread.join(timeout)
    hung = thread.is_alive()
    if hung:
        engine.stop()
        thread.join(10)
    assert not hung, f"the engine did not become idle within {timeout} s"
    if errors:
        raise errors[0]
    return result[0]


def drain(home: Path, settings: DeliverySettings = FAST, timeout: float = 20.0) -> int:
    """Run the engine (``until_idle``) again and again, sleeping until the next retry is
    due, until no delivery is pending. Returns the number of attempts made."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while True:
        attempts += run_until_idle(home, settings)
        ((pending, next_at),) = db_rows(home, "SELECT count(*), min(next_attempt_at)"
                                              " FROM deliveries WHERE status = 'pending'")
        if pending == 0:
            return attempts
        assert time.monotonic() < deadline, f"{pending} deliveries still pending"
        assert isinstance(next_at, float)
        time.sleep(max(0.0, min(next_at - time.time(), 1.0)) + 0.01)


def db_rows(home: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Query the data directory's database directly with :mod:`sqlite3`."""
    db = sqlite3.connect(home / DB_FILENAME)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent to reap it has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone, or going while we read
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(condition: Callable[[], object], what: str, timeout: float = 15.0) -> float:
    """Check ``condition`` every 20 ms until it is true; returns the seconds it took.

    Raises:
        AssertionError: ``what`` did not happen within ``timeout`` seconds.
    """
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout} s"
        time.sleep(0.02)
    return time.monotonic() - start


@contextmanager
def worker_process(home: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``hookadmin --home HOME worker ARGS`` in a process of its own, its standard error
    piped as text (:func:`stop_worker` reads it); killed on exit if it still runs."""
    worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                               "worker", *args], stdin=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def stop_worker(worker: subprocess.Popen[str], timeout: float = 15.0) -> str:
    """Stop a :func:`worker_process` as a service manager does (SIGTERM) and wait for
    it, at most ``timeout`` seconds; returns its standard error.

    Raises:
        subprocess.TimeoutExpired: it did not end in time.
    """
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=timeout)
    return stderr


@contextmanager
def running_engine(home: Path, settings: DeliverySettings = FAST) -> Iterator[Engine]:
    """An engine running (not until idle) in a thread; stopped and joined on exit.

    Raises:
        AssertionError: the engine did not stop within 10 s.
        BaseException: whatever the engine's ``run`` raised, re-raised on exit.
    """
    engine = Engine(home, settings=settings)
    errors: list[BaseException] = []

    def target() -> None:
        try:
            engine.run()
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=target, name="engine")
    thread.start()
    try:
        yield engine
    finally:
        deadline = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < deadline:
            engine.stop()  # a no-op until the engine's loop runs, so repeat it
            thread.join(0.1)
    assert not thread.is_alive(), "the engine did not stop within 10 s"
    if errors:
        raise errors[0]


_LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


class WriteLock:
    """Another process holding a write transaction (``BEGIN IMMEDIATE``) on a data
    directory's database, as a ``sqlite3`` shell or a backup does, until
    :meth:`release`. Use it as a context manager."""

    def __init__(self, home: Path) -> None:
        self._proc = subprocess.Popen([sys.executable, "-c", _LOCKER, str(home / DB_FILENAME)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        """Commit and end the process (idempotent)."""
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.write("\n")
            self._proc.stdin.close()
            self._proc.wait(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> WriteLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc.poll() is None:
            self.release()
