"""What ``window_startup.py``'s parent makes of its window processes: the code and the
machine measured, the medians over the runs, and the tables it prints."""

from __future__ import annotations

import os
import sqlite3
import statistics
from pathlib import Path
from typing import Any

from window_stats import dist


def code_fingerprint() -> dict[str, str]:
    """Where the imported hookadmin lives and a hash of its .py files: the tree is edited
    by others while this runs, so say exactly what was measured."""
    import hashlib

    import hookadmin

    root = Path(hookadmin.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return {"path": str(root), "sha256": digest.hexdigest()[:12]}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(get: Any) -> float | None:
        values = [v for v in (get(r) for r in runs) if v is not None]
        return round(statistics.median(values), 1) if values else None
    all_steps = [x for r in runs for x in r["scroll"]["all_ms"]]
    return {
        "spawn_to_painted_ms": med(lambda r: r["ms_from_spawn"].get("painted")),
        "spawn_to_first_paint_ms": med(lambda r: r["ms_from_spawn"].get("first_paint")),
        "qapp_to_painted_ms": med(lambda r: r["ms_from_qapplication"].get("painted")),
        "window_init_ms": med(lambda r: r.get("window_init_ms")),
        "frame_init_ms": med(lambda r: r.get("frame_init_ms")),
        "spawn_to_hooks_shown_ms": med(lambda r: r["ms_from_spawn"].get("hooks_shown")),
        "spawn_to_ready_ms": med(lambda r: r["ms_from_spawn"].get("ready")),
        "gui_cpu_at_hooks_shown_ms": med(lambda r: r["gui_thread_cpu_ms"].get("hooks_shown")),
        "process_cpu_at_hooks_shown_ms": med(lambda r: r.get("process_cpu_ms_at_hooks_shown")),
        "deliveries_tab_ms": med(lambda r: r.get("deliveries_tab_ms")),
        "scroll_steps": dist(all_steps),
        "scroll_steps_gui_cpu": dist([x for r in runs for x in r["scroll"]["all_cpu_ms"]]),
        "gui_cpu_at_painted_ms": med(lambda r: r["gui_thread_cpu_ms"].get("painted")),
        "gui_cpu_qapp_to_painted_ms": med(
            lambda r: r["gui_thread_cpu_ms"]["painted"] - r["gui_thread_cpu_ms"]["qapplication"]),
        "process_cpu_at_painted_ms": med(lambda r: r.get("process_cpu_ms_at_painted")),
        "activity_gui_cpu_ms": med(lambda r: r["activity"]["gui_cpu_ms"]),
        "activity_tab_ms": med(lambda r: r["activity"]["total_ms"]),
        "activity_query_ms": med(lambda r: r["activity"]["store_ms"].get("activity")),
        "refresh_call_p50_ms": {k: med(lambda r, k=k: r["refresh"][k]["call"]["p50"])
                                for k in runs[0]["refresh"]},
        "refresh_call_max_ms": {k: max(r["refresh"][k]["call"]["max"] for r in runs)
                                for k in runs[0]["refresh"]},
        "refresh_gui_cpu_p50_ms": {k: med(lambda r, k=k: r["refresh"][k]["call_gui_cpu"]["p50"])
                                   for k in runs[0]["refresh"]},
        "loadavg_1min": [r["loadavg_1min"] for r in runs],
    }


def machine() -> dict[str, Any]:
    import platform as pf

    from PySide6 import QtCore

    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"
    return {"nproc": os.cpu_count(), "cpu_model": first("/proc/cpuinfo", "model name"),
            "memory": first("/proc/meminfo", "MemTotal"), "python": pf.python_version(),
            "pyside6": QtCore.__version__, "qt": QtCore.qVersion(),
            "sqlite": sqlite3.sqlite_version, "os": f"Linux {pf.release()}",
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "display": os.environ.get("DISPLAY")}


def human(result: dict[str, Any]) -> None:
    m = result["machine"]
    print(f"machine: {m['nproc']} cores ({m['cpu_model']}), {m['memory']}, Python "
          f"{m['python']}, PySide6 {m['pyside6']} / Qt {m['qt']}, SQLite {m['sqlite']}")
    d = result["data"]
    print(f"code: {result['code']['path']} (sha256 of its .py {result['code']['sha256']})")
    print(f"data: {d['deliveries']:,} deliveries over {d['hooks']} hooks {d['status_counts']}, "
          f"database {d.get('db_mib')} MiB; engine {'on' if result['engine'] else 'off'}")
    for platform, block in result["platforms"].items():
        s = block["summary"]
        print(f"\n== {platform} ({len(block['runs'])} runs; medians) ==")
        print(f"(a) spawn -> window painted      {s['spawn_to_painted_ms']} ms "
              f"(first paint event {s['spawn_to_first_paint_ms']} ms; from QApplication "
              f"{s['qapp_to_painted_ms']} ms; MainWindow() frame {s['frame_init_ms']} ms)")
        print(f"    CPU by then: GUI thread {s['gui_cpu_at_painted_ms']} ms (from QApplication "
              f"{s['gui_cpu_qapp_to_painted_ms']} ms), process "
              f"{s['process_cpu_at_painted_ms']} ms; 1-min load at start/end of each run "
              f"{s['loadavg_1min']}")
        print(f"    spawn -> hooks listed and painted (usable) {s['spawn_to_hooks_shown_ms']} ms "
              f"(ready {s['spawn_to_ready_ms']} ms; complete() {s['window_init_ms']} ms); CPU "
              f"by then: GUI thread {s['gui_cpu_at_hooks_shown_ms']} ms, process "
              f"{s['process_cpu_at_hooks_shown_ms']} ms")
        for i, r in enumerate(block["runs"], 1):
            f = r["ms_from_spawn"]
            print(f"    run {i}: " + ", ".join(f"{k} {v}" for k, v in f.items())
                  + f"; MainWindow() store calls {r['window_init_store_ms']}"
                  + (f"; keyring check {r['keyring_check_ms']} ms" if "keyring_check_ms" in r
                     else f"; keyring usable {r.get('keyring_usable')}"))
        print(f"(b) Deliveries tab shown          {s['deliveries_tab_ms']} ms")
        st = s["scroll_steps"]
        print(f"    page-down steps: n={st['n']} p50 {st['p50']} ms, p95 {st['p95']} ms, "
              f"max {st['max']} ms")
        sc = s["scroll_steps_gui_cpu"]
        print(f"    GUI-thread CPU per step: p50 {sc['p50']} ms, p95 {sc['p95']} ms, "
              f"max {sc['max']} ms")
        r0 = block["runs"][0]["scroll"]
        print(f"    run 1: with fetchMore {r0['steps_with_fetch']}, without "
              f"{r0['steps_without_fetch']}, list_deliveries {r0['fetchMore_query_ms']}, "
              f"rows loaded {r0['rows_loaded']}")
        print(f"(c) Activity tab shown            {s['activity_tab_ms']} ms "
              f"(query {s['activity_query_ms']} ms; GUI-thread CPU {s['activity_gui_cpu_ms']} ms)")
        print("(d) refresh()                     p50 / max ms (GUI CPU p50); store ms per "
              "refresh (run 1)")
        for k, v in s["refresh_call_p50_ms"].items():
            print(f"    {k:32s} {v} / {s['refresh_call_max_ms'][k]} "
                  f"({s['refresh_gui_cpu_p50_ms'][k]})   "
                  f"{block['runs'][0]['refresh'][k]['store_ms_per_refresh']}")
