"""How soon a waiting engine notices that the keyring was unlocked, and at what CPU cost:
the Secret Service's signal (what :class:`hookadmin.core.keyring_watch.UnlockWatch`
waits for) against asking ``is_locked()`` every 2 s, side by side in one run, on the
real (test) gnome-keyring. Both never prompt.

Each round locks the default collection, starts both watchers, unlocks it after a
random 0.5-2.5 s (through gnome-keyring's own password call, as the tests do), and
takes the time from the unlock to each watcher's return, and each watcher thread's CPU
time over the whole wait. A third figure is the cost of one ``is_locked()`` call.

Run inside a private D-Bus session with the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh \
        .venv/bin/python benchmarks/keyring_unlock.py [--rounds 10]

The fixed interval these replace (``secret_retry_interval``) makes a waiting delivery go
out 0-60 s after an unlock (30 s on average), whatever the keyring does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable

import secretstorage
from secretstorage.util import DBusAddressWrapper, format_secret, open_session

from hookadmin.core.keyring_watch import UnlockWatch

PASSWORD = b"hookadmin-test-login"  # scripts/with-test-keyring.sh's
POLL = 2.0  # seconds between asks of the polling watcher


def lock() -> None:
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        secretstorage.get_default_collection(conn).lock()


def unlock() -> None:
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        service = DBusAddressWrapper("/org/freedesktop/secrets",
                                     "org.freedesktop.Secret.Service", conn)
        (path,) = service.call("ReadAlias", "s", "default")
        DBusAddressWrapper("/org/freedesktop/secrets",
                           "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
                           conn).call("UnlockWithMasterPassword", "o(oayays)", path,
                                      format_secret(open_session(conn), PASSWORD,
                                                    "text/plain"))


def poll_until_unlocked(cancelled: threading.Event) -> bool:
    """The alternative measured: ask every :data:`POLL` seconds."""
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.get_default_collection(conn)
        while collection.is_locked():
            if cancelled.wait(POLL):
                return False
        return True


def timed(wait: Callable[[threading.Event], bool], cancelled: threading.Event,
          out: dict[str, float]) -> threading.Thread:
    """Run ``wait`` on a thread; ``out`` gets its return time and the thread's CPU."""
    def run() -> None:
        cpu = time.thread_time()
        wait(cancelled)
        out["at"] = time.monotonic()
        out["cpu"] = time.thread_time() - cpu
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="lock/unlock rounds")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if os.environ.get("HOOKADMIN_TEST_SECRET_SERVICE") != "1":
        print("keyring_unlock.py: run it inside dbus-run-session -- "
              "scripts/with-test-keyring.sh (it locks and unlocks the keyring)",
              file=sys.stderr)
        return 2
    rng = random.Random(1)
    latency: dict[str, list[float]] = {"signal": [], "poll 2 s": []}
    cpu: dict[str, list[float]] = {"signal": [], "poll 2 s": []}
    waited: list[float] = []
    for _ in range(args.rounds):
        lock()
        cancelled = threading.Event()
        outs: dict[str, dict[str, float]] = {name: {} for name in latency}
        threads = [timed(UnlockWatch(first_check=60.0).wait, cancelled, outs["signal"]),
                   timed(poll_until_unlocked, cancelled, outs["poll 2 s"])]
        delay = rng.uniform(0.5, 2.5)
        time.sleep(delay)  # a benchmark's wait for the "user", not synchronisation
        unlocked_at = time.monotonic()
        unlock()
        for thread in threads:
            thread.join(10)
        cancelled.set()
        waited.append(delay)
        for name, out in outs.items():
            latency[name].append((out["at"] - unlocked_at) * 1000)
            cpu[name].append(out["cpu"] * 1000)
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.get_default_collection(conn)
        calls = 1000
        wall, thread_cpu = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            collection.is_locked()
        per_call = (time.perf_counter() - wall) / calls * 1000
        per_call_cpu = (time.thread_time() - thread_cpu) / calls * 1000
    load = os.getloadavg()
    print(f"{args.rounds} rounds, locked for {min(waited):.1f}-{max(waited):.1f} s each; "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'watcher':<10} {'unlock seen after (ms) p50':>27} {'max':>8} "
          f"{'CPU per wait (ms) p50':>22} {'max':>6}")
    for name in latency:
        print(f"{name:<10} {statistics.median(latency[name]):>27.1f} "
              f"{max(latency[name]):>8.1f} {statistics.median(cpu[name]):>22.2f} "
              f"{max(cpu[name]):>6.2f}")
    print(f"is_locked(): {per_call:.3f} ms wall, {per_call_cpu:.3f} ms CPU per call "
          f"(this process; {calls} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
