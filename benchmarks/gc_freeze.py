"""Time a full (gen-2) garbage collection in an open window, before and after
``gc.freeze()``: the median of 7 ``gc.collect()`` calls, in ms, and the objects the
collector tracks. Usage: ``python benchmarks/gc_freeze.py HOME`` (HOME: a hookadmin
home with its database, e.g. the one ``window_startup.py --home`` fills; a folder that
does not exist or holds no database is refused with exit status 2)."""
import argparse
import gc
import os
import sys
import time
from pathlib import Path

from hookadmin.core.store import DB_FILENAME, StoreLocation

SCRIPT = "gc_freeze.py"
parser = argparse.ArgumentParser(prog=SCRIPT, description=__doc__)
parser.add_argument("home", metavar="HOME", type=Path,
                    help="an existing hookadmin home with its database")
home: Path = parser.parse_args().home
if not home.is_dir():
    print(f"{SCRIPT}: {home} does not exist; pass a hookadmin home with its database, e.g. "
          "one that benchmarks/window_startup.py --home filled.", file=sys.stderr)
    raise SystemExit(2)
if not (home / DB_FILENAME).is_file():
    print(f"{SCRIPT}: {home} holds no hookadmin database ({DB_FILENAME}); pass a home that "
          "benchmarks/window_startup.py --home filled.", file=sys.stderr)
    raise SystemExit(2)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication  # noqa: E402

from hookadmin.ui.app import HookService, ThreadEngineHost, WindowHost  # noqa: E402

app = QApplication(sys.argv)
service = HookService(StoreLocation(home), origin="window")
host = WindowHost(ThreadEngineHost)
host.open(service)
end = time.monotonic() + 2
while time.monotonic() < end:  # let the first reads come back
    app.processEvents()


def cost(n: int = 7) -> tuple[float, int]:
    """Median wall time of ``n`` full collections (ms) and the objects tracked."""
    ts = []
    for _ in range(n):
        w = time.perf_counter()
        gc.collect()
        ts.append((time.perf_counter() - w) * 1000)
    return sorted(ts)[n // 2], len(gc.get_objects())


ms, objects = cost()
print(f"no freeze: median gen-2 collect {ms:.1f} ms, {objects} objects")
gc.freeze()
ms, objects = cost()
print(f"frozen:    median gen-2 collect {ms:.1f} ms, {objects} objects "
      f"({gc.get_freeze_count()} frozen)")
gc.unfreeze()
ms, objects = cost()
print(f"unfrozen:  median gen-2 collect {ms:.1f} ms, {objects} objects")
os._exit(0)  # the window's engine thread is not stopped; the figures are printed
