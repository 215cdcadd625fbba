"""A running engine's records reach the database file by its bookkeeping process's
checkpoint thread, not only once SQLite's log has grown past 1,000 pages (when the
commit that filled it, a turn of the bookkeeper, used to copy it back itself)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from tests.helpers import body, running_engine, wait_until
from tests.receiver import Receiver

Make = Callable[..., Receiver]
EVENTS = 20  # a few dozen pages of log: far below SQLite's automatic checkpoint


def _succeeded_in_file(home: Path) -> int:
    """Deliveries marked succeeded in the database file itself, the write-ahead log
    left out (``immutable``: what checkpoints have copied there so far)."""
    uri = f"{(home / DB_FILENAME).as_uri()}?immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM deliveries"
                                  " WHERE status = 'succeeded'").fetchone()[0])
        finally:
            db.close()
    except sqlite3.DatabaseError:  # a page being written: read again
        return -1


def test_a_running_engines_records_are_checkpointed_while_it_runs(
        home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    with HookService(home) as service:
        service.create_hook(url=receiver.url, events=["job.completed"])
        for n in range(EVENTS):
            service.publish("job.completed", body("job.completed", id=n))
    # The last connection closed: the file holds everything and the log is gone.
    assert _succeeded_in_file(home) == 0
    with running_engine(home):
        receiver.wait_for_requests(EVENTS)
        wait_until(lambda: _succeeded_in_file(home) == EVENTS,
                   "the engine's records checkpointed into the database file")
    assert _succeeded_in_file(home) == EVENTS
