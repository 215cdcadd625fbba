"""The baseline for ``window_startup.py``: how long a bare PySide6 window takes to paint.

Run by hand from the repository root, right before or after ``window_startup.py`` on the
same machine, so the two are measured side by side::

    .venv/bin/python benchmarks/bare_window.py                 # offscreen, 3 runs
    DISPLAY=:58 .venv/bin/python benchmarks/bare_window.py --platforms offscreen,xcb

Each run starts a fresh ``python`` process (as ``window_startup.py`` starts the window,
both running their file's compiled module: ``python -m compileall -q benchmarks`` first)
that imports PySide6, makes a ``QApplication`` and an empty ``QMainWindow`` with a menu bar
and a status bar at the window's default size (1280 x 820), shows it and stops at the end
of its first paint pass (a 0-ms timer queued from the window's first paint event; the
event filter watches the window and, once shown, its ``QWindow`` (for the first Expose),
as ``window_startup.py``'s does: an application-wide Python filter makes PySide wrap
every widget that gets an event). It prints the
wall-clock seconds from the parent's spawn to that point and the child's CPU seconds; the
summary is the median per platform. Divide ``window_startup.py``'s "spawn to first paint
pass" by this figure for the ratio.
"""

from __future__ import annotations

import time

_T_MAIN = time.time()  # the child's first statement

import argparse  # noqa: E402 - after the timestamp on purpose
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

# statistics, subprocess and pathlib are imported by the parent only (main), as
# window_startup.py's are: both window processes import argparse, json, os and sys
# before their window.

SPAWN_ENV = "HOOKADMIN_BENCH_SPAWN"
# The child runs this file's compiled module, as window_startup.py's does (see there).
CHILD = "import sys; sys.path[0] = {folder!r}; import {module} as m; sys.exit(m.main())"


def child() -> int:
    """Show a bare window and print ``RESULT {json}`` after its first paint pass."""
    spawn = float(os.environ.get(SPAWN_ENV, _T_MAIN))
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication([sys.argv[0]])
    qapp_wall, qapp_cpu = time.time(), time.thread_time()  # as window_startup.py marks
    result: dict[str, float] = {"qapplication": qapp_wall - spawn}
    window = QMainWindow()
    window.menuBar().addMenu("&File")
    window.statusBar().addWidget(QLabel("ready"))
    window.setCentralWidget(QLabel("bare window"))
    window.resize(1280, 820)

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Expose and "first_expose" not in result:
                result["first_expose"] = time.time() - spawn
            elif event.type() == QEvent.Type.Paint and obj is window \
                    and "first_paint" not in result:
                result["first_paint"] = time.time() - spawn

                def done() -> None:
                    result["paint_pass"] = time.time() - spawn
                    result["cpu"] = time.process_time()
                    result["qapp_to_paint_pass"] = time.time() - qapp_wall
                    result["qapp_to_paint_pass_cpu"] = time.thread_time() - qapp_cpu
                    app.quit()
                QTimer.singleShot(0, done)
            return False

    watcher = FirstPaint()
    window.installEventFilter(watcher)  # the window only, as window_startup.py watches
    window.show()
    handle = window.windowHandle()  # and its QWindow's Expose, as window_startup.py's
    if handle is not None:
        handle.installEventFilter(watcher)
    app.exec()
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main() -> int:
    """Run the children and print the medians (seconds)."""
    import statistics
    import subprocess
    from pathlib import Path

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs per platform (default 3)")
    p.add_argument("--platforms", default="offscreen",
                   help="comma-separated Qt platforms (default offscreen)")
    p.add_argument("--json", action="store_true",
                   help="print every run's figures as JSON (per platform) instead")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child()
    every: dict[str, list[dict[str, float]]] = {}
    for platform in args.platforms.split(","):
        runs = []
        for _ in range(args.runs):
            env = dict(os.environ, QT_QPA_PLATFORM=platform)
            env[SPAWN_ENV] = repr(time.time())
            child_code = CHILD.format(folder=str(Path(__file__).resolve().parent),
                                      module=Path(__file__).stem)
            proc = subprocess.run([sys.executable, "-c", child_code, "--child"],
                                  env=env, capture_output=True, text=True, timeout=120,
                                  check=True)
            line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
            runs.append(json.loads(line[len("RESULT "):]))
        every[platform] = runs
        if args.json:
            continue
        paint = statistics.median(r["paint_pass"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        print(f"{platform}: bare PySide6 window, spawn to first paint pass {paint:.3f} s "
              f"(median of {len(runs)}: " + ", ".join(f"{r['paint_pass']:.3f}" for r in runs)
              + f"); CPU {cpu:.3f} s; load average {os.getloadavg()[0]:.1f}")
        since = statistics.median(r["qapp_to_paint_pass"] for r in runs)
        since_cpu = statistics.median(r["qapp_to_paint_pass_cpu"] for r in runs)
        print(f"    from QApplication to the first paint pass {since * 1000:.1f} ms, "
              f"GUI-thread CPU {since_cpu * 1000:.1f} ms (window_startup.py: 'from "
              "QApplication' and the GUI thread's CPU at qapplication and painted)")
    if args.json:
        print(json.dumps(every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
