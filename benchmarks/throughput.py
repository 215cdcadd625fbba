"""Throughput: hookadmin's engine vs a bare aiohttp client vs a plain httpx loop.

Run by hand from the repository root, under the test keyring (the engine reads hook
secrets from the OS keyring, like the tests do)::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/throughput.py
    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/throughput.py \\
        --events 2000                      # a quick run
    ... benchmarks/throughput.py --only engine --profile /tmp/engine.raw   # py-spy profile

Needs nginx (``apt-get install -y nginx-light``); the script starts its own on a free
127.0.0.1 port (one worker, ``return 204``, no access log) and stops it at the end.

What is measured, all against the same nginx, in one run:

* **engine**: ``--events`` events (the real ``tests/fixtures/job-completed.json``
  body, each with its own job id) fanned out to ``--hooks`` hooks, so events x hooks
  deliveries. Timed from the moment a publisher process starts calling
  ``HookService.publish_many`` (batches of ``--batch``; the engine is already running
  and idle) until the engine has recorded the last delivery's attempt in SQLite. The
  engine is hookadmin's :class:`~hookadmin.delivery.engine.Engine` in this process with
  default settings except ``retry_schedule=(0,)``: a failed attempt is final, so no
  retry delay can stretch the run (failures are counted and shown).
* **(a) aiohttp**: a bare ``aiohttp.ClientSession`` sending the same number of POSTs with
  the same body bytes and hookadmin's header set (constant values, no signing) at the
  engine's own concurrency, min(max_in_flight, hooks x per_hook_in_flight): 64 with the
  default 8 hooks (8 x 8 = ``max_in_flight``), so both send at most as many requests at
  once, with the engine's session settings (no cookie jar, its timeouts:
  ``benchlib.bare_session``). The Python ceiling. Run before and after the engine; the
  ratio uses the mean of both.
* **(b) httpx**: a plain ``httpx.AsyncClient`` (default transport; pool limits raised to
  the concurrency, like the engine's client) doing the same.
* **wrk** (if installed): nginx's own ceiling with a C client (sanity check).

CPU columns: CPU seconds of the client side (this process, plus the publisher for the
engine) and of nginx per request, and how many cores the whole machine was busy; on a
shared machine these say more than req/s alone.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import benchlib
import httpx

from hookadmin.core.service import HookService
from hookadmin.core.signing import delivery_headers
from hookadmin.core.store import DB_FILENAME
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.event_loop import EventLoop
from hookadmin.delivery.event_loop import run as run_on
from hookadmin.delivery.policy import DeliverySettings, engine_share

SCRIPT = "throughput.py"
EVENT_TYPE = "job.completed"
PHASES = ("wrk", "aiohttp", "httpx", "engine", "engines")

# hookadmin's header names with values of the real lengths (36-char UUIDs, 64 hex, ...).
BASELINE_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "hookadmin/0.1.0",
    "X-Hook-Event": EVENT_TYPE,
    "X-Hook-Delivery": "00000000-0000-4000-8000-000000000000",
    "X-Hook-Signature": "0" * 64,
    "webhook-id": "00000000-0000-4000-8000-000000000000",
    "webhook-timestamp": "1764400000",
    "webhook-signature": "v1," + "A" * 43 + "=",
}


def parse_args() -> argparse.Namespace:
    defaults = DeliverySettings()
    p = argparse.ArgumentParser(
        description="Engine throughput vs bare aiohttp and plain httpx against a local nginx "
                    "(run under: dbus-run-session -- scripts/with-test-keyring.sh "
                    ".venv/bin/python benchmarks/throughput.py).")
    p.add_argument("--events", type=int, default=20_000, help="events published (default 20000)")
    p.add_argument("--hooks", type=int, default=8,
                   help="hooks each event fans out to (default 8: 8 hooks x 8 in flight per "
                        "hook = the engine's max_in_flight)")
    p.add_argument("--batch", type=int, default=1000,
                   help="events per publish_many call (default 1000)")
    p.add_argument("--concurrency", type=int, default=None,
                   help="baseline concurrency (default: the engine's, min(max_in_flight "
                        f"{defaults.max_in_flight}, hooks x per_hook_in_flight "
                        f"{defaults.per_hook_in_flight}))")
    p.add_argument("--engine-processes", type=int, default=2, metavar="N",
                   help="engines in the 'engines' phase: `hookadmin worker --processes N` "
                        "(default 2)")
    p.add_argument("--only", default=",".join(PHASES),
                   help=f"comma-separated phases to run, from {','.join(PHASES)} (default all)")
    p.add_argument("--profile", metavar="FILE",
                   help="record the engine phase with py-spy (raw collapsed stacks) into FILE "
                        "and print a summary; use with --only engine so the figures of a "
                        "profiled run are not mixed with clean ones")
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="cap on each phase; a phase that hits it reports the rate of what it "
                        "completed (column 'done' = no) (default 120)")
    p.add_argument("--event-loop", choices=("asyncio", "uvloop"), default="asyncio",
                   help="the event loop of the aiohttp, httpx and engine phases and of "
                        "`worker --event-loop` in the engines phase (default asyncio)")
    p.add_argument("--tmpdir", help="where the engine's data directory goes (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


# -- baselines -----------------------------------------------------------------------------

async def _aiohttp_run(urls: list[str], bodies: list[bytes], total: int,
                       concurrency: int, deadline: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    hooks = len(urls)
    async with benchlib.bare_session(concurrency) as session:
        async def worker() -> None:
            while (i := next(counter)) < total and time.perf_counter() < deadline:
                async with session.post(urls[i % hooks], data=bodies[i // hooks],
                                        headers=BASELINE_HEADERS) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def _httpx_run(urls: list[str], bodies: list[bytes], total: int,
                     concurrency: int, deadline: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    hooks = len(urls)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:
        async def worker() -> None:
            while (i := next(counter)) < total and time.perf_counter() < deadline:
                resp = await client.post(urls[i % hooks], content=bodies[i // hooks],
                                         headers=BASELINE_HEADERS)
                statuses[resp.status_code] += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def run_baseline(name: str, nginx: benchlib.Nginx, urls: list[str], bodies: list[bytes],
                 total: int, concurrency: int, max_seconds: float,
                 loop: EventLoop = EventLoop.STANDARD) -> dict[str, Any]:
    runner = _aiohttp_run if name.startswith("aiohttp") else _httpx_run
    benchlib.log(f"{name}: {total} POSTs at concurrency {concurrency} (at most "
                 f"{max_seconds:g} s) ...")
    with benchlib.CpuMeter(nginx) as meter:
        statuses = run_on(runner(urls, bodies, total, concurrency,
                                 time.perf_counter() + max_seconds), loop)
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    sent = sum(statuses.values())
    out = {"phase": name, "requests": sent, "ok": ok, "complete": sent == total,
           "concurrency": concurrency, "seconds": round(meter.wall, 3),
           "req_per_s": round(sent / meter.wall, 1), **meter.as_dict(sent)}
    benchlib.log(f"{name}: {out['req_per_s']} req/s")
    return out


# -- the engine ----------------------------------------------------------------------------

def _publisher(home: str, count: int, batch: int, ready: Connection, go: MpEvent,
               report: Connection) -> None:
    """Child process: publish ``count`` events in batches when ``go`` is set."""
    import resource

    bodies = benchlib.job_bodies(count)
    with HookService(home) as service:
        ready.send("ready")
        go.wait()
        t0 = time.time()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        for i in range(0, count, batch):
            service.publish_many([(EVENT_TYPE, b) for b in bodies[i:i + batch]])
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        report.send({"start": t0, "end": time.time(),
                     "cpu": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)})


def _db_counts(home: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{home / DB_FILENAME}?mode=ro", uri=True) as db:
        out = {f"deliveries_{s}": n for s, n in
               db.execute("SELECT status, count(*) FROM deliveries GROUP BY status")}
        out["attempts"] = db.execute("SELECT count(*) FROM attempts").fetchone()[0]
        out["events"] = db.execute("SELECT count(*) FROM events").fetchone()[0]
    return out


class _Profiler:
    """py-spy attached to this process and its children (the bookkeeping process, the
    publisher) for the duration of a ``with`` block."""

    def __init__(self, out: str | None) -> None:
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> _Profiler:
        if self.out:
            spy = Path(sys.executable).with_name("py-spy")
            if not spy.exists():
                raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
            self.proc = subprocess.Popen(
                [str(spy), "record", "--pid", str(os.getpid()), "--subprocesses",
                 "--format", "raw",
                 "--rate", "250", "--nonblocking", "--output", self.out],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.5)  # let it attach
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise SystemExit(f"py-spy failed: {err.strip()}")
            benchlib.log(f"py-spy recording into {self.out}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            benchlib.stop_process(self.proc, signal.SIGINT, timeout=60)


def _home_with_hooks(tmp: Path, nginx: benchlib.Nginx, args: argparse.Namespace) -> Path:
    """A data directory with ``args.hooks`` hooks at nginx (``/hook/1`` ...)."""
    home = tmp / "home"
    with HookService(home) as service:
        for n in range(1, args.hooks + 1):
            service.create_hook(url=nginx.url(f"/hook/{n}"), events=["job"], name=f"bench {n}")
    return home


def _start_publisher(home: Path, args: argparse.Namespace
                     ) -> tuple[multiprocessing.process.BaseProcess, MpEvent, Connection]:
    """The publisher process, ready and waiting: (process, its go event, the pipe its
    report comes back on)."""
    ctx = multiprocessing.get_context("spawn")
    ready_r, ready_w = ctx.Pipe(duplex=False)
    report_r, report_w = ctx.Pipe(duplex=False)
    go = ctx.Event()
    child = ctx.Process(target=_publisher, daemon=True,
                        args=(str(home), args.events, args.batch, ready_w, go, report_w))
    child.start()
    if not ready_r.poll(60):
        raise RuntimeError("the publisher process did not start")
    ready_r.recv()
    return child, go, report_r


def run_engine(nginx: benchlib.Nginx, args: argparse.Namespace) -> dict[str, Any]:
    expected = args.events * args.hooks
    settings = DeliverySettings(retry_schedule=(0,))
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = _home_with_hooks(Path(tmp), nginx, args)
        child, go, report_r = _start_publisher(home, args)

        counts: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        marks: dict[str, float] = {}
        done = asyncio.Event()

        def on_attempt(outcome: AttemptOutcome) -> None:
            counts[outcome.status] += 1
            if outcome.error_kind:
                errors[outcome.error_kind] += 1
            if "first" not in marks:
                marks["first"] = time.time()
            if counts["succeeded"] + counts["failed"] >= expected and "end" not in marks:
                marks["end"] = time.time()
                done.set()

        secrets, keyring_counter = benchlib.counting_secret_store(home)
        loop = EventLoop.parse(args.event_loop)
        engine = Engine(home, settings=settings, secrets=secrets, on_attempt=on_attempt,
                        **({"event_loop": loop} if loop is EventLoop.UVLOOP else {}))

        async def main() -> benchlib.CpuMeter:
            task = asyncio.create_task(engine.run_async())
            await asyncio.sleep(0.5)  # the engine is up and idle before the first publish
            if task.done():
                await task
            # The engine's bookkeeping process counts as the engine's (the publisher's
            # CPU is added from its own report, nginx's is its own column).
            meter = benchlib.CpuMeter(nginx, bookkeepers=True)
            with _Profiler(args.profile), meter:
                marks["start"] = time.time()
                go.set()
                try:
                    await asyncio.wait_for(done.wait(), args.max_seconds)
                except TimeoutError:
                    marks["end"] = time.time()
                    benchlib.log(f"engine: stopped at the {args.max_seconds:g} s cap")
            engine.stop()
            await task
            return meter

        benchlib.log(f"engine: {args.events} events x {args.hooks} hooks = {expected} "
                     f"deliveries (publish batches of {args.batch}) ...")
        meter = run_on(main(), loop)
        pub = report_r.recv() if report_r.poll(30) else {}
        child.join(10)
        db = _db_counts(home)
    seconds = marks["end"] - marks["start"]
    recorded = counts["succeeded"] + counts["failed"]
    out = {
        "phase": "engine", "requests": recorded, "ok": counts["succeeded"],
        "failed": counts["failed"], "errors": dict(errors), "complete": recorded >= expected,
        "concurrency": settings.max_in_flight,
        "effective_concurrency": min(settings.max_in_flight,
                                     args.hooks * settings.per_hook_in_flight),
        "seconds": round(seconds, 3), "req_per_s": round(recorded / seconds, 1),
        "publish_seconds": round(pub["end"] - pub["start"], 3) if pub else None,
        "publisher_cpu_s": round(pub["cpu"], 3) if pub else None,
        "first_delivery_after_s": round(marks["first"] - marks["start"], 3),
        **meter.as_dict(recorded, client_extra=pub.get("cpu", 0.0)),
        "engine_process_cpu_s": round(meter.self_cpu, 3),
        "engine_cpu_us_per_delivery": round(meter.self_cpu / max(1, recorded) * 1e6, 1),
        "bookkeeper_cpu_us_per_delivery": round(meter.extra_cpu / max(1, recorded) * 1e6, 1),
        "keyring_reads": keyring_counter.reads,
        "keyring_read_seconds_total": round(keyring_counter.seconds, 2),
        "keyring_read_seconds_max": round(keyring_counter.slowest, 3),
        "db": db,
    }
    benchlib.log(f"engine: {out['req_per_s']} deliveries/s ({out['failed']} failed)")
    return out


def run_engines(nginx: benchlib.Nginx, args: argparse.Namespace) -> dict[str, Any]:
    """The same as :func:`run_engine`, with ``hookadmin worker --processes N`` (N engines,
    each its own process, sharing the queue) instead of one Engine in this process.
    Progress is read from the database every 20 ms; the end is the last delivery's
    ``updated_at``."""
    expected = args.events * args.hooks
    n = args.engine_processes
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = _home_with_hooks(Path(tmp), nginx, args)
        with HookService(home) as service:
            service.set_delivery_options(retry_schedule=[0])  # as the engine phase
        child, go, report_r = _start_publisher(home, args)
        worker = subprocess.Popen(
            [sys.executable, "-m", "hookadmin", "--home", str(home), "worker", "--processes",
             str(n), *(["--event-loop", "uvloop"] if args.event_loop == "uvloop" else [])],
            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3.0)  # every engine is up and idle before the first publish
        pids = [worker.pid, *benchlib.descendant_pids(worker.pid)]  # bookkeepers too
        benchlib.log(f"engines: {n} engine processes {pids}, {args.events} events x "
                     f"{args.hooks} hooks = {expected} deliveries ...")
        db = sqlite3.connect(f"file:{home / DB_FILENAME}?mode=ro", uri=True)
        meter = benchlib.CpuMeter(nginx, extra_pids=pids)
        with meter:
            start = time.time()
            go.set()
            deadline = time.monotonic() + args.max_seconds
            finished = 0
            while finished < expected and time.monotonic() < deadline:
                time.sleep(0.02)
                finished = db.execute("SELECT count(*) FROM deliveries"
                                      " WHERE status != 'pending'").fetchone()[0]
        end, first = db.execute("SELECT max(updated_at), min(updated_at) FROM deliveries"
                                " WHERE status != 'pending'").fetchone()
        db.close()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        pub = report_r.recv() if report_r.poll(30) else {}
        child.join(10)
        counts = _db_counts(home)
    seconds = (end or time.time()) - start
    settings = engine_share(DeliverySettings(), n)  # as `worker --processes n` runs them
    out = {
        "phase": f"engines ({n} processes)", "requests": finished,
        "ok": counts.get("deliveries_succeeded", 0),
        "failed": counts.get("deliveries_failed", 0), "complete": finished >= expected,
        "concurrency": min(n * settings.max_in_flight,
                           n * args.hooks * settings.per_hook_in_flight),
        "per_hook_in_flight": settings.per_hook_in_flight,
        "seconds": round(seconds, 3), "req_per_s": round(finished / seconds, 1),
        "publish_seconds": round(pub["end"] - pub["start"], 3) if pub else None,
        "publisher_cpu_s": round(pub["cpu"], 3) if pub else None,
        "first_delivery_after_s": round(first - start, 3) if first else None,
        **meter.as_dict(finished, client_extra=pub.get("cpu", 0.0)),
        "engine_process_cpu_s": round(meter.extra_cpu, 3),
        "engine_cpu_us_per_delivery": round(meter.extra_cpu / max(1, finished) * 1e6, 1),
        "db": counts,
    }
    benchlib.log(f"engines: {out['req_per_s']} deliveries/s ({out['failed']} failed)")
    return out


def signing_cost_us(body: bytes) -> float:
    """µs per call of the delivery headers (two HMAC-SHA256 over the body)."""
    n = 20_000
    secret = "a" * 64
    seconds = timeit.timeit(
        lambda: delivery_headers(secret=secret, event_type=EVENT_TYPE,
                                 delivery_id="00000000-0000-4000-8000-000000000000",
                                 timestamp=1764400000, body=body), number=n)
    return round(seconds / n * 1e6, 2)


# -- report --------------------------------------------------------------------------------

def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    print(f"\nthroughput: {p['events']} events x {p['hooks']} hooks = {p['deliveries']} "
          f"deliveries, body {p['body_bytes']} bytes, baseline concurrency {p['concurrency']}\n")
    rows = []
    for r in result["phases"]:
        done = {True: "yes", False: "no"}.get(r.get("complete"), "")
        rows.append([r["phase"], r.get("requests"), r.get("ok"), done, r.get("concurrency"),
                     r.get("seconds"), r["req_per_s"], r.get("client_cpu_us_per_req"),
                     r.get("nginx_cpu_us_per_req"), r.get("machine_busy_cores"),
                     r.get("others_busy_cores")])
    benchlib.print_table(["phase", "requests", "2xx", "done", "conc", "seconds", "req/s",
                          "client CPU µs/req", "nginx CPU µs/req", "machine busy cores",
                          "others' cores"], rows)
    eng = next((r for r in result["phases"] if r["phase"] == "engine"), None)
    if eng:
        print(f"\nengine: publish took {eng['publish_seconds']} s (publisher CPU "
              f"{eng['publisher_cpu_s']} s), first delivery {eng['first_delivery_after_s']} s "
              f"after the first publish; engine process CPU {eng['engine_cpu_us_per_delivery']} "
              f"µs/delivery, its bookkeeping process "
              f"{eng.get('bookkeeper_cpu_us_per_delivery')} µs/delivery; keyring reads "
              f"{eng['keyring_reads']} for "
              f"{result['params']['hooks']} hooks (sum {eng.get('keyring_read_seconds_total')} s,"
              f" slowest {eng.get('keyring_read_seconds_max')} s); "
              f"failed {eng['failed']} {eng['errors'] or ''}; effective concurrency "
              f"{eng['effective_concurrency']}; database: {eng['db']}")
    for r in result["phases"]:
        if r["phase"].startswith("engines ("):
            print(f"{r['phase']}: publish took {r['publish_seconds']} s, first delivery "
                  f"{r['first_delivery_after_s']} s after the first publish; engine processes' "
                  f"CPU (bookkeeping processes included) {r['engine_cpu_us_per_delivery']} "
                  f"µs/delivery; per-hook limit {r.get('per_hook_in_flight')} per engine; "
                  f"database: {r['db']}")
    print(f"signing (delivery_headers, 2 x HMAC-SHA256): {result['signing_us']} µs per delivery")
    if result["ratios"]:
        print()
        for name, value in result["ratios"].items():
            print(f"{name:<40} {value}")
    if result.get("profile"):
        print("\n" + result["profile"]["text"])


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = set(only) - set(PHASES)
    if unknown:
        print(f"{SCRIPT}: unknown phase(s) {', '.join(sorted(unknown))}; choose from "
              f"{', '.join(PHASES)}", file=sys.stderr)
        return 2
    settings = DeliverySettings()
    effective = min(settings.max_in_flight, args.hooks * settings.per_hook_in_flight)
    if args.concurrency is None:
        args.concurrency = effective
    if args.events < 1 or args.hooks < 1 or args.batch < 1 or args.concurrency < 1:
        print(f"{SCRIPT}: --events, --hooks, --batch and --concurrency must be >= 1",
              file=sys.stderr)
        return 2
    if "engine" in only or "engines" in only:
        benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    total = args.events * args.hooks
    bodies = benchlib.job_bodies(args.events)
    phases: list[dict[str, Any]] = []
    with benchlib.Nginx() as nginx:
        urls = [nginx.url(f"/hook/{n}") for n in range(1, args.hooks + 1)]
        if "wrk" in only:
            rate = benchlib.wrk_ceiling(nginx, bodies[0], connections=args.concurrency)
            if rate is not None:
                phases.append({"phase": "wrk (nginx ceiling, C client)", "req_per_s": rate,
                               "concurrency": args.concurrency})
        if "aiohttp" in only:
            phases.append(run_baseline("aiohttp", nginx, urls, bodies, total, args.concurrency,
                                  args.max_seconds, EventLoop.parse(args.event_loop)))
        if "httpx" in only:
            phases.append(run_baseline("httpx", nginx, urls, bodies, total, args.concurrency,
                                       args.max_seconds, EventLoop.parse(args.event_loop)))
        if "engine" in only:
            phases.append(run_engine(nginx, args))
        if "engines" in only:
            phases.append(run_engines(nginx, args))
        if "aiohttp" in only and ("engine" in only or "engines" in only):
            again = run_baseline("aiohttp", nginx, urls, bodies, total, args.concurrency,
                                  args.max_seconds, EventLoop.parse(args.event_loop))
            again["phase"] = "aiohttp (again)"
            phases.append(again)
    by = {r["phase"]: r["req_per_s"] for r in phases}
    a_runs = [by[k] for k in ("aiohttp", "aiohttp (again)") if k in by]
    a = sum(a_runs) / len(a_runs) if a_runs else None
    ratios = {}
    if "engine" in by and a:
        ratios["engine / (a) aiohttp  [target >= 1.0]"] = benchlib.ratio(by["engine"], a)
    engines = next((k for k in by if k.startswith("engines (")), None)
    if engines and a:
        ratios[f"{engines} / (a) aiohttp  [target >= 1.5]"] = benchlib.ratio(by[engines], a)
    if "engine" in by and "httpx" in by:
        ratios["engine / (b) httpx"] = benchlib.ratio(by["engine"], by["httpx"])
    if "httpx" in by and a:
        ratios["(b) httpx / (a) aiohttp"] = benchlib.ratio(by["httpx"], a)
    cpu = {r["phase"]: r.get("client_cpu_us_per_req") for r in phases}
    a_cpu = [cpu[k] for k in ("aiohttp", "aiohttp (again)") if cpu.get(k)]
    if cpu.get("engine") and a_cpu:
        # Steadier on a shared machine: what the ratio would be if both were CPU-bound.
        ratios["CPU-based: (a) client CPU/req / engine CPU/req"] = benchlib.ratio(
            sum(a_cpu) / len(a_cpu), cpu["engine"])
    result: dict[str, Any] = {
        "benchmark": "throughput", "machine": info, "event_loop": args.event_loop,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "params": {"events": args.events, "hooks": args.hooks, "deliveries": total,
                   "batch": args.batch, "concurrency": args.concurrency,
                   "effective_engine_concurrency": effective,
                   "body_bytes": len(bodies[0]), "fixture": str(benchlib.JOB_FIXTURE.name)},
        "phases": phases, "ratios": ratios, "signing_us": signing_cost_us(bodies[0]),
    }
    if args.profile and "engine" in only:
        import profile_summary
        result["profile"] = profile_summary.summarize_processes_file(args.profile)
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
