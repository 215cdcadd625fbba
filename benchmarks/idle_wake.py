"""Waking the engine: what an idle engine costs, and how soon an event published by
another process is fanned out and delivered.

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/idle_wake.py
    ... benchmarks/idle_wake.py --idle-seconds 20 --events 200     # a longer run

Phases in one run, each on a fresh data directory, with hookadmin's Engine (in this
process, default settings) and our nginx (``return 204``) as the receiver; every phase
first delivers one event (not counted), so each measures a running engine:

1. **idle**: once the engine has had nothing to do for ``idle_after`` + 1 s, the CPU of
   this process and its bookkeeping process over ``--idle-seconds``, and the
   bookkeeper turns the engine asked for meanwhile.
2. **busy cadence**: a publisher in another process (``python -c``, through
   ``HookService``, as ``hookadmin publish`` or the window while a worker runs)
   publishes ``--events`` events at ``--rate`` per second: the engine's next look
   would come within ``wake_interval``.
3. **idle cadence**: the same, ``--slow-events`` at ``--slow-rate`` per second, slower
   than ``idle_after``: the engine's next look would come within ``idle_wake_interval``.

For each event, read from the database afterwards: publish -> fanned out (the
delivery's ``created_at``) and publish -> delivered (end of its successful attempt).
Run it on the trees to compare side by side (``PYTHONPATH=TREE``), alternating.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import benchlib
import engine_phase

from hookadmin.core.service import HookService
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "idle_wake.py"

PUBLISHER = """
import sys, time
from pathlib import Path
from hookadmin.core.service import HookService
home, count, rate = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
body = sys.stdin.buffer.read()
with HookService(home) as pub:
    start = time.perf_counter()
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # pacing the load
        pub.publish("job.completed", body)
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="An idle engine's CPU, and publish -> fanned "
                                            "out -> delivered from another process.")
    p.add_argument("--idle-seconds", type=float, default=10.0,
                   help="how long the idle engine is measured (default 10)")
    p.add_argument("--events", type=int, default=100,
                   help="events published at --rate (default 100)")
    p.add_argument("--rate", type=float, default=20.0, help="per second (default 20)")
    p.add_argument("--slow-events", type=int, default=15,
                   help="events published at --slow-rate (default 15)")
    p.add_argument("--slow-rate", type=float, default=1 / 1.5,
                   help="per second, below 1/idle_after (default 0.67)")
    engine_phase.add_common_options(p)
    return p.parse_args()


def run_phase(name: str, nginx: benchlib.Nginx, body: bytes, args: argparse.Namespace, *,
              count: int, rate: float) -> dict[str, Any]:
    """One phase: ``count`` events from another process at ``rate`` per second, or with
    ``count`` 0 the idle engine."""
    settings = DeliverySettings()
    with engine_phase.phase_home(args.tmpdir) as home:
        with HookService(home) as service:
            hook = service.create_hook(url=nginx.url("/b"), events=["job.completed"])
        delivered = [0]
        warmed = threading.Event()
        finished = threading.Event()
        meter = benchlib.CpuMeter(nginx, bookkeepers=True)
        turns = [0]

        def on_attempt(outcome: AttemptOutcome) -> None:
            delivered[0] += 1
            warmed.set()
            if count and delivered[0] >= count + 1:  # the idle phase ends by the clock
                finished.set()

        engine = Engine(home, settings=settings, on_attempt=on_attempt)

        def control() -> None:
            with HookService(home) as pub:
                pub.publish("job.completed", body)  # the warm-up, not counted
            warmed.wait(60)
            if count == 0:
                time.sleep(settings.idle_after + 1.0)  # pacing: the engine goes idle
                turns[0] = -engine.bookkeeper_turns
                with meter:
                    time.sleep(args.idle_seconds)  # the measured idle time
                turns[0] += engine.bookkeeper_turns
                finished.set()
                return
            if rate < 1 / settings.idle_after:
                time.sleep(settings.idle_after + 0.5)  # pacing: idle before the first
            with meter:
                subprocess.run([sys.executable, "-c", PUBLISHER, str(home), str(count),
                                str(rate)], input=body, check=True, timeout=600)
                finished.wait(60)

        benchlib.log(f"{name}: engine running ...")
        engine_phase.run_engine(engine, control, finished, cap_s=600)
        rows = engine_phase.successful_attempts(
            home, hook.id,
            "d.created_at - e.occurred_at,"
            " at.started_at + at.duration_ms / 1000.0 - e.occurred_at")
    cpu = meter.as_dict(1)
    out: dict[str, Any] = {"phase": name, "events": len(rows),
                           "seconds": round(meter.wall, 2), "engine_cpu_s": cpu["client_cpu_s"],
                           "others_busy_cores": cpu["others_busy_cores"],
                           "load1_end": cpu["load1_end"]}
    if count == 0:
        out |= {"engine_cpu_ms_per_s": round(cpu["client_cpu_s"] / meter.wall * 1000, 2),
                "turns_per_s": round(turns[0] / meter.wall, 1)}
    else:
        def p(i: int, q: float) -> float:
            return round(benchlib.percentile(sorted(r[i] * 1000.0 for r in rows), q), 2)

        out |= {"fan_out_p50_ms": p(0, 50), "fan_out_p95_ms": p(0, 95),
                "delivered_p50_ms": p(1, 50), "delivered_p95_ms": p(1, 95)}
    benchlib.log(f"{name}: {out}")
    return out


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    print()
    benchlib.print_table(["phase", "events", "seconds", "engine CPU ms/s idle",
                          "turns/s idle", "fan-out p50/p95 ms", "delivered p50/p95 ms",
                          "others' cores", "load1"],
                         [[r["phase"], r["events"], r["seconds"],
                           r.get("engine_cpu_ms_per_s", "-"), r.get("turns_per_s", "-"),
                           f"{r['fan_out_p50_ms']} / {r['fan_out_p95_ms']}"
                           if "fan_out_p50_ms" in r else "-",
                           f"{r['delivered_p50_ms']} / {r['delivered_p95_ms']}"
                           if "delivered_p50_ms" in r else "-",
                           r["others_busy_cores"], r["load1_end"]]
                          for r in result["phases"]])


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.idle_seconds <= 0 or args.events < 1 or args.slow_events < 1 \
            or args.rate <= 0 or args.slow_rate <= 0:
        print(f"{SCRIPT}: --idle-seconds > 0, --events >= 1, --slow-events >= 1, rates > 0",
              file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    body = benchlib.job_bodies(1)[0]
    with benchlib.Nginx() as nginx:
        phases = [run_phase("idle", nginx, body, args, count=0, rate=1.0),
                  run_phase(f"busy cadence ({args.rate:g}/s)", nginx, body, args,
                            count=args.events, rate=args.rate),
                  run_phase(f"idle cadence ({args.slow_rate:.2g}/s)", nginx, body, args,
                            count=args.slow_events, rate=args.slow_rate)]
    result = {"benchmark": "idle_wake", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"idle_seconds": args.idle_seconds, "events": args.events,
                         "rate": args.rate, "slow_events": args.slow_events,
                         "slow_rate": args.slow_rate},
              "phases": phases}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
