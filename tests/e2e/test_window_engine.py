"""``hookadmin gui`` as a person starts it: its engine is a child process, and killing the
window (SIGKILL, no chance to clean up) never leaves that engine running, whether it was
still starting (the end of its stdin stops it) or had delivered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from tests.helpers import process_alive, resource, wait_until
from tests.receiver import Receiver

ENGINE_MODULE = "hookadmin.delivery.worker_process"


def engine_children(pid: int) -> list[int]:
    """The ids of ``pid``'s child processes that run the engine (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if ENGINE_MODULE.encode() in cmdline.split(b"\0"):
                found.append(int(child))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("when", ["as its engine starts", "after a delivery"])
def test_a_killed_window_leaves_no_engine_behind(
        when: str, home: Path, service: HookService, receiver: Receiver,
        tmp_path: Path) -> None:
    service.create_hook(url=receiver.url, events=("job",))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("HOOKADMIN_DATABASE", None)
    window = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home), "gui"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engines: list[int] = []
    try:
        def engine_started() -> bool:
            engines[:] = engine_children(window.pid)
            return bool(engines)

        wait_until(engine_started, "the window started its engine process", timeout=60)
        (engine,) = engines
        if when == "after a delivery":
            service.publish("job.completed", resource("job.completed"))
            receiver.wait_for_requests(1, timeout=30)  # the window's engine delivers

        window.kill()
        window.wait(10)
        took = wait_until(lambda: not process_alive(engine),
                          "the engine of the killed window stopped", timeout=15)
        assert took < 3.0
    finally:
        if window.poll() is None:
            window.kill()
            window.wait(10)
        for pid in engines:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)
