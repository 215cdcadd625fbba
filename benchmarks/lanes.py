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
3. alternating (``--rounds`` storms, each between two alone phases), so drift on a
   shared machine shows and each storm is compared with its own neighbours.

Latency of each of B's deliveries = end of its successful attempt - publish time, read
from the database afterwards; every phase first sends one event to B (not counted), so
both kinds measure a running engine, not its start. Each storm's ratio = the mean of
its two neighbouring alone phases' p50 / its own p50 (target >= 0.9: fresh events keep
at least 0.9x their speed); the run reports the median of these ratios with their
spread (min-max), and the engine's CPU per attempt in each phase (this process and its
bookkeeping process, without the publisher thread).

Where B's time goes, p50 of each stage per phase (``--json`` has them as ``stages``):
publish → its commit (``publish`` returned), → fanned out (``created_at`` of the
delivery), → claimed (the lease's start, kept by a trigger the benchmark adds to its
throw-away database), → its attempt started, the request itself, and the attempt's
end → reported (the engine's ``on_attempt``, called once the attempt is recorded).
"""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import benchlib
import engine_phase

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
    p.add_argument("--rounds", type=int, default=4, help="storm phases (default 4)")
    p.add_argument("--publisher", choices=("thread", "process"), default="thread",
                   help="publish B's events from a thread of the engine's process (default)"
                        " or from a process of their own, as `hookadmin publish` does")
    p.add_argument("--no-lanes", action="store_true",
                   help="turn the retry lane off (retries may use every slot), for comparison")
    p.add_argument("--retry-rate", type=float, default=None, metavar="PER_SECOND",
                   help="retry_rate_while_fresh: retries started per second at most while"
                        " fresh events flow (default: the engine's)")
    engine_phase.add_common_options(p)
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


def _median(values: list[float]) -> float:
    """The median rounded to 2 decimals, as the phases' figures are (a median of two
    is their mean, whose float sum would otherwise print as ``2112.1000000000004``)."""
    return round(float(statistics.median(values)), 2)


def _start_publisher(home: Path, args: argparse.Namespace,
                     body: bytes) -> subprocess.Popen[str]:
    """``lanes_publisher.py`` for ``home``, started and ready (its store open)."""
    body_file = home.parent / "body.json"
    body_file.write_bytes(body)
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("lanes_publisher.py")), str(home),
         str(args.events), repr(args.rate), str(body_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit(f"{SCRIPT}: the publisher process did not start")
    return child


def _publish_from(child: subprocess.Popen[str]) -> dict[str, float]:
    """Let ``child`` publish; returns event id -> when its ``publish`` returned."""
    out, _ = child.communicate("go\n", timeout=600)
    committed = {}
    for line in out.splitlines():
        key, value = line.split()
        if key != "cpu":
            committed[key] = float(value)
    return committed


_STAGES = ("commit", "fan_out", "claim", "start", "request", "report")


def _trace_claims(home: Path, hook_id: int) -> None:
    """Keep each claim of ``hook_id``'s deliveries (the lease it set) in a table of the
    benchmark's own, by a trigger in the throw-away database."""
    db = sqlite3.connect(home / DB_FILENAME)
    with db:
        db.execute("CREATE TABLE bench_claims (seq INTEGER, lease_until REAL)")
        db.execute("CREATE TRIGGER bench_claim AFTER UPDATE OF lease_until ON deliveries"
                   " WHEN NEW.lease_until IS NOT NULL AND OLD.lease_until IS NULL"
                   f" AND NEW.hook_id = {int(hook_id)}"
                   " BEGIN INSERT INTO bench_claims VALUES (NEW.seq, NEW.lease_until); END")
    db.close()


def _stages(db: sqlite3.Connection, hook_id: int, committed: dict[str, float],
            reported: dict[str, float], lease_seconds: float) -> dict[str, float]:
    """p50 in ms of each of ``_STAGES`` over B's measured deliveries (those whose
    publish, claim and report were all seen)."""
    rows = db.execute(
        "SELECT e.id, d.id, e.occurred_at, d.created_at, min(c.lease_until) - ?,"
        " at.started_at, at.started_at + at.duration_ms / 1000.0"
        " FROM deliveries d JOIN events e ON e.seq = d.event_seq"
        " JOIN attempts at ON at.delivery_seq = d.seq AND at.number = 1"
        " JOIN bench_claims c ON c.seq = d.seq"
        " WHERE d.hook_id = ? GROUP BY d.seq", (lease_seconds, hook_id)).fetchall()
    spans: list[list[float]] = [[] for _ in _STAGES]
    for event_id, delivery_id, published, fanned, claimed, started, ended in rows:
        if event_id not in committed or delivery_id not in reported:
            continue  # the warm-up event, or not reported within the phase
        points = (published, committed[event_id], fanned, claimed, started, ended,
                  reported[delivery_id])
        for i in range(len(_STAGES)):
            spans[i].append((points[i + 1] - points[i]) * 1000.0)
    return {name: round(benchlib.percentile(sorted(values), 50), 2)
            for name, values in zip(_STAGES, spans, strict=True)}


def run_phase(name: str, nginx: benchlib.Nginx, body: bytes, args: argparse.Namespace,
              *, storm: bool) -> dict[str, Any]:
    with engine_phase.phase_home(args.tmpdir) as home:
        with HookService(home) as service:
            b = service.create_hook(url=nginx.url("/b"), events=["job.completed"], name="B")
            a = service.create_hook(url=nginx.url("/a"), events=["job.failed"], name="A")
        _trace_claims(home, b.id)
        if storm:
            benchlib.log(f"{name}: making {args.retries} retries due for hook A ...")
            _make_retries(home, a.id, args.retries, body)
        a_done = [0]
        b_done = [0]
        publisher_cpu = [0.0]
        a_started = threading.Event()
        warmed = threading.Event()  # B's warm-up event was delivered: the engine is up
        finished = threading.Event()
        meter = benchlib.CpuMeter(nginx, bookkeepers=True)
        counted_from = [0]  # attempts made before the measured part
        committed: dict[str, float] = {}  # B's event id -> when publish returned
        reported: dict[str, float] = {}  # B's delivery id -> when on_attempt was called

        def on_attempt(o: AttemptOutcome) -> None:
            if o.hook_id == a.id:
                a_done[0] += 1
                if a_done[0] >= 200:
                    a_started.set()
            elif o.hook_id == b.id:
                reported[o.delivery_id] = time.time()
                b_done[0] += 1
                warmed.set()
                if b_done[0] >= args.events + 1:
                    finished.set()

        settings = DeliverySettings()
        if args.no_lanes:
            settings = dataclasses.replace(settings, retry_in_flight=settings.max_in_flight,
                                           retry_per_hook_in_flight=settings.per_hook_in_flight)
        if args.retry_rate is not None:
            settings = dataclasses.replace(settings, retry_rate_while_fresh=args.retry_rate)
        engine = Engine(home, settings=settings, on_attempt=on_attempt)

        def publisher() -> None:
            child = _start_publisher(home, args, body) if args.publisher == "process" \
                else None
            with HookService(home) as pub:
                # Both kinds of phase measure a running engine: one event to B first
                # (not counted), and in a storm A's retries under way too.
                pub.publish("job.completed", body)
                warmed.wait(60)
                if storm:
                    a_started.wait(60)
                counted_from[0] = a_done[0] + b_done[0]
                meter.__enter__()
                if child is not None:  # its CPU is not the engine's: not metered
                    committed.update(_publish_from(child))
                    return
                cpu = time.thread_time()
                start = time.perf_counter()
                for n in range(args.events):
                    delay = start + n / args.rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)  # pacing the load, not synchronisation
                    event_id = pub.publish("job.completed", body)
                    committed[event_id] = time.time()
            publisher_cpu[0] = time.thread_time() - cpu

        benchlib.log(f"{name}: engine running ...")
        # The meter stops before the engine: the bookkeeping process exits with it.
        engine_phase.run_engine(engine, publisher, finished, cap_s=120,
                                before_stop=meter.__exit__)
        rows = engine_phase.successful_attempts(
            home, b.id,
            "at.started_at + at.duration_ms / 1000.0 - e.occurred_at,"
            " d.created_at - e.occurred_at, at.started_at - d.created_at,"
            " at.duration_ms / 1000.0")
        db = sqlite3.connect(home / DB_FILENAME)
        stages = _stages(db, b.id, committed, reported, settings.lease_seconds)
        a_sent = db.execute("SELECT count(*) FROM attempts a JOIN deliveries d"
                            " ON d.seq = a.delivery_seq WHERE d.hook_id = ? AND a.number > 1",
                            (a.id,)).fetchone()[0]
        db.close()
    latencies = sorted(r[0] * 1000.0 for r in rows)

    def part(i: int) -> float:
        return round(benchlib.percentile(sorted(r[i] * 1000.0 for r in rows), 50), 2)

    out = {"phase": name, "b_delivered": len(latencies), "a_retries_sent": a_sent,
           "p50_ms": round(benchlib.percentile(latencies, 50), 2),
           "p95_ms": round(benchlib.percentile(latencies, 95), 2),
           "p99_ms": round(benchlib.percentile(latencies, 99), 2),
           "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
           # where B's time goes (p50 of each): publish -> fanned out, -> request
           # started, the request itself
           "fan_out_p50_ms": part(1), "start_p50_ms": part(2), "request_p50_ms": part(3),
           "stages": stages}
    attempts = a_done[0] + b_done[0] - counted_from[0]
    cpu = meter.as_dict(max(1, attempts), client_extra=-publisher_cpu[0])
    out |= {"publisher": args.publisher, "attempts": attempts, "seconds": round(meter.wall, 2),
            "engine_cpu_s": cpu["client_cpu_s"],
            "engine_cpu_us_per_attempt": cpu["client_cpu_us_per_req"],
            "publisher_cpu_s": round(publisher_cpu[0], 3),
            "others_busy_cores": cpu["others_busy_cores"], "load1_end": cpu["load1_end"]}
    benchlib.log(f"{name}: B p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms (p50s: fan-out "
                 f"{out['fan_out_p50_ms']}, start {out['start_p50_ms']}, request "
                 f"{out['request_p50_ms']}); A retries sent {a_sent}")
    benchlib.log(f"{name}: B stages p50 ms: "
                 + ", ".join(f"{k} {v}" for k, v in stages.items()))
    return out


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    print(f"\nlanes {'on' if p['lanes'] else 'OFF'}: {p['events']} fresh events to B at "
          f"{p['rate']:g}/s, alone and while {p['retries']} retries to A are due\n")
    benchlib.print_table(["phase", "B delivered", "A retries sent", "p50 ms", "p95 ms",
                          "p99 ms", "mean ms", "p50 fan-out/start/request ms",
                          "CPU µs/attempt", "others' cores", "load1"],
                         [[r["phase"], r["b_delivered"], r["a_retries_sent"], r["p50_ms"],
                           r["p95_ms"], r["p99_ms"], r["mean_ms"],
                           f"{r['fan_out_p50_ms']} / {r['start_p50_ms']} / "
                           f"{r['request_p50_ms']}",
                           r["engine_cpu_us_per_attempt"], r["others_busy_cores"],
                           r["load1_end"]] for r in result["phases"]])
    print()
    for name, value in result["ratios"].items():
        print(f"{name:<62} {value}")


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.events < 2 or args.retries < 200 or args.rounds < 1 or args.rate <= 0 \
            or (args.retry_rate is not None and not args.retry_rate > 0):
        print(f"{SCRIPT}: --events >= 2, --retries >= 200, --rounds >= 1, --rate > 0, "
              "--retry-rate > 0", file=sys.stderr)
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
        return _median(values) if values else None

    def pairs(key: str) -> list[float]:
        """Each storm against the mean of the alone phases either side of it."""
        out = []
        for n, one in enumerate(storm):
            around = [alone[n][key], alone[n + 1][key]]
            r = benchlib.ratio(statistics.fmean(around), one[key])
            if r is not None:
                out.append(r)
        return out

    def summary(values: list[float]) -> str:
        if not values:
            return "-"
        return (f"median {statistics.median(values):.2f} (spread {min(values):.2f}-"
                f"{max(values):.2f}; each: {', '.join(f'{v:.2f}' for v in values)})")

    per_attempt = [r["engine_cpu_us_per_attempt"] for r in phases
                   if r["engine_cpu_us_per_attempt"] is not None]
    ratios = {
        "B p50 alone / in the storm, per storm  [target >= 0.9]": summary(pairs("p50_ms")),
        "same, p95": summary(pairs("p95_ms")),
        "same, mean": summary(pairs("mean_ms")),
        "B p50 medians over all phases, alone / storm":
            benchlib.ratio(med(alone, "p50_ms"), med(storm, "p50_ms")),
        "engine CPU per attempt, µs (median alone; median storm)":
            f"{med(alone, 'engine_cpu_us_per_attempt')}; "
            f"{med(storm, 'engine_cpu_us_per_attempt')}" if per_attempt else "-",
    }
    for stage in _STAGES:
        ratios[f"B {stage} p50 ms (median alone; median storm)"] = (
            f"{_median([r['stages'][stage] for r in alone])}; "
            f"{_median([r['stages'][stage] for r in storm])}")
    result = {"benchmark": "lanes", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"retries": args.retries, "events": args.events, "rate": args.rate,
                         "rounds": args.rounds, "lanes": not args.no_lanes,
                         "retry_rate": args.retry_rate},
              "phases": phases, "ratios": ratios}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
