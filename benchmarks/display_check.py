"""What a display check costs the window's start, option by option, side by side.

Run by hand from the repository root (it starts its own Xvfb)::

    .venv/bin/python benchmarks/display_check.py [--runs 5] [--loops 2000]

Each run is a fresh process (``python -c``, PySide6's QtWidgets imported first, as in
the window) that measures, wall clock and process CPU:

- ``guard``: what :func:`hookadmin.ui.qt_start.start_application` adds around
  ``QApplication()``: installing Qt's message handler and putting the previous one
  back (µs per pair, over ``--loops`` pairs);
- ``import _socket``, ``import socket``: what a check made before ``QApplication()``
  would import first, the ``socket`` module or its C part alone (the window does not
  import either before its first frame);
- ``connect``: such a check itself, ``AF_UNIX`` connect to the live Xvfb's abstract
  socket and close (µs per check, over ``--loops``);
- ``QApplication``: the xcb application object on that Xvfb, for scale.
Prints the medians of ``--runs`` in ms."""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, sys, time
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import qInstallMessageHandler
loops, number = int(sys.argv[1]), sys.argv[2]
out = {}
def handler(kind, context, message):
    pass
w, c = time.perf_counter(), time.process_time()
for _ in range(loops):
    previous = qInstallMessageHandler(handler)
    qInstallMessageHandler(previous)
out["guard"] = ((time.perf_counter() - w) / loops * 1e3, (time.process_time() - c) / loops * 1e3)
w, c = time.perf_counter(), time.process_time()
import _socket
out["import _socket"] = ((time.perf_counter() - w) * 1e3, (time.process_time() - c) * 1e3)
w, c = time.perf_counter(), time.process_time()
import socket
out["import socket"] = ((time.perf_counter() - w) * 1e3, (time.process_time() - c) * 1e3)
w, c = time.perf_counter(), time.process_time()
for _ in range(loops):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect("\0/tmp/.X11-unix/X" + number)
out["connect"] = ((time.perf_counter() - w) / loops * 1e3, (time.process_time() - c) / loops * 1e3)
w, c = time.perf_counter(), time.process_time()
app = QApplication([])
out["QApplication"] = ((time.perf_counter() - w) * 1e3, (time.process_time() - c) * 1e3)
print(json.dumps(out))
"""


def positive(text: str) -> int:
    """An ``--runs``/``--loops`` value: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def main() -> int:
    """Run the measurement; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive, default=5, help="fresh processes (default 5)")
    parser.add_argument("--loops", type=positive, default=2000,
                        help="handler pairs and connects timed per process (default 2000)")
    args = parser.parse_args()
    if shutil.which("Xvfb") is None:
        print("display_check.py: Xvfb is not installed; install the xvfb package "
              "(scripts/bootstrap.sh test does) and run this again.", file=sys.stderr)
        return 1
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp",
                             "-screen", "0", "1024x768x24"], pass_fds=(write_end,),
                            stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 30)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number:
            print("display_check.py: Xvfb did not start within 30 s; run this again.",
                  file=sys.stderr)
            return 1
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM",
                                                                "WAYLAND_DISPLAY")}
        env["DISPLAY"] = f":{number}"
        rows: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", CHILD, str(args.loops), number],
                                 env=env, capture_output=True, text=True, check=True)
            for name, pair in json.loads(out.stdout).items():
                rows.setdefault(name, []).append((pair[0], pair[1]))
    finally:
        os.close(read_end)
        xvfb.terminate()
        xvfb.wait()
    print(f"load average {os.getloadavg()[0]:.2f}; medians of {args.runs} runs")
    for name, pairs in rows.items():
        wall = statistics.median(p[0] for p in pairs)
        cpu = statistics.median(p[1] for p in pairs)
        print(f"{name:15} wall {wall:10.5f} ms  CPU {cpu:10.5f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
