"""The publisher of ``lanes.py --publisher process``: hook B's events from a process of
their own, as ``hookadmin publish`` or an ETL job's process would send them (not a
benchmark itself).

    python benchmarks/lanes_publisher.py HOME EVENTS RATE BODY_FILE

Opens the data directory ``HOME`` and prints ``ready``; on a line ``go`` on stdin it
publishes ``EVENTS`` events of type ``job.completed`` with the body in ``BODY_FILE``
at ``RATE`` per second, printing ``EVENT_ID UNIX_TIME`` (when ``publish`` returned) for
each, then ``cpu SECONDS`` (its CPU time while publishing) and exits. The engine is
woken through the data directory's wake sockets, as by any other process.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hookadmin.core.service import HookService


def main(argv: list[str]) -> int:
    """Run as the module's docstring says; returns the exit status (2: bad arguments)."""
    if len(argv) != 4:
        print("usage: lanes_publisher.py HOME EVENTS RATE BODY_FILE", file=sys.stderr)
        return 2
    home, events, rate, body = Path(argv[0]), int(argv[1]), float(argv[2]), \
        Path(argv[3]).read_bytes()
    with HookService(home) as pub:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 0
        cpu = time.process_time()
        start = time.perf_counter()
        lines = []
        for n in range(events):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the load, not synchronisation
            event_id = pub.publish("job.completed", body)
            lines.append(f"{event_id} {time.time()!r}")
        cpu = time.process_time() - cpu
    print("\n".join(lines), flush=True)
    print(f"cpu {cpu!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
