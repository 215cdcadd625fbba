"""Stopping and starting the test Secret Service (gnome-keyring-daemon) for real, as
scripts/with-test-keyring.sh starts it: same folders, same password, unlocked."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

from tests.helpers import process_alive
from tests.security.support import TEST_KEYRING_PASSWORD, default_collection_locked

SECRETS_NAME = "org.freedesktop.secrets"
# The daemons started here run on after their test (for the tests that follow).
STARTED: list[subprocess.Popen[bytes]] = []
BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                  interface="org.freedesktop.DBus")


def _bus_call(method: str, signature: str = "", *body: object) -> tuple[object, ...]:
    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(new_method_call(BUS, method, signature, body),
                                        timeout=10)
    return tuple(reply.body)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Check ``condition`` every 20 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def secret_service_running() -> bool:
    """Whether some process owns ``org.freedesktop.secrets`` on the session bus now."""
    (owned,) = _bus_call("NameHasOwner", "s", SECRETS_NAME)
    return bool(owned)


def secret_service_pid() -> int:
    """The process id of the Secret Service daemon on the session bus."""
    (pid,) = _bus_call("GetConnectionUnixProcessID", "s", SECRETS_NAME)
    assert isinstance(pid, int)
    return pid


def keep_activation_away_from(folder: Path) -> None:
    """Point the folders of a daemon D-Bus may start on demand (while none runs) at
    empty ones under ``folder``: it then has no keyring at all, never the user's."""
    data, run = folder / "activated-data", folder / "activated-run"
    data.mkdir(parents=True, exist_ok=True)
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    _bus_call("UpdateActivationEnvironment", "a{ss}",
              {"XDG_DATA_HOME": str(data), "XDG_RUNTIME_DIR": str(run)})


def restore_activation() -> None:
    """Point the folders of a daemon D-Bus may start on demand back at the test
    keyring's own (those scripts/with-test-keyring.sh exported), undoing
    :func:`keep_activation_away_from`: the activation environment belongs to the whole
    D-Bus session, so the tests after one that moved it would otherwise get a daemon
    without a keyring if theirs went away."""
    _bus_call("UpdateActivationEnvironment", "a{ss}",
              {"XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
               "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"]})


def end_activated_daemons(folder: Path) -> None:
    """Kill the daemons D-Bus started on demand after :func:`keep_activation_away_from`
    (``folder``), so none can take the bus name over later, and wait until they ended."""
    run = str(folder / "activated-run")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "comm").read_text().startswith("gnome-keyring"):
                continue
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"XDG_RUNTIME_DIR={run}".encode() in env:
            pid = int(entry.name)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_for(lambda pid=pid: not process_alive(pid), f"daemon {pid} has ended")


def stop_secret_service() -> None:
    """Kill the running daemon (SIGKILL, as in a crash) and wait until it is gone
    from the bus."""
    pid = secret_service_pid()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), f"the keyring daemon {pid} has ended")
    wait_for(lambda: not secret_service_running(), "the Secret Service left the bus")


def start_secret_service(log: Path, activated: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a new daemon on the test keyring (the folders the script exported),
    unlocked with its password, replacing any daemon D-Bus may have started meanwhile;
    returns once its default collection answers unlocked. The daemon runs on after the
    test, for the tests that follow; it ends with the D-Bus session.

    ``activated``: the folder given to :func:`keep_activation_away_from`. A client
    that calls the Secret Service while this daemon starts (a running engine watching
    for the keyring) makes D-Bus start one there, which may take the bus name first:
    such daemons are ended while this one waits for the name."""
    with log.open("ab") as out:
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--replace", "--foreground", "--unlock",
             "--components=secrets"],
            stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    STARTED.append(daemon)
    assert daemon.stdin is not None
    daemon.stdin.write(TEST_KEYRING_PASSWORD)
    daemon.stdin.close()

    def ready() -> bool:
        if daemon.poll() is not None:
            raise AssertionError(f"gnome-keyring-daemon ended: {log.read_text()}")
        try:
            if not secret_service_running():
                return False
            if secret_service_pid() != daemon.pid:
                if activated is not None:
                    end_activated_daemons(activated)
                return False
            return not default_collection_locked()
        except Exception:
            return False
    wait_for(ready, "the new keyring daemon answers")
    # The tests' daemon check (tests/conftest.py) now watches this daemon.
    os.environ["HOOKADMIN_TEST_KEYRING_PID"] = str(daemon.pid)
    return daemon
