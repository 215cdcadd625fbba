"""A delivery that succeeded and is queued again (Redeliver) is said to be queued
again, not to be retrying after its 200."""

from __future__ import annotations

from pathlib import Path

from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from hookadmin.ui.attempt_view import delivery_state
from hookadmin.ui.display import delivery_result
from tests.helpers import FAST, body
from tests.receiver import Receiver


def test_a_redelivered_success_reads_queued_again(
        home: Path, service: HookService, receiver: Receiver) -> None:
    service.create_hook(url=receiver.url, events=["job"], name="ops")
    service.publish("job.completed", body("job.completed"))
    Engine(home, settings=FAST).run(until_idle=True)
    (delivered,) = service.store.list_deliveries()
    assert delivery_result(delivered) == "✓ 200"
    service.redeliver(delivered.id)
    (queued,) = service.store.list_deliveries()
    assert queued.status == "pending"
    assert delivery_result(queued) == "queued again"
    assert delivery_state(queued, now=queued.updated_at).startswith(
        "queued again after 1 attempt · next attempt")
    assert "retrying" not in delivery_state(queued)
