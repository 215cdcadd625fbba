"""The set-up that the engine benchmarks share: for those timing one phase at a time
(``lanes.py``, ``idle_wake.py``) their common options, a fresh data directory per
phase, hookadmin's :class:`~hookadmin.delivery.engine.Engine` run in this process until
the phase is finished, and the successful attempts of one hook read back from the
database afterwards; for those comparing the engine with bare aiohttp
(``engine_parts.py``, ``send_layers.py``) the constant header set and an in-memory
secret; and publishing a list of bodies in batches (``engine_parts.py``,
``isolation.py``).

Not a benchmark itself: the benchmarks import it (``benchmarks/`` is on ``sys.path``
when one is run).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hookadmin.core.secrets import HookSecrets
from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from hookadmin.delivery.engine import Engine

POLL_S = 0.05  # how often the event loop looks whether the phase is finished
SECRET = "ab" * 32  # every hook's secret in the phases that read no keyring
# hookadmin's header set with constant values: what a bare aiohttp loop sends.
HEADERS = {
    "Content-Type": "application/json", "User-Agent": "hookadmin/0.1.0",
    "X-Hook-Event": "job.completed", "X-Hook-Delivery": "00000000-0000-4000-8000-000000000000",
    "X-Hook-Signature": "0" * 64, "webhook-id": "00000000-0000-4000-8000-000000000000",
    "webhook-timestamp": "1764400000", "webhook-signature": "v1," + "A" * 43 + "=",
}


class OneSecret(HookSecrets):
    """:data:`SECRET` for every hook, in memory (no keyring is read); no previous
    secret and no other secrets."""

    def get(self, hook_id: int) -> str:
        return SECRET

    def get_optional(self, hook_id: int, *, previous: bool = False,
                     options: bool = False) -> str | None:
        return None if previous or options else SECRET

    def get_many(self, hook_ids: Sequence[int], *,
                 on_found: Callable[[int, str], None] | None = None) -> dict[int, str]:
        for hook_id in hook_ids:
            if on_found is not None:
                on_found(hook_id, SECRET)
        return dict.fromkeys(hook_ids, SECRET)

    def close(self) -> None:
        return None


def publish_bodies(service: HookService, bodies: Sequence[bytes], *,
                   event_type: str = "job.completed", batch: int = 1000) -> None:
    """Publish one ``event_type`` event per body, ``batch`` per transaction."""
    for i in range(0, len(bodies), batch):
        service.publish_many([(event_type, b) for b in bodies[i:i + batch]])


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Add ``--tmpdir`` (where the phases' data directories go) and ``--json [FILE]``."""
    p.add_argument("--tmpdir", help="where the data directories go (default: $TMPDIR)")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="print the result as JSON on stdout; with FILE, write it there and "
                        "print the table too")


@contextmanager
def phase_home(tmpdir: str | None) -> Iterator[Path]:
    """A fresh hookadmin data directory (not created yet) in a temporary folder under
    ``tmpdir`` (None: ``$TMPDIR``), removed on leaving."""
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-", dir=tmpdir) as tmp:
        yield Path(tmp) / "home"


def run_engine(engine: Engine, control: Callable[[], None], finished: threading.Event, *,
               cap_s: float, before_stop: Callable[[], None] | None = None) -> None:
    """Run ``engine`` on an event loop in this thread and ``control`` (publishing,
    pacing, metering) in a thread of its own, until ``finished`` is set, the engine ends
    or ``cap_s`` seconds have passed; then wait for ``control`` to return, call
    ``before_stop`` (if given), stop the engine and wait for it to end.

    Raises:
        Whatever the engine's run raised.
    """

    async def main() -> None:
        task = asyncio.create_task(engine.run_async())
        thread = threading.Thread(target=control)
        thread.start()
        deadline = time.monotonic() + cap_s
        while not finished.is_set() and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(POLL_S)  # polling the wall-clock cap of a benchmark
        thread.join()
        if before_stop is not None:
            before_stop()
        engine.stop()
        await task

    asyncio.run(main())


def successful_attempts(home: Path, hook_id: int, columns: str) -> list[tuple[float, ...]]:
    """One row of ``columns`` (SQL over ``d`` deliveries, ``e`` events and ``at``
    attempts, e.g. ``"d.created_at - e.occurred_at"``; seconds) for each successful
    (2xx) attempt of a delivery to ``hook_id`` in ``home``'s database, the hook's first
    delivery (every phase's warm-up) left out."""
    db = sqlite3.connect(home / DB_FILENAME)
    try:
        return db.execute(
            f"SELECT {columns}"  # the callers' own expressions
            " FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " JOIN attempts at ON at.delivery_seq = d.seq"
            " WHERE d.hook_id = ? AND at.status_code BETWEEN 200 AND 299"
            " AND d.seq > (SELECT min(seq) FROM deliveries WHERE hook_id = ?)",  # warm-up
            (hook_id, hook_id)).fetchall()
    finally:
        db.close()
