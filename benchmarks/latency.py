"""Latency: publish → request arrival at the receiver, at a steady publish rate.

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/latency.py
    ... benchmarks/latency.py --rate 500 --seconds 10 --batch 1   # one event per publish

Set-up: one hook (subscribed to ``job``) pointing at our own receiver
(``benchmarks/receivers.py record``: aiohttp in its own process, which notes
``time.time()`` when each request's headers are parsed, keyed by ``X-Hook-Delivery``).
The engine runs as ``hookadmin worker`` in its own process, as in production.

This process publishes the real ``job-completed.json`` body (distinct ids) with
``HookService.publish_many`` on a fixed schedule: every ``batch / rate`` seconds one
call with ``--batch`` events (default 5 events every 10 ms = 500 events/s). A single
``publish()`` commits with ``synchronous=FULL`` (an fsync), which on this kind of disk
takes a few ms, so one event per call cannot reach 500/s; ``--batch 1`` shows what it
does reach.

Latency of an event = arrival time at the receiver minus the time its publish call started
(same clock: both processes use ``time.time()`` on one machine). It is split, via the
attempt's ``started_at`` in the database, into publish call → engine starts the POST
(queueing: publish commit, fan-out, claim, signing) and POST start → arrival (client
send path). Targets from the issue: p50 < 20 ms, p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import benchlib

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME

SCRIPT = "latency.py"
EVENT_TYPE = "job.completed"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="publish → arrival latency at a steady rate, engine as `hookadmin worker` "
                    "(run under: dbus-run-session -- scripts/with-test-keyring.sh "
                    ".venv/bin/python benchmarks/latency.py).")
    p.add_argument("--rate", type=float, default=500.0, help="events per second (default 500)")
    p.add_argument("--seconds", type=float, default=10.0, help="how long to publish (default 10)")
    p.add_argument("--batch", type=int, default=5,
                   help="events per publish_many call (default 5, i.e. one call per 10 ms at "
                        "500/s); 1 = one durable commit per event")
    p.add_argument("--warmup", type=int, default=20,
                   help="events sent and waited for before measuring (default 20)")
    p.add_argument("--drain-timeout", type=float, default=300.0,
                   help="seconds to wait for the last arrivals after publishing (default 300)")
    p.add_argument("--tmpdir", help="where the data directory goes (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


def _get(port: int, path: str, timeout: float = 30.0) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as resp:
        return bytes(resp.read())


def _wait_count(port: int, want: int, timeout: float, worker: Any) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = int(_get(port, "/_count"))
        if count >= want:
            return count
        if worker.poll() is not None:
            raise RuntimeError(f"hookadmin worker exited with {worker.returncode}")
        time.sleep(0.05)
    return count


def _stats(values_ms: list[float]) -> dict[str, float | int]:
    v = sorted(values_ms)
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": round(benchlib.percentile(v, 50), 2),
            "p95": round(benchlib.percentile(v, 95), 2),
            "p99": round(benchlib.percentile(v, 99), 2), "max": round(v[-1], 2),
            "mean": round(sum(v) / len(v), 2)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    total = round(args.rate * args.seconds)
    calls = (total + args.batch - 1) // args.batch
    interval = args.batch / args.rate
    bodies = benchlib.job_bodies(args.warmup + total)
    receiver, port = benchlib.start_receiver("record")
    try:
        with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
            home = Path(tmp) / "home"
            service = HookService(home)
            service.create_hook(url=f"http://127.0.0.1:{port}/hook/1", events=["job"],
                                name="latency")
            worker = benchlib.start_worker(home, Path(tmp) / "worker.log")
            try:
                benchlib.log(f"warm-up: {args.warmup} events")
                for b in bodies[:args.warmup]:
                    service.publish(EVENT_TYPE, b)
                    time.sleep(0.02)
                got = _wait_count(port, args.warmup, 60, worker)
                if got < args.warmup:
                    raise RuntimeError(f"warm-up: only {got}/{args.warmup} arrived in 60 s")
                time.sleep(0.5)
                benchlib.log(f"publishing {total} events at {args.rate:g}/s for "
                             f"{args.seconds:g} s, {args.batch} per call ...")
                published: dict[str, tuple[float, float]] = {}
                lag_max = 0.0
                # The worker and its engine's bookkeeping process.
                worker_pids = [worker.pid, *benchlib.descendant_pids(worker.pid)]
                worker_cpu0 = sum(benchlib.proc_cpu_seconds(p) for p in worker_pids)
                receiver_cpu0 = benchlib.proc_cpu_seconds(receiver.pid)
                with benchlib.CpuMeter() as meter:
                    t0 = time.time() + 0.05
                    for c in range(calls):
                        due = t0 + c * interval
                        delay = due - time.time()
                        if delay > 0:
                            time.sleep(delay)
                        else:
                            lag_max = max(lag_max, -delay)
                        chunk = bodies[args.warmup + c * args.batch:
                                       args.warmup + min(total, (c + 1) * args.batch)]
                        start = time.time()
                        ids = service.publish_many([(EVENT_TYPE, b) for b in chunk])
                        end = time.time()
                        for event_id in ids:
                            published[event_id] = (start, end)
                    publish_end = time.time()
                    got = _wait_count(port, args.warmup + total, args.drain_timeout, worker)
                worker_cpu = sum(benchlib.proc_cpu_seconds(p) for p in worker_pids) \
                    - worker_cpu0
                receiver_cpu = benchlib.proc_cpu_seconds(receiver.pid) - receiver_cpu0
                arrivals = json.loads(_get(port, "/_arrivals"))["arrivals"]
            finally:
                benchlib.stop_process(worker, signal.SIGTERM)
            service.close()
            with sqlite3.connect(f"file:{home / DB_FILENAME}?mode=ro", uri=True) as db:
                rows = db.execute(
                    "SELECT d.id, e.id, (SELECT min(a.started_at) FROM attempts a"
                    " WHERE a.delivery_seq = d.seq), d.status, d.attempts"
                    " FROM deliveries d JOIN events e ON e.seq = d.event_seq").fetchall()
    finally:
        benchlib.stop_process(receiver, signal.SIGTERM)

    event_of = {d: (e, started, status, attempts) for d, e, started, status, attempts in rows}
    first_arrival: dict[str, float] = {}
    for delivery_id, at in arrivals:
        first_arrival.setdefault(delivery_id, at)
    e2e, pub, queue, wire = [], [], [], []
    buckets: dict[int, list[float]] = {}
    for delivery_id, at in first_arrival.items():
        info = event_of.get(delivery_id)
        if info is None or info[0] not in published:
            continue  # a warm-up event
        start, end = published[info[0]]
        e2e.append((at - start) * 1e3)
        buckets.setdefault(int(start - t0), []).append((at - start) * 1e3)
        pub.append((end - start) * 1e3)
        if info[1] is not None:
            queue.append((info[1] - start) * 1e3)
            wire.append((at - info[1]) * 1e3)
    retried = sum(1 for _, e, _, _, attempts in rows if e in published and attempts > 1)
    summary = _stats(e2e)
    return {
        "benchmark": "latency",
        "params": {"rate": args.rate, "seconds": args.seconds, "batch": args.batch,
                   "events": total, "publish_calls": calls, "warmup": args.warmup,
                   "body_bytes": len(bodies[0])},
        "achieved_publish_rate": round(total / (publish_end - t0), 1),
        "max_lag_behind_schedule_ms": round(lag_max * 1e3, 2),
        "arrived": len(e2e), "expected": total, "retried_deliveries": retried,
        "duplicate_arrivals": len(arrivals) - len(first_arrival),
        "latency_ms": {
            "publish call start → arrival (end to end)": summary,
            "publish call duration (commit, fsync)": _stats(pub),
            "publish call start → engine starts POST": _stats(queue),
            "engine starts POST → arrival": _stats(wire),
        },
        # per second of the run (by publish time): how the latency moves, e.g. a backlog
        # growing, or a stall every few seconds
        "timeline": [{"second": s, "n": len(v),
                      "p50_ms": round(benchlib.percentile(sorted(v), 50), 1),
                      "max_ms": round(max(v), 1)} for s, v in sorted(buckets.items())],
        "targets": {"p50 < 20 ms": summary.get("p50", 1e9) < 20,
                    "p99 < 100 ms": summary.get("p99", 1e9) < 100},
        "cpu": {"worker_cpu_s": round(worker_cpu, 3),
                "worker_cpu_us_per_delivery": round(worker_cpu / total * 1e6, 1),
                "receiver_cpu_s": round(receiver_cpu, 3),
                "publisher_cpu_s": round(meter.self_cpu, 3),
                "machine_busy_cores": round(meter.machine_busy_cores, 2),
                "others_busy_cores": round(max(0.0, meter.machine_busy_cores - (
                    worker_cpu + receiver_cpu + meter.self_cpu) / meter.wall), 2)},
    }


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    print(f"\nlatency: {p['events']} events at {p['rate']:g}/s for {p['seconds']:g} s "
          f"({p['batch']} per publish_many call), 1 hook, engine = `hookadmin worker`")
    print(f"achieved publish rate {result['achieved_publish_rate']}/s, max lag behind schedule "
          f"{result['max_lag_behind_schedule_ms']} ms; arrived {result['arrived']}/"
          f"{result['expected']}, retried {result['retried_deliveries']}, duplicate arrivals "
          f"{result['duplicate_arrivals']}\n")
    rows = []
    for name, s in result["latency_ms"].items():
        rows.append([name, s.get("n"), s.get("p50"), s.get("p95"), s.get("p99"), s.get("max"),
                     s.get("mean")])
    benchlib.print_table(["ms", "n", "p50", "p95", "p99", "max", "mean"], rows)
    print("\nper second of publishing (p50 / max ms): " + ", ".join(
        f"{t['second']}s {t['p50_ms']:g}/{t['max_ms']:g}" for t in result["timeline"]))
    c = result["cpu"]
    print(f"\nworker CPU {c['worker_cpu_s']} s ({c['worker_cpu_us_per_delivery']} µs/delivery), "
          f"receiver {c['receiver_cpu_s']} s, publisher {c['publisher_cpu_s']} s; machine busy "
          f"{c['machine_busy_cores']} cores, others {c['others_busy_cores']}")
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'NOT met'}"
                                  for k, v in result["targets"].items()))


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.rate <= 0 or args.seconds <= 0 or args.batch < 1 or args.warmup < 1:
        print(f"{SCRIPT}: --rate and --seconds must be > 0, --batch and --warmup >= 1",
              file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    result = run(args)
    result = {"benchmark": result.pop("benchmark"), "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]), **result}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
