"""Delivery lanes: do 20,000 retries due for one hook delay fresh events to another?

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/lanes.py
    ... benchmarks/lanes.py --retries 5000 --events 200     # a quick run

Phases in one run, each on a fresh data directory, with hookadmin's Engine (in this
process, default settings) and our nginx (``return 204``) as both receivers:

1. **alone**: hook B only. The engine runs; ``--events`` fresh events are published to B
   at ``--rate`` per second from another thread.
2. **storm**: the same, while hook A has ``--retries`` deliveries due now, each already
   tried once (a receiver that has just recovered): the engine starts on them, and
   B's events are published once A's retries are being sent.
3. alternating again (``--rounds``), so drift on a shared machine shows.

Latency of each of B's deliveries = end of its successful attempt - publish time, read
from the database afterwards. Ratio = median latency alone / median latency in the storm
(target >= 0.9: fresh events keep at least 0.9x their speed).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import benchlib

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "lanes.py"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Fresh-event latency to hook B alone vs during "
                                            "a retry storm to hook A.")
    p.add_argument("--retries", type=int, default=20_000,
                   help="deliveries to hook A due now as retries (default 20000)")
    p.add_argument("--events", type=int, default=400,
                   help="fresh events published to hook B per phase (default 400)")
    p.add_argument("--rate", type=float, default=100.0,
                   help="B's events per second (default 100)")
    p.add_argument("--rounds", type=int, default=2, help="storm phases (default 2)")
    p.add_argument("--no-lanes", action="store_true",
                   help="turn the retry lane off (retries may use every slot), for comparison")
    p.add_argument("--tmpdir", help="where the data directories go (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout; with FILE, write it there and "
                        "print the table too")
    return p.parse_args()


def _make_retries(home: Path, hook_id: int, count: int, body: bytes) -> None:
    """``count`` deliveries to ``hook_id``, each with one failed attempt, due now."""
    with HookService(home) as service:
        for i in range(0, count, 5000):
            service.store.add_events([("job.failed", body)] * min(5000, count - i),
                                     target_hook_id=hook_id)
        while service.store.fan_out(limit=5000):
            pass
    db = sqlite3.connect(home / DB_FILENAME)
    now = time.time()
    with db:
        db.execute("UPDATE deliveries SET attempts = 1, next_attempt_at = ?, updated_at = ?,"
                   " last_status_code = 503, last_error_kind = 'http_status'"
                   " WHERE hook_id = ?", (now, now, hook_id))
        db.execute("INSERT INTO attempts (delivery_seq, number, started_at, duration_ms,"
                   " request_url, request_headers, status_code, error_kind)"
                   " SELECT seq, 1, ?, 5.0, 'http://a/', '{}', 503, 'http_status'"
                   " FROM deliveries WHERE hook_id = ?", (now - 1, hook_id))
    db.close()


def run_phase(name: str, nginx: benchlib.Nginx, body: bytes, args: argparse.Namespace,
              *, storm: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = Path(tmp) / "home"
        with HookService(home) as service:
            b = service.create_hook(url=nginx.url("/b"), events=["job.completed"], name="B")
            a = service.create_hook(url=nginx.url("/a"), events=["job.failed"], name="A")
        if storm:
            benchlib.log(f"{name}: making {args.retries} retries due for hook A ...")
            _make_retries(home, a.id, args.retries, body)
        a_done = [0]
        b_done = [0]
        a_started = threading.Event()
        finished = threading.Event()

        def on_attempt(o: AttemptOutcome) -> None:
            if o.hook_id == a.id:
                a_done[0] += 1
                if a_done[0] >= 200:
                    a_started.set()
            elif o.hook_id == b.id:
                b_done[0] += 1
                if b_done[0] >= args.events:
                    finished.set()

        settings = DeliverySettings()
        if args.no_lanes:
            settings = dataclasses.replace(settings, retry_in_flight=settings.max_in_flight,
                                           retry_per_hook_in_flight=settings.per_hook_in_flight)
        engine = Engine(home, settings=settings, on_attempt=on_attempt)

        def publisher() -> None:
            if storm:
                a_started.wait(60)
            with HookService(home) as pub:
                start = time.perf_counter()
                for n in range(args.events):
                    delay = start + n / args.rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)  # pacing the load, not synchronisation
                    pub.publish("job.completed", body)

        async def main() -> None:
            task = asyncio.create_task(engine.run_async())
            thread = threading.Thread(target=publisher)
            thread.start()
            deadline = time.monotonic() + 120
            while not finished.is_set() and time.monotonic() < deadline and not task.done():
                await asyncio.sleep(0.05)
            engine.stop()
            await task
            thread.join()

        benchlib.log(f"{name}: engine running ...")
        asyncio.run(main())
        db = sqlite3.connect(home / DB_FILENAME)
        rows = db.execute(
            "SELECT at.started_at + at.duration_ms / 1000.0 - e.occurred_at"
            " FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " JOIN attempts at ON at.delivery_seq = d.seq"
            " WHERE d.hook_id = ? AND at.status_code BETWEEN 200 AND 299",
            (b.id,)).fetchall()
        a_sent = db.execute("SELECT count(*) FROM attempts a JOIN deliveries d"
                            " ON d.seq = a.delivery_seq WHERE d.hook_id = ? AND a.number > 1",
                            (a.id,)).fetchone()[0]
        db.close()
    latencies = sorted(r[0] * 1000.0 for r in rows)
    out = {"phase": name, "b_delivered": len(latencies), "a_retries_sent": a_sent,
           "p50_ms": round(benchlib.percentile(latencies, 50), 2),
           "p95_ms": round(benchlib.percentile(latencies, 95), 2),
           "p99_ms": round(benchlib.percentile(latencies, 99), 2),
           "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None}
    benchlib.log(f"{name}: B p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms; "
                 f"A retries sent {a_sent}")
    return out


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    print(f"\nlanes {'on' if p['lanes'] else 'OFF'}: {p['events']} fresh events to B at "
          f"{p['rate']:g}/s, alone and while {p['retries']} retries to A are due\n")
    benchlib.print_table(["phase", "B delivered", "A retries sent", "p50 ms", "p95 ms",
                          "p99 ms", "mean ms"],
                         [[r["phase"], r["b_delivered"], r["a_retries_sent"], r["p50_ms"],
                           r["p95_ms"], r["p99_ms"], r["mean_ms"]] for r in result["phases"]])
    print()
    for name, value in result["ratios"].items():
        print(f"{name:<58} {value}")


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.events < 2 or args.retries < 200 or args.rounds < 1 or args.rate <= 0:
        print(f"{SCRIPT}: --events >= 2, --retries >= 200, --rounds >= 1, --rate > 0",
              file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    body = benchlib.job_bodies(1)[0]
    with benchlib.Nginx() as nginx:
        phases = [run_phase("alone 1", nginx, body, args, storm=False)]
        for n in range(1, args.rounds + 1):
            phases.append(run_phase(f"storm {n}", nginx, body, args, storm=True))
            phases.append(run_phase(f"alone {n + 1}", nginx, body, args, storm=False))
    alone = [r for r in phases if r["phase"].startswith("alone")]
    storm = [r for r in phases if r["phase"].startswith("storm")]

    def med(rows: list[dict[str, Any]], key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return float(statistics.median(values)) if values else None

    ratios = {
        "B latency alone / in the storm, p50 medians  [target >= 0.9]":
            benchlib.ratio(med(alone, "p50_ms"), med(storm, "p50_ms")),
        "same, p95": benchlib.ratio(med(alone, "p95_ms"), med(storm, "p95_ms")),
        "same, mean": benchlib.ratio(med(alone, "mean_ms"), med(storm, "mean_ms")),
    }
    result = {"benchmark": "lanes", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"retries": args.retries, "events": args.events, "rate": args.rate,
                         "rounds": args.rounds, "lanes": not args.no_lanes},
              "phases": phases, "ratios": ratios}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
