"""Keyring scale: the cost of adding, reading and deleting one hook's secret as the
keyring fills up to 5,000 hooks.

Run by hand from the repository root, under the test keyring::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/keyring_scale.py
    ... benchmarks/keyring_scale.py --hooks 1000     # a quick run

Adds ``--hooks`` hooks one by one through the service layer
(``HookService.create_hook``: the hook row and a new secret in the keyring) and times
each. Reports the time per hook over the first and the last ``--window`` hooks (mean,
median, p95). Then, with the keyring full, times ``--samples`` reads
(``HookService.reveal_secret``) and deletes (``HookService.delete_hook``) of single
hooks spread over the whole range, the bulk read the engine makes at start
(``SecretStore.get_many`` of every hook), and, for comparison, the same single read and
write through keyring's own API (``keyring.get_password``/``set_password``: a new D-Bus
connection and session per call). The keyring daemon's CPU time and whether it is still
running at the end are recorded too. Target: the last hooks cost no more than the first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
import keyring

from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.service import HookService

SCRIPT = "keyring_scale.py"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Time per hook added, read and deleted as the keyring fills (run under: "
                    "dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python "
                    "benchmarks/keyring_scale.py).")
    p.add_argument("--hooks", type=int, default=5000, help="hooks to add (default 5000)")
    p.add_argument("--window", type=int, default=500,
                   help="first and last hooks compared (default 500)")
    p.add_argument("--samples", type=int, default=50,
                   help="single reads and deletes timed at the end (default 50)")
    p.add_argument("--tmpdir", help="where the data directory goes (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """Mean, median, p95 and max of durations, in milliseconds."""
    ordered = sorted(seconds)
    return {"n": len(ordered),
            "mean_ms": round(statistics.fmean(ordered) * 1e3, 2),
            "median_ms": round(statistics.median(ordered) * 1e3, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1 if len(ordered) > 1 else 0]
                            * 1e3, 2),
            "max_ms": round(ordered[-1] * 1e3, 2)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    daemons = benchlib.keyring_daemon_pids()
    cpu0 = sum(benchlib.proc_cpu_seconds(p) for p in daemons)
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=args.tmpdir) as tmp:
        home = Path(tmp) / "home"
        with HookService(home) as service:
            adds: list[float] = []
            started = time.perf_counter()
            for n in range(1, args.hooks + 1):
                t = time.perf_counter()
                service.create_hook(url=f"https://example.com/hook/{n}", events=["job"],
                                    name=f"scale {n}")
                adds.append(time.perf_counter() - t)
                if n % 500 == 0:
                    benchlib.log(f"{n} hooks, last 500 at {statistics.fmean(adds[-500:]) * 1e3:.1f}"
                                 f" ms per hook")
            add_seconds = time.perf_counter() - started
            step = max(1, args.hooks // args.samples)
            picks = list(range(1, args.hooks + 1, step))[:args.samples]

            reads = []
            for hook_id in picks:
                t = time.perf_counter()
                service.reveal_secret(hook_id)
                reads.append(time.perf_counter() - t)

            t = time.perf_counter()
            bulk = service.secrets.get_many(list(range(1, args.hooks + 1)))
            bulk_seconds = time.perf_counter() - t
            assert len(bulk) == args.hooks, len(bulk)

            store_id = service.store.store_id
            keyring_reads, keyring_writes = [], []
            for hook_id in picks[:10]:
                name = f"{store_id}/hook/{hook_id}"
                t = time.perf_counter()
                value = keyring.get_password(SERVICE_NAME, name)
                keyring_reads.append(time.perf_counter() - t)
                assert value == bulk[hook_id]
                t = time.perf_counter()
                keyring.set_password(SERVICE_NAME, name, value)
                keyring_writes.append(time.perf_counter() - t)

            deletes = []
            for hook_id in picks:
                t = time.perf_counter()
                kept = service.delete_hook(hook_id)
                deletes.append(time.perf_counter() - t)
                assert kept is None, kept
            # The other entries stay: the throw-away test keyring goes with its session
            # (deleting them costs as much as adding them).
    alive = [p for p in daemons if Path(f"/proc/{p}").exists()]
    window = min(args.window, args.hooks)
    return {
        "add_total_s": round(add_seconds, 1),
        "add_first": summary_ms(adds[:window]),
        "add_last": summary_ms(adds[-window:]),
        "last_over_first": round(statistics.fmean(adds[-window:])
                                 / statistics.fmean(adds[:window]), 2),
        "read_one": summary_ms(reads),
        "delete_one": summary_ms(deletes),
        "read_all_s": round(bulk_seconds, 3),
        "keyring_api_read_one": summary_ms(keyring_reads),
        "keyring_api_write_one": summary_ms(keyring_writes),
        "keyring_daemon_cpu_s": round(sum(benchlib.proc_cpu_seconds(p) for p in daemons)
                                      - cpu0, 1),
        "keyring_daemon_running": bool(daemons) and len(alive) == len(daemons)}


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    print(f"\nkeyring scale: {p['hooks']} hooks added through HookService.create_hook in "
          f"{result['add_total_s']} s\n")
    rows = []
    for label, key in ((f"add, first {p['window']}", "add_first"),
                       (f"add, last {p['window']}", "add_last"),
                       (f"read one (full keyring, {result['read_one']['n']})", "read_one"),
                       (f"delete one (full keyring, {result['delete_one']['n']})",
                        "delete_one"),
                       ("keyring.get_password (fresh connection)", "keyring_api_read_one"),
                       ("keyring.set_password (fresh connection)", "keyring_api_write_one")):
        s = result[key]
        rows.append([label, s["mean_ms"], s["median_ms"], s["p95_ms"], s["max_ms"]])
    benchlib.print_table(["per hook", "mean ms", "median ms", "p95 ms", "max ms"], rows)
    print(f"\nread all {p['hooks']} secrets at once (the engine's start): "
          f"{result['read_all_s']} s; keyring daemon CPU {result['keyring_daemon_cpu_s']} s; "
          f"daemon still running: {result['keyring_daemon_running']}")
    print(f"last {p['window']} / first {p['window']} (mean per hook): "
          f"{result['last_over_first']}  [target: does not grow]")


def main() -> int:
    args = parse_args()
    benchlib.exit_on_sigterm()
    if args.hooks < 1 or args.window < 1 or args.samples < 1:
        print(f"{SCRIPT}: --hooks, --window and --samples must be >= 1", file=sys.stderr)
        return 2
    benchlib.require_keyring(SCRIPT)
    info = benchlib.machine_info()
    out = run(args)
    result = {"benchmark": "keyring_scale", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"hooks": args.hooks, "window": args.window,
                         "samples": args.samples}, **out}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
