"""Which index each of hookadmin's SQLite statements uses (``EXPLAIN QUERY PLAN``).

Two steps, run by hand from the repository root:

1. Record the statements the code runs, with a few of their parameter sets, by running
   tests with ``benchmarks/sql_recording`` on ``PYTHONPATH`` (its ``sitecustomize``
   wraps the store's connection class and writes ``PID.pickle`` into
   ``$HOOKADMIN_SQL_LOG_DIR`` as each process exits)::

       mkdir -p /tmp/sql && HOOKADMIN_SQL_LOG_DIR=/tmp/sql PYTHONPATH=benchmarks/sql_recording \\
         dbus-run-session -- scripts/with-test-keyring.sh scripts/with-test-postgres.sh \\
         env QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/core tests/delivery \\
         tests/ui tests/test_cli.py -q -p no:cacheprovider

2. Explain each recorded statement that reads or writes ``deliveries``, ``attempts``
   or ``activity_minutes`` against a fresh database of the current schema, and list
   per index the statements whose plan uses it, and the indexes no plan uses::

       .venv/bin/python benchmarks/query_plans.py /tmp/sql [--json FILE]

hookadmin runs no ``ANALYZE``, so SQLite plans from the schema alone and a fresh
database gives the plans a full one gets. An index that no plan names may still be
needed for a constraint (``UNIQUE``) or by a statement no test ran: read the list, do
not drop by it blindly.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import sqlite3
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from hookadmin.core.store import DB_FILENAME, open_store

TABLES = ("deliveries", "attempts", "activity_minutes")
_SKIP = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|CREATE|DROP|ALTER"
                   r"|ANALYZE|VACUUM|EXPLAIN)\b", re.IGNORECASE)



def load(folder: Path) -> dict[str, list[Any]]:
    """Every recorded statement → up to three of its parameter sets."""
    out: dict[str, list[Any]] = {}
    for f in sorted(folder.glob("*.pickle")):
        with f.open("rb") as fh:
            part: dict[str, list[Any]] = pickle.load(fh)
        for sql, params in part.items():
            have = out.setdefault(sql, [])
            have.extend(p for p in params if len(have) < 3)
    return out


def indexes(db: sqlite3.Connection) -> dict[str, str]:
    """Index name → its table, for :data:`TABLES`."""
    return {name: table for name, table in db.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")
        if table in TABLES}


def explain(db: sqlite3.Connection, sql: str, params: Any) -> list[str]:
    """The plan's lines, or one line starting with ``error:``."""
    try:
        return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params)]
    except sqlite3.Error as err:
        return [f"error: {err}"]


def main() -> int:
    p = argparse.ArgumentParser(description="Which index each recorded SQLite statement "
                                            "uses, and which indexes none uses.")
    p.add_argument("folder", type=Path, help="the recording's folder ($HOOKADMIN_SQL_LOG_DIR)")
    p.add_argument("--json", metavar="FILE", help="also write the plans as JSON to FILE")
    args = p.parse_args()
    recorded = load(args.folder)
    if not recorded:
        print(f"query_plans.py: nothing recorded in {args.folder}; run the tests with "
              "benchmarks/sql_recording on PYTHONPATH first", file=sys.stderr)
        return 2
    used: dict[str, list[str]] = defaultdict(list)
    plans: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        open_store(Path(tmp)).close()
        db = sqlite3.connect(Path(tmp) / DB_FILENAME)
        known = indexes(db)
        for sql, params in sorted(recorded.items()):
            if _SKIP.match(sql) or not any(t in sql for t in TABLES):
                continue
            lines = explain(db, sql, params[0] if params else ())
            plans[sql] = lines
            for line in lines:
                for m in re.finditer(r"INDEX (\w+)", line):
                    used[m[1]].append(" ".join(sql.split())[:160])
        db.close()
    for sql, lines in plans.items():
        print(" ".join(sql.split())[:300])
        for line in lines:
            print(f"    {line}")
    print("\nindexes and the statements that use them:")
    for name, table in sorted(known.items(), key=lambda x: (x[1], x[0])):
        users = sorted(set(used.get(name, [])))
        print(f"  {table}.{name}: {len(users)} statement(s)")
        for u in users:
            print(f"      {u}")
    unused = [n for n in known if not used.get(n)]
    print(f"\nno plan uses: {', '.join(sorted(unused)) or 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"plans": plans, "unused": unused,
                                               "used": {k: sorted(set(v))
                                                        for k, v in used.items()}},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
