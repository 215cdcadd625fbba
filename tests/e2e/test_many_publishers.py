"""2,000 events published from 4 processes at once while a worker runs: every one is
delivered (at least once) to a receiver in its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from tests.helpers import db_rows, fixture_files
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e  # the whole program, in separate processes

PUBLISHERS = 4
PER_PUBLISHER = 500  # enough for the publishers to contend for SQLite's write lock

PUBLISHER = """
import json, sys
import hookadmin
template = json.loads(open(sys.argv[1], "rb").read())
base, count, home = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
first = True
from hookadmin.core.service import HookService
with HookService(home) as service:
    for i in range(count):
        resource = dict(template, id=base + i)
        if first:  # the public API once, then the same service call without reopening
            hookadmin.publish("job.completed", resource, home=home)
            first = False
        else:
            service.publish("job.completed", resource)
"""


@pytest.mark.slow
def test_two_thousand_events_from_four_processes(home: Path, service: HookService,
                                                 receiver: Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job.completed"])
    template = fixture_files("job-completed.json")[0]
    env = dict(os.environ)
    worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home), "worker"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        publishers = [subprocess.Popen([sys.executable, "-c", PUBLISHER, str(template),
                                        str(n * 1_000_000), str(PER_PUBLISHER), str(home)],
                                       env=env, stderr=subprocess.PIPE)
                      for n in range(PUBLISHERS)]
        for proc in publishers:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()
        total = PUBLISHERS * PER_PUBLISHER
        assert db_rows(home, "SELECT count(*) FROM events")[0][0] == total

        deadline = time.monotonic() + 100
        while time.monotonic() < deadline:
            ((done,),) = db_rows(home, "SELECT count(*) FROM deliveries"
                                       " WHERE status = 'succeeded'")
            if done == total:
                break
            assert worker.poll() is None, "the worker died"
            time.sleep(0.1)
        assert done == total
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=10)

    received = [json.loads(r.body)["id"] for r in receiver.requests()]
    expected = {n * 1_000_000 + i for n in range(PUBLISHERS) for i in range(PER_PUBLISHER)}
    assert set(received) == expected
    assert worker.returncode == 0
