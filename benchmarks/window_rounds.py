"""The window's first frame against a bare PySide6 window, side by side: alternating
rounds of ``window_startup.py`` and ``bare_window.py``, the ratios per round.

Run by hand from the repository root, under the test keyring (``window_startup.py``
needs it)::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python \\
        benchmarks/window_rounds.py --rounds 8 --home /tmp/ha-100k

The ``.pyc`` files of ``hookadmin`` and ``benchmarks`` are compiled once first (both
scripts run compiled modules). Each round runs ``window_startup.py --runs N`` (the
``hookadmin --home DIR`` command's window over ``--deliveries`` deliveries, offscreen;
built in ``--home`` the first time), then ``bare_window.py --runs N``, and prints, for
the medians of the round: spawn to the painted first frame (wall, ms) and the process's
CPU by then (ms), each for both and as the window's ratio to the bare window's; spawn
to the ``QApplication`` (what runs before it: Python, PySide6, and for the window the
``hookadmin`` command's imports) and from it to the painted frame (wall, and the GUI
thread's CPU); the 1-minute load average before the round. The summary gives the
median, lowest and highest ratio over the rounds, and the ratios of the quietest half
of the rounds (lowest load average). ``--json FILE`` keeps every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    p.add_argument("--runs", type=int, default=3,
                   help="window processes of each kind per round (default 3)")
    p.add_argument("--deliveries", type=int, default=100_000,
                   help="deliveries in the window's database (default 100000)")
    p.add_argument("--home", required=True,
                   help="data directory of window_startup.py (built once, then reused)")
    p.add_argument("--before", metavar="DIR",
                   help="also run window_startup.py on the hookadmin package in DIR (a copy "
                        "of an earlier tree: DIR/hookadmin, compiled) in each round, first "
                        "on PYTHONPATH")
    p.add_argument("--json", metavar="FILE", help="write every round's figures there")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.runs < 1:
        p.error("--rounds and --runs must be at least 1")
    return args


def run_json(cmd: list[str], env: dict[str, str] | None = None) -> Any:
    """Run ``cmd`` and return the JSON it printed on stdout (its stderr passes through)."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True, timeout=1200,
                          env=env)
    return json.loads(proc.stdout)


def window_runs(args: argparse.Namespace, tree: str | None = None) -> list[dict[str, Any]]:
    """``window_startup.py``'s runs (offscreen), on ``tree``'s hookadmin if given."""
    env = None
    if tree is not None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (tree, os.environ.get("PYTHONPATH")) if p))
    result = run_json([sys.executable, str(HERE / "window_startup.py"), "--deliveries",
                       str(args.deliveries), "--runs", str(args.runs), "--platforms",
                       "offscreen", "--home", args.home, "--scroll-steps", "1",
                       "--refreshes", "1", "--json"], env)
    runs: list[dict[str, Any]] = result["platforms"]["offscreen"]["runs"]
    return runs


def window_figures(runs: list[dict[str, Any]], prefix: str) -> dict[str, float]:
    """The medians of ``runs`` (ms), their keys starting with ``prefix``."""
    spawn = [r["ms_from_spawn"] for r in runs]
    gui = [r["gui_thread_cpu_ms"] for r in runs]
    return {
        f"{prefix}_ms": med([s["painted"] for s in spawn]),
        f"{prefix}_cpu_ms": med([r["process_cpu_ms_at_painted"] for r in runs]),
        f"{prefix}_to_qapp_ms": med([s["qapplication"] for s in spawn]),
        f"{prefix}_qapp_to_painted_ms": med([s["painted"] - s["qapplication"] for s in spawn]),
        f"{prefix}_qapp_to_painted_cpu_ms": med([g["painted"] - g["qapplication"] for g in gui]),
        f"{prefix}_frame_init_ms": med([r["frame_init_ms"] for r in runs]),
    }


def med(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def one_round(args: argparse.Namespace) -> dict[str, float]:
    """One window_startup.py run (and one on the earlier tree, if given) and one
    bare_window.py run; their medians (ms) and ratios."""
    load = os.getloadavg()[0]
    row = {"load": round(load, 2), **window_figures(window_runs(args), "window")}
    if args.before:
        row.update(window_figures(window_runs(args, args.before), "before"))
    bare = run_json([sys.executable, str(HERE / "bare_window.py"), "--runs", str(args.runs),
                     "--json"])["offscreen"]
    row.update({
        "bare_ms": med([b["paint_pass"] * 1000 for b in bare]),
        "bare_cpu_ms": med([b["cpu"] * 1000 for b in bare]),
        "bare_to_qapp_ms": med([b["qapplication"] * 1000 for b in bare]),
        "bare_qapp_to_painted_ms": med([b["qapp_to_paint_pass"] * 1000 for b in bare]),
        "bare_qapp_to_painted_cpu_ms": med([b["qapp_to_paint_pass_cpu"] * 1000 for b in bare]),
    })
    for prefix in ("window", "before") if args.before else ("window",):
        row[f"{prefix}_ratio"] = round(row[f"{prefix}_ms"] / row["bare_ms"], 3)
        row[f"{prefix}_cpu_ratio"] = round(row[f"{prefix}_cpu_ms"] / row["bare_cpu_ms"], 3)
    return row


def line(n: int, r: dict[str, float], prefix: str) -> str:
    return (f"{n:5} {prefix:6} {r['load']:5} | {r[prefix + '_ms']} / {r['bare_ms']} = "
            f"{r[prefix + '_ratio']:.3f} | {r[prefix + '_cpu_ms']} / {r['bare_cpu_ms']} = "
            f"{r[prefix + '_cpu_ratio']:.3f} | {r[prefix + '_to_qapp_ms']} / "
            f"{r['bare_to_qapp_ms']} | {r[prefix + '_qapp_to_painted_ms']} / "
            f"{r['bare_qapp_to_painted_ms']} ({r[prefix + '_qapp_to_painted_cpu_ms']} / "
            f"{r['bare_qapp_to_painted_cpu_ms']}) | {r[prefix + '_frame_init_ms']}")


def summary(rows: list[dict[str, float]], label: str, prefix: str) -> str:
    wall = [r[prefix + "_ratio"] for r in rows]
    cpu = [r[prefix + "_cpu_ratio"] for r in rows]
    return (f"{label}, {prefix} ({len(rows)} rounds, load {min(r['load'] for r in rows)}-"
            f"{max(r['load'] for r in rows)}): wall ratio median {statistics.median(wall):.3f} "
            f"({min(wall):.3f}-{max(wall):.3f}), CPU ratio median {statistics.median(cpu):.3f} "
            f"({min(cpu):.3f}-{max(cpu):.3f}); {prefix} {med([r[prefix + '_ms'] for r in rows])}"
            f" ms / CPU {med([r[prefix + '_cpu_ms'] for r in rows])} ms, bare "
            f"{med([r['bare_ms'] for r in rows])} ms / CPU {med([r['bare_cpu_ms'] for r in rows])}"
            " ms")


def main() -> int:
    args = parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "hookadmin", "benchmarks"],
                   check=True, cwd=HERE.parent)
    rows = []
    prefixes = ("window", "before") if args.before else ("window",)
    print("round tree    load | spawn->painted tree / bare ms = ratio | CPU tree / bare ms = "
          "ratio | spawn->QApplication tree / bare | QApplication->painted tree / bare "
          "(GUI CPU tree / bare) | MainWindow()")
    for n in range(1, args.rounds + 1):
        r = one_round(args)
        rows.append(r)
        for prefix in prefixes:
            print(line(n, r, prefix), flush=True)
    quiet = sorted(rows, key=lambda r: r["load"])[:max(1, len(rows) // 2)]
    for prefix in prefixes:
        print(summary(rows, "all", prefix))
        print(summary(quiet, "quietest half", prefix))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
