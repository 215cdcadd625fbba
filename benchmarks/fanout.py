"""Fan-out: one event to 1,000 and to 5,000 hooks, publish → all deliveries recorded
succeeded.

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/fanout.py
    ... benchmarks/fanout.py --hooks 200     # a quick run
    ... benchmarks/fanout.py --hooks 1000    # 1,000 hooks only

``--hooks`` takes one or more sizes (default ``1000,5000``): one data directory grows
from one size to the next (only the new hooks are created), and each size is measured
with an engine started afresh.

Set-up (not timed): ``--hooks`` hooks subscribed to ``job``, all at our nginx
(``return 204``) on different paths (``/hook/1`` ... ``/hook/N``); each gets its own
secret in the keyring, as ``HookService.create_hook`` does.

hookadmin's Engine runs in this process with default settings and is idle when the
real ``job-completed.json`` event is published (``HookService.publish``). Timed from
the publish call until the engine has recorded every one of the N deliveries.

``--rounds`` events are sent one after the other (default 2): round 1 is **cold**
(the engine started 1 s before the publish and holds no connection; its start-up read
of every active hook's secret, one bulk keyring read, may still be running: the
"slowest read" column says how long it took), round 2 **warm** (secrets cached for as
long as the engine runs, connections open). Target (issue): < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import benchlib

from hookadmin.core.service import HookService
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.delivery.policy import DeliverySettings

SCRIPT = "fanout.py"
EVENT_TYPE = "job.completed"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="One event to many hooks: publish → every delivery recorded "
                    "(run under: dbus-run-session -- scripts/with-test-keyring.sh "
                    ".venv/bin/python benchmarks/fanout.py).")
    p.add_argument("--hooks", type=sizes, default=[1000, 5000],
                   help="hook counts, growing, comma-separated (default 1000,5000)")
    p.add_argument("--rounds", type=int, default=2,
                   help="events sent one after another; round 1 is cold (default 2)")
    p.add_argument("--timeout", type=float, default=180.0,
                   help="give up on a round after this many seconds (default 180)")
    p.add_argument("--tmpdir", help="where the data directory goes (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


def sizes(text: str) -> list[int]:
    """``1000,5000`` → [1000, 5000] (growing, each at least 1)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of hook counts") from None
    if not values or min(values) < 1 or values != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"{text!r}: give growing hook counts, e.g. 1000,5000")
    return values


def run(args: argparse.Namespace, nginx: benchlib.Nginx) -> list[dict[str, Any]]:
    stages = []
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = Path(tmp) / "home"
        service = HookService(home)
        made = 0
        for hooks in args.hooks:
            benchlib.log(f"creating hooks {made + 1} to {hooks} (one keyring write each) ...")
            t = time.perf_counter()
            for n in range(made + 1, hooks + 1):
                service.create_hook(url=nginx.url(f"/hook/{n}"), events=["job"],
                                    name=f"fan {n}")
            setup_seconds = time.perf_counter() - t
            made = hooks
            benchlib.log(f"created in {setup_seconds:.1f} s")
            stages.append({"hooks": hooks, "setup_seconds": round(setup_seconds, 1),
                           "rounds": run_stage(args, nginx, service, home, hooks)})
        service.close()
    return stages


def run_stage(args: argparse.Namespace, nginx: benchlib.Nginx, service: HookService,
              home: Path, hooks: int) -> list[dict[str, Any]]:
    """Rounds of one event to every hook, with an engine started for them."""
    bodies = benchlib.job_bodies(args.rounds)
    secrets, keyring_counter = benchlib.counting_secret_store(home)
    daemons = benchlib.keyring_daemon_pids()
    counts: Counter[str] = Counter()
    times: list[float] = []
    round_done = asyncio.Event()
    want = {"n": hooks}

    def on_attempt(o: AttemptOutcome) -> None:
        counts[o.status] += 1
        if o.error_kind:
            counts["error: " + o.error_kind] += 1
        if o.status != "pending":
            times.append(time.perf_counter())
        if counts["succeeded"] + counts["failed"] >= want["n"]:
            round_done.set()

    engine = Engine(home, settings=DeliverySettings(), secrets=secrets,
                    on_attempt=on_attempt)

    async def main() -> list[dict[str, Any]]:
        task = asyncio.create_task(engine.run_async())
        await asyncio.sleep(1.0)  # the engine is up and idle
        rounds = []
        for r in range(args.rounds):
            round_done.clear()
            want["n"] = hooks * (r + 1)
            before = len(times)
            reads0 = keyring_counter.reads
            keyring_counter.slowest = 0.0
            daemon_cpu0 = sum(benchlib.proc_cpu_seconds(p) for p in daemons)
            ok0, failed0 = counts["succeeded"], counts["failed"]
            meter = benchlib.CpuMeter(nginx, bookkeepers=True)
            with meter:
                t0 = time.perf_counter()
                service.publish(EVENT_TYPE, bodies[r])
                published = time.perf_counter()
                try:
                    await asyncio.wait_for(round_done.wait(), args.timeout)
                except TimeoutError:
                    benchlib.log(f"round {r + 1}: timed out after {args.timeout:g} s")
            mine = sorted(times[before:])
            n = len(mine)
            rounds.append({
                "round": "cold" if r == 0 else f"warm {r}",
                "recorded": n,
                "succeeded": counts["succeeded"] - ok0,
                "failed": counts["failed"] - failed0,
                "errors": {k: v for k, v in counts.items() if k.startswith("error: ")},
                "publish_call_ms": round((published - t0) * 1e3, 2),
                "first_s": round(mine[0] - t0, 3) if n else None,
                "half_s": round(mine[n // 2] - t0, 3) if n else None,
                "all_s": round(mine[-1] - t0, 3) if n == hooks else None,
                "deliveries_per_s": round(n / (mine[-1] - t0), 1) if n else None,
                "keyring_reads": keyring_counter.reads - reads0,
                "keyring_slowest_read_s": round(keyring_counter.slowest, 3),
                "keyring_daemon_cpu_s": round(sum(benchlib.proc_cpu_seconds(p)
                                                  for p in daemons) - daemon_cpu0, 2),
                **meter.as_dict(hooks)})
            benchlib.log(f"round {r + 1}: {rounds[-1]['all_s']} s for {n} deliveries")
            await asyncio.sleep(0.2)
        engine.stop()
        await task
        return rounds

    rounds = asyncio.run(main())
    secrets.close()
    return rounds


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    for stage in result["stages"]:
        hooks = stage["hooks"]
        print(f"\nfan-out: 1 event to {hooks} hooks (all at nginx, different paths), engine "
              f"defaults; hook set-up {stage['setup_seconds']} s (not timed)\n")
        rows = [[r["round"], r["recorded"], r["succeeded"], r["publish_call_ms"], r["first_s"],
                 r["half_s"], r["all_s"], r["deliveries_per_s"], r["keyring_reads"],
                 r.get("keyring_slowest_read_s"), r.get("keyring_daemon_cpu_s"),
                 r["client_cpu_us_per_req"], r["others_busy_cores"]] for r in stage["rounds"]]
        benchlib.print_table(["round", "recorded", "succeeded", "publish ms", "first s",
                              "50% s", "all s", "deliveries/s", "keyring reads",
                              "slowest read s", "keyring daemon CPU s",
                              "engine CPU µs/delivery", "others' cores"], rows)
        cold = stage["rounds"][0]["all_s"]
        print(f"\ncold: all {hooks} recorded in {cold} s  [target < 2 s: "
              f"{'met' if cold is not None and cold < 2 else 'NOT met'}]")


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.rounds < 1:
        print(f"{SCRIPT}: --rounds must be >= 1", file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    with benchlib.Nginx() as nginx:
        stages = run(args, nginx)
    result = {"benchmark": "fanout", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"hooks": args.hooks, "rounds": args.rounds}, "stages": stages}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
