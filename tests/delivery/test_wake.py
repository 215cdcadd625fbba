"""A publisher's commit wakes a running engine at once, instead of the engine finding the
event at its next look: from another process (SQLite: a datagram to the engine's
socket in the data directory; PostgreSQL: ``NOTIFY``) and from the same process
(directly). The engines here look by themselves only every ten minutes, so an event
delivered within the test's deadline was delivered because the engine was woken."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation
from hookadmin.core.store.sqlite.wake import WAKE_DIR, WakeSocket
from hookadmin.delivery.engine import Engine
from tests.helpers import FAST, body, run_cli, running_engine, wait_until
from tests.receiver import Receiver

Make = Callable[..., Receiver]
# No look of the engine's own for ten minutes: only a wake-up delivers within a test.
ASLEEP = dataclasses.replace(FAST, poll_interval=600.0, wake_interval=600.0,
                             idle_wake_interval=600.0, lease_seconds=3600.0)


def _started(engine: Engine) -> None:
    """Wait until the engine has made its first turn (and is waiting for the next)."""
    wait_until(lambda: engine.bookkeeper_turns >= 1, "the engine's first turn")


def _sockets(home: Path) -> list[str]:
    folder = home / WAKE_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_publish_from_another_process_wakes_the_engine(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    service.create_hook(url=receiver.url, events=["job"])
    with running_engine(home, ASLEEP) as engine:
        _started(engine)
        wait_until(lambda: _sockets(home), "the engine's wake-up socket")
        result = run_cli("publish", "job.failed", "--resource", "-", home=home,
                         input=body("job.failed", id=7))
        assert result.returncode == 0, result.stderr
        (request,) = receiver.wait_for_requests(1)
        assert request.json()["id"] == 7
        wait_until(lambda: service.store.list_deliveries()[0].status == "succeeded",
                   "the attempt recorded")
    assert _sockets(home) == []  # the engine removes its socket when it stops


def test_a_publish_in_the_same_process_wakes_the_engine_without_a_socket(
        tmp_path: Path, make_receiver: Make) -> None:
    # A data directory whose path is too long for a Unix socket: no socket, so only
    # the direct wake-up of this process's engines can deliver in time.
    home = tmp_path / ("d" * 110) / "home"
    receiver = make_receiver()
    with HookService(home) as service:
        service.create_hook(url=receiver.url, events=["job"])
        with running_engine(home, ASLEEP) as engine:
            _started(engine)
            service.publish("job.completed", body("job.completed", id=3))
            (request,) = receiver.wait_for_requests(1)
            assert request.json()["id"] == 3
        assert _sockets(home) == []


def test_without_a_socket_an_event_from_another_process_goes_out_at_the_next_look(
        tmp_path: Path, make_receiver: Make) -> None:
    home = tmp_path / ("d" * 110) / "home"
    receiver = make_receiver()
    with HookService(home) as service:
        service.create_hook(url=receiver.url, events=["job"])
    with running_engine(home, FAST) as engine:  # looks every few milliseconds
        _started(engine)
        result = run_cli("publish", "job.failed", "--resource", "-", home=home,
                         input=body("job.failed", id=5))
        assert result.returncode == 0, result.stderr
        (request,) = receiver.wait_for_requests(1)
        assert request.json()["id"] == 5


def test_a_redelivery_wakes_the_engine(service: HookService, home: Path,
                                       make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", body("job.failed", id=1))
    with running_engine(home, ASLEEP) as engine:
        receiver.wait_for_requests(1)  # the first turn fans it out and sends it
        wait_until(lambda: service.store.list_deliveries(hook_id=hook.id)[0].status
                   == "succeeded", "the first attempt recorded")
        _started(engine)
        (delivery,) = service.store.list_deliveries(hook_id=hook.id)
        result = run_cli("redeliver", delivery.id, home=home)
        assert result.returncode == 0, result.stderr
        first, again = receiver.wait_for_requests(2)
        assert again.header("X-Hook-Delivery") == first.header("X-Hook-Delivery")


def test_a_socket_left_by_a_killed_engine_is_removed_by_the_next_publish(
        service: HookService, home: Path) -> None:
    live = WakeSocket.open(home)
    assert live is not None
    try:
        # A killed engine's socket: the path stays, nobody reads it any more.
        stale = home / WAKE_DIR / "1-0badf00d"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as dead:
            dead.bind(str(stale))
        assert stale.exists()
        service.publish("job.failed", body("job.failed"))
        assert not stale.exists()
        assert live.path.exists()
        assert live.drain()  # the live one was rung
        assert not live.drain()
    finally:
        live.close()


def test_a_publisher_never_fails_on_a_full_socket(service: HookService, home: Path) -> None:
    bell = WakeSocket.open(home)
    assert bell is not None
    try:
        for _ in range(600):  # more than a datagram queue holds (max_dgram_qlen: 10 to 512)
            service.store.add_events([("job.failed", b"{}")])
        assert bell.drain()
        assert service.store.outbox_waiting() == 600
    finally:
        bell.close()


# -- a team database: NOTIFY ---------------------------------------------------------------


_PUBLISH = """
import sys
from hookadmin.core.store.postgres import PostgresStore
with PostgresStore.init(sys.argv[1]) as store:
    store.add_events([("job.failed", sys.stdin.buffer.read())])
"""


def test_a_publish_on_another_machine_wakes_a_team_engine(
        team: StoreLocation, make_receiver: Make) -> None:
    receiver = make_receiver()
    assert team.url is not None
    with HookService(team) as service:
        service.create_hook(url=receiver.url, events=["job"])
        with running_engine(team, ASLEEP) as engine:  # type: ignore[arg-type]
            _started(engine)
            subprocess.run([sys.executable, "-c", _PUBLISH, team.url], check=True,
                           input=body("job.failed", id=11), timeout=60)
            (request,) = receiver.wait_for_requests(1)
            assert request.json()["id"] == 11


def test_a_publish_in_the_same_process_wakes_a_team_engine(
        team: StoreLocation, make_receiver: Make) -> None:
    receiver = make_receiver()
    with HookService(team) as service:
        service.create_hook(url=receiver.url, events=["job"])
        with running_engine(team, ASLEEP) as engine:  # type: ignore[arg-type]
            _started(engine)
            for n in range(1, 6):  # each one on its own, each woken for
                service.publish("job.completed", body("job.completed", id=n))
                receiver.wait_for_requests(n)
    assert [r.json()["id"] for r in receiver.requests()] == [1, 2, 3, 4, 5]
