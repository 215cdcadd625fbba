"""Isolation: does a hook whose receiver never answers slow down a healthy hook?

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/isolation.py
    ... benchmarks/isolation.py --events 1000     # a quick run

Three phases in one run, each on a fresh data directory, with hookadmin's Engine (in
this process, default settings) and the real ``job-completed.json`` body:

1. **alone**: one healthy hook (our nginx, ``return 204``); ``--events`` events are
   queued, then the engine starts; timed until the healthy hook's last delivery is
   recorded as succeeded.
2. **with hanging neighbour**: the same plus a second hook, subscribed to the same
   events, whose receiver (``benchmarks/receivers.py hang``, own process) accepts
   connections, reads the requests and never answers. Timed the same way (the healthy
   hook's deliveries only); the neighbour's requests are still hanging when it ends.
3. **alone again**, and so on: ``--rounds`` alternations (alone, with, alone, with,
   ..., alone), so drift on a noisy shared machine shows and can be averaged out.

Ratio = median healthy throughput with the neighbour / median alone (target >= 0.9).
With default settings the neighbour's attempts time out only after ``attempt_timeout``
(15 s); a phase shorter than that never sees a timeout or retry.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import benchlib
import engine_phase

from hookadmin.core.service import HookService
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "isolation.py"
EVENT_TYPE = "job.completed"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Healthy hook throughput alone vs beside a hook that never answers "
                    "(run under: dbus-run-session -- scripts/with-test-keyring.sh "
                    ".venv/bin/python benchmarks/isolation.py).")
    p.add_argument("--events", type=int, default=6000,
                   help="events queued per phase = healthy deliveries timed (default 6000: "
                        "phases of a few seconds, so the engine's start is a small part)")
    p.add_argument("--rounds", type=int, default=2,
                   help="phases 'with neighbour' (each between two 'alone'; default 2)")
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="cap on each phase; a phase that hits it reports what it completed "
                        "(default 120)")
    p.add_argument("--tmpdir", help="where the data directories go (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


def run_phase(name: str, nginx: benchlib.Nginx, hang_url: str | None, bodies: list[bytes],
              args: argparse.Namespace) -> dict[str, Any]:
    tmpdir = args.tmpdir
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=tmpdir) as tmp:
        home = Path(tmp) / "home"
        with HookService(home) as service:
            healthy = service.create_hook(url=nginx.url("/healthy"), events=["job"],
                                          name="healthy")
            if hang_url:
                service.create_hook(url=hang_url, events=["job"], name="hanging")
            engine_phase.publish_bodies(service, bodies, event_type=EVENT_TYPE, batch=5000)
        want = len(bodies)
        counts: Counter[tuple[bool, str]] = Counter()
        errors: Counter[str] = Counter()
        marks: dict[str, float] = {}
        done = asyncio.Event()

        def on_attempt(o: AttemptOutcome) -> None:
            mine = o.hook_id == healthy.id
            counts[(mine, o.status if mine else (o.error_kind or o.status))] += 1
            if mine and o.error_kind:
                errors[o.error_kind] += 1
            if mine and "first" not in marks:
                marks["first"] = time.perf_counter()
            if mine and counts[(True, "succeeded")] + counts[(True, "failed")] >= want:
                marks.setdefault("end", time.perf_counter())
                done.set()

        engine = Engine(home, settings=DeliverySettings(), on_attempt=on_attempt)

        async def main() -> benchlib.CpuMeter:
            meter = benchlib.CpuMeter(nginx, bookkeepers=True)
            with meter:
                marks["start"] = time.perf_counter()
                task = asyncio.create_task(engine.run_async())
                waiter = asyncio.create_task(done.wait())
                await asyncio.wait({task, waiter}, timeout=args.max_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
                if "end" not in marks:
                    marks["end"] = time.perf_counter()
                    benchlib.log(f"{name}: stopped at the {args.max_seconds:g} s cap")
            engine.stop()
            await task
            waiter.cancel()
            return meter

        benchlib.log(f"{name}: {want} events queued; engine running ...")
        meter = asyncio.run(main())
    seconds = marks["end"] - marks["start"]
    ok = counts[(True, "succeeded")]
    steady = (ok - 1) / (marks["end"] - marks["first"]) if ok > 1 and "first" in marks else None
    out = {"phase": name, "healthy_deliveries": want,
           "healthy_succeeded": ok, "complete": ok >= want,
           "healthy_errors": dict(errors),
           "neighbour_outcomes": {k[1]: v for k, v in counts.items() if not k[0]},
           "seconds": round(seconds, 3), "healthy_per_s": round(ok / seconds, 1),
           "healthy_steady_per_s": round(steady, 1) if steady else None,
           "first_after_s": round(marks["first"] - marks["start"], 3) if "first" in marks
           else None,
           **meter.as_dict(max(1, ok))}
    benchlib.log(f"{name}: {out['healthy_per_s']} healthy deliveries/s")
    return out


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    print(f"\nisolation: {result['params']['events']} healthy deliveries per phase, engine "
          "defaults (max_in_flight 64, per_hook_in_flight 8, attempt_timeout 15 s)\n")
    rows = [[r["phase"], r["healthy_succeeded"], r["seconds"], r["healthy_per_s"],
             r["healthy_steady_per_s"], r["first_after_s"], r["client_cpu_us_per_req"],
             r["machine_busy_cores"], r["others_busy_cores"],
             ", ".join(f"{k} {v}" for k, v in r["neighbour_outcomes"].items()) or "-",
             ", ".join(f"{k} {v}" for k, v in r["healthy_errors"].items()) or "-"]
            for r in result["phases"]]
    benchlib.print_table(["phase", "healthy ok", "seconds", "healthy/s", "steady/s",
                          "first after s", "engine CPU µs/healthy", "machine cores",
                          "others' cores", "neighbour outcomes", "healthy errors"], rows)
    print()
    for name, value in result["ratios"].items():
        print(f"{name:<58} {value}")


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.events < 2 or args.rounds < 1:
        print(f"{SCRIPT}: --events must be >= 2 and --rounds >= 1", file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    bodies = benchlib.job_bodies(args.events)
    hang_proc, hang_port = benchlib.start_receiver("hang")
    try:
        with benchlib.Nginx() as nginx:
            phases = [run_phase("alone 1", nginx, None, bodies, args)]
            for n in range(1, args.rounds + 1):
                phases.append(run_phase(f"with hanging neighbour {n}", nginx,
                                        f"http://127.0.0.1:{hang_port}/stuck", bodies, args))
                phases.append(run_phase(f"alone {n + 1}", nginx, None, bodies, args))
    finally:
        benchlib.stop_process(hang_proc, signal.SIGTERM)
    alone = [r for r in phases if r["phase"].startswith("alone")]
    beside = [r for r in phases if r["phase"].startswith("with")]

    def med(rows: list[dict[str, Any]], key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return float(statistics.median(values)) if values else None

    ratios = {
        "with neighbour / alone, medians  [target >= 0.9]":
            benchlib.ratio(med(beside, "healthy_per_s"), med(alone, "healthy_per_s")),
        "same, steady rate (first to last delivery)":
            benchlib.ratio(med(beside, "healthy_steady_per_s"),
                           med(alone, "healthy_steady_per_s")),
        "same, by engine CPU per healthy delivery (alone / with)":
            benchlib.ratio(med(alone, "client_cpu_us_per_req"),
                           med(beside, "client_cpu_us_per_req")),
    }
    result = {"benchmark": "isolation", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"events": args.events, "rounds": args.rounds,
                         "body_bytes": len(bodies[0])},
              "phases": phases, "ratios": ratios}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
