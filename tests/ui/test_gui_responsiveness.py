"""The GUI thread never stalls more than 50 ms while the window's own engine delivers at
full speed to a local receiver, whichever view is open (the window refreshes itself
meanwhile).

How it is measured: a 10 ms QTimer ticks on the GUI thread from one second after the
window is shown until every delivery is recorded; a stall is the time between two ticks.
The test runs on shared machines, so from each gap it takes away the time the kernel
kept the GUI thread waiting for a CPU while it was ready to run (Linux
``/proc/thread-self/schedstat``): that is other programs' doing, not the window's.
Everything else counts: the window's own work (reading the engine's reports and
refreshing), and its waits for the GIL while another thread of its process runs Python.
It also prints the GUI thread's own CPU time between two ticks (``time.thread_time()``),
the part of a stall that other programs' load does not lengthen, and the engine's
deliveries per second from its first attempt to its last.

Two variables measure alternatives side by side (docs/decisions.md):
``HOOKADMIN_TEST_ENGINE_HOST=thread`` runs the engine in a QThread of the window's
process instead of the window's host, a child process, and
``HOOKADMIN_TEST_SWITCH_INTERVAL`` (milliseconds) sets the process's GIL switch interval
(``sys.setswitchinterval``) for the test.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.engine_thread import ThreadEngineHost
from hookadmin.ui.main_window import MainWindow
from tests.helpers import resource
from tests.receiver import Receiver
from tests.ui.conftest import HookFactory
from tests.ui.gui import click_tab, select_hook

EVENTS = 2000  # each to both hooks: 4,000 deliveries, over a second of ticks on a quick engine
BOUND = 0.050
SETTLE = 1.0  # seconds after the window is shown that are not measured
SCHEDSTAT = Path("/proc/thread-self/schedstat")


class Ticks:
    """A 10 ms precise timer on the GUI thread recording, at each tick, the time, the
    GUI thread's total wait for a CPU so far (0 where the kernel does not say) and its
    CPU time so far."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.waits: list[float] = []
        self.cpu: list[float] = []
        self._stat = SCHEDSTAT.open("rb", buffering=0) if SCHEDSTAT.exists() else None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._on_timeout)

    def _on_timeout(self) -> None:
        waited = 0.0
        if self._stat is not None:
            self._stat.seek(0)
            waited = int(self._stat.read(128).split()[1]) / 1e9
        self.times.append(time.perf_counter())
        self.waits.append(waited)
        self.cpu.append(time.thread_time())

    def stop(self) -> None:
        self.timer.stop()
        if self._stat is not None:
            self._stat.close()

    def stalls(self, since: float) -> list[tuple[float, float]]:
        """(stall, raw gap) between consecutive ticks after ``since``, largest first."""
        out = []
        for i in range(1, len(self.times)):
            if self.times[i - 1] < since:
                continue
            gap = self.times[i] - self.times[i - 1]
            out.append((gap - (self.waits[i] - self.waits[i - 1]), gap))
        return sorted(out, reverse=True)

    def most_cpu(self, since: float) -> float:
        """The GUI thread's largest CPU time between two ticks after ``since``, s."""
        return max((self.cpu[i] - self.cpu[i - 1] for i in range(1, len(self.times))
                    if self.times[i - 1] >= since), default=0.0)


def show_view(qtbot: QtBot, window: MainWindow, view: str, hook_id: int) -> None:
    if view == "hook page":
        select_hook(qtbot, window, hook_id)
    elif view == "deliveries tab":
        click_tab(qtbot, window.tabs, "&Deliveries")
    else:
        click_tab(qtbot, window.tabs, "&Activity")


# This failed while the engine ran in a thread of the window's process and did its
# SQLite work there (stalls of 70-260 ms): the engine thread released and retook the GIL
# around every socket and SQLite call, and the GUI thread waited for it. The engine's
# database work now runs in its bookkeeping process, and the thread stays under the
# bound (docs/decisions.md).
@pytest.mark.slow
@pytest.mark.alone  # its bound is wall time between ticks: other workers' CPU would count
@pytest.mark.parametrize("view", ["hook page", "deliveries tab", "activity tab"])
def test_the_gui_thread_never_stalls_while_the_engine_delivers_at_full_speed(
        qtbot: QtBot, view: str, tmp_path: Path, home: Path, receiver: Receiver,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService, request: pytest.FixtureRequest) -> None:
    # The windows of earlier tests in this process are garbage now; collecting them
    # deletes their Qt widget trees (~100 ms each), which must not land in this
    # window's measurement. A running hookadmin has one window.
    gc.collect()
    ops = hook_factory(receiver.url_for("/ops"), name="ops", events=("job",))
    hook_factory(receiver.url_for("/audit"), name="audit", events=("job",))
    batch = tmp_path / "events.jsonl"
    batch.write_text("".join(
        json.dumps({"type": "job.completed", "resource": resource("job.completed", n)}) + "\n"
        for n in range(EVENTS)), encoding="utf-8")
    # The window's engine runs in a child process; HOOKADMIN_TEST_ENGINE_HOST=thread
    # measures it in a QThread instead (docs/decisions.md records both).
    host = (ThreadEngineHost if os.environ.get("HOOKADMIN_TEST_ENGINE_HOST") == "thread"
            else EngineHost)
    engine = host(home, DeliverySettings(poll_interval=0.02))
    # HOOKADMIN_TEST_SWITCH_INTERVAL (ms) measures another GIL switch interval.
    interval = os.environ.get("HOOKADMIN_TEST_SWITCH_INTERVAL")
    if interval:
        request.addfinalizer(partial(sys.setswitchinterval, sys.getswitchinterval()))
        sys.setswitchinterval(float(interval) / 1000)
    outcomes: list[object] = []
    engine.attempt_recorded.connect(outcomes.append)
    window = open_window(engine)
    qtbot.waitUntil(lambda: engine.running)
    show_view(qtbot, window, view, ops.id)

    ticks = Ticks()
    ticks.timer.start()
    measure_from = time.perf_counter() + SETTLE
    qtbot.wait(int(SETTLE * 1000))
    # Events come from another process, as from `hookadmin publish` beside the window.
    publisher = subprocess.Popen([sys.executable, "-m", "hookadmin", "publish", "--batch",
                                  str(batch)], stdout=subprocess.DEVNULL)
    # The deliveries per second, from the first attempt to the last one.
    attempt_times: list[float] = []
    engine.attempt_recorded.connect(lambda _: attempt_times.append(time.perf_counter()))
    try:
        qtbot.waitUntil(lambda: len(outcomes) >= 2 * EVENTS, timeout=120_000)
    finally:
        measured = time.perf_counter() - measure_from
        ticks.stop()
        publisher.wait(30)
    rate = (2 * EVENTS - 1) / max(1e-6, attempt_times[-1] - attempt_times[0])
    assert publisher.returncode == 0

    assert len(receiver.requests()) == 2 * EVENTS
    assert {d.status for d in service.store.list_deliveries(limit=2 * EVENTS)} == {
        "succeeded"}
    stalls = ticks.stalls(measure_from)
    # The timer really ticked all along: at least half of its 10 ms ticks (a fixed count
    # failed once the 2,000 deliveries took less than a second).
    assert len(stalls) > max(20, measured / 0.010 / 2), (len(stalls), measured)
    worst, worst_gap = stalls[0]
    top = ", ".join(f"{s * 1000:.0f} ({g * 1000:.0f})" for s, g in stalls[:8])
    print(f"{view}: {len(stalls)} ticks; largest stalls in ms (between ticks): {top}; "
          f"GUI-thread CPU between two ticks at most {ticks.most_cpu(measure_from) * 1000:.1f} ms; "
          f"{rate:.0f} deliveries/s (switch interval {sys.getswitchinterval() * 1000:g} ms)")
    assert worst < BOUND, (f"the GUI thread stalled {worst * 1000:.0f} ms ({worst_gap * 1000:.0f}"
                           f" ms between ticks) with the {view} open; largest stalls in ms"
                           f" (between ticks): {top}")
