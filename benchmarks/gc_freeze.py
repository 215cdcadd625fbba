"""Time a full (gen-2) garbage collection in an open window, before and after
``gc.freeze()``: the median of 7 ``gc.collect()`` calls, in ms, and the objects the
collector tracks. Usage: ``python benchmarks/gc_freeze.py HOME`` (HOME: a hookadmin
home with its database, e.g. the one ``window_startup.py --home`` fills)."""
import gc
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtWidgets import QApplication

from hookadmin.core.store import StoreLocation
from hookadmin.ui.app import HookService, ThreadEngineHost, WindowHost

app = QApplication(sys.argv)
service = HookService(StoreLocation(sys.argv[1]), origin="window")
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
