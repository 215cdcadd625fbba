"""Summarise a py-spy raw profile (collapsed stacks) of the delivery engine.

    .venv/bin/python benchmarks/profile_summary.py /tmp/engine.raw [--json]

``throughput.py --profile FILE`` records one (``py-spy record -f raw``) and calls this.
Shows, as shares of the samples where Python was running (py-spy drops idle samples):

* **where**: self time by area (the leaf frame's library; time spent inside SQLite's C
  code is charged to the ``hookadmin/core/store.py`` line that called it);
* **what**: inclusive time of the engine's steps (claim, sign, post, record, fan-out ...);
* the hottest leaf lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# (area, substrings of the file name); first match wins.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hookadmin store (SQLite, incl. its C time)", ("hookadmin/core/store",)),
    ("hookadmin signing", ("hookadmin/core/signing.py",)),
    ("hookadmin engine loop", ("hookadmin/delivery/engine.py",)),
    ("hookadmin dispatcher", ("hookadmin/delivery/dispatcher.py",)),
    ("hookadmin sender, secret cache, sessions",
     ("hookadmin/delivery/sender.py", "hookadmin/delivery/secret_cache.py",
      "hookadmin/delivery/session_pool.py")),
    ("hookadmin http (send/classify)", ("hookadmin/delivery/http.py",)),
    ("hookadmin bookkeeping (pipe, wire)", ("hookadmin/delivery/bookkeeping",
                                            "hookadmin/delivery/bookkeeper.py")),
    ("hookadmin other", ("hookadmin/",)),
    ("httpx-aiohttp transport", ("httpx_aiohttp/",)),
    ("httpx", ("httpx/",)),
    ("aiohttp", ("aiohttp/",)),
    ("yarl / multidict", ("yarl/", "multidict/")),
    ("asyncio event loop", ("asyncio/",)),
    ("uvloop", ("uvloop/",)),
    ("selectors (epoll)", ("selectors.py",)),
    ("hmac / hashlib", ("hmac.py", "hashlib.py")),
    ("json", ("json/",)),
    ("uuid", ("uuid.py",)),
    ("keyring / D-Bus", ("keyring/", "secretstorage/", "jeepney/")),
    ("threads", ("threading.py", "concurrent/")),
    ("logging", ("logging/",)),
    ("benchmark harness", ("benchmarks/", "benchlib.py", "throughput.py", "multiprocessing/")),
)

# (label, function name, file substring): inclusive time of the engine's steps.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("senders (one slot each: attempt, end, take next)", "_send_from",
     "hookadmin/delivery/engine.py"),
    ("  Sender.attempt (one attempt, all of it)", "attempt", "hookadmin/delivery/sender.py"),
    ("    delivery_headers (signing)", "delivery_headers", "hookadmin/core/signing.py"),
    ("    http.send (aiohttp POST, record)", "send", "hookadmin/delivery/http.py"),
    ("      AttemptRecord built (_attempt)", "_attempt", "hookadmin/delivery/http.py"),
    ("  dispatcher (take, end)", "take_next", "hookadmin/delivery/dispatcher.py"),
    ("engine main loop (turns)", "loop", "hookadmin/delivery/engine.py"),
    ("  bookkeeper turn (wire out, pipe, wire in)", "turn",
     "hookadmin/delivery/bookkeeping"),
    ("    Finished.to_wire", "to_wire", "hookadmin/delivery/bookkeeping_wire.py"),
    ("  _apply_turn (report, queue claimed)", "_apply_turn", "hookadmin/delivery/engine.py"),
    ("    _report (on_attempt)", "_report", "hookadmin/delivery/engine.py"),
    ("    job_from_wire", "job_from_wire", "hookadmin/delivery/bookkeeping_wire.py"),
    ("  _start_ready (new senders)", "_start_ready", "hookadmin/delivery/engine.py"),
    ("keyring reads (in worker threads)", "get_many", "hookadmin/core/secrets.py"),
    ("aiohttp ClientSession._request", "_request", "aiohttp/client.py"),
    ("asyncio create_task / Task.__step", "__step", "asyncio/tasks.py"),
    ("asyncio BaseEventLoop._run_once", "_run_once", "asyncio/base_events.py"),
    ("epoll select (Python side)", "select", "selectors.py"),
)


def parse(text: str) -> list[tuple[list[tuple[str, str, str]], int]]:
    """Collapsed stacks → [(frames root→leaf as (func, file, line), samples)]."""
    out = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or " " not in line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack.strip():
            continue
        frames = []
        for part in stack.split(";"):
            m = _FRAME.match(part.strip())
            if m:
                frames.append((m["func"], m["file"], m["line"] or ""))
            else:
                frames.append((part.strip(), "", ""))
        out.append((frames, int(count)))
    return out


def _named(func: str, name: str) -> bool:
    """py-spy names methods ``Class.method``; match either form."""
    return func == name or func.endswith("." + name)


def area_of(file: str) -> str:
    for area, needles in AREAS:
        if any(n in file for n in needles):
            return area
    return f"other ({Path(file).name or '?'})"


def summarize(text: str, *, top: int = 15) -> dict[str, Any]:
    """The summary as data plus a ``text`` rendering."""
    stacks = parse(text)
    total = sum(n for _, n in stacks)
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for frames, n in stacks:
        func, file, line = frames[-1]
        areas[area_of(file)] += n
        leaves[f"{func} ({file}:{line})"] += n
        hit = {label for label, fn, where in STEPS
               if any(_named(f, fn) and where in fl for f, fl, _ in frames)}
        for label in hit:
            steps[label] += n

    def pct(n: int) -> float:
        return round(100.0 * n / total, 1) if total else 0.0

    lines = [f"py-spy profile: {total} samples while running (idle samples dropped)",
             "", "self time by area:"]
    lines += [f"  {pct(n):5.1f}%  {a}" for a, n in areas.most_common()]
    lines += ["", "inclusive time of engine steps:"]
    lines += [f"  {pct(steps[label]):5.1f}%  {label}" for label, _, _ in STEPS if steps[label]]
    lines += ["", f"hottest {top} leaf lines (self time):"]
    lines += [f"  {pct(n):5.1f}%  {leaf}" for leaf, n in leaves.most_common(top)]
    return {
        "samples": total,
        "self_by_area_pct": {a: pct(n) for a, n in areas.most_common()},
        "inclusive_steps_pct": {label: pct(steps[label]) for label, _, _ in STEPS
                                if steps[label]},
        "top_leaves_pct": {leaf: pct(n) for leaf, n in leaves.most_common(top)},
        "text": "\n".join(lines),
    }


_PROCESS = re.compile(r'^process (?P<pid>\d+):"')


def split_processes(text: str) -> dict[str, str]:
    """A profile recorded with ``--subprocesses`` → {"PID command": its stacks}; a
    profile of one process → {"": text}. A stack starts with one ``process PID:"CMD"``
    frame per process from the recorded one down to its own (a command line may hold
    ``;`` and quotes, but not ``";``)."""
    out: dict[str, list[str]] = {}
    for raw in text.splitlines():
        rest, key = raw, ""
        while (m := _PROCESS.match(rest)) and '";' in rest:
            cmd, _, rest = rest[m.end():].partition('";')
            key = f"{m['pid']} {cmd[:80]}"  # the innermost process names the stack
        out.setdefault(key, []).append(rest)
    return {k: "\n".join(v) for k, v in out.items()}


def summarize_processes_file(path: str | Path, *, top: int = 15) -> dict[str, Any]:
    """Each process's summary (see :func:`summarize`), most samples first, and a
    ``text`` rendering of all of them."""
    parts = split_processes(Path(path).read_text(errors="replace"))
    per = {k: summarize(v, top=top) for k, v in parts.items()}
    order = sorted(per, key=lambda k: -per[k]["samples"])
    text = "\n\n".join((f"== process {k} ==\n" if k else "") + per[k]["text"] for k in order)
    return {"processes": {k: {kk: vv for kk, vv in per[k].items() if kk != "text"}
                          for k in order}, "text": text}


def summarize_file(path: str | Path, *, top: int = 15) -> dict[str, Any]:
    return summarize(Path(path).read_text(errors="replace"), top=top)


def main() -> int:
    p = argparse.ArgumentParser(description="Summarise a py-spy raw (collapsed) profile of "
                                            "the hookadmin engine.")
    p.add_argument("file", help="the output of `py-spy record -f raw -o FILE ...`")
    p.add_argument("--top", type=int, default=15, help="how many leaf lines to list")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args()
    result = summarize_processes_file(args.file, top=args.top)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    else:
        print(result["text"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
