"""A private Secret Service for each pytest-xdist worker.

``scripts/run-tests`` runs pytest inside one D-Bus session with one test keyring
(``scripts/with-test-keyring.sh``). With ``-n N`` the tests run in N worker processes
at once, and on a shared keyring one worker's clean-up would delete the entries
another worker's test just made, and a test that locks the keyring, or kills and
restarts the daemon, would pull it away from every other worker's tests. So each
worker, when it starts, makes what that script makes, for itself alone: a new
``dbus-daemon --session`` and a ``gnome-keyring-daemon`` on it, unlocked, with a
brand-new login keyring in a temporary folder (its ``XDG_DATA_HOME`` and
``XDG_RUNTIME_DIR``), and points its own environment at them (and so every process
its tests start). When the worker ends, the bus and every keyring daemon of that
bus are stopped and the folder is removed; nothing is left running.

Without xdist (``-n 0``, ``-p no:xdist``) nothing happens here: the tests use the
keyring of the script, as before.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

from tests.helpers import process_alive

WORKER_ENV = "PYTEST_XDIST_WORKER"  # set by pytest-xdist in each worker: gw0, gw1, ...
KEYRING_PID_ENV = "HOOKADMIN_TEST_KEYRING_PID"
# The password scripts/with-test-keyring.sh gives the throw-away login keyring.
TEST_KEYRING_PASSWORD = b"hookadmin-test-login"
START_TIMEOUT = 30.0  # seconds for the bus, then the daemon, to come up on a loaded machine
STOP_TIMEOUT = 10.0  # seconds for a process to end after SIGTERM, before SIGKILL
_BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                   interface="org.freedesktop.DBus")


class KeyringStartError(RuntimeError):
    """The worker's own D-Bus session or keyring daemon did not start."""


@dataclass
class PrivateKeyring:
    """A worker's own D-Bus session (``address``) with its keyring daemon.

    Attributes:
        folder: the temporary folder of the session (keyring files, logs).
        bus: the ``dbus-daemon`` process.
        daemon: the ``gnome-keyring-daemon`` started with the session (tests may
            replace it with another on the same bus; :meth:`stop` ends those too).
        address: the bus's ``DBUS_SESSION_BUS_ADDRESS``.
    """

    folder: Path
    bus: subprocess.Popen[bytes]
    daemon: subprocess.Popen[bytes] | None
    address: str

    def stop(self) -> None:
        """End the keyring daemons of this session (the first one, those tests started
        in its place, those D-Bus activated), then the bus, and remove the folder.
        Waits for each to end (``STOP_TIMEOUT`` seconds, then SIGKILL)."""
        pids = _keyring_daemons_of(self.address, self.folder)
        if self.daemon is not None and self.daemon.poll() is None:
            pids.add(self.daemon.pid)
        for pid in pids:
            _end(pid)
        if self.daemon is not None:
            self.daemon.wait()  # reap it (ended above)
        with contextlib.suppress(ProcessLookupError):
            self.bus.terminate()
        try:
            self.bus.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.bus.kill()
            self.bus.wait()
        if self.bus.stdout is not None:
            self.bus.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _end(pid: int) -> None:
    """SIGTERM ``pid``, wait until it has gone (SIGKILL after ``STOP_TIMEOUT`` s)."""
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while process_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # a child of this worker must be reaped
            time.sleep(0.02)
        if not process_alive(pid):
            return


def _keyring_daemons_of(address: str, folder: Path) -> set[int]:
    """The gnome-keyring processes whose environment names this bus or folder."""
    marks = (address.encode(), os.fsencode(folder))
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if not (entry / "comm").read_text().startswith("gnome-keyring"):
                continue
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(mark in environ for mark in marks):
            found.add(int(entry.name))
    return found


def _read_address(bus: subprocess.Popen[bytes], log: Path) -> str:
    """The first line ``dbus-daemon --print-address=1`` writes, within START_TIMEOUT."""
    assert bus.stdout is not None
    ready, _, _ = select.select([bus.stdout], [], [], START_TIMEOUT)
    line = bus.stdout.readline().decode().strip() if ready else ""
    if not line:
        raise KeyringStartError(f"dbus-daemon gave no bus address within {START_TIMEOUT:g} s "
                                f"({log.read_text(errors='replace').strip()!r}).")
    return line


def _secret_service_owned(address: str) -> bool:
    """Whether ``org.freedesktop.secrets`` has an owner on the bus at ``address``."""
    with contextlib.closing(open_dbus_connection(bus=address)) as conn:
        reply = conn.send_and_get_reply(
            new_method_call(_BUS, "NameHasOwner", "s", ("org.freedesktop.secrets",)),
            timeout=5)
    return bool(reply.body[0])


def _wait_for_daemon(session: PrivateKeyring, worker: str) -> None:
    """Return once the session's daemon owns the Secret Service's name.

    Raises:
        KeyringStartError: it ended, or did not within ``START_TIMEOUT`` seconds.
    """
    assert session.daemon is not None
    deadline = time.monotonic() + START_TIMEOUT
    while not _secret_service_owned(session.address):
        if session.daemon.poll() is not None or time.monotonic() > deadline:
            log = (session.folder / "daemon.log").read_text(errors="replace").strip()
            raise KeyringStartError(
                f"gnome-keyring-daemon did not take the Secret Service's name on "
                f"worker {worker}'s bus within {START_TIMEOUT:g} s ({log!r}).")
        time.sleep(0.02)


def start(worker: str) -> PrivateKeyring:
    """Start this worker's own D-Bus session and unlocked keyring daemon, as
    ``scripts/with-test-keyring.sh`` does, and point ``os.environ`` at them
    (``DBUS_SESSION_BUS_ADDRESS``, ``XDG_DATA_HOME``, ``XDG_RUNTIME_DIR``,
    ``HOOKADMIN_TEST_KEYRING_PID``). Returns once the daemon owns the Secret Service's
    name; call :meth:`PrivateKeyring.stop` at the end.

    Raises:
        KeyringStartError: the bus or the daemon did not come up within
            ``START_TIMEOUT`` seconds (what was left is stopped first).
        FileNotFoundError: ``dbus-daemon`` or ``gnome-keyring-daemon`` is not installed.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"hookadmin-keyring-{worker}."))
    data, run = folder / "data", folder / "run"
    data.mkdir()
    run.mkdir(mode=0o700)
    env = {**os.environ, "XDG_DATA_HOME": str(data), "XDG_RUNTIME_DIR": str(run)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    bus_log = folder / "dbus.log"
    with bus_log.open("wb") as err:
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                "--print-address=1"], stdout=subprocess.PIPE, stderr=err,
                               stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    session = PrivateKeyring(folder, bus, None, "")
    try:
        session.address = _read_address(bus, bus_log)
        env["DBUS_SESSION_BUS_ADDRESS"] = session.address
        with (folder / "daemon.log").open("wb") as out:
            session.daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        assert session.daemon.stdin is not None
        session.daemon.stdin.write(TEST_KEYRING_PASSWORD)
        session.daemon.stdin.close()
        _wait_for_daemon(session, worker)
    except BaseException:
        session.stop()
        raise
    os.environ.update(DBUS_SESSION_BUS_ADDRESS=session.address, XDG_DATA_HOME=str(data),
                      XDG_RUNTIME_DIR=str(run))
    os.environ[KEYRING_PID_ENV] = str(session.daemon.pid)
    return session


def worker_name() -> str | None:
    """This process's xdist worker id (``gw0``, ...), or None outside xdist's workers."""
    return os.environ.get(WORKER_ENV) or None
