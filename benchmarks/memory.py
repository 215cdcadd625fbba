"""Memory: peak RSS of `hookadmin worker` with a large backlog queued.

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/memory.py
    ... benchmarks/memory.py --events 100000       # a quicker run
    ... benchmarks/memory.py --inactive            # hooks inactive: nothing is sent

Set-up: ``--hooks`` hooks (default 1) subscribed to ``job``, **active and pointing at
our nginx** (``return 204``) unless ``--inactive``. ``--events`` events (default
1,000,000; the real ``job-completed.json`` body, distinct ids) are queued with
``HookService.publish_many`` in batches of ``--batch`` before the worker starts.

Then ``hookadmin worker`` runs in its own process for ``--seconds`` (default 240) or
until it has delivered everything. ``VmRSS`` (/proc/PID/status) of the worker and of
its engine's bookkeeping process are summed every 0.2 s; the peak is the sum of each
process's ``VmHWM`` (an upper bound of the two together). The worker's own
``ru_maxrss`` is read from ``wait4`` when it exits. The
backlog's fan-out and delivery progress are read from the database every 2 s.
Target (issue): peak RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME

SCRIPT = "memory.py"
EVENT_TYPE = "job.completed"
MB = 1024 * 1024


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Peak RSS of `hookadmin worker` with a large queued backlog "
                    "(run under: dbus-run-session -- scripts/with-test-keyring.sh "
                    ".venv/bin/python benchmarks/memory.py).")
    p.add_argument("--events", type=int, default=1_000_000,
                   help="events queued before the worker starts (default 1000000)")
    p.add_argument("--batch", type=int, default=10_000,
                   help="events per publish_many call (default 10000)")
    p.add_argument("--hooks", type=int, default=1, help="hooks subscribed (default 1)")
    p.add_argument("--inactive", action="store_true",
                   help="make the hooks inactive (the worker fans out to nobody, sends nothing)")
    p.add_argument("--seconds", type=float, default=240.0,
                   help="how long the worker runs at most (default 240)")
    p.add_argument("--tmpdir", help="where the data directory goes (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


def _progress(db_path: Path) -> tuple[int, int, int]:
    """(events not fanned out, deliveries, deliveries finished)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        waiting = db.execute("SELECT count(*) FROM events WHERE fanned_out = 0").fetchone()[0]
        total = db.execute("SELECT max(seq) FROM deliveries").fetchone()[0] or 0
        done = db.execute("SELECT count(*) FROM deliveries WHERE status != 'pending'"
                          ).fetchone()[0]
    return int(waiting), int(total), int(done)


def run(args: argparse.Namespace, nginx: benchlib.Nginx) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = Path(tmp) / "home"
        db_path = home / DB_FILENAME
        with HookService(home) as service:
            for n in range(1, args.hooks + 1):
                service.create_hook(url=nginx.url(f"/hook/{n}"), events=["job"],
                                    name=f"memory {n}", active=not args.inactive)
            benchlib.log(f"publishing {args.events} events in batches of {args.batch} ...")
            t = time.perf_counter()
            for start in range(0, args.events, args.batch):
                chunk = benchlib.job_bodies(min(args.batch, args.events - start),
                                            first_id=10_000_000 + start)
                service.publish_many([(EVENT_TYPE, b) for b in chunk])
            publish_seconds = time.perf_counter() - t
        db_bytes = sum(p.stat().st_size for p in home.iterdir() if p.name.startswith(DB_FILENAME))
        benchlib.log(f"published in {publish_seconds:.1f} s ({args.events / publish_seconds:.0f}"
                     f"/s), database {db_bytes / MB:.0f} MB")

        worker = benchlib.start_worker(home, Path(tmp) / "worker.log")
        samples: list[tuple[float, int, int]] = []  # (t, rss kB, hwm kB)
        peaks: dict[int, int] = {}  # pid -> its VmHWM (kB)
        progress: list[dict[str, Any]] = []
        t0 = time.perf_counter()
        next_progress = 0.0
        fanned_out_at: float | None = None
        exit_status: int | None = None
        rusage = None
        while True:
            now = time.perf_counter() - t0
            # The worker and its engine's bookkeeping process, together.
            pids = [worker.pid, *benchlib.descendant_pids(worker.pid)]
            sizes = [benchlib.proc_status_kb(pid, "VmRSS") for pid in pids]
            for pid in pids:
                peak = benchlib.proc_status_kb(pid, "VmHWM")
                if peak is not None:
                    peaks[pid] = max(peaks.get(pid, 0), peak)
            rss = sum(size for size in sizes if size is not None) if sizes[0] is not None \
                else None
            hwm = sum(peaks.values())
            if rss is not None:
                samples.append((now, rss, hwm))
            if now >= next_progress:
                next_progress = now + 2.0
                waiting, total, done = _progress(db_path)
                progress.append({"t_s": round(now, 1), "rss_mb": round((rss or 0) / 1024, 1),
                                 "events_waiting": waiting, "deliveries": total,
                                 "finished": done})
                if waiting == 0 and fanned_out_at is None:
                    fanned_out_at = now
                if waiting == 0 and total and done >= total:
                    break
            if worker.poll() is not None or now >= args.seconds:
                break
            time.sleep(0.2)
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
        _, exit_status, rusage = os.wait4(worker.pid, 0)
        worker.returncode = os.waitstatus_to_exitcode(exit_status)
        ran = time.perf_counter() - t0
        waiting, total, done = _progress(db_path)
        progress.append({"t_s": round(ran, 1), "rss_mb": None, "events_waiting": waiting,
                         "deliveries": total, "finished": done})
    peak_hwm = max((s[2] for s in samples), default=0)
    first = samples[0] if samples else (0.0, 0, 0)
    return {
        "publish_seconds": round(publish_seconds, 1),
        "publish_events_per_s": round(args.events / publish_seconds),
        "database_mb": round(db_bytes / MB),
        "worker_seconds": round(ran, 1),
        "worker_exit_code": worker.returncode,
        "peak_rss_mb_vmhwm": round(peak_hwm / 1024, 1),
        "peak_rss_mb_ru_maxrss": round(rusage.ru_maxrss / 1024, 1) if rusage else None,
        "first_sample_rss_mb": round(first[1] / 1024, 1),
        "last_sample_rss_mb": round(samples[-1][1] / 1024, 1) if samples else None,
        "fan_out_done_after_s": round(fanned_out_at, 1) if fanned_out_at is not None else None,
        "deliveries_created": total, "deliveries_finished": done,
        "progress": progress,
    }


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    state = "inactive" if p["inactive"] else "active, at nginx (return 204)"
    print(f"\nmemory: {p['events']} events queued (publish_many x {p['batch']}: "
          f"{result['publish_seconds']} s, {result['publish_events_per_s']}/s; database "
          f"{result['database_mb']} MB), {p['hooks']} hook(s) {state}; `hookadmin worker` ran "
          f"{result['worker_seconds']} s (exit {result['worker_exit_code']})\n")
    rows, last = [], -1e9
    for n, r in enumerate(result["progress"]):
        if r["t_s"] - last >= 10 or n == len(result["progress"]) - 1:
            rows.append([r["t_s"], r["rss_mb"], r["events_waiting"], r["deliveries"],
                         r["finished"]])
            last = r["t_s"]
    benchlib.print_table(["t s", "RSS MB", "events waiting", "deliveries", "finished"], rows)
    peak = result["peak_rss_mb_vmhwm"]
    print(f"\npeak RSS, worker and bookkeeping process: {peak} MB (VmHWM summed), worker "
          f"alone {result['peak_rss_mb_ru_maxrss']} MB (ru_maxrss); "
          f"first sample {result['first_sample_rss_mb']} MB; fan-out of the backlog done after "
          f"{result['fan_out_done_after_s']} s; {result['deliveries_finished']} deliveries "
          f"finished  [target < 250 MB: {'met' if peak < 250 else 'NOT met'}]")


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.events < 1 or args.batch < 1 or args.hooks < 1 or args.seconds <= 0:
        print(f"{SCRIPT}: --events, --batch, --hooks must be >= 1 and --seconds > 0",
              file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    with benchlib.Nginx() as nginx:
        out = run(args, nginx)
    result = {"benchmark": "memory", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"events": args.events, "batch": args.batch, "hooks": args.hooks,
                         "inactive": args.inactive, "seconds": args.seconds}, **out}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
