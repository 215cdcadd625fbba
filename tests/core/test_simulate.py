"""Sample resources and the platform simulator: everything they emit is a valid job or
cluster, lifecycles come in the right order, and a seed reproduces a run exactly."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.events import EVENT_TYPE_IDS, PUBLISHABLE_TYPES
from hookadmin.core.resources import validate_resource
from hookadmin.core.simulate import DEFAULT_START, sample_resource, simulate
from tests.helpers import STATUS_AFTER

API = "https://api.etl.example.com/acme/api"
WEB = "https://etl.example.com/acme"
SIZES = [(0, 0), (1, 0), (1, 1), (2, 10), (3, 25), (6, 60)]
SEEDS = [0, 1, 7, 42, 2026]

CLUSTER_LIFECYCLES = {
    ("requested", "error"),
    ("requested", "available", "terminated"),
    ("requested", "available", "idled", "terminated"),
}
JOB_LIFECYCLES = {("submitted", "started", end) for end in ("completed", "failed", "stopped")}


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _by_resource(events: list[tuple[str, dict[str, Any]]]
                 ) -> dict[tuple[str, int], list[tuple[str, dict[str, Any]]]]:
    """(group, id) → that job's or cluster's events, in order."""
    out: dict[tuple[str, int], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for event_type, resource in events:
        group, kind = event_type.split(".")
        out[(group, resource["id"])].append((kind, resource))
    return out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("clusters", "jobs"), SIZES)
def test_every_event_is_valid_and_every_lifecycle_is_ordered(seed: int, clusters: int,
                                                              jobs: int) -> None:
    events = list(simulate(clusters, jobs, seed))
    for event_type, resource in events:
        assert event_type in EVENT_TYPE_IDS
        validate_resource(event_type, resource)
        assert resource["status"] == STATUS_AFTER[event_type], (event_type, resource)

    times = [_time(r["updated_at"]) for _, r in events]
    assert times == sorted(times)  # in time order
    if events:
        assert times[0] == DEFAULT_START

    lifecycles = _by_resource(events)
    cluster_ids = sorted(i for g, i in lifecycles if g == "cluster")
    job_ids = sorted(i for g, i in lifecycles if g == "job")
    assert len(cluster_ids) == clusters
    assert len(job_ids) == jobs
    for ids in (cluster_ids, job_ids):  # handed out one after another
        assert all(b - a == 1 for a, b in itertools.pairwise(ids)), ids
    for (group, _), stages in lifecycles.items():
        kinds = tuple(kind for kind, _ in stages)
        assert kinds in (CLUSTER_LIFECYCLES if group == "cluster" else JOB_LIFECYCLES), kinds
        stamps = [_time(r["updated_at"]) for _, r in stages]
        assert stamps == sorted(stamps)
        assert len({r["created_at"] for _, r in stages}) == 1  # one resource throughout
    assert len(events) == sum(len(s) for s in lifecycles.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_jobs_run_only_on_available_clusters(seed: int) -> None:
    cluster_status: dict[int, str] = {}
    ran_on: set[int] = set()
    for event_type, resource in simulate(4, 40, seed):
        if event_type.startswith("cluster."):
            if event_type in ("cluster.idled", "cluster.terminated"):
                # Nothing of its own runs any more when it idles or is terminated.
                assert resource["running_jobs_count"] == 0
            cluster_status[resource["id"]] = resource["status"]
        else:
            cluster_id = resource["cluster_id"]
            assert cluster_status.get(cluster_id) == "available", (event_type, resource["id"])
            ran_on.add(cluster_id)
    assert ran_on
    assert all(status in ("terminated", "error") for status in cluster_status.values())


def test_job_resources_tell_a_consistent_story() -> None:
    ended = 0
    for event_type, job in simulate(3, 60, 11):
        if not event_type.startswith("job."):
            continue
        jid = job["id"]
        assert (job["url"], job["html_url"], job["log_url"]) == (
            f"{API}/jobs/{jid}", f"{WEB}/jobs/{jid}", f"{API}/jobs/{jid}/log")
        creator = job["creator"]
        path = {"User": "users", "Schedule": "schedules"}[creator["type"]]
        assert creator["url"] == f"{API}/{path}/{creator['id']}"
        assert creator["html_url"] == f"{WEB}/{path}/{creator['id']}"
        assert job["outputs_count"] == len(job["outputs"])
        if event_type == "job.submitted":
            assert (job["started_at"], job["progress"], job["runtime_in_seconds"]) == (None, 0, 0)
            assert job["created_at"] == job["updated_at"]
            continue
        started = _time(job["started_at"])
        assert _time(job["created_at"]) < started <= _time(job["updated_at"])
        runtime = (_time(job["updated_at"]) - started).total_seconds()
        assert job["runtime_in_seconds"] == runtime
        if event_type == "job.completed":
            ended += 1
            assert job["progress"] == 1
            assert job["completed_at"] == job["updated_at"]
            assert (job["failed_at"], job["errors"]) == (None, "")
            assert job["outputs"]
            for output in job["outputs"]:
                assert isinstance(output["records_count"], int)
                assert output["records_count"] > 0
                assert output["url"] == f"{API}/jobs/{jid}/outputs/{output['id']}"
                assert output["preview_url"] == output["url"] + "/preview"
                assert started <= _time(output["created_at"]) <= _time(output["updated_at"])
                assert _time(output["updated_at"]) <= _time(job["completed_at"])
        elif event_type == "job.failed":
            ended += 1
            assert job["failed_at"] == job["updated_at"]
            assert job["completed_at"] is None
            assert job["errors"].strip()
            assert 0 < job["progress"] < 1
        elif event_type == "job.stopped":
            ended += 1
            assert job["failed_at"] is None
            assert job["completed_at"] is None
            assert 0 < job["progress"] < 1
        else:
            assert (event_type, job["progress"]) == ("job.started", 0)
    assert ended == 60


def test_cluster_resources_tell_a_consistent_story() -> None:
    for event_type, cluster in simulate(12, 30, 5):
        if not event_type.startswith("cluster."):
            continue
        cid = cluster["id"]
        assert (cluster["url"], cluster["html_url"]) == (f"{API}/clusters/{cid}",
                                                         f"{WEB}/clusters/{cid}")
        updated = cluster["updated_at"]
        if event_type in ("cluster.requested", "cluster.error"):
            assert cluster["available_since"] is None
        else:
            assert _time(cluster["available_since"]) <= _time(updated)
        if event_type == "cluster.available":
            assert cluster["available_since"] == updated
        if event_type == "cluster.idled":
            assert cluster["idle_since"] == updated
        if event_type == "cluster.terminated":
            assert cluster["terminated_at"] == updated
            if cluster["terminated_on_idle"]:
                assert cluster["terminate_on_idle"] is True
                assert _time(cluster["idle_since"]) <= _time(updated)
        else:
            assert cluster["terminated_at"] is None
        assert (cluster["type"] == "sandbox") == (cluster["nodes"] == 1)


@pytest.mark.parametrize(("clusters", "jobs"), [(1, 1), (3, 20)])
def test_the_same_seed_gives_the_same_events_and_another_seed_does_not(clusters: int,
                                                                      jobs: int) -> None:
    first = list(simulate(clusters, jobs, seed=99))
    assert list(simulate(clusters, jobs, seed=99)) == first
    assert list(simulate(clusters, jobs, seed=100)) != first


def test_start_sets_the_first_event_time_and_no_seed_ends_now() -> None:
    start = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    events = list(simulate(2, 5, 3, start=start))
    assert events[0][1]["updated_at"] == "2027-03-01T12:00:00Z"
    before = datetime.now(UTC).replace(microsecond=0)
    unseeded = list(simulate(2, 5))
    after = datetime.now(UTC)
    last = _time(unseeded[-1][1]["updated_at"])
    assert before - timedelta(seconds=1) <= last <= after
    assert list(simulate(2, 5)) != unseeded  # no seed: a different run each time


@pytest.mark.parametrize(("clusters", "jobs", "field"), [
    (-1, 0, "clusters"), (2, -3, "jobs"), (0, 1, "clusters"), (True, 1, "clusters"),
])
def test_bad_counts_are_refused_at_once(clusters: int, jobs: int, field: str) -> None:
    with pytest.raises(InputError) as info:
        simulate(clusters, jobs, 1)  # no iteration needed
    assert info.value.field == field


@pytest.mark.parametrize("event_type", sorted(e.id for e in PUBLISHABLE_TYPES))
def test_sample_resource_is_valid_and_matches_its_event(event_type: str) -> None:
    now = datetime(2026, 11, 30, 9, 15, 0, tzinfo=UTC)
    for seed in range(40):
        resource = sample_resource(event_type, random.Random(seed), now=now)
        validate_resource(event_type, resource)
        assert resource["status"] == STATUS_AFTER[event_type]
        assert resource["updated_at"] == "2026-11-30T09:15:00Z"
        assert _time(resource["created_at"]) <= now
        _check_sample(event_type, resource)
    again = sample_resource(event_type, random.Random(3), now=now)
    assert again == sample_resource(event_type, random.Random(3), now=now)


def _check_sample(event_type: str, r: dict[str, Any]) -> None:
    at = r["updated_at"]
    expected: dict[str, dict[str, Any]] = {
        "job.submitted": {"started_at": None, "progress": 0, "failed_at": None},
        "job.started": {"started_at": at, "progress": 0, "completed_at": None},
        "job.completed": {"completed_at": at, "progress": 1, "failed_at": None,
                          "outputs_count": len(r.get("outputs", []))},
        "job.failed": {"failed_at": at, "completed_at": None},
        "job.stopped": {"failed_at": None, "completed_at": None},
        "cluster.requested": {"available_since": None, "terminated_at": None},
        "cluster.available": {"available_since": at, "idle_since": None},
        "cluster.idled": {"idle_since": at, "terminated_at": None},
        "cluster.terminated": {"terminated_at": at},
        "cluster.error": {"available_since": None, "terminated_at": None},
    }[event_type]
    assert {k: r[k] for k in expected} == expected
    if event_type == "job.failed":
        assert r["errors"].strip()
    if event_type == "job.completed":
        assert r["outputs"]
        assert all(o["records_count"] > 0 for o in r["outputs"])
    if event_type.startswith("job.") and event_type != "job.submitted":
        assert r["runtime_in_seconds"] == (_time(at) - _time(r["started_at"])).total_seconds()


def test_sample_resource_defaults_to_now_and_refuses_ping() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    resource = sample_resource("cluster.idled")
    assert before <= _time(resource["updated_at"]) <= datetime.now(UTC)
    with pytest.raises(InputError):
        sample_resource("ping")
    with pytest.raises(InputError):
        sample_resource("job.completed", now=datetime(2026, 11, 30, 9, 15))  # naive
