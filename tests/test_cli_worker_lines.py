"""`hookadmin worker` prints one line per attempt, written a batch at a time."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from hookadmin.cli.worker import AttemptLines
from hookadmin.core.service import HookService
from tests.helpers import body, db_rows, run_cli
from tests.receiver import Receiver

ATTEMPT = re.compile(r"^(?P<id>[0-9a-f-]{36}) hook (?P<hook>\d+) job\.failed attempt 1: "
                     r"(?P<code>\d{3}) in \d+ ms -> succeeded$")
EVENTS = 20


class _CountingStream:
    """Stands for standard error: keeps each write apart."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_each_attempt_has_its_line_and_the_summary_comes_last(
        home: Path, service: HookService, receiver: Receiver) -> None:
    hook = service.create_hook(url=receiver.url, events=["job"])
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    service.publish_many([("job.failed", body("job.failed", i)) for i in range(EVENTS)])

    result = run_cli("worker", "--until-idle", home=home, timeout=60)

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    matched = [m for m in map(ATTEMPT.match, lines) if m]
    assert len(matched) == EVENTS, result.stderr
    assert sorted(m["id"] for m in matched) \
        == sorted(str(i) for (i,) in db_rows(home, "SELECT id FROM deliveries"))
    assert {(m["hook"], m["code"]) for m in matched} == {(str(hook.id), "200")}
    assert lines[-1] == f"hookadmin worker: {EVENTS} attempts made."


def test_a_batch_of_lines_is_one_write_once_the_loop_has_run_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _CountingStream()
    monkeypatch.setattr(sys, "stderr", stream)
    lines = AttemptLines()

    async def report() -> None:
        loop = asyncio.get_running_loop()
        for n in range(3):  # one batch, as the engine reports a turn's attempts
            lines.add(f"attempt {n}")
        assert stream.writes == []  # not while the batch is being reported
        batch_written = loop.create_future()
        loop.call_soon(batch_written.set_result, None)  # runs after the queued write
        await batch_written
        assert stream.writes == ["attempt 0\nattempt 1\nattempt 2\n"]
        lines.add("last")  # reported as the run ends

    asyncio.run(report())
    lines.flush()  # what the worker does after the run: nothing is left behind
    lines.flush()  # and nothing is written twice
    assert stream.writes == ["attempt 0\nattempt 1\nattempt 2\n", "last\n"]
