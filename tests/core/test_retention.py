"""Delivery history is pruned after the retention period (a setting, default 30 days)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from hookadmin.core.store import AttemptRecord
from tests.helpers import db_rows, fixture_files, run_cli


def _finished_delivery(service: HookService, hook_id: int, *, days_old: float,
                       status_code: int) -> str:
    service.publish("job.completed", fixture_files("job-completed.json")[0].read_bytes())
    service.store.fan_out()
    (job,) = service.store.claim_due(now=time.time(), lease_seconds=60, limit=1)
    attempt = AttemptRecord(started_at=time.time(), duration_ms=3.0, request_url="https://x",
                            request_headers={}, status_code=status_code,
                            response_headers=[], response_body=b"", response_truncated=False,
                            error_kind=None if status_code < 300 else "http_status",
                            error_message=None)
    service.store.record_attempt(job, attempt, next_attempt_at=None)
    then = time.time() - days_old * 86400
    db = service.store._db
    db.execute("UPDATE deliveries SET updated_at = ?, created_at = ? WHERE seq = ?",
               (then, then, job.seq))
    db.execute("UPDATE events SET occurred_at = ? WHERE seq = (SELECT event_seq FROM deliveries"
               " WHERE seq = ?)", (then, job.seq))
    return job.id


def test_prune_keeps_recent_and_pending(home: Path, service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    old_ok = _finished_delivery(service, hook.id, days_old=31, status_code=200)
    old_failed = _finished_delivery(service, hook.id, days_old=45, status_code=500)
    recent = _finished_delivery(service, hook.id, days_old=29, status_code=200)
    service.publish("job.completed", fixture_files("job-completed.json")[0].read_bytes())
    service.store.fan_out()  # a pending delivery, however old, is never pruned
    service.store._db.execute("UPDATE deliveries SET updated_at = 0 WHERE status = 'pending'")

    assert service.retention_days() == 30
    assert service.prune_history() == 2
    ids = {d.id for d in service.store.list_deliveries()}
    assert recent in ids
    assert old_ok not in ids
    assert old_failed not in ids
    assert len(ids) == 2
    assert db_rows(home, "SELECT count(*) FROM attempts")[0][0] == 1
    assert db_rows(home, "SELECT count(*) FROM events")[0][0] == 2


def test_retention_is_a_setting(home: Path, service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    _finished_delivery(service, hook.id, days_old=8, status_code=200)
    assert service.prune_history() == 0
    result = run_cli("settings", "--retention-days", "7", home=home)
    assert result.returncode == 0, result.stderr
    assert "retention-days: 7" in result.stdout
    assert service.retention_days() == 7
    assert service.prune_history() == 1


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_bad_retention_is_refused(home: Path, service: HookService, days: int) -> None:
    with pytest.raises(InputError, match="1 to 3650"):
        service.set_retention_days(days)
    result = run_cli("settings", "--retention-days", str(days), home=home)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert service.retention_days() == 30
