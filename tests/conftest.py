"""Fixtures shared by every test (tests/ui reuses them too).

The suite runs against the real Secret Service only; start it like this::

    QT_QPA_PLATFORM=offscreen dbus-run-session -- scripts/with-test-keyring.sh \\
        .venv/bin/python -m pytest tests

Fixtures:

* ``home``: a fresh, not yet created data directory (``tmp_path / "home"``);
  ``HOOKADMIN_HOME`` points at it for the test and for every subprocess it starts.
  A fresh directory means a fresh database, a fresh store id and therefore a fresh
  keyring namespace, so tests never see each other's secrets.
* ``service``: ``HookService(home)``, closed after the test.
* ``service_in_memory``: ``HookService(home)`` whose secrets live in an in-process
  :class:`tests.memory_keyring.MemoryKeyring`, for unit tests of parts other than
  secrets that start no other process.
* ``make_receiver(behaviour=None, secrets=None)``: starts a test webhook receiver in
  a separate process (:class:`tests.receiver.Receiver`) listening on 127.0.0.1 and
  returns it; every receiver is terminated after the test. ``behaviour`` is one of
  the helpers in :mod:`tests.receiver` (``ok()``, ``status(410)``,
  ``status(301, Location=...)``, ``delay(2.0)``, ``fail_first(1)``,
  ``big_body(100_000)``) or a behaviour dict. The receiver has ``.url``,
  ``.url_for(path)``, ``.requests()`` (a list of :class:`tests.receiver.ReceivedRequest`),
  ``.wait_for_requests(n)`` and ``.set_secrets({label: secret})``; each request records
  whether its ``X-Hook-Signature`` matches one of those secrets (``verified_by``).
* ``receiver``: ``make_receiver()``, a receiver that always answers 200.
* ``closed_port``: a port on 127.0.0.1 where connections are refused for the whole test.
* ``team``: the :class:`StoreLocation` of a team database on ``postgres_url`` with its
  team key in this machine's keyring (removed after).
* ``postgres_url``: a fresh, empty PostgreSQL database for the test (:mod:`tests.pg`);
  run the suite inside ``scripts/with-test-postgres.sh`` for it.

Every test that uses the real Secret Service (it asks for ``home`` or ``service``
without ``service_in_memory``, or lives in tests/security, tests/e2e or tests/ui) first
checks that the test keyring daemon started by scripts/with-test-keyring.sh (or, in a
pytest-xdist worker, the worker's own, :mod:`tests.worker_keyring`) is alive, and fails
with one sentence if it is not, instead of a trail of keyring errors. The fixtures' own
keyring calls wait at most ``tests.keyring_bus.CALL_TIMEOUT`` seconds for the daemon, so
a hung daemon fails one test with one sentence instead of hanging the run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from jeepney.wrappers import DBusErrorResponse
from keyring.backends import SecretService

from hookadmin.core.paths import HOME_ENV
from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.team.key import KEY_FILE_ENV, create_team_key, keyring_entry_name
from tests import keyring_bus, worker_keyring
from tests.helpers import process_alive
from tests.keyring_bus import KeyringCallTimeout, forget_keyring_entry
from tests.memory_keyring import memory_service
from tests.receiver import Receiver

pytest_plugins = ["tests.pg"]

RUN_HINT = ("run the tests inside a private D-Bus session with a fresh keyring: "
            "QT_QPA_PLATFORM=offscreen dbus-run-session -- scripts/with-test-keyring.sh "
            ".venv/bin/python -m pytest tests")


ALONE_CHOICES = ("include", "exclude", "only")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--alone-tests include|exclude|only``: whether the tests marked ``alone`` (they
    bound wall time, so they need the machine to themselves) run with the others, not at
    all, or by themselves. scripts/check.sh runs the rest in parallel with ``exclude``,
    then these in one process with ``only``."""
    parser.addoption("--alone-tests", choices=ALONE_CHOICES, default="include",
                     help="run the tests marked alone with the others (include), not "
                          "(exclude), or only them (only)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect by ``--alone-tests``: the ``alone`` tests, or all others."""
    choice = config.getoption("--alone-tests")
    if choice == "include":
        return
    keep = [item for item in items
            if (item.get_closest_marker("alone") is not None) == (choice == "only")]
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run against anything but the throw-away test Secret Service, so the
    suite never writes into a developer's own keyring and never silently skips the
    keyring checks. In a pytest-xdist worker, first start the worker's own D-Bus session
    and keyring daemon (:mod:`tests.worker_keyring`), stopped when the worker ends."""
    if os.environ.get("HOOKADMIN_TEST_SECRET_SERVICE") != "1":
        raise pytest.UsageError(f"HOOKADMIN_TEST_SECRET_SERVICE is not set; {RUN_HINT}")
    worker = worker_keyring.worker_name()
    if worker is not None:
        try:
            private = worker_keyring.start(worker)
        except (worker_keyring.KeyringStartError, FileNotFoundError) as err:
            raise pytest.UsageError(f"worker {worker} could not start its own test keyring: "
                                    f"{err}") from None
        config.add_cleanup(private.stop)
    backend = keyring.get_keyring()
    if not isinstance(backend, SecretService.Keyring):
        raise pytest.UsageError(f"the keyring backend is {backend!r}, not the Secret Service; "
                                f"{RUN_HINT}")


KEYRING_PID_ENV = "HOOKADMIN_TEST_KEYRING_PID"  # set by scripts/with-test-keyring.sh
TESTS_DIR = Path(__file__).resolve().parent
REAL_KEYRING_DIRS = tuple(TESTS_DIR / name for name in ("security", "e2e", "ui"))


def _uses_real_keyring(request: pytest.FixtureRequest) -> bool:
    names = set(request.fixturenames)
    if "service_in_memory" in names:
        return False
    path = Path(str(request.node.path)).resolve()
    return bool(names & {"home", "service"}) \
        or any(folder in path.parents for folder in REAL_KEYRING_DIRS)


def _keyring_daemon_gone() -> str | None:
    """One sentence if the test keyring daemon has died, else None."""
    pid = os.environ.get(KEYRING_PID_ENV)
    if not pid or process_alive(int(pid)):
        return None
    return (f"The test keyring daemon (gnome-keyring-daemon, pid {pid}) has died, so "
            "this test cannot use the Secret Service; run the tests again.")


def _hookadmin_entries() -> set[str] | None:
    """The D-Bus object paths of the test keyring's items of service ``hookadmin`` (one
    ``SearchItems`` call), or None when the keyring cannot be asked.

    Raises:
        KeyringCallTimeout: the daemon did not answer within ``CALL_TIMEOUT`` seconds.
    """
    try:
        with keyring_bus.session_bus() as conn:
            return keyring_bus.search_items(conn, {"service": SERVICE_NAME})
    except (DBusErrorResponse, OSError, KeyError):
        return None  # no daemon, no bus (the test's doing): nothing to compare


def _delete_entries(paths: set[str]) -> None:
    """Delete these items (those a locked keyring would need a prompt for stay).

    Raises:
        KeyringCallTimeout: a ``Delete`` got no reply within ``CALL_TIMEOUT`` seconds.
    """
    with keyring_bus.session_bus() as conn:
        keyring_bus.delete_items(conn, paths)


@pytest.fixture(autouse=True)
def keyring_left_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remove the keyring entries a test that uses the real Secret Service made (hook
    secrets, option secrets, team keys), so no test sees another's: the suite's order
    does not matter, and gnome-keyring (slower as it fills) is as small for the last
    test as for the first."""
    try:
        before = _hookadmin_entries() if _uses_real_keyring(request) else None
    except KeyringCallTimeout as hung:
        pytest.fail(str(hung), pytrace=False)
    yield
    if before is None:
        return
    try:
        after = _hookadmin_entries()
        if after:
            _delete_entries(after - before)
    except KeyringCallTimeout as hung:
        pytest.fail(str(hung), pytrace=False)


@pytest.fixture(autouse=True)
def keyring_daemon_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that needs the real Secret Service with one sentence when the test
    keyring daemon is gone, and name the test during which it died."""
    if not _uses_real_keyring(request):
        yield
        return
    gone = _keyring_daemon_gone()
    if gone:
        pytest.fail(gone, pytrace=False)
    yield
    if _keyring_daemon_gone():
        pytest.fail(f"The test keyring daemon died during this test (pid "
                    f"{os.environ[KEYRING_PID_ENV]}).", pytrace=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory; ``HOOKADMIN_HOME`` points at it."""
    path = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(path))
    return path


@pytest.fixture
def team(postgres_url: str, home: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreLocation]:
    """A team database with its key in this machine's keyring (removed after)."""
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    with PostgresStore.init(postgres_url) as store:
        database_id = store.store_id
    create_team_key(database_id)
    try:
        yield StoreLocation(home, postgres_url)
    finally:
        forget_keyring_entry(keyring_entry_name(database_id), must_exist=True)


@pytest.fixture
def service(home: Path) -> Iterator[HookService]:
    """``HookService(home)``, closed after the test."""
    with HookService(home) as svc:
        yield svc


@pytest.fixture
def service_in_memory(home: Path) -> Iterator[HookService]:
    """``HookService(home)`` with its secrets in an in-process keyring, closed after
    the test (see :mod:`tests.memory_keyring`)."""
    with memory_service(home) as svc:
        yield svc


@pytest.fixture
def make_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Factory: ``make_receiver(behaviour=None, secrets=None) -> Receiver`` (started).
    Every receiver it made is terminated at teardown."""
    started: list[Receiver] = []

    def factory(behaviour: dict[str, Any] | None = None,
                secrets: dict[str, str] | None = None) -> Receiver:
        workdir = tmp_path / f"receiver-{len(started)}"
        receiver = Receiver(workdir, behaviour, secrets)
        started.append(receiver)
        return receiver.start()

    yield factory
    for receiver in started:
        receiver.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connections to it are
    refused, and no other process (another test worker's) can take it while the test
    runs, as it could a port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    """A receiver process that answers every request with 200 and a small JSON body."""
    return make_receiver()
