"""The data set of ``window_startup.py``: a data directory with ``--hooks`` hooks made
through the service layer and ``--deliveries`` deliveries inserted directly (see that
script's docstring), and the rebasing of a reused one's times to now."""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from window_stats import log

MARKER = "window_startup.json"
DAY = 86400.0
BATCH = 50_000

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def _bodies() -> list[tuple[str, bytes]]:
    """(event type, body) pairs: the real fixtures where present, else a small JSON."""
    pairs = []
    for name, type_ in (("job-completed.json", "job.completed"),
                        ("job-failed-unicode.json", "job.failed"),
                        ("cluster-available.json", "cluster.available"),
                        ("cluster-error.json", "cluster.error")):
        path = FIXTURES / name
        body = path.read_bytes() if path.exists() else json.dumps(
            {"id": 1, "type": type_, "detail": "x" * 900}).encode()
        pairs.append((type_, body))
    return pairs


def build(home: Path, n: int, n_hooks: int, seed: int) -> dict[str, Any]:
    """Create the data directory: hooks through the service, deliveries by executemany."""
    from hookadmin.core.service import HookService
    from hookadmin.core.store import DB_FILENAME

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with HookService(home) as service:
        hooks = [service.create_hook(url=f"http://127.0.0.1:9/hooks/receiver-{i:02d}",
                                     name=f"Receiver {i:02d}", events=["job", "cluster"])
                 for i in range(1, n_hooks + 1)]
    hook_ids = [h.id for h in hooks]
    hook_urls = {h.id: h.url for h in hooks}
    db = sqlite3.connect(home / DB_FILENAME, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1048576")  # 1 GiB for the build only
    now = time.time()
    start = now - DAY
    bodies = _bodies()
    events = []
    db.execute("BEGIN")
    for i in range(64):
        type_, body = bodies[i % len(bodies)]
        cur = db.execute("INSERT INTO events (id, type, body, occurred_at, fanned_out)"
                         " VALUES (?, ?, ?, ?, 1)", (str(uuid.uuid4()), type_, body,
                                                     start + i * DAY / 64))
        events.append((cur.lastrowid, type_))
    db.execute("COMMIT")
    seq = db.execute("SELECT coalesce(max(seq), 0) FROM deliveries").fetchone()[0]
    counts = {"succeeded": 0, "failed": 0, "pending": 0}
    sig = "0123456789abcdef" * 4
    failures = ((500, "http_status", "The receiver answered with an error status."),
                (502, "http_status", "The receiver answered with an error status."),
                (503, "http_status", "The receiver answered with an error status."),
                (404, "http_status", "The receiver answered with an error status."),
                (None, "timeout", "The receiver did not answer within 15 s."),
                (None, "connect", "The connection was refused."))
    resp_headers = json.dumps([["Content-Type", "application/json"], ["Content-Length", "16"],
                               ["Server", "nginx"]])
    done = 0
    while done < n:
        size = min(BATCH, n - done)
        deliveries = []
        attempts = []
        for k in range(size):
            i = done + k
            seq += 1
            created = start + (i + rng.random()) * DAY / n
            event_seq, type_ = events[rng.randrange(len(events))]
            hook_id = hook_ids[rng.randrange(len(hook_ids))]
            did = str(uuid.uuid4())
            started = created + rng.random() * 0.05
            r = rng.random()
            next_at = None
            if r < 0.93:
                status = "succeeded"
                code, kind, message = (204 if rng.random() < 0.2 else 200), None, None
                ms = rng.lognormvariate(4.0, 0.6)  # ~55 ms median
                body: bytes | None = b'{"received":true}'
            else:
                status = "failed" if r < 0.98 else "pending"
                code, kind, message = failures[rng.randrange(len(failures))]
                ms = 15000.0 if kind == "timeout" else rng.lognormvariate(3.0, 0.8)
                body = b'{"error":"unavailable"}' if code is not None else None
                if status == "pending":
                    next_at = now + 3600 + rng.random() * 9 * 3600
            counts[status] += 1
            updated = started + ms / 1000.0
            headers = json.dumps({
                "Content-Type": "application/json", "User-Agent": "hookadmin/1.0",
                "X-Hook-Event": type_, "X-Hook-Delivery": did,
                "X-Hook-Signature": f"sha256={sig}", "webhook-id": did,
                "webhook-timestamp": str(int(started)),
                "webhook-signature": "v1,c2lnbmF0dXJlLW9mLXRoZS1ib2R5LWZvci1iZW5jaG1hcms="})
            deliveries.append((seq, did, event_seq, hook_id, type_, status, 1, next_at, code,
                               kind, ms, created, updated))
            attempts.append((seq, 1, started, ms, hook_urls[hook_id], headers, code,
                             resp_headers if code is not None else None, body,
                             kind, message, next_at))
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO deliveries (seq, id, event_seq, hook_id, event_type, status, attempts,"
            " next_attempt_at, last_status_code, last_error_kind, last_duration_ms,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            deliveries)
        db.executemany(
            "INSERT INTO attempts (delivery_seq, number, started_at, duration_ms, request_url,"
            " request_headers, status_code, response_headers, response_body,"
            " response_truncated, error_kind, error_message, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)", attempts)
        db.execute("COMMIT")
        done += size
        if done % 200_000 == 0 or done == n:
            log(f"  {done:,} deliveries inserted ({time.perf_counter() - t0:.0f} s)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    info = {"deliveries": n, "hooks": n_hooks, "seed": seed, "built_at": now,
            "build_seconds": round(time.perf_counter() - t0, 1), "status_counts": counts}
    (home / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    return info


def rebase(home: Path, info: dict[str, Any]) -> None:
    """Move every time in a reused database forward by its age, so the last 24 h still
    hold the history and no pending delivery has fallen due."""
    from hookadmin.core.store import DB_FILENAME

    shift = time.time() - float(info["built_at"])
    if shift < 600:
        return
    log(f"rebasing the reused database's times by {shift / 3600:.1f} h ...")
    t0 = time.perf_counter()
    db = sqlite3.connect(home / DB_FILENAME, isolation_level=None)
    db.execute("BEGIN")
    db.execute("UPDATE deliveries SET created_at = created_at + ?1, updated_at = updated_at + ?1,"
               " next_attempt_at = next_attempt_at + ?1", (shift,))
    db.execute("UPDATE attempts SET started_at = started_at + ?1,"
               " next_attempt_at = next_attempt_at + ?1", (shift,))
    db.execute("UPDATE events SET occurred_at = occurred_at + ?1", (shift,))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    info["built_at"] = float(info["built_at"]) + shift
    (home / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    log(f"  rebased in {time.perf_counter() - t0:.0f} s")
