"""A claiming engine for the team-mode tests, run as its own process.

``python -m tests.pg_claimer URL MODE CAP``:

* ``race``: prints ``ready``, waits for a line on stdin, then claims (``limit`` 3,
  ``per_hook_limit`` CAP, long leases) and records every other claimed delivery as
  sent, until nothing is pending (or nothing came for 500 rounds); prints each
  claimed delivery id on a line of its own, then ``done``.
* ``hold``: claims everything due with a lease of CAP seconds, prints the ids, then
  ``held``, and waits for stdin to close (the test kills it instead).
"""

from __future__ import annotations

import sys
import time

from hookadmin.core.store import AttemptRecord
from hookadmin.core.store.postgres import PostgresStore


def _sent() -> AttemptRecord:
    return AttemptRecord(started_at=time.time(), duration_ms=1.0, request_url="https://x/",
                         request_headers={}, status_code=200, response_headers=[],
                         response_body=b"", response_truncated=False, error_kind=None,
                         error_message=None)


def main(url: str, mode: str, cap: int) -> int:
    with PostgresStore(url) as store:
        if mode == "hold":
            jobs = store.claim_due(now=time.time(), lease_seconds=cap, limit=1000)
            for job in jobs:
                print(job.id, flush=True)
            print("held", flush=True)
            sys.stdin.read()
            return 0
        print("ready", flush=True)
        sys.stdin.readline()
        held = []
        idle_rounds = 0
        while idle_rounds < 500:
            jobs = store.claim_due(now=time.time(), lease_seconds=600, limit=3,
                                   per_hook_limit=cap)
            for job in jobs:
                print(job.id, flush=True)
            held += jobs
            # Finish every other one (all of them when nothing more came), so room
            # opens up and claims go on.
            finished, held = (held[::2], held[1::2]) if jobs else (held, [])
            if finished:
                store.record_attempts([(job, _sent(), None) for job in finished])
            elif store.pending_count() == 0:
                break
            idle_rounds = 0 if jobs or finished else idle_rounds + 1
        print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
