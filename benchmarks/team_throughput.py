"""Team mode throughput: engines on PostgreSQL vs one engine on SQLite vs bare aiohttp,
and kill -9 of one of two workers on PostgreSQL.

Run by hand from the repository root, under the test keyring and the throw-away
PostgreSQL cluster (it creates a database of its own per phase there)::

    dbus-run-session -- scripts/with-test-keyring.sh scripts/with-test-postgres.sh \\
        .venv/bin/python benchmarks/team_throughput.py [--events 2500] [--hooks 8] \\
        [--process] [--kill 10000]

Needs nginx (``apt-get install -y nginx-light``). One run, one nginx (``return 204``),
phases side by side:

* **aiohttp**: a bare ``aiohttp.ClientSession`` sending events x hooks POSTs at the
  engine's ``max_in_flight`` (64; run first and last; the ratios use the mean).

The per-hook limit of requests in flight (8) holds for all engines on a team database
together, so with 4 hooks a whole team has at most 32 requests in flight, half the
aiohttp loop's 64: that caps the engines, not the database. The default of 8 hooks
lets the engines have as many in flight as the loop (8 x 8 = 64); ``--hooks 4`` shows
the capped case.
* **sqlite-1**: one engine (:class:`~hookadmin.delivery.engine.Engine` with its
  bookkeeping process) on SQLite.
* **pg-1**, **pg-2**: one and two engines on PostgreSQL, each in a process of its own
  (what two ``hookadmin worker`` processes on two machines are), each with the whole
  per-hook limit: the database holds it across both.
* **pg-1-process**, **pg-2-process** (``--process``): the same with each engine's
  bookkeeping in a child process, as on SQLite, instead of the thread
  (:class:`~hookadmin.delivery.bookkeeping_thread.BookkeepingThread`) an engine uses for
  a team database: does the child process pay off with a server database?

Every engine phase: the engines start and go idle, then the events are published in
batches of 1,000 (``HookService.publish_many``) and the clock runs until every delivery
is recorded. CPU per delivery: the engines' processes and their bookkeepers
(``getrusage``), and the PostgreSQL server's backends (from ``/proc``), separately.

``--kill N``: N deliveries (N events to one hook) to the tests' Python receiver
(``tests/receiver.py``, which logs each ``X-Hook-Delivery``) by two engines on
PostgreSQL; one is killed with SIGKILL after a third have arrived. Counts lost
deliveries (not succeeded in the database, or never received) and checks that every
duplicate request carries an id the database has (same delivery, same id).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import benchlib
import psycopg
from psycopg import sql
from throughput import run_baseline

from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation, init_team_store
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "team_throughput.py"
URL_ENV = "HOOKADMIN_TEST_POSTGRES_URL"
REPO = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=2500, help="events (default 2500)")
    p.add_argument("--hooks", type=int, default=8,
                   help="hooks per event (default 8: with each hook's limit of 8 requests "
                        "in flight, shared by every engine, the team may have 64 in flight, "
                        "as many as the aiohttp loop)")
    p.add_argument("--process", action="store_true",
                   help="also run the PostgreSQL engines with their bookkeeping in a child "
                        "process (as on SQLite) instead of on a thread")
    p.add_argument("--kill", type=int, default=0, metavar="N",
                   help="also run the kill -9 phase with N deliveries (e.g. 10000)")
    p.add_argument("--only-kill", action="store_true", help="run only the kill -9 phase")
    p.add_argument("--max-seconds", type=float, default=180.0)
    p.add_argument("--json", metavar="FILE", help="write the results there as JSON too")
    return p.parse_args()


# -- stores ------------------------------------------------------------------------------

class TeamDatabase:
    """A new database on the test cluster, set up with hookadmin's schema and a team key
    in this machine's keyring; dropped at the end."""

    def __init__(self) -> None:
        cluster = os.environ.get(URL_ENV)
        if not cluster:
            sys.exit(f"{SCRIPT}: {URL_ENV} is not set; run it inside "
                     "scripts/with-test-postgres.sh.")
        self.cluster = cluster
        self.name = f"hookadmin_bench_{uuid.uuid4().hex[:12]}"
        self.url = cluster.rsplit("/", 1)[0] + "/" + self.name

    def __enter__(self) -> TeamDatabase:
        from hookadmin.core.team.key import create_team_key

        with psycopg.connect(self.cluster, autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        store = init_team_store(StoreLocation(Path("/nonexistent"), self.url))
        self.database_id = store.store_id
        store.close()
        create_team_key(self.database_id)
        return self

    def __exit__(self, *exc: object) -> None:
        import keyring

        from hookadmin.core.secrets import SERVICE_NAME
        from hookadmin.core.team.key import keyring_entry_name

        keyring.delete_password(SERVICE_NAME, keyring_entry_name(self.database_id))
        with psycopg.connect(self.cluster, autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.name)))

    def server_cpu_seconds(self) -> float:
        """CPU of the cluster so far: the postmaster and its live children, plus what
        its ended children used (the postmaster's cutime/cstime)."""
        with psycopg.connect(self.cluster, autocommit=True) as db:
            row = db.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            postmaster = _ppid(int(row[0]))  # while that backend lives
        total = _cpu(postmaster, children=True)
        return total + sum(benchlib.proc_cpu_seconds(p)
                           for p in benchlib.child_pids(postmaster))


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _ppid(pid: int) -> int:
    return int(_stat(pid)[1])


def _cpu(pid: int, *, children: bool) -> float:
    f = _stat(pid)
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


# -- engines in processes of their own -----------------------------------------------------

def _engine_process(location: StoreLocation, inline: bool, ready: Connection, stop: MpEvent,
                    attempts: Any, report: Connection, retries: tuple[float, ...]) -> None:
    """Child: run one engine until ``stop``; count attempts into ``attempts``; report
    the CPU it and its bookkeeper used."""
    benchlib.exit_on_sigterm()
    settings = DeliverySettings(retry_schedule=retries)

    def on_attempt(outcome: AttemptOutcome) -> None:
        attempts.value += 1  # this process's own counter: no lock a kill -9 could keep

    engine = Engine(location, settings=settings, on_attempt=on_attempt)
    engine.inline_bookkeeping = inline
    threading.Thread(target=lambda: (stop.wait(), engine.stop()), daemon=True).start()
    ready.send(True)
    engine.run()
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    report.send({"engine": own.ru_utime + own.ru_stime,
                 "bookkeeper": kids.ru_utime + kids.ru_stime})


class Engines:
    """N engine processes on one store, started idle."""

    def __init__(self, location: StoreLocation, count: int, *, inline: bool = True,
                 retries: tuple[float, ...] = (0,)) -> None:
        ctx = multiprocessing.get_context("spawn")
        # One stop event each: a process killed while waiting on a shared one would
        # leave its set() waiting for that process forever.
        self.stops: list[MpEvent] = []
        self.counters: list[Any] = []
        self.reports: list[Connection] = []
        self.procs = []
        for _ in range(count):
            self.counters.append(ctx.Value("q", 0, lock=False))
            self.stops.append(ctx.Event())
            ready_r, ready_w = ctx.Pipe(duplex=False)
            report_r, report_w = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_engine_process, daemon=True,
                               args=(location, inline, ready_w, self.stops[-1],
                                     self.counters[-1], report_w, retries))
            proc.start()
            if not ready_r.poll(60):
                raise RuntimeError("an engine process did not start")
            ready_r.recv()
            self.reports.append(report_r)
            self.procs.append(proc)
        time.sleep(1.0)  # their bookkeepers open the store; the engines go idle

    @property
    def attempts(self) -> int:
        return sum(int(c.value) for c in self.counters)

    def wait_for(self, total: int, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self.attempts >= total:
                return True
            time.sleep(0.01)
        return False

    def finish(self) -> dict[str, float]:
        for proc, stop in zip(self.procs, self.stops, strict=True):
            if proc.is_alive():
                stop.set()
        cpu = {"engine": 0.0, "bookkeeper": 0.0}
        for proc, report in zip(self.procs, self.reports, strict=True):
            if proc.is_alive() and report.poll(30):
                for key, value in report.recv().items():
                    cpu[key] += value
            proc.join(10)
        return cpu


def _publish(location: StoreLocation, bodies: list[bytes]) -> None:
    with HookService(location) as service:
        for start in range(0, len(bodies), 1000):
            service.publish_many([("job.completed", b) for b in bodies[start:start + 1000]])


def _hooks(location: StoreLocation, urls: list[str]) -> None:
    with HookService(location) as service:
        for n, url in enumerate(urls, 1):
            service.create_hook(url=url, events=["job"], name=f"bench {n}")


def run_engines(name: str, location: StoreLocation, count: int, urls: list[str],
                bodies: list[bytes], args: argparse.Namespace,
                team: TeamDatabase | None, *, inline: bool = True) -> dict[str, Any]:
    total = len(bodies) * len(urls)
    _hooks(location, urls)
    engines = Engines(location, count, inline=inline)
    benchlib.log(f"{name}: {total} deliveries by {count} engine(s) ...")
    server_before = team.server_cpu_seconds() if team else 0.0
    started = time.perf_counter()
    _publish(location, bodies)
    done = engines.wait_for(total, time.monotonic() + args.max_seconds)
    seconds = time.perf_counter() - started
    server = (team.server_cpu_seconds() - server_before) if team else 0.0
    cpu = engines.finish()
    made = engines.attempts
    out = {"phase": name, "engines": count, "requests": made, "complete": done,
           "seconds": round(seconds, 3), "req_per_s": round(made / seconds, 1),
           "engine_cpu_us_per_delivery": round(cpu["engine"] / max(made, 1) * 1e6, 1),
           "bookkeeper_cpu_us_per_delivery": round(cpu["bookkeeper"] / max(made, 1) * 1e6, 1),
           "postgres_cpu_us_per_delivery": round(server / max(made, 1) * 1e6, 1)}
    benchlib.log(f"{name}: {out['req_per_s']} deliveries/s")
    return out


# -- kill -9 -------------------------------------------------------------------------------

def run_kill(total: int, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from tests.receiver import Receiver

    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-") as tmp, \
            TeamDatabase() as team:
        receiver = Receiver(Path(tmp) / "receiver").start()
        try:
            location = StoreLocation(Path(tmp) / "home", team.url)
            _hooks(location, [receiver.url])
            # Retried at once, then every second: a refused connection under load is
            # not a lost delivery.
            engines = Engines(location, 2, retries=(0, 1, 1, 1, 1, 1))
            benchlib.log(f"kill: {total} deliveries by 2 engines; SIGKILL to one after "
                         f"{total // 3} ...")
            started = time.perf_counter()
            _publish(location, benchlib.job_bodies(total))
            receiver.wait_for_requests(total // 3, timeout=args.max_seconds)
            engines.procs[0].kill()
            benchlib.log("kill: one engine killed")
            deadline = time.monotonic() + args.max_seconds
            with psycopg.connect(team.url, autocommit=True) as db:
                while time.monotonic() < deadline:
                    row = db.execute("SELECT count(*) FROM deliveries WHERE status <> "
                                     "'pending'").fetchone()
                    if row is not None and row[0] >= total:
                        break
                    time.sleep(0.2)
                seconds = time.perf_counter() - started
                stored = {str(i): str(s) for i, s in db.execute(
                    "SELECT id, status FROM deliveries").fetchall()}
            engines.finish()
            requests = receiver.requests()
        finally:
            receiver.stop()
    ids = Counter(r.header("X-Hook-Delivery") for r in requests)
    lost = [i for i, s in stored.items() if s != "succeeded" or i not in ids]
    duplicates = sum(n - 1 for n in ids.values())
    foreign = [i for i in ids if i not in stored]
    out = {"phase": "kill-9", "deliveries": total, "stored": len(stored),
           "received": len(requests), "lost": len(lost), "duplicates": duplicates,
           "duplicates_with_unknown_id": len(foreign),
           "not_succeeded": sum(1 for s in stored.values() if s != "succeeded"),
           "seconds": round(seconds, 1)}
    benchlib.log(f"kill: {out}")
    return out


# -- main ----------------------------------------------------------------------------------

def main() -> int:
    args = parse_args()
    benchlib.require_keyring(SCRIPT)
    results: list[dict[str, Any]] = []
    if not args.only_kill:
        bodies = benchlib.job_bodies(args.events)
        total = args.events * args.hooks
        concurrency = DeliverySettings().max_in_flight
        with benchlib.Nginx() as nginx, tempfile.TemporaryDirectory(
                prefix="hookadmin-bench-") as tmp:
            urls = [nginx.url(f"/hook/{n}") for n in range(1, args.hooks + 1)]
            results.append(run_baseline("aiohttp", nginx, urls, bodies, total, concurrency,
                                        args.max_seconds))
            results.append(run_engines("sqlite-1", StoreLocation(Path(tmp) / "sqlite"), 1,
                                       urls, bodies, args, None))
            phases = [("pg-1", 1, True), ("pg-2", 2, True)]
            if args.process:
                phases += [("pg-1-process", 1, False), ("pg-2-process", 2, False)]
            for name, count, inline in phases:
                with TeamDatabase() as team:
                    location = StoreLocation(Path(tmp) / name, team.url)
                    results.append(run_engines(name, location, count, urls, bodies, args,
                                               team, inline=inline))
            results.append(run_baseline("aiohttp", nginx, urls, bodies, total, concurrency,
                                        args.max_seconds))
        base = [r["req_per_s"] for r in results if r["phase"] == "aiohttp"]
        mean = sum(base) / len(base)
        for r in results:
            r["x_aiohttp"] = round(r["req_per_s"] / mean, 2)
    if args.kill or args.only_kill:
        results.append(run_kill(args.kill or 10_000, args))
    info = benchlib.machine_info()
    benchlib.print_machine(info)
    rows = [[r["phase"], r.get("requests", r.get("deliveries")), r.get("req_per_s", ""),
             r.get("x_aiohttp", ""), r.get("client_cpu_us_per_req",
                                           r.get("engine_cpu_us_per_delivery", "")),
             r.get("bookkeeper_cpu_us_per_delivery", ""),
             r.get("postgres_cpu_us_per_delivery", "")] for r in results]
    benchlib.print_table(["phase", "requests", "req/s", "x aiohttp", "client/engine us/req",
                          "bookkeeper us/req", "postgres us/req"], rows)
    for r in results:
        if r["phase"] == "kill-9":
            print(f"kill -9: {r}")
    if args.json:
        import json

        Path(args.json).write_text(json.dumps({"machine": info, "git": benchlib.git_state(),
                                               "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
