"""Time a full (gen-2) garbage collection in an open window, as ``hookadmin gui`` opens
it: the frame first, then the window completed on the service and ``gc.freeze()``, then
the Deliveries, Activity and Audit tabs built once the hooks have painted. Prints the
median of 7 ``gc.collect()`` calls, wall and CPU in ms, and the objects the collector
tracks:

1. frozen once, when the window completed (the late tabs' objects still walked);
2. frozen once more after the late tabs were built (what ``hookadmin gui`` does);
3. unfrozen: every object walked.

Usage: ``python benchmarks/gc_freeze.py HOME`` (HOME: a hookadmin home with its
database, e.g. the one ``window_startup.py --home`` fills; a folder that does not exist
or holds no database is refused with exit status 2)."""
import argparse
import gc
import os
import sys
import time
from pathlib import Path

from hookadmin.core.store import DB_FILENAME, StoreLocation

SCRIPT = "gc_freeze.py"
SETTLE_S = 2.0  # the first reads of the window and of its late tabs come back
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

from hookadmin.core.service import HookService  # noqa: E402
from hookadmin.ui.engine_host import EngineHost  # noqa: E402
from hookadmin.ui.window_host import WindowHost  # noqa: E402

app = QApplication(sys.argv)
host = WindowHost(EngineHost)
window = host.open_frame()
app.processEvents()  # the frame paints
host.complete(HookService(StoreLocation(home), origin="window"))
gc.freeze()  # where hookadmin gui freezes first
deadline = time.monotonic() + 60
while not window.pages_built and time.monotonic() < deadline:
    app.processEvents()  # the hooks paint, then the late tabs are built
if not window.pages_built:
    print(f"{SCRIPT}: the window did not build its tabs within 60 s.", file=sys.stderr)
    os._exit(1)
end = time.monotonic() + SETTLE_S
while time.monotonic() < end:
    app.processEvents()


def cost(n: int = 7) -> str:
    """Median wall and CPU time of ``n`` full collections (ms), and the objects tracked."""
    wall, cpu = [], []
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        gc.collect()
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return (f"median gen-2 collect {sorted(wall)[n // 2]:.2f} ms "
            f"(CPU {sorted(cpu)[n // 2]:.2f} ms), {len(gc.get_objects())} objects")


print(f"frozen at completion only:   {cost()} ({gc.get_freeze_count()} frozen)")
gc.freeze()
print(f"frozen again after the tabs: {cost()} ({gc.get_freeze_count()} frozen)")
gc.unfreeze()
print(f"unfrozen:                    {cost()}")
os._exit(0)  # the window's engine thread is not stopped; the figures are printed
