"""Redelivery (new attempts, same delivery id), test events aimed at one hook, and
pruning by the engine — against real receiver processes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from tests import receiver as rx
from tests.helpers import FAST, db_rows, fixture_files, run_cli, run_until_idle

ONE_TRY = dataclasses.replace(FAST, retry_schedule=(0,))
JOB = fixture_files("job-completed.json")[0].read_bytes()


def test_redeliver_one_failed_delivery_keeps_its_id(
        home: Path, service: HookService, make_receiver: Callable[..., rx.Receiver]) -> None:
    receiver = make_receiver(rx.fail_first(1))
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.completed", JOB)
    run_until_idle(home, ONE_TRY)
    (failed,) = service.store.list_deliveries(status="failed")

    result = run_cli("redeliver", failed.id, home=home)
    assert result.returncode == 0, result.stderr
    assert service.store.get_delivery(failed.id).status == "pending"
    run_until_idle(home, ONE_TRY)

    delivery = service.store.get_delivery(failed.id)
    assert (delivery.status, delivery.attempts, delivery.hook_id) == ("succeeded", 2, hook.id)
    first, second = receiver.wait_for_requests(2)
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery") == failed.id
    assert first.body == second.body == JOB
    assert [a.status_code for a in service.store.list_attempts(delivery.seq)] == [500, 200]


def test_redeliver_all_failed_since(home: Path, service: HookService,
                                    make_receiver: Callable[..., rx.Receiver]) -> None:
    receiver = make_receiver(rx.fail_first(3))
    hook = service.create_hook(url=receiver.url, events=["job"])
    for _ in range(3):
        service.publish("job.completed", JOB)
    run_until_idle(home, ONE_TRY)
    assert len(service.store.list_deliveries(status="failed")) == 3
    old = service.store.list_deliveries(status="failed")[-1]
    service.store._db.execute("UPDATE deliveries SET updated_at = ? WHERE seq = ?",
                              (time.time() - 7200, old.seq))

    result = run_cli("redeliver", "--hook", str(hook.id), "--failed-since", "1h", home=home)
    assert result.returncode == 0, result.stderr
    assert "Queued 2 failed deliveries" in result.stdout
    run_until_idle(home, ONE_TRY)
    statuses = {d.id: d.status for d in service.store.list_deliveries()}
    assert statuses.pop(old.id) == "failed"
    assert set(statuses.values()) == {"succeeded"}


def test_redeliver_refuses_unknown_ids_and_pings(home: Path, service: HookService,
                                                 receiver: rx.Receiver) -> None:
    result = run_cli("redeliver", "no-such-delivery", home=home)
    assert result.returncode == 2
    assert "no delivery" in result.stderr
    hook = service.create_hook(url=receiver.url, events=["job"])
    assert run_cli("ping", str(hook.id), home=home).returncode == 0
    (ping,) = service.store.list_deliveries()
    with pytest.raises(InputError, match="Pings are not redelivered"):
        service.store.redeliver(ping.id)


def test_a_test_event_goes_to_one_hook_only(home: Path, service: HookService,
                                            receiver: rx.Receiver) -> None:
    target = service.create_hook(url=receiver.url_for("/target"), events=["cluster"])
    service.create_hook(url=receiver.url_for("/other"), events=["job"])
    service.send_test_event(target.id, "job.failed", JOB)
    run_until_idle(home)
    (request,) = receiver.wait_for_requests(1)
    assert request.path == "/target"
    assert request.header("X-Hook-Event") == "job.failed"
    assert request.body == JOB
    assert db_rows(home, "SELECT count(*) FROM deliveries")[0][0] == 1


def test_the_engine_prunes_old_history_when_it_starts(home: Path, service: HookService,
                                                      receiver: rx.Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.completed", JOB)
    run_until_idle(home)
    ((count,),) = db_rows(home, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")
    assert count == 1
    service.store._db.execute("UPDATE deliveries SET updated_at = ?",
                              (time.time() - 31 * 86400,))
    run_until_idle(home)
    assert db_rows(home, "SELECT count(*) FROM deliveries")[0][0] == 0
