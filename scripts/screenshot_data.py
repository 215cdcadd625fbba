"""The data the README's screenshots show: five hooks, three receivers on 127.0.0.1 that
answer 200, 500 and 410 (each a process of its own, ``tests/receiver.py``), and an hour
of deliveries to them made by the real engine.

Usage (inside ``dbus-run-session -- scripts/with-test-keyring.sh``, so the hooks'
secrets go into a throw-away keyring)::

    .venv/bin/python scripts/screenshot_data.py HOME

HOME must not exist yet. The receivers listen on ports 8787 (200), 8788 (500) and 8789
(410) and keep running, so pings from the window get answers, until this script is
stopped (Ctrl+C or SIGTERM). It exits with status 2 for a HOME that exists, and 1 when a
port is taken.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body
from tests.receiver import Receiver

# Three quick tries, then the next an hour later: the 500 hook shows "retrying (500)".
SETTINGS = DeliverySettings(retry_schedule=(0, 0.3, 0.3, 3600.0), jitter=0,
                            connect_timeout=2.0, attempt_timeout=3.0, poll_interval=0.05)
ANSWER_500 = {"status": 500, "body": json.dumps({"error": "billing database is read-only"})}
ANSWER_410 = {"status": 410, "body": json.dumps({"error": "this endpoint was retired"})}
EVENTS = ["job.submitted", "job.started", "job.completed", "job.failed",
          "cluster.requested", "cluster.available", "cluster.error", "cluster.idled"]


def build(home: Path, ok: Receiver, failing: Receiver, gone: Receiver) -> None:
    """Create the hooks and deliver a few rounds of events to them."""
    with HookService(home) as service:
        service.create_hook(url=ok.url_for("/hooks/ops"), name="Ops monitoring",
                            events=["job"])
        service.create_hook(url=ok.url_for("/hooks/chat"), name="Chat alerts",
                            events=["job.failed", "cluster.error"])
        service.create_hook(url=failing.url_for("/billing"), name="Billing sync",
                            events=["job.completed", "job.failed"])
        service.create_hook(url=gone.url_for("/warehouse"),
                            name="Data warehouse loader for the EMEA and APAC fleets",
                            events=["cluster"])
        service.create_hook(url="https://audit.example.com/hook", name="Old audit log",
                            events=["job"], active=False)
        for round_ in range(4):
            service.publish_many([(t, body(t, id=100 + 10 * round_ + i))
                                  for i, t in enumerate(EVENTS)])
            for _ in range(3):  # the retries of the 500s, 0.3 s apart
                Engine(home, settings=SETTINGS).run(until_idle=True)
                time.sleep(0.35)


def main() -> int:
    """Build the data in HOME and serve the receivers until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", metavar="HOME", type=Path, help="a folder that does not exist")
    home: Path = parser.parse_args().home
    if home.exists():
        sys.stderr.write(f"screenshot_data.py: {home} exists; name a new folder.\n")
        return 2
    work = home.with_name(home.name + "-receivers")
    receivers = [Receiver(work / name, behaviour, port=port)
                 for name, behaviour, port in (("ok", {}, 8787),
                                               ("failing", ANSWER_500, 8788),
                                               ("gone", ANSWER_410, 8789))]
    try:
        for receiver in receivers:
            receiver.start()
    except RuntimeError as err:
        sys.stderr.write(f"screenshot_data.py: a receiver could not start ({err}); free "
                         "ports 8787-8789 and try again.\n")
        for receiver in receivers:
            receiver.stop()
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        build(home, *receivers)
        sys.stdout.write(f"screenshot_data.py: {home} is ready; the receivers answer until "
                         "stopped.\n")
        sys.stdout.flush()
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for receiver in receivers:
            receiver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
