"""CPU per delivery of the bookkeeping process's database work, without HTTP.

Run by hand from the repository root, under the test keyring (hooks are made through
the service, which keeps their secrets there)::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python \\
        benchmarks/bookkeeping_turns.py [--events 10000] [--hooks 8] [--rounds 3]

What is measured: ``--events`` events (the real ``job-completed.json`` body, each with
its own job id) are published to ``--hooks`` hooks, then hookadmin's
:class:`~hookadmin.delivery.bookkeeping.Bookkeeper` (in this process, on a durable
SQLite file in a temporary data directory) runs turns as the engine asks for them:
each turn records the attempts of the deliveries the turn before claimed (each a 204
with the header set an engine sends and nginx's answer headers) and claims up to
``--room`` (64, the engine's ``max_in_flight``) more, until every delivery is recorded.
Only :meth:`Bookkeeper.turn` is timed, in CPU seconds of this process (user + system),
with the request and its reply each pickled and unpickled as on the pipe between the
engine and its bookkeeping process. Each round uses a fresh data directory; the median
of ``--rounds`` is reported. The figure is what the throughput benchmark's "bookkeeping
process" column measures, without the engine and nginx beside it: on a shared machine it
is the steadier one to compare two versions of the store by.
"""

from __future__ import annotations

import argparse
import pickle
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from hookadmin.delivery.bookkeeping import Bookkeeper
from hookadmin.delivery.bookkeeping_wire import (
    ClaimRequest,
    FinishedWire,
    JobWire,
    TurnRequest,
    TurnResult,
)
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "bookkeeping_turns.py"
EVENT_TYPE = "job.completed"
REQUEST_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "hookadmin/0.1.0",
    "X-Hook-Event": EVENT_TYPE,
    "X-Hook-Delivery": "00000000-0000-4000-8000-000000000000",
    "X-Hook-Signature": "0" * 64,
    "webhook-id": "00000000-0000-4000-8000-000000000000",
    "webhook-timestamp": "1764400000",
    "webhook-signature": "v1," + "A" * 43 + "=",
}
RESPONSE_HEADERS = [("Server", "nginx/1.22.1"), ("Date", "Sat, 05 Dec 2026 13:00:00 GMT"),
                    ("Connection", "keep-alive")]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="CPU per delivery of the bookkeeper's turns "
                                            "(record, fan out, claim) on SQLite, no HTTP.")
    p.add_argument("--events", type=int, default=10_000, help="events (default 10000)")
    p.add_argument("--hooks", type=int, default=8, help="hooks per event (default 8)")
    p.add_argument("--room", type=int, default=DeliverySettings().max_in_flight,
                   help="deliveries claimed per turn at most (default: max_in_flight)")
    p.add_argument("--rounds", type=int, default=3, help="fresh runs; median (default 3)")
    p.add_argument("--drop-index", action="append", default=[], metavar="NAME",
                   help="drop this index before the turns (repeatable): what one index "
                        "costs, measured side by side with a run that keeps it")
    p.add_argument("--tmpdir", help="where the data directories go (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print JSON (or write it to FILE and print the table too)")
    return p.parse_args()


def finished_of(job: JobWire, now: float) -> FinishedWire:
    """A 204 answered in 1 ms for a claimed delivery, as the engine reports it."""
    url = f"http://127.0.0.1:8080/hook/{job[2]}"
    return (job[0], job[2], job[5], now, 1.0, url, dict(REQUEST_HEADERS), 204,
            list(RESPONSE_HEADERS), b"", False, None, None, None)


def _wire(request: TurnRequest) -> TurnRequest:
    return pickle.loads(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))


def one_round(args: argparse.Namespace) -> dict[str, Any]:
    """One fresh data directory, published, then turns until all is recorded."""
    total = args.events * args.hooks
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = Path(tmp) / "home"
        bodies = benchlib.job_bodies(args.events)
        with HookService(home) as service:
            for n in range(1, args.hooks + 1):
                service.create_hook(url=f"http://127.0.0.1:8080/hook/{n}", events=["job"],
                                    name=f"bench {n}")
            service.set_delivery_options(retry_schedule=[0])
            for i in range(0, len(bodies), 1000):
                service.publish_many([(EVENT_TYPE, b) for b in bodies[i:i + 1000]])
        if args.drop_index:
            db = sqlite3.connect(home / DB_FILENAME)
            for name in args.drop_index:
                db.execute(f"DROP INDEX {name}")  # a name given on the command line
            db.close()
        keeper = Bookkeeper(home, DeliverySettings(retry_schedule=(0,)))
        keeper.open()
        recorded = turns = 0
        finished: list[FinishedWire] = []
        cpu = 0.0
        wall0 = time.perf_counter()
        while recorded < total:
            request = TurnRequest(finished, None, [],
                                  ClaimRequest(args.room, {}, running_low=True), False)
            t0 = time.process_time()
            result = keeper.answer(_wire(request))
            result = pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            cpu += time.process_time() - t0
            assert isinstance(result, TurnResult), result
            recorded += len(result.statuses)
            turns += 1
            now = time.time()
            finished = [finished_of(job, now) for job in result.jobs]
            if not finished and recorded < total and turns > 10 * total:
                raise RuntimeError("the bookkeeper stopped claiming")
        wall = time.perf_counter() - wall0
        keeper.close()
        size = (home / DB_FILENAME).stat().st_size
    return {"deliveries": total, "turns": turns, "cpu_s": round(cpu, 3),
            "cpu_us_per_delivery": round(cpu / total * 1e6, 1), "wall_s": round(wall, 3),
            "db_bytes": size}


def main() -> int:
    args = parse_args()
    if min(args.events, args.hooks, args.room, args.rounds) < 1:
        print(f"{SCRIPT}: --events, --hooks, --room and --rounds must be >= 1",
              file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    rounds = []
    for n in range(args.rounds):
        benchlib.log(f"round {n + 1}: {args.events} events x {args.hooks} hooks ...")
        rounds.append(one_round(args))
        benchlib.log(f"round {n + 1}: {rounds[-1]['cpu_us_per_delivery']} µs CPU per delivery")
    median = statistics.median(r["cpu_us_per_delivery"] for r in rounds)
    result = {"benchmark": "bookkeeping_turns", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"events": args.events, "hooks": args.hooks, "room": args.room,
                         "dropped_indexes": args.drop_index},
              "rounds": rounds, "median_cpu_us_per_delivery": median}

    def human(r: dict[str, Any]) -> None:
        benchlib.print_machine(r["machine"], r)
        benchlib.print_table(["round", "deliveries", "turns", "CPU s", "CPU µs/delivery",
                              "wall s", "database bytes"],
                             [[i + 1, x["deliveries"], x["turns"], x["cpu_s"],
                               x["cpu_us_per_delivery"], x["wall_s"], x["db_bytes"]]
                              for i, x in enumerate(r["rounds"])])
        dropped = ", ".join(r["params"]["dropped_indexes"]) or "none"
        print(f"\nindexes dropped: {dropped}; median: {r['median_cpu_us_per_delivery']} µs "
              "CPU per delivery")

    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
