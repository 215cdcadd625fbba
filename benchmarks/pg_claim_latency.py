"""Claim latency of the PostgreSQL store with 1,000,000 pending deliveries.

Run by hand from the repository root, under the throw-away test cluster::

    scripts/with-test-postgres.sh .venv/bin/python benchmarks/pg_claim_latency.py
    ... benchmarks/pg_claim_latency.py --deliveries 100000 --claims 100   # a quick run

Set-up (not timed): a new database on the cluster of ``--database`` (default
``$HOOKADMIN_TEST_POSTGRES_URL``; the user must be allowed to create databases), with
hookadmin's schema, ``--hooks`` active hooks and ``--deliveries`` pending deliveries
made by SQL (``generate_series``: one event per ``--hooks`` deliveries, due over the
last hour), then ``VACUUM ANALYZE``. The database is dropped at the end.

Timed: ``PostgresStore.claim_due`` as an engine's bookkeeper calls it (room 64, 40 per
hook = ``claimed_per_hook``, 10 s leases), ``--claims`` times per phase. After each
claim (not timed) the claimed deliveries are recorded as sent, so the next claim
finds the queue's head moved on, as in a real run. Phases:

* ``few hooks``: all but 8 hooks skipped (full), so the claim seeks each eligible
  hook's oldest due deliveries in ``deliveries_due_by_hook``;
* ``many hooks``: every hook eligible (more than 32), so the claim reads the oldest due
  deliveries in time order from ``deliveries_due``.

Also printed: each phase's query plan (``EXPLAIN``), which must be an index scan.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import benchlib
import psycopg
from psycopg import sql

from hookadmin.core.store import AttemptRecord
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.core.store.postgres import sql as postgres_sql

SCRIPT = "pg_claim_latency.py"
URL_ENV = "HOOKADMIN_TEST_POSTGRES_URL"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Claim latency with a million pending deliveries (run under: "
                    "scripts/with-test-postgres.sh .venv/bin/python "
                    "benchmarks/pg_claim_latency.py).")
    p.add_argument("--database", default=os.environ.get(URL_ENV),
                   help=f"a postgresql:// URL of the cluster (default ${URL_ENV})")
    p.add_argument("--deliveries", type=int, default=1_000_000,
                   help="pending deliveries (default 1000000)")
    p.add_argument("--hooks", type=int, default=40, help="hooks (default 40, > 32)")
    p.add_argument("--claims", type=int, default=300, help="claims per phase (default 300)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout instead of the table; with FILE, "
                        "write the JSON there and print the table too")
    return p.parse_args()


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def fill(url: str, hooks: int, deliveries: int) -> dict[str, float]:
    """Schema, hooks and pending deliveries, by SQL; returns the set-up times (s)."""
    t0 = time.monotonic()
    PostgresStore.init(url).close()
    events = -(-deliveries // hooks)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("INSERT INTO hooks (name, url, events, created_at, updated_at)"
                   " SELECT 'h' || n, 'http://127.0.0.1:9/h' || n, '[\"job\"]',"
                   " '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'"
                   " FROM generate_series(1, %s) n", (hooks,))
        now = time.time()
        db.execute("INSERT INTO events (id, type, body, occurred_at, fanned_out)"
                   " SELECT gen_random_uuid()::text, 'job.completed',"
                   " convert_to('{\"id\": ' || n || ', \"status\": \"completed\"}', 'UTF8'),"
                   " %s - 3600 + n * 3600.0 / %s, true FROM generate_series(1, %s) n",
                   (now, events, events))
        db.execute("INSERT INTO deliveries (event_seq, hook_id, event_type, next_attempt_at,"
                   " created_at, updated_at)"
                   " SELECT e.seq, h.id, e.type, e.occurred_at, e.occurred_at, e.occurred_at"
                   " FROM events e CROSS JOIN hooks h ORDER BY e.seq, h.id LIMIT %s",
                   (deliveries,))
        t1 = time.monotonic()
        db.execute("VACUUM ANALYZE")
    return {"fill_s": round(t1 - t0, 1), "vacuum_analyze_s": round(time.monotonic() - t1, 1)}


def _sent() -> AttemptRecord:
    return AttemptRecord(started_at=time.time(), duration_ms=1.0, request_url="http://x/",
                         request_headers={}, status_code=204, response_headers=[],
                         response_body=b"", response_truncated=False, error_kind=None,
                         error_message=None)


def plan(url: str, many: bool, eligible: list[int]) -> str:
    """The claim's row query under EXPLAIN (the SQL postgres_store runs)."""
    now = time.time()
    with psycopg.connect(url) as db:
        if many:
            query = postgres_sql.WINDOW
            params: tuple[Any, ...] = (now, now, eligible, False, [], 128)
            rows = db.execute("EXPLAIN " + query, params).fetchall()
        else:  # at most 32 hooks: sought and leased in one statement
            rows = db.execute("EXPLAIN " + postgres_sql.SEEK_AND_LEASE, {
                "hooks": eligible, "counts": [40] * len(eligible), "now": now,
                "fresh_all": False, "fresh": [], "limit": 64, "until": now + 10}).fetchall()
        db.rollback()
    return "\n".join(r[0] for r in rows)


def phase(store: PostgresStore, claims: int, skip: list[int]) -> dict[str, Any]:
    times: list[float] = []
    claimed = 0
    for _ in range(claims):
        t0 = time.perf_counter()
        jobs = store.claim_due(now=time.time(), lease_seconds=10.0, limit=64,
                               skip_hooks=skip, per_hook_limit=40, in_flight={})
        times.append((time.perf_counter() - t0) * 1e3)
        claimed += len(jobs)
        store.record_attempts([(job, _sent(), None) for job in jobs])
    times.sort()
    return {"claims": claims, "claimed": claimed,
            "p50_ms": round(benchlib.percentile(times, 50), 2),
            "p95_ms": round(benchlib.percentile(times, 95), 2),
            "p99_ms": round(benchlib.percentile(times, 99), 2),
            "max_ms": round(times[-1], 2),
            "per_delivery_us": round(sum(times) * 1e3 / max(claimed, 1), 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    name = f"hookadmin_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.database, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        server = admin.execute("SHOW server_version").fetchone()
    url = _with_database(args.database, name)
    try:
        benchlib.log(f"filling {args.deliveries} deliveries for {args.hooks} hooks")
        setup = fill(url, args.hooks, args.deliveries)
        benchlib.log(f"filled in {setup}")
        phases = []
        with PostgresStore(url) as store:
            hooks = [h.id for h in store.list_hooks()]
            pending = store.pending_count()
            for label, skip in (("few hooks", hooks[8:]), ("many hooks", [])):
                eligible = [h for h in hooks if h not in skip]
                query_plan = plan(url, not skip, eligible)
                result = phase(store, args.claims, skip)
                phases.append({"phase": label, "eligible_hooks": len(eligible),
                               "plan": query_plan, **result})
                benchlib.log(f"{label}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
    finally:
        with psycopg.connect(args.database, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
    return {"server_version": server[0] if server else "?", "pending_at_start": pending,
            **setup, "phases": phases}


def human(result: dict[str, Any]) -> None:
    benchlib.print_machine(result["machine"], result)
    p = result["params"]
    print(f"\nPostgreSQL {result['server_version']}: {result['pending_at_start']} pending "
          f"deliveries for {p['hooks']} hooks (filled in {result['fill_s']} s, VACUUM "
          f"ANALYZE {result['vacuum_analyze_s']} s); claim_due(limit=64, per_hook_limit=40)\n")
    rows = [[x["phase"], x["eligible_hooks"], x["claims"], x["claimed"], x["p50_ms"],
             x["p95_ms"], x["p99_ms"], x["max_ms"], x["per_delivery_us"]]
            for x in result["phases"]]
    benchlib.print_table(["phase", "eligible hooks", "claims", "claimed", "p50 ms", "p95 ms",
                          "p99 ms", "max ms", "µs/delivery"], rows)
    for x in result["phases"]:
        print(f"\nplan, {x['phase']}:\n{x['plan']}")


def main() -> int:
    args = parse_args()
    if not args.database:
        print(f"{SCRIPT}: no database: run it under scripts/with-test-postgres.sh, or give "
              "--database postgresql://USER@HOST/DB of a cluster where you may create "
              "databases.", file=sys.stderr)
        return 2
    if args.deliveries < 1 or args.hooks < 9 or args.claims < 1:
        print(f"{SCRIPT}: --deliveries and --claims must be >= 1 and --hooks >= 9",
              file=sys.stderr)
        return 2
    info = benchlib.machine_info()
    out = run(args)
    result = {"benchmark": "pg_claim_latency", "machine": info,
              "command": " ".join([Path(sys.executable).name, *sys.argv]),
              "params": {"deliveries": args.deliveries, "hooks": args.hooks,
                         "claims": args.claims}, **out}
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
