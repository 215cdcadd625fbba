"""The admin window over a large history: startup, Deliveries scrolling, Activity chart,
and the 2-second refresh, with 1,000,000 deliveries in the database.

Run by hand from the repository root, under the test keyring (the window reads secrets
only on demand, but checks once, in the background after its first paint, that the
keyring answers — the mark ``keyring_checked`` says when that was done — and the hooks
are created with real secrets)::

    dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python benchmarks/window_startup.py
    ... benchmarks/window_startup.py --deliveries 100000        # a quicker run
    ... benchmarks/window_startup.py --home /tmp/ha-1m          # build once, measure again
    # also under a real X server (xcb), next to offscreen:
    dbus-run-session -- xvfb-run -a -s "-screen 0 1920x1080x24" \\
        scripts/with-test-keyring.sh .venv/bin/python benchmarks/window_startup.py

Data: ``--hooks`` hooks (default 20, subscribed to everything, URL
``http://127.0.0.1:9/...`` so nothing leaves the machine) created through
``HookService.create_hook``, so the schema, the migrations and the secrets are the real
ones. Then ``--deliveries`` deliveries (default 1,000,000) are inserted directly with
``sqlite3`` ``executemany`` in transactions of 50,000 rows: seq order = time order,
created over the last 24 h, ~93 % succeeded, ~5 % failed, ~2 % pending (waiting for a
retry 1-10 h ahead, so a running engine has nothing due), each with exactly one attempt
row (realistic request/response headers), sharing 64 event rows (the real fixture
bodies). The database is not ANALYZEd (the app never does).

Each measurement runs in a fresh process per platform (``offscreen`` always; ``xcb``
too when ``DISPLAY`` is set) and repeats ``--runs`` times. The child starts the window
as the ``hookadmin --home DIR`` command does: ``hookadmin.cli.main``, which imports
``hookadmin.ui.app`` and runs the real ``hookadmin.ui.app.main`` (with the delivery
engine unless ``--no-engine``); ``$XDG_CONFIG_HOME`` is an empty folder, so QSettings
hold no geometry (the window opens at its default size) and no team database is
remembered. It measures:

(a) **startup**: wall-clock and GUI-thread CPU from the parent's ``Popen`` (process
    spawn), and from the return of the ``QApplication`` constructor (what hookadmin
    imports before it is counted from the spawn only), to the main window's first
    ``Paint`` event and to the end of that first paint pass (a 0-ms timer queued from
    the first paint event runs after the whole pass is painted and flushed): the
    window's frame (``frame_built``: ``MainWindow()`` returned). Then, as the window
    completes itself after that paint: ``ready`` (the hooks read and applied),
    ``hooks_shown`` (the hooks table painted with them: the window is usable) and
    ``tabs_built`` (the Deliveries, Activity and Audit tabs built). Compare with
    ``bare_window.py`` run right after; compile the ``.pyc`` files first
    (``python -m compileall hookadmin benchmarks``) when ``PYTHONDONTWRITEBYTECODE`` is
    set. Target < 1.5 s from spawn.
(b) **Deliveries**: switching to the tab until its table's viewport has painted, then
    ``--scroll-steps`` page-down steps (``QScrollBar.triggerAction(SliderPageStepAdd)``)
    each timed until the viewport has painted again and the events it posted (the view's
    0-ms fetch-more timer) are processed; ``fetchMore`` (``Store.list_deliveries``)
    calls are counted per step. Target p95 < 16-33 ms. The 2-s poll timer is stopped
    during (b) and (c) so it does not land inside a step; (d) measures it.
(c) **Activity**: selecting the tab until both charts have painted (the query and the
    chart building are timed apart).
(d) **refresh()**: ``MainWindow.refresh`` called ``--refreshes`` times on each tab (Webhooks
    with no hook selected and with one selected, Deliveries after scrolling, Activity
    without and with its every-10-s chart redraw), timed alone and with the events it
    posted processed (repaints); the store queries inside are timed apart. Target well
    under 50 ms (it runs on the GUI thread every 2 s).

The OS page cache is warm (the database was just built or read); ``--json`` prints JSON
on stdout, ``--json FILE`` writes it and prints the tables.
"""

from __future__ import annotations

import time

_T_MAIN = time.time()  # the child's first statement: interpreter start-up ends here

import argparse  # noqa: E402 - after the timestamp on purpose
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from pathlib import Path

# What only the parent needs (pathlib, shutil, subprocess, tempfile, window_stats,
# window_data, window_report: sqlite3, uuid, random) is imported in the parent's
# functions, as bare_window.py does: the window process imports what the bare window's
# does before its window (argparse, json, os, sys) and, unlike it, typing, which
# PySide6 imports anyway.

SCRIPT = "window_startup.py"
# The window process runs this file's compiled module (compile the benchmarks first), as
# bare_window.py's does: run as a script, Python compiles it at every start (3 ms for
# this file against 0.5 ms for bare_window.py), inside the time measured from the spawn.
# sys.path[0] is this folder, as for a script (with -c it would be the current folder,
# whose hookadmin would win over the one PYTHONPATH names).
CHILD = "import sys; sys.path[0] = {folder!r}; import {module} as m; sys.exit(m.main())"
SPAWN_ENV = "HOOKADMIN_BENCH_SPAWN"
STORE_METHODS = ("list_hooks", "last_deliveries", "outbox_waiting", "pending_count",
                 "list_deliveries", "deliveries_by_seq", "activity", "get_hook",
                 "get_setting")
TARGETS = {"startup_s": 1.5, "scroll_p95_ms": 33.0, "refresh_ms": 50.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="The window with a large delivery history: startup, scrolling, activity "
                    "chart, periodic refresh (run under: dbus-run-session -- "
                    "scripts/with-test-keyring.sh .venv/bin/python benchmarks/window_startup.py).")
    p.add_argument("--deliveries", type=int, default=1_000_000,
                   help="deliveries in the database (default 1000000)")
    p.add_argument("--hooks", type=int, default=20, help="hooks (default 20)")
    p.add_argument("--runs", type=int, default=3,
                   help="fresh window processes per platform (default 3)")
    p.add_argument("--scroll-steps", type=int, default=200,
                   help="page-down steps in the Deliveries table (default 200)")
    p.add_argument("--refreshes", type=int, default=20,
                   help="refresh() calls per tab state (default 20)")
    p.add_argument("--platforms",
                   help="comma-separated QPA platforms (default: offscreen, plus xcb when "
                        "DISPLAY is set)")
    p.add_argument("--no-engine", action="store_true",
                   help="open the window without the delivery engine (default: with it, as "
                        "`hookadmin gui` does)")
    p.add_argument("--home", help="data directory to build in, or to reuse when it already "
                                  "holds this benchmark's database of the same size (kept)")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    p.add_argument("--tmpdir", help="where the temporary data directory goes (default: $TMPDIR)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the data (default 1)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the tables; with FILE, "
                        "write the JSON there and print the tables too")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# -- the child: one window process -------------------------------------------------------

def child(args: argparse.Namespace) -> int:
    spawn = float(os.environ.get(SPAWN_ENV, _T_MAIN))
    marks: dict[str, float] = {"python_started": _T_MAIN}
    cpu: dict[str, float] = {}  # GUI-thread CPU seconds at each mark (marks are on it)
    load_start = os.getloadavg()[0]

    def mark(name: str) -> None:
        marks[name] = time.time()
        cpu[name] = time.thread_time()
    # The window is started as the `hookadmin` command starts it (hookadmin.cli.main,
    # which imports hookadmin.ui.app, and PySide6 with it, and calls its main), so what
    # runs before the QApplication is timed too; the modules are imported here, in the
    # command's order, to put the probes in.
    import hookadmin.cli as cli
    import hookadmin.ui.app as ui_app
    import hookadmin.ui.window_host as window_host
    from hookadmin.ui.main_window import MainWindow
    mark("hookadmin_imported")
    # What bare_window.py imports before its QApplication, for the probe (QtCore and
    # QtWidgets are loaded by now; QEvent's enums are built here, as there). QSettings
    # read the empty folder run_child names in $XDG_CONFIG_HOME.
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget
    mark("pyside_imported")

    result: dict[str, Any] = {"engine": not args.no_engine}
    held: dict[str, Any] = {}
    calls: list[tuple[str, float]] = []  # (store method, ms) while recording

    def timed_service(*a: Any, **kw: Any) -> Any:
        # The window opens its service (and, since it paints a generic frame, reads which
        # database that is) from a 0-ms timer queued at its first paint, as the probe's
        # is: whichever runs first, the first paint pass is over by then.
        painted()
        t = time.time()
        service = orig_open_service(*a, **kw)
        mark("service_opened")
        result["service_open_ms"] = round((marks["service_opened"] - t) * 1000, 1)
        if service is None:
            return None
        store = service.store
        for name in STORE_METHODS:
            original = getattr(store, name)

            def wrapper(*a: Any, _f: Any = original, _n: str = name, **kw: Any) -> Any:
                t2 = time.perf_counter()
                try:
                    return _f(*a, **kw)
                finally:
                    calls.append((_n, (time.perf_counter() - t2) * 1000))
            setattr(store, name, wrapper)
        held["service"] = service
        return service

    class TimedWindow(MainWindow):
        """Marks the frame (``MainWindow()``), its completion (``complete()``, with the
        imports of the controllers and the Webhooks tab) and ``ready`` (the first hooks
        read and applied); then ``hooks_shown`` once the hooks table has painted them,
        and ``tabs_built`` once the Deliveries, Activity and Audit tabs are built."""

        def __init__(self, *a: Any, **kw: Any) -> None:
            t = time.time()
            super().__init__(*a, **kw)
            mark("frame_built")
            self.installEventFilter(probe)
            result["frame_init_ms"] = round((marks["frame_built"] - t) * 1000, 1)
            held["window"] = self

        def complete(self, *a: Any, **kw: Any) -> None:
            t = time.time()
            super().complete(*a, **kw)
            mark("window_built")
            result["window_init_ms"] = round((marks["window_built"] - t) * 1000, 1)
            result["window_init_store_ms"] = {n: round(ms, 1) for n, ms in calls}
            # The keyring is checked in the background after the first paint (before
            # that change, in MainWindow(), timed as keyring_check_ms).
            self.keyring_checked.connect(self._on_keyring_result)
            self.ready.connect(self._on_ready)

        def build_pages(self) -> None:
            built = self.pages_built
            super().build_pages()
            if not built:
                mark("tabs_built")

        def _on_keyring_result(self, usable: bool) -> None:
            mark("keyring_checked")
            result["keyring_usable"] = usable

        def _on_ready(self) -> None:
            mark("ready")
            result["hooks_listed"] = self.hooks_model.rowCount()
            viewport = self.hooks_view.viewport()
            probe.watch(viewport)
            probe.on_paint(viewport, hooks_painted)
            viewport.update()

        def show(self) -> None:
            super().show()
            mark("show_returned")
            handle = self.windowHandle()
            if handle is not None:  # its Expose comes from the event loop, after this
                handle.installEventFilter(probe)

    class Probe(QObject):
        """Counts Paint events per watched widget; notes the main window's first one."""

        def __init__(self) -> None:
            super().__init__()
            self.paints: dict[int, int] = {}
            self.first_paint = False
            self.once: dict[int, Any] = {}  # widget id -> called after its next paint

        def on_paint(self, widget: QWidget, callback: Any) -> None:
            self.once[id(widget)] = callback

        def watch(self, widget: QWidget) -> None:
            self.paints[id(widget)] = 0
            widget.installEventFilter(self)

        def count(self, widget: QWidget) -> int:
            return self.paints[id(widget)]

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                if id(obj) in self.paints:
                    self.paints[id(obj)] += 1
                if id(obj) in self.once:
                    QTimer.singleShot(0, self.once.pop(id(obj)))
                if not self.first_paint and isinstance(obj, MainWindow):
                    self.first_paint = True
                    mark("first_paint")
                    QTimer.singleShot(0, painted)
            elif event.type() == QEvent.Type.Expose and "first_expose" not in marks:
                mark("first_expose")
            return False

    # The probe watches the main window (and the widgets scenarios name), not the whole
    # application: an application-wide Python event filter makes PySide wrap every object
    # that gets an event, creating the Python types (and enums) of every kind of widget
    # on the way, which costs a window with a tab bar more than a bare one (bare_window.py
    # watches its window only too).
    probe = Probe()

    def painted() -> None:
        if "painted" in marks:
            return
        mark("painted")
        result["process_cpu_ms_at_painted"] = round(time.process_time() * 1000, 1)

    def hooks_painted() -> None:
        mark("hooks_shown")
        result["process_cpu_ms_at_hooks_shown"] = round(time.process_time() * 1000, 1)
        QTimer.singleShot(500, scenarios)  # let the engine thread start and settle

    def pump_until_painted(widgets: list[QWidget], before: list[int],
                           timeout: float = 30.0) -> bool:
        deadline = time.perf_counter() + timeout
        # The Deliveries and Activity tabs read on the reads lane: a step ends once
        # its rows are back and applied (the window is idle), and painted.
        while any(probe.count(w) <= b for w, b in zip(widgets, before, strict=True)) \
                or not held["window"].is_idle():
            QApplication.processEvents()
            if time.perf_counter() > deadline:
                return False
        QApplication.processEvents()  # what the paint posted (fetch-more timer, layout)
        return True

    def store_ms(since: int) -> dict[str, float]:
        out: dict[str, float] = {}
        for n, ms in calls[since:]:
            out[n] = out.get(n, 0.0) + ms
        return {n: round(ms, 2) for n, ms in out.items()}

    def scenarios() -> None:
        window = held["window"]
        try:
            run_scenarios(window)
        except Exception as err:  # noqa: BLE001 - reported, then the window closes
            import traceback
            traceback.print_exc()
            result["error"] = f"{type(err).__name__}: {err}"
        window.close()

    def run_scenarios(window: Any) -> None:
        from PySide6.QtWidgets import QAbstractSlider
        from window_stats import dist

        window.refresher.poll_timer.stop()  # (d) measures refresh(); keep it out of the steps
        page = window.deliveries_page
        view = page.view
        probe.watch(view.viewport())
        # (b) the Deliveries tab, then page-down steps
        n0 = len(calls)
        before = [probe.count(view.viewport())]
        t = time.perf_counter()
        c = time.thread_time()
        window.tabs.setCurrentWidget(page)
        ok = pump_until_painted([view.viewport()], before)
        result["deliveries_tab_ms"] = round((time.perf_counter() - t) * 1000, 2)
        result["deliveries_tab_gui_cpu_ms"] = round((time.thread_time() - c) * 1000, 2)
        result["deliveries_tab_store_ms"] = store_ms(n0)
        result["deliveries_tab_painted"] = ok
        result["rows_per_page_step"] = view.verticalScrollBar().pageStep()
        sb = view.verticalScrollBar()
        steps: list[float] = []
        step_cpu: list[float] = []
        fetch_steps: list[float] = []
        other_steps: list[float] = []
        fetch_ms: list[float] = []
        stuck = 0
        for _ in range(args.scroll_steps):
            n0 = len(calls)
            value = sb.value()
            before = [probe.count(view.viewport())]
            t = time.perf_counter()
            c = time.thread_time()
            sb.triggerAction(QAbstractSlider.SliderAction.SliderPageStepAdd)
            moved = sb.value() != value
            if moved:
                pump_until_painted([view.viewport()], before, timeout=5.0)
            else:
                QApplication.processEvents()
            ms = (time.perf_counter() - t) * 1000
            cpu_ms = (time.thread_time() - c) * 1000
            fetches = [c for n, c in calls[n0:] if n == "list_deliveries"]
            if not moved and not fetches:
                stuck += 1
                if stuck > 3:
                    break
                continue
            steps.append(ms)
            step_cpu.append(cpu_ms)
            (fetch_steps if fetches else other_steps).append(ms)
            fetch_ms.extend(fetches)
        result["scroll"] = {"steps": dist(steps), "steps_gui_cpu": dist(step_cpu),
                            "steps_with_fetch": dist(fetch_steps),
                            "steps_without_fetch": dist(other_steps),
                            "fetchMore_query_ms": dist(fetch_ms),
                            "rows_loaded": page.model.rowCount(),
                            "all_ms": [round(x, 2) for x in steps],
                            "all_cpu_ms": [round(x, 2) for x in step_cpu]}
        # (c) the Activity tab
        act = window.activity_page
        probe.watch(act.rate_view.viewport())
        probe.watch(act.latency_view.viewport())
        n0 = len(calls)
        widgets = [act.rate_view.viewport(), act.latency_view.viewport()]
        before = [probe.count(w) for w in widgets]
        t = time.perf_counter()
        c = time.thread_time()
        window.tabs.setCurrentWidget(act)
        t_switched = time.perf_counter()
        ok = pump_until_painted(widgets, before)
        result["activity"] = {"total_ms": round((time.perf_counter() - t) * 1000, 2),
                              "tab_switch_call_ms": round((t_switched - t) * 1000, 2),
                              "gui_cpu_ms": round((time.thread_time() - c) * 1000, 2),
                              "store_ms": store_ms(n0), "painted": ok,
                              "summary": act.summary.text()}
        result["activity"]["chart_build_and_paint_ms"] = round(
            result["activity"]["total_ms"] - sum(result["activity"]["store_ms"].values()), 2)
        # (d) refresh() in each state
        refresh: dict[str, Any] = {}

        def measure(label: str, before_each: Any = None, count: int = args.refreshes) -> None:
            call_ms: list[float] = []
            cpu_call_ms: list[float] = []
            with_events_ms: list[float] = []
            n_start = len(calls)
            for _ in range(count):
                if before_each is not None:
                    before_each()
                QApplication.processEvents()
                t = time.perf_counter()
                c = time.thread_time()
                window.refresh()
                t1 = time.perf_counter()
                cpu_call_ms.append((time.thread_time() - c) * 1000)
                QApplication.processEvents()
                QApplication.processEvents()
                call_ms.append((t1 - t) * 1000)
                with_events_ms.append((time.perf_counter() - t) * 1000)
            per_call = {n: round(ms / count, 2)
                        for n, ms in store_ms(n_start).items()}
            refresh[label] = {"call": dist(call_ms), "call_gui_cpu": dist(cpu_call_ms),
                              "with_repaint": dist(with_events_ms),
                              "store_ms_per_refresh": per_call}

        measure("activity_tab")

        def force_redraw() -> None:
            window.refresher.activity_drawn = 0.0
        measure("activity_tab_with_chart_redraw", force_redraw, min(args.refreshes, 5))
        window.tabs.setCurrentWidget(page)
        QApplication.processEvents()
        measure("deliveries_tab")
        window.tabs.setCurrentIndex(0)
        QApplication.processEvents()
        measure("webhooks_tab")
        hooks = window.service.hooks()
        if hooks:
            window.select_hook(hooks[0].id)
            QApplication.processEvents()
            measure("webhooks_tab_hook_selected")
        result["refresh"] = refresh
        window.refresher.poll_timer.start()

    def timed_start(argv: Any) -> QApplication:
        app = orig_start(argv)
        mark("qapplication")
        result["platform"] = QApplication.platformName()
        return app

    orig_open_service, orig_window = ui_app.open_service, window_host.MainWindow
    orig_engine, orig_start = ui_app.engine_for, ui_app.start_application
    orig_icon, orig_choice = ui_app.set_window_icon, ui_app.start_choice

    def after_paint(step: Any) -> Any:
        # What the window does after its first paint (its 0-ms timer) starts with the
        # icon and reading which database opens: the first of them marks the paint pass
        # over, as timed_service does, so that work is not counted in the frame.
        def wrapped(*a: Any, **kw: Any) -> Any:
            painted()
            return step(*a, **kw)
        return wrapped

    ui_app.set_window_icon = after_paint(orig_icon)
    ui_app.start_choice = after_paint(orig_choice)
    ui_app.open_service = timed_service
    ui_app.start_application = timed_start
    window_host.MainWindow = TimedWindow  # type: ignore[misc]
    if args.no_engine:
        ui_app.engine_for = lambda *_a, **_k: None  # type: ignore[assignment,return-value]
    try:
        status = cli.main(["--home", args.home])  # `hookadmin --home DIR`
    finally:
        ui_app.open_service, window_host.MainWindow, ui_app.engine_for = \
            orig_open_service, orig_window, orig_engine
        ui_app.start_application = orig_start
        ui_app.set_window_icon, ui_app.start_choice = orig_icon, orig_choice
    result["exit_status"] = status
    from window_report import code_fingerprint
    result["code"] = code_fingerprint()
    base_spawn = {k: round((v - spawn) * 1000, 1) for k, v in marks.items()}
    base_app = {k: round((v - marks["qapplication"]) * 1000, 1) for k, v in marks.items()
                if v >= marks["qapplication"]}
    result["ms_from_spawn"] = base_spawn
    result["gui_thread_cpu_ms"] = {k: round(v * 1000, 1) for k, v in cpu.items()}
    result["loadavg_1min"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    result["ms_from_qapplication"] = base_app
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# -- the parent ----------------------------------------------------------------------------

def run_child(args: argparse.Namespace, home: Path, platform: str) -> dict[str, Any]:
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    cmd = [sys.executable, "-c", CHILD.format(folder=str(Path(__file__).resolve().parent),
                                              module=Path(__file__).stem),
           "--child", "--home", str(home),
           "--scroll-steps", str(args.scroll_steps), "--refreshes", str(args.refreshes)]
    if args.no_engine:
        cmd.append("--no-engine")
    # QSettings (the window's geometry) and the remembered team database are read from
    # an empty folder: the window opens at its default size, on the SQLite database.
    config = tempfile.mkdtemp(prefix="hookadmin-bench-config-")
    env = dict(os.environ, QT_QPA_PLATFORM=platform, XDG_CONFIG_HOME=config)
    env.pop("HOOKADMIN_DATABASE", None)
    env[SPAWN_ENV] = repr(time.time())
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600,
                              check=False)
    finally:
        shutil.rmtree(config, ignore_errors=True)
    for line in proc.stderr.splitlines():
        if "propagateSizeHints" not in line:
            print(f"    [{platform}] {line}", file=sys.stderr)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{SCRIPT}: the window process failed ({proc.returncode}); "
                         f"stderr:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> int:
    args = parse_args()
    if args.child:
        return child(args)
    import shutil
    import tempfile
    from pathlib import Path

    from window_data import MARKER, build, rebase
    from window_report import code_fingerprint, human, machine, summarize
    from window_stats import log

    from hookadmin.core.store import DB_FILENAME

    platforms = args.platforms.split(",") if args.platforms else \
        ["offscreen"] + (["xcb"] if os.environ.get("DISPLAY") else [])
    if os.environ.get("HOOKADMIN_TEST_SECRET_SERVICE") != "1":
        print(f"{SCRIPT}: warning: not under scripts/with-test-keyring.sh; hook secrets go into "
              "the keyring of this session", file=sys.stderr)
    created_tmp = args.home is None
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(
        prefix="hookadmin-window-", dir=args.tmpdir))
    try:
        marker = home / MARKER
        if marker.exists():
            info = json.loads(marker.read_text())
            if info["deliveries"] != args.deliveries or info["hooks"] != args.hooks:
                raise SystemExit(f"{SCRIPT}: {home} holds {info['deliveries']} deliveries over "
                                 f"{info['hooks']} hooks; choose another --home")
            log(f"reusing {home} ({info['deliveries']:,} deliveries)")
            rebase(home, info)
        elif (home / DB_FILENAME).exists():
            raise SystemExit(f"{SCRIPT}: {home} holds a database this benchmark did not build")
        else:
            log(f"building {args.deliveries:,} deliveries over {args.hooks} hooks in {home} ...")
            info = build(home, args.deliveries, args.hooks, args.seed)
            log(f"built in {info['build_seconds']} s")
        info = dict(info)
        # Open once first, so a migration of a reused database is not timed as startup.
        from hookadmin.core.store import Store
        t = time.perf_counter()
        with Store.in_home(home) as store:
            info["schema_version"] = store.schema_version
        info["first_open_s"] = round(time.perf_counter() - t, 2)
        info["db_mib"] = round((home / DB_FILENAME).stat().st_size / 2**20)
        result: dict[str, Any] = {"machine": machine(), "data": info, "code": code_fingerprint(),
                                  "engine": not args.no_engine, "platforms": {},
                                  "command": " ".join(sys.argv), "targets": TARGETS}
        for platform in platforms:
            runs = []
            for i in range(args.runs):
                log(f"{platform}: window process {i + 1}/{args.runs} ...")
                runs.append(run_child(args, home, platform))
                err = runs[-1].get("error")
                if err:
                    log(f"  scenario error: {err}")
            result["platforms"][platform] = {"summary": summarize(runs), "runs": runs}
    finally:
        if created_tmp and not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        elif created_tmp:
            log(f"kept {home}")
    if args.json == "-":
        print(json.dumps(result, indent=2))
    else:
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        human(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
