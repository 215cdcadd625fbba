"""Garbage collections while another benchmark script runs: how many per generation,
and the CPU they took.

Run by hand from the repository root, in front of a script and its arguments, e.g. the
engine phase of the throughput benchmark::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python \\
        benchmarks/gc_engine.py benchmarks/throughput.py --only engine --events 10000

``--threshold G0,G1,G2`` sets the collector's thresholds first (``gc.set_threshold``),
e.g. ``700,10,10`` (CPython's default) against the engine's own
(``hookadmin/delivery/gc_tuning.py``; the engine raises the first one while its loop
runs, whatever was set here, unless it is higher). At exit it prints, on stderr, one
line per generation: collections, their CPU in ms (``time.process_time`` of this
process) and the objects they freed. Counts the whole process: the script's set-up too.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import runpy
import sys
import time
from pathlib import Path
from typing import Any

_started: dict[int, float] = {}
_totals: dict[int, list[float]] = {}  # generation -> [collections, CPU seconds, freed]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    generation = int(info["generation"])
    if phase == "start":
        _started[generation] = time.process_time()
        return
    total = _totals.setdefault(generation, [0, 0.0, 0])
    total[0] += 1
    total[1] += time.process_time() - _started.get(generation, time.process_time())
    total[2] += int(info["collected"])


def _report() -> None:
    for generation, (count, cpu, freed) in sorted(_totals.items()):
        print(f"gc generation {generation}: {count:.0f} collections, {cpu * 1e3:.1f} ms CPU, "
              f"{freed:.0f} objects freed", file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threshold", help="G0,G1,G2 for gc.set_threshold before the script")
    p.add_argument("script", help="the benchmark script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    args = p.parse_args()
    if args.threshold:
        gc.set_threshold(*(int(v) for v in args.threshold.split(",")))
    gc.callbacks.append(_on_gc)
    atexit.register(_report)
    sys.argv = [args.script, *args.args]
    sys.path.insert(0, str(Path(args.script).resolve().parent))  # its benchlib
    runpy.run_path(args.script, run_name="__main__")


if __name__ == "__main__":
    main()
