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
    ("hookadmin store (SQLite, incl. its C time)", ("hookadmin/core/store.py",)),
    ("hookadmin signing", ("hookadmin/core/signing.py",)),
    ("hookadmin engine", ("hookadmin/delivery/engine.py",)),
    ("hookadmin http (post/classify)", ("hookadmin/delivery/http.py",)),
    ("hookadmin other", ("hookadmin/",)),
    ("httpx-aiohttp transport", ("httpx_aiohttp/",)),
    ("httpx", ("httpx/",)),
    ("aiohttp", ("aiohttp/",)),
    ("yarl / multidict", ("yarl/", "multidict/")),
    ("asyncio event loop", ("asyncio/",)),
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
    ("_deliver tasks (one delivery each, all of it)", "_deliver", "hookadmin/delivery/engine.py"),
    ("    store.get_hook (per delivery)", "get_hook", "hookadmin/core/store.py"),
    ("    _secret (cache / keyring)", "_secret", "hookadmin/delivery/engine.py"),
    ("    delivery_headers (signing)", "delivery_headers", "hookadmin/core/signing.py"),
    ("    http.post (httpx + transport)", "post", "hookadmin/delivery/http.py"),
    ("    _record (bookkeeping)", "_record", "hookadmin/delivery/engine.py"),
    ("      store.record_attempt (SQLite tx)", "record_attempt", "hookadmin/core/store.py"),
    ("keyring reads (SecretStore, in worker threads)", "get_optional",
     "hookadmin/core/secrets.py"),
    ("engine main loop (claim, fan-out, reap, leases)", "loop", "hookadmin/delivery/engine.py"),
    ("  _start_due (claim)", "_start_due", "hookadmin/delivery/engine.py"),
    ("    store.claim_due (SQLite tx)", "claim_due", "hookadmin/core/store.py"),
    ("  store.fan_out", "fan_out", "hookadmin/core/store.py"),
    ("  _reap", "_reap", "hookadmin/delivery/engine.py"),
    ("  _renew_leases_when_due", "_renew_leases_when_due", "hookadmin/delivery/engine.py"),
    ("  _idle (count queries)", "_idle", "hookadmin/delivery/engine.py"),
    ("httpx AsyncClient.send", "send", "httpx/_client.py"),
    ("httpx-aiohttp handle_async_request", "handle_async_request", "httpx_aiohttp/"),
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


def summarize_file(path: str | Path, *, top: int = 15) -> dict[str, Any]:
    return summarize(Path(path).read_text(errors="replace"), top=top)


def main() -> int:
    p = argparse.ArgumentParser(description="Summarise a py-spy raw (collapsed) profile of "
                                            "the hookadmin engine.")
    p.add_argument("file", help="the output of `py-spy record -f raw -o FILE ...`")
    p.add_argument("--top", type=int, default=15, help="how many leaf lines to list")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args()
    result = summarize_file(args.file, top=args.top)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2))
    else:
        print(result["text"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
