"""The engine's event loop: uvloop when asked and installed, the standard loop otherwise."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.event_loop import EventLoop, run
from tests import receiver as rx
from tests.helpers import FAST, body


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_runs_when_asked() -> None:
    assert run(_loop_module(), EventLoop.UVLOOP).startswith("uvloop")
    assert run(_loop_module(), EventLoop.STANDARD).startswith("asyncio")


def test_the_standard_loop_when_uvloop_is_not_installed(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # an import of it fails
    assert run(_loop_module(), EventLoop.UVLOOP).startswith("asyncio")
    assert "uvloop is not installed" in caplog.text


def test_the_environment_names_the_loop(monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HOOKADMIN_EVENT_LOOP", "UVLoop")
    assert EventLoop.from_environment() is EventLoop.UVLOOP
    monkeypatch.setenv("HOOKADMIN_EVENT_LOOP", "tokio")
    assert EventLoop.from_environment() is EventLoop.STANDARD
    assert "'tokio' is not an event loop hookadmin knows; use one of asyncio, uvloop." \
        in caplog.text
    monkeypatch.delenv("HOOKADMIN_EVENT_LOOP")
    assert EventLoop.from_environment() is EventLoop.STANDARD


def test_the_engine_delivers_on_uvloop(service: HookService, home: Path,
                                       make_receiver: Callable[..., rx.Receiver]) -> None:
    receiver = make_receiver(rx.ok())
    hook = service.create_hook(url=receiver.url_for("/hook"), events=["job"])
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    service.publish("job.failed", body("job.failed"))
    loops: list[str] = []
    engine = Engine(home, settings=FAST, event_loop=EventLoop.UVLOOP,
                    on_attempt=lambda _o: loops.append(
                        type(asyncio.get_running_loop()).__module__))
    assert engine.run(until_idle=True) == 1
    assert loops[0].startswith("uvloop")
    (req,) = receiver.requests()
    assert req.verified_by == ("hook",)
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    assert delivery.status == "succeeded"


def test_worker_rejects_an_unknown_event_loop(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hookadmin", "--home", str(home), "worker",
                           "--event-loop", "tokio"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert "invalid choice: 'tokio'" in done.stderr
    assert "Traceback" not in done.stderr
