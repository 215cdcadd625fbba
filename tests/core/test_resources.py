"""Resource checks (DESIGN.md §7): real fixtures pass, broken resources are refused
with the wrong field named by its path, and nothing invalid reaches the outbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.resources import validate_resource
from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from tests.helpers import FIXTURES_DIR, body, db_rows, event_type_for, fixture_files, run_cli

DELETE = object()


def _fixture(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _changed(name: str, path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """The fixture ``name`` with the field at ``path`` set to ``value`` (or removed)."""
    data = _fixture(name)
    parent: Any = data
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


def _queued(home: Path) -> list[tuple[object, ...]]:
    if not (home / DB_FILENAME).exists():
        return []
    return db_rows(home, "SELECT type, body FROM events ORDER BY seq")


@pytest.mark.parametrize("fixture", fixture_files(), ids=lambda p: p.name)
def test_every_fixture_passes(fixture: Path) -> None:
    validate_resource(event_type_for(fixture), json.loads(fixture.read_bytes()))


JOB = "job-completed.json"
FAILED = "job-failed-unicode.json"
CLUSTER = "cluster-available.json"

BROKEN: list[tuple[str, tuple[str | int, ...], object, str]] = [
    # (fixture, path, new value, the message after "The job's/cluster's field ")
    (JOB, ("outputs", 0, "records_count"), "1842296",
     "outputs[0].records_count must be a whole number, not a string"),
    (JOB, ("id",), True, "id must be a whole number, not true"),
    (JOB, ("owner_id",), False, "owner_id must be a whole number, not false"),
    (JOB, ("id",), "48213", "id must be a whole number, not a string"),
    (JOB, ("id",), DELETE, "id is missing"),
    (JOB, ("status",), DELETE, "status is missing"),
    (JOB, ("status",), "done", "status must be idle, pending, running, completed, failed, "
                               "pending_stoppage, stopping or stopped, not 'done'"),
    (JOB, ("status",), "available", "status must be idle, pending"),
    (JOB, ("progress",), 1.5, "progress must be between 0 and 1, not 1.5"),
    (JOB, ("progress",), -0.1, "progress must be between 0 and 1, not -0.1"),
    (JOB, ("progress",), "1", "progress must be a number, not a string"),
    (JOB, ("progress",), True, "progress must be a number, not true"),
    (JOB, ("outputs_count",), 1.0, "outputs_count must be a whole number, not 1.0"),
    (JOB, ("outputs_count",), -1, "outputs_count must be at least 0, not -1"),
    (JOB, ("outputs",), {}, "outputs must be a list ([...]), not an object"),
    (JOB, ("outputs", 0), "daily_orders_rollup",
     "outputs[0] must be an object ({...}), not a string"),
    (JOB, ("outputs", 0, "id"), DELETE, "outputs[0].id is missing"),
    (JOB, ("outputs", 0, "component", "fields"), "order_day,region",
     "outputs[0].component.fields must be a list ([...]), not a string"),
    (JOB, ("outputs", 0, "component", "fields", 1), 3,
     "outputs[0].component.fields[1] must be a string, not 3"),
    (JOB, ("outputs", 0, "component", "name"), DELETE, "outputs[0].component.name is missing"),
    (JOB, ("outputs", 0, "component"), None,
     "outputs[0].component must be an object ({...}), not null"),
    (JOB, ("outputs", 0, "created_at"), "2026-11-29 06:14:02",
     "outputs[0].created_at must be an ISO-8601 UTC time like 2026-11-29T14:21:29Z"),
    (JOB, ("started_at",), "2026-11-29T06:02:11",
     "started_at must be an ISO-8601 UTC time like 2026-11-29T14:21:29Z (ending in Z) or "
     "null, not '2026-11-29T06:02:11'"),
    (JOB, ("started_at",), "2026-11-29T06:02:11+00:00", "started_at must be an ISO-8601"),
    (JOB, ("started_at",), "2026-11-29T06:02:11z", "started_at must be an ISO-8601"),
    (JOB, ("completed_at",), 1764397309,
     "completed_at must be an ISO-8601 UTC time like 2026-11-29T14:21:29Z or null, "
     "not 1764397309"),
    (JOB, ("created_at",), "2026-13-01T00:00:00Z",
     "created_at must be a real date and time like 2026-11-29T14:21:29Z, not "
     "'2026-13-01T00:00:00Z'"),
    (JOB, ("variables",), ["run_date"], "variables must be an object ({...}), not a list"),
    (FAILED, ("errors",), 5, "errors must be a string or null, not 5"),
    (FAILED, ("creator", "type"), "Robot", "creator.type must be User or Schedule, not 'Robot'"),
    (FAILED, ("creator",), "Zoë Ångström", "creator must be an object ({...}), not a string"),
    (FAILED, ("creator", "id"), True, "creator.id must be a whole number, not true"),
    (FAILED, ("cluster_id",), None, "cluster_id must be a whole number, not null"),
    (FAILED, ("runtime_in_seconds",), -5, "runtime_in_seconds must be at least 0, not -5"),
    (FAILED, ("log_url",), None, "log_url must be a string, not null"),
    (CLUSTER, ("nodes",), True, "nodes must be a whole number, not true"),
    (CLUSTER, ("type",), "staging", "type must be sandbox or production, not 'staging'"),
    (CLUSTER, ("status",), "running", "status must be pending, creating, available, idle, "
                                      "error, pending_terminate, terminating or terminated"),
    (CLUSTER, ("terminate_on_idle",), "yes", "terminate_on_idle must be true or false, not a "
                                             "string"),
    (CLUSTER, ("terminate_on_idle",), 1, "terminate_on_idle must be true or false, not 1"),
    (CLUSTER, ("bootstrap_actions", 0, "args"), "--jdbc postgres",
     "bootstrap_actions[0].args must be a list ([...]), not a string"),
    (CLUSTER, ("bootstrap_actions", 0, "script_path"), DELETE,
     "bootstrap_actions[0].script_path is missing"),
    (CLUSTER, ("slave_spot_price",), "0.21", "slave_spot_price must be a number or null, not "
                                             "a string"),
    (CLUSTER, ("available_since",), "2026-11-29T05:58:42", "available_since must be an ISO"),
    (CLUSTER, ("time_to_idle",), 3600.5, "time_to_idle must be a whole number, not 3600.5"),
    (CLUSTER, ("name",), None, "name must be a string, not null"),
    (CLUSTER, ("creator", "id"), DELETE, "creator.id is missing"),
]


@pytest.mark.parametrize(("fixture", "path", "value", "message"), BROKEN,
                         ids=[f"{f.split('-')[0]}:{'.'.join(map(str, p))}="
                              f"{'(deleted)' if v is DELETE else repr(v)}"
                              for f, p, v, _ in BROKEN])
def test_a_broken_resource_is_refused_naming_the_field(
        fixture: str, path: tuple[str | int, ...], value: object, message: str) -> None:
    resource = _changed(fixture, path, value)
    noun = fixture.split("-")[0]
    with pytest.raises(InputError) as info:
        validate_resource(event_type_for(Path(fixture)), resource)
    text = str(info.value)
    assert text.startswith(f"The {noun}'s field {message}"), text
    assert text.endswith("; fix the resource and publish again.")
    assert "\n" not in text
    assert info.value.field == "resource"


def test_extra_fields_are_accepted_at_every_level() -> None:
    job = _fixture(JOB)
    job["sla_minutes"] = 30
    job["labels"] = {"team": "data", "tier": None}
    job["outputs"][0]["compression"] = "gzip"
    job["outputs"][0]["component"]["connection_id"] = 17
    job["creator"]["email"] = "ops@example.com"
    validate_resource("job.completed", job)
    cluster = _fixture(CLUSTER)
    cluster["tags"] = ["nightly", "eu"]
    cluster["bootstrap_actions"][0]["timeout"] = 300
    validate_resource("cluster.available", cluster)


def test_only_id_and_status_are_required() -> None:
    validate_resource("job.failed", {"id": 1, "status": "failed"})
    validate_resource("cluster.error", {"id": 7, "status": "error"})
    with pytest.raises(InputError, match="field status is missing"):
        validate_resource("cluster.error", {"id": 7})
    with pytest.raises(InputError, match="field id is missing"):
        validate_resource("job.failed", {"status": "failed", "n": 1})


def test_null_times_and_fractional_seconds_are_accepted() -> None:
    job = _fixture(FAILED)
    for name in ("started_at", "created_at", "failed_at", "updated_at", "completed_at"):
        job[name] = None
    validate_resource("job.failed", job)
    job["updated_at"] = "2026-11-29T07:03:40.123456Z"
    validate_resource("job.failed", job)


def test_a_cluster_published_as_a_job_event_is_refused() -> None:
    with pytest.raises(InputError, match=r"^The job's field status must be .*, not "
                                         r"'available'"):
        validate_resource("job.completed", _fixture(CLUSTER))
    with pytest.raises(InputError, match=r"^The cluster's field status must be .*, not "
                                         r"'completed'"):
        validate_resource("cluster.available", _fixture(JOB))


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(InputError) as info:
        validate_resource("job.exploded", _fixture(JOB))
    assert info.value.field == "event"


def test_publish_of_an_invalid_resource_queues_nothing(service: HookService,
                                                       home: Path) -> None:
    bad = _changed(JOB, ("outputs", 0, "records_count"), "12")
    with pytest.raises(InputError, match=r"^The job's field outputs\[0\]\.records_count "):
        service.publish("job.completed", json.dumps(bad).encode())
    with pytest.raises(InputError, match=r"^The job's field progress "):
        service.publish("job.completed", dict(bad, progress=2))
    with pytest.raises(InputError, match=r"^The resource contains NaN, which is not JSON"):
        service.publish("job.completed", body("job.completed")[:-1] + b', "progress": NaN}')
    with pytest.raises(InputError, match=r"^Event 2: The cluster's field nodes "):
        service.publish_many([("job.failed", body("job.failed")),
                              ("cluster.available", body("cluster.available", nodes="4"))])
    line = json.dumps({"type": "cluster.idled", "resource": {"id": 3, "status": "idling"}})
    with pytest.raises(InputError, match=r"^Line 2: The cluster's field status "):
        service.publish_batch([json.dumps({"type": "job.failed",
                                           "resource": {"id": 1, "status": "failed"}}).encode(),
                               line.encode()])
    assert _queued(home) == []
    assert service.store.outbox_waiting() == 0


def test_a_valid_body_is_stored_byte_for_byte(service: HookService, home: Path) -> None:
    # Odd spacing, key order, escapes and an unknown field: checked, never rewritten.
    data = (b'{ "status" : "failed",\t"id": 48219, "errors": "caf\\u00e9 \\"x\\"",\n'
            b'  "platform_extra": [1, 2.50, null], "who": "Zo\xc3\xab", "progress": 0.420 }\r\n')
    service.publish("job.failed", data)
    assert _queued(home) == [("job.failed", data)]


def test_cli_publish_of_an_invalid_resource_exits_2_with_one_line(home: Path,
                                                                  tmp_path: Path) -> None:
    resource = _fixture(CLUSTER)
    resource["bootstrap_actions"][0]["args"] = "--jdbc postgres"
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    result = run_cli("publish", "cluster.available", "--resource", str(path), home=home)
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    assert line == ("hookadmin: The cluster's field bootstrap_actions[0].args must be a list "
                    "([...]), not a string; fix the resource and publish again.")
    assert result.stdout == ""
    assert _queued(home) == []
