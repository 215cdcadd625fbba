"""Where the engine process's CPU per delivery goes beyond bare aiohttp's: the engine with
and without its bookkeeping process, beside a bare aiohttp loop, in one run.

Run by hand from the repository root, under the test keyring (the ``engine`` phase
makes its hooks through the service, which keeps their secrets there)::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python \\
        benchmarks/engine_parts.py [--events 10000] [--rounds 3] [--count-wakeups]

Three phases against a private nginx (204), alternating over ``--rounds`` (median
reported), each ``--events`` x 8 hooks deliveries of the real ``job-completed.json``
body at 64 in flight:

* ``aiohttp``: a bare ``aiohttp.ClientSession`` loop of 64 coroutines with hookadmin's
  header set (constant values) and the engine's session settings, as
  ``throughput.py``'s (a);
* ``engine, stand-in bookkeeper``: hookadmin's :class:`~hookadmin.delivery.engine.Engine`
  in this process, signing and sending as always, with its bookkeeping process replaced
  by an in-process stand-in that hands out deliveries from memory and records nothing
  (no second process, no pipe, no SQLite): what the engine's own code costs;
* ``engine``: the same engine with its real bookkeeping process and SQLite store (the
  events published before it starts); the bookkeeping process's CPU is its own column.

CPU is per delivery (user + system, this process; the bookkeeping process apart), from
the first recorded attempt to the last. With ``--count-wakeups`` each phase runs on an
event loop that counts, per delivery, its wake-ups (``epoll`` calls), the events each
wake-up returned, tasks created, timers scheduled and callbacks queued; the counting
costs CPU itself, so compare CPU from a run without it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import selectors
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import benchlib
import engine_phase

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.delivery import engine as engine_module
from hookadmin.delivery.bookkeeping_wire import (
    FinishedWire,
    JobWire,
    Opened,
    Status,
    TurnRequest,
    TurnResult,
)
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.gc_tuning import engine_gc
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "engine_parts.py"
PHASES = ("aiohttp", "engine, stand-in bookkeeper", "engine")
HOOKS = 8
CONCURRENCY = 64


# -- counting event loop -------------------------------------------------------------------

class _CountingSelector(selectors.EpollSelector):
    """An epoll selector that counts its calls (the loop's wake-ups) and the events."""

    def __init__(self, counts: Counter[str]) -> None:
        super().__init__()
        self.counts = counts

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(timeout)
        self.counts["wake-ups"] += 1
        self.counts["events"] += len(ready)
        return ready


class _CountingLoop(asyncio.SelectorEventLoop):
    """The standard event loop, counting tasks created, timers and callbacks queued."""

    def __init__(self, counts: Counter[str]) -> None:
        super().__init__(_CountingSelector(counts))
        self.counts = counts

    def create_task(self, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        self.counts["tasks"] += 1
        return super().create_task(coro, **kwargs)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any,
                context: Any = None) -> asyncio.TimerHandle:
        self.counts["timers"] += 1
        return super().call_at(when, callback, *args, context=context)

    def call_soon(self, callback: Callable[..., object], *args: Any,
                  context: Any = None) -> asyncio.Handle:
        self.counts["callbacks"] += 1
        return super().call_soon(callback, *args, context=context)


Times = tuple[float, float, float]  # (this process's CPU, the bookkeeper's CPU, wall), seconds


def _run(coro: Coroutine[Any, Any, Times], counts: Counter[str] | None) -> Times:
    """Run ``coro`` on a fresh loop (a counting one when ``counts`` is given), with the
    collector's threshold the engine's loop runs with (``delivery/gc_tuning.py``), for
    every phase alike."""
    loop = _CountingLoop(counts) if counts is not None else asyncio.new_event_loop()
    try:
        with engine_gc():
            return loop.run_until_complete(coro)
    finally:
        loop.close()


# -- phases ------------------------------------------------------------------------------------

class _StandIn:
    """The bookkeeping process's calls, answered in this process from memory: claims
    hand out the next deliveries, records record nothing."""

    def __init__(self, hooks: dict[int, Hook], bodies: list[bytes],
                 settings: DeliverySettings) -> None:
        self.hooks, self.bodies, self.settings = hooks, bodies, settings
        self.total = len(bodies) * len(hooks)
        self.handed_out = 0

    async def open(self) -> Opened:
        return Opened("stand-in", [], self.settings, self.hooks)

    async def turn(self, request: TurnRequest, on_claimed: object = None) -> TurnResult:
        jobs: list[JobWire] = []
        if request.claim is not None:
            n = min(request.claim.room, self.total - self.handed_out)
            for i in range(self.handed_out, self.handed_out + n):
                jobs.append((i + 1, f"00000000-0000-4000-8000-{i:012d}", i % HOOKS + 1,
                             "job.completed", self.bodies[i // HOOKS], 0))
            self.handed_out += n
        await asyncio.sleep(0)  # the real one answers on a later turn of the loop
        return TurnResult([("succeeded", None)] * len(request.finished), jobs,
                          idle=request.check_idle and self.handed_out >= self.total)

    async def wind_up(self, finished: list[FinishedWire], leftover: list[int]) -> list[Status]:
        return [("succeeded", None)] * len(finished)

    async def take_logs(self) -> list[tuple[int, str]]:
        return []

    async def close(self) -> None:
        return None


@contextlib.contextmanager
def _stand_in(keeper: _StandIn) -> Iterator[None]:
    """Engines started inside the block get ``keeper`` instead of a bookkeeping process."""
    real = engine_module.BookkeepingProcess

    class Starter:
        @staticmethod
        async def start(home: object, settings: object) -> _StandIn:
            return keeper

    engine_module.BookkeepingProcess = Starter  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        engine_module.BookkeepingProcess = real  # type: ignore[misc]


async def _bare(urls: list[str], bodies: list[bytes]) -> Times:
    total = len(bodies) * len(urls)
    counter = itertools.count()
    async with benchlib.bare_session(CONCURRENCY) as s:
        async def worker() -> None:
            while (i := next(counter)) < total:
                async with s.post(urls[i % HOOKS], data=bodies[i // HOOKS],
                                  headers=engine_phase.HEADERS) as resp:
                    await resp.read()
        cpu0, t0 = benchlib.self_cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return benchlib.self_cpu_seconds() - cpu0, 0.0, time.perf_counter() - t0


async def _engine(make: Callable[[Callable[[AttemptOutcome], None]], Engine],
                  total: int) -> Times:
    """Run the engine ``make`` builds (given its ``on_attempt``) until ``total`` attempts
    are recorded: (this process's CPU, the bookkeeping process's CPU, wall seconds),
    from the first recorded attempt to the last."""
    marks: dict[str, float] = {}
    done = asyncio.Event()
    seen = itertools.count(1)

    def sample(tag: str) -> None:
        marks[tag + "cpu"] = benchlib.self_cpu_seconds()
        marks[tag + "keeper"] = sum(benchlib.proc_cpu_seconds(p)
                                    for p in benchlib.bookkeeper_pids(os.getpid()))
        marks[tag + "wall"] = time.perf_counter()

    def on_attempt(_outcome: AttemptOutcome) -> None:
        n = next(seen)
        if n == 1:
            sample("start ")
        elif n == total:
            sample("end ")
            done.set()

    engine = make(on_attempt)
    task = asyncio.create_task(engine.run_async())
    await asyncio.wait_for(done.wait(), 300)
    engine.stop()
    await task
    cpu, keeper, wall = (marks["end " + k] - marks["start " + k]
                         for k in ("cpu", "keeper", "wall"))
    return cpu, keeper, wall


def run_phase(name: str, nginx: benchlib.Nginx, bodies: list[bytes], tmp: Path,
              counts: Counter[str] | None) -> dict[str, Any]:
    """One phase: its CPU per delivery (this process, and the bookkeeping process's) and
    its rate."""
    urls = [nginx.url(f"/hook/{n}") for n in range(1, HOOKS + 1)]
    settings = DeliverySettings(retry_schedule=(0,))
    total = len(bodies) * HOOKS
    if name == "aiohttp":
        cpu, keeper, wall = _run(_bare(urls, bodies), counts)
    elif name == "engine":
        home = Path(tempfile.mkdtemp(dir=tmp))
        with HookService(home) as service:
            for n, url in enumerate(urls, 1):
                service.create_hook(url=url, events=["job"], name=f"bench {n}")
            service.set_delivery_options(retry_schedule=[0])
            engine_phase.publish_bodies(service, bodies)
        cpu, keeper, wall = _run(_engine(
            lambda report: Engine(home, settings=settings, on_attempt=report), total), counts)
        total -= 1  # timed from the first attempt's record to the last
    else:
        hooks = {n: Hook(id=n, name=f"bench {n}", url=url, events=("job",))
                 for n, url in enumerate(urls, 1)}
        with _stand_in(_StandIn(hooks, bodies, settings)):
            # A data directory that does not exist: no store, so no change feed either.
            home = Path(tempfile.mkdtemp(dir=tmp)) / "none"
            cpu, keeper, wall = _run(_engine(
                lambda report: Engine(home, settings=settings, secrets=engine_phase.OneSecret(),
                                      on_attempt=report), total), counts)
        total -= 1
    return {"cpu_us": cpu / total * 1e6, "keeper_us": keeper / total * 1e6,
            "req_per_s": total / wall,
            **({k: v / total for k, v in counts.items()} if counts is not None else {})}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000, help="events (x 8 hooks)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds; median")
    p.add_argument("--count-wakeups", action="store_true",
                   help="count loop wake-ups, tasks, timers and callbacks per delivery")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE")
    args = p.parse_args()
    if args.events < 1 or args.rounds < 1:
        print(f"{SCRIPT}: --events and --rounds must be >= 1", file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    bodies = benchlib.job_bodies(args.events)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PHASES}
    with benchlib.Nginx() as nginx, tempfile.TemporaryDirectory(prefix="hookadmin-bench-") as tmp:
        for r in range(args.rounds):
            for name in PHASES:
                counts: Counter[str] | None = Counter() if args.count_wakeups else None
                runs[name].append(run_phase(name, nginx, bodies, Path(tmp), counts))
                benchlib.log(f"round {r + 1} {name}: {runs[name][-1]['cpu_us']:.1f} µs CPU "
                             f"per delivery, load {os.getloadavg()[0]:.2f}")
    keys = list(runs["aiohttp"][0])
    phases = [{"phase": name, **{k: round(statistics.median(x[k] for x in runs[name]), 3)
                                 for k in keys}} for name in PHASES]
    result = {"benchmark": "engine_parts", "machine": info,
              "command": " ".join(["python", *sys.argv]),
              "params": {"events": args.events, "hooks": HOOKS, "rounds": args.rounds},
              "phases": phases, "runs": runs}

    def human(res: dict[str, Any]) -> None:
        benchlib.print_machine(res["machine"], res)
        base = res["phases"][0]["cpu_us"]
        benchlib.print_table(["phase (median)", *keys, "CPU / aiohttp"],
                             [[x["phase"], *(x[k] for k in keys),
                               round(x["cpu_us"] / base, 3)] for x in res["phases"]])

    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
