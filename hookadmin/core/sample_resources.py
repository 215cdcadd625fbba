"""Sample resources: realistic jobs and clusters of the ETL platform's account.

:func:`sample_resource` gives one job or cluster for any event type (the window's
"Send test event…"); the people, packages, clusters and jobs here are also what
:func:`hookadmin.core.simulate.simulate` plays its lifecycles with. Every resource is
shaped like the example bodies in ``tests/fixtures`` and passes
:func:`hookadmin.core.resources.validate_resource` (DESIGN.md §7).

Times are whole seconds, rendered as ISO-8601 UTC (``2026-11-29T14:21:29Z``).
"""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError

ACCOUNT = "acme"
API_ROOT = f"https://api.etl.example.com/{ACCOUNT}/api"
WEB_ROOT = f"https://etl.example.com/{ACCOUNT}"
ACCOUNT_OWNER_ID = 311
JOB_OUTCOMES: tuple[str, ...] = ("completed", "failed", "stopped")
JOB_OUTCOME_WEIGHTS: tuple[int, ...] = (70, 20, 10)

Resource = dict[str, Any]


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_seconds(moment: datetime) -> int:
    """``moment`` as whole Unix seconds (fractions dropped).

    Raises:
        InputError: ``moment`` has no time zone.
    """
    if moment.tzinfo is None:
        raise InputError("Give the start time with a time zone (UTC).", field="start")
    return int(moment.timestamp())


# -- the account's people, packages and clusters ---------------------------------------


@dataclass(frozen=True)
class _Creator:
    kind: str  # "User" or "Schedule"
    id: int
    display_name: str

    @property
    def owner_id(self) -> int:
        return self.id if self.kind == "User" else ACCOUNT_OWNER_ID

    def to_json(self) -> Resource:
        path = "users" if self.kind == "User" else "schedules"
        return {"type": self.kind, "id": self.id, "display_name": self.display_name,
                "url": f"{API_ROOT}/{path}/{self.id}", "html_url": f"{WEB_ROOT}/{path}/{self.id}"}


_USERS = (_Creator("User", 9, "Zoë Ångström"), _Creator("User", 12, "Ops on-call"),
          _Creator("User", 27, "Priya Natarajan"), _Creator("User", 41, "Lars Øberg"))
_SCHEDULES = (_Creator("Schedule", 64, "Nightly orders"),
              _Creator("Schedule", 71, "Hourly clickstream"),
              _Creator("Schedule", 88, "Weekly finance close"))


def _creator(rng: random.Random) -> _Creator:
    return rng.choice(_SCHEDULES if rng.random() < 0.5 else _USERS)


@dataclass(frozen=True)
class _OutputTemplate:
    name: str
    component_name: str
    component_type: str
    fields: tuple[str, ...]
    typical_records: int


@dataclass(frozen=True)
class _Package:
    id: int
    variables: tuple[tuple[str, str], ...]
    outputs: tuple[_OutputTemplate, ...]


_PACKAGES = (
    _Package(5120, (("source_bucket", "raw-events"),), (
        _OutputTemplate("daily_orders_rollup", "warehouse_destination",
                        "database_destination_component",
                        ("order_day", "region", "orders", "revenue"), 1_800_000),)),
    _Package(5121, (("customer", "Société Générale — 東京"),), (
        _OutputTemplate("crm_contacts_clean", "contacts_to_storage",
                        "cloud_storage_destination_component",
                        ("contact_id", "email", "country", "updated_at"), 250_000),)),
    _Package(5133, (("source_bucket", "clickstream"), ("granularity", "hour")), (
        _OutputTemplate("sessions_by_hour", "sessions_destination",
                        "database_destination_component",
                        ("hour", "sessions", "users", "pageviews"), 40_000),
        _OutputTemplate("bounce_rates", "bounce_destination", "bigquery_destination_component",
                        ("hour", "landing_page", "bounce_rate"), 9_000))),
    _Package(5140, (("ledger", "EU"), ("period", "2026-11")), (
        _OutputTemplate("ledger_snapshot", "ledger_to_warehouse",
                        "database_destination_component",
                        ("account", "debit", "credit", "balance"), 120_000),)),
)

_FAILURES = (
    "Source 'crm_contacts': column \"naïve_ts\" not found",
    "Destination 'warehouse_destination': connection refused by db.internal:5432 after "
    "3 attempts",
    "Reducer 'aggregate_by_region' ran out of memory (container killed, exit code 137)",
    "Source 'raw-events': access denied to s3://raw-events/2026/11/28/ (403 Forbidden)",
    "Expression in 'select_1' failed: division by zero in revenue / orders\n"
    "Line 3: \"orders\" was 0",
)


@dataclass(frozen=True)
class _Region:
    name: str
    zones: tuple[str | None, ...]
    master_instance_type: str
    slave_instance_type: str
    spot: bool


_REGIONS = (
    _Region("amazon-web-services::us-east-1", ("us-east-1a", "us-east-1b", "us-east-1c"),
            "m5.xlarge", "m5.2xlarge", spot=True),
    _Region("amazon-web-services::eu-west-1", ("eu-west-1a", "eu-west-1b"),
            "m5.large", "r5.xlarge", spot=True),
    _Region("google-cloud-platform::europe-west1", (None,),
            "n2-standard-4", "n2-standard-4", spot=False),
)

_CLUSTER_NAMES = (
    ("nightly-production", "Cluster for the nightly package runs"),
    ("adhoc-sandbox", ""),
    ("clickstream-etl", "Hourly clickstream sessions"),
    ("finance-close", "Month-end ledger snapshots"),
    ("analytics-shared", "Shared cluster for the analytics team"),
    ("backfill-large", "Historical backfills"),
)


@dataclass(frozen=True)
class Cluster:
    """One cluster's fixed settings (made by :func:`new_cluster`); times are seconds
    from the simulation's start. :meth:`resource` renders it at one stage of its
    lifecycle."""

    id: int
    name: str
    description: str
    type: str
    nodes: int
    plan_id: int
    region: _Region
    zone: str | None
    spot_price: float | None
    spot_percentage: float | None
    terminate_on_idle: bool
    time_to_idle: int
    allow_fallback: bool
    bootstrap_actions: tuple[tuple[str, tuple[str, ...]], ...]
    creator: _Creator
    requested_at: int

    def resource(self, offset: int, *, status: str, at: int,
                 available_since: int | None = None, idle_since: int | None = None,
                 terminated_at: int | None = None, terminated_on_idle: bool = False) -> Resource:
        """The cluster as ``GET /clusters/:id`` returns it at ``at`` (+ ``offset``)."""
        def when(t: int | None) -> str | None:
            return None if t is None else _iso(offset + t)

        return {
            "id": self.id, "name": self.name, "description": self.description,
            "status": status, "owner_id": self.creator.owner_id, "plan_id": self.plan_id,
            "nodes": self.nodes, "type": self.type,
            "created_at": when(self.requested_at), "updated_at": when(at),
            "available_since": when(available_since), "terminated_at": when(terminated_at),
            "idle_since": when(idle_since), "running_jobs_count": 0,
            "terminate_on_idle": self.terminate_on_idle, "time_to_idle": self.time_to_idle,
            "terminated_on_idle": terminated_on_idle, "region": self.region.name,
            "zone": self.zone, "master_instance_type": self.region.master_instance_type,
            "slave_instance_type": self.region.slave_instance_type,
            "master_spot_price": None, "slave_spot_price": self.spot_price,
            "master_spot_percentage": None, "slave_spot_percentage": self.spot_percentage,
            "allow_fallback": self.allow_fallback, "stack": "pinecone-v4",
            "bootstrap_actions": [{"script_path": path, "args": list(args)}
                                  for path, args in self.bootstrap_actions],
            "url": f"{API_ROOT}/clusters/{self.id}",
            "html_url": f"{WEB_ROOT}/clusters/{self.id}",
            "creator": self.creator.to_json(),
        }


def new_cluster(rng: random.Random, cluster_id: int, requested_at: int,
                 taken: set[str]) -> Cluster:
    """A cluster of random, realistic settings requested at ``requested_at`` (seconds
    from the simulation's start), named unlike the names in ``taken``, to which its
    name is added."""
    name, description = rng.choice(_CLUSTER_NAMES)
    base, n = name, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    production = "sandbox" not in name
    region = rng.choice(_REGIONS)
    spot = production and region.spot and rng.random() < 0.7
    actions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if rng.random() < 0.4:
        actions = (("https://artifacts.example.com/bootstrap/install-drivers.sh",
                    ("--jdbc", rng.choice(("postgres", "mysql", "sqlserver")))),)
    return Cluster(
        id=cluster_id, name=name, description=description,
        type="production" if production else "sandbox",
        nodes=rng.randint(2, 8) if production else 1, plan_id=3 if production else 1,
        region=region, zone=rng.choice(region.zones),
        spot_price=round(rng.uniform(0.08, 0.4), 2) if spot else None,
        spot_percentage=rng.choice((0.25, 0.5, 0.75)) if spot else None,
        terminate_on_idle=rng.random() < 0.6,
        time_to_idle=rng.choice((900, 1800, 3600)),
        allow_fallback=rng.random() < 0.5, bootstrap_actions=actions,
        creator=_creator(rng), requested_at=requested_at)


@dataclass(frozen=True)
class _Output:
    id: int
    template: _OutputTemplate
    records_count: int
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Job:
    """One job run (made by :func:`new_job`); times are seconds from the simulation's
    start."""

    id: int
    cluster_id: int
    package: _Package
    creator: _Creator
    submitted_at: int
    started_at: int
    ended_at: int
    outcome: str  # completed, failed or stopped
    final_progress: float
    outputs: tuple[_Output, ...]
    errors: str

    def resource(self, offset: int, *, stage: str) -> Resource:
        """The job as ``GET /jobs/:id`` returns it right after the ``job.<stage>`` event
        (stage: submitted, started, completed, failed, stopped)."""
        def when(t: int | None) -> str | None:
            return None if t is None else _iso(offset + t)

        at = {"submitted": self.submitted_at, "started": self.started_at}.get(
            stage, self.ended_at)
        status = {"submitted": "pending", "started": "running"}.get(stage, stage)
        progress: float = {"submitted": 0, "started": 0, "completed": 1}.get(
            stage, self.final_progress)
        url = f"{API_ROOT}/jobs/{self.id}"
        outputs = [{
            "id": o.id, "name": o.template.name, "records_count": o.records_count,
            "created_at": when(o.created_at), "updated_at": when(o.updated_at),
            "preview_url": f"{url}/outputs/{o.id}/preview", "url": f"{url}/outputs/{o.id}",
            "component": {"name": o.template.component_name,
                          "type": o.template.component_type,
                          "fields": list(o.template.fields)},
        } for o in self.outputs] if stage == "completed" else []
        run_date = datetime.fromtimestamp(offset + self.submitted_at, UTC) - timedelta(days=1)
        variables = {"run_date": run_date.strftime("%Y-%m-%d"), **dict(self.package.variables)}
        return {
            "id": self.id, "status": status, "variables": variables,
            "owner_id": self.creator.owner_id, "progress": progress,
            "outputs_count": len(outputs), "outputs": outputs,
            "started_at": None if stage == "submitted" else when(self.started_at),
            "created_at": when(self.submitted_at),
            "failed_at": when(self.ended_at) if stage == "failed" else None,
            "updated_at": when(at),
            "completed_at": when(self.ended_at) if stage == "completed" else None,
            "cluster_id": self.cluster_id, "package_id": self.package.id,
            "errors": self.errors if stage == "failed" else "",
            "runtime_in_seconds": 0 if stage == "submitted" else at - self.started_at,
            "url": url, "html_url": f"{WEB_ROOT}/jobs/{self.id}", "log_url": f"{url}/log",
            "creator": self.creator.to_json(),
        }


def new_job(rng: random.Random, job_id: int, next_output_id: Callable[[], int],
             cluster_id: int, times: tuple[int, int, int], outcome: str) -> Job:
    """A job of a random package on cluster ``cluster_id``, run at ``times``
    ((submitted, started, ended), seconds from the simulation's start, as
    :func:`job_times` gives) and ending as ``outcome`` (one of :data:`JOB_OUTCOMES`);
    a completed job's outputs get their ids from ``next_output_id``."""
    submitted, started, ended = times
    package = rng.choice(_PACKAGES)
    outputs = []
    if outcome == "completed":
        for template in package.outputs:
            created = started + int((ended - started) * rng.uniform(0.3, 0.9))
            outputs.append(_Output(
                id=next_output_id(), template=template,
                records_count=int(template.typical_records * rng.uniform(0.5, 1.5)),
                created_at=created, updated_at=max(created, ended - rng.randint(1, 5))))
    return Job(id=job_id, cluster_id=cluster_id, package=package, creator=_creator(rng),
                submitted_at=submitted, started_at=started, ended_at=ended, outcome=outcome,
                final_progress=round(rng.uniform(0.05, 0.95), 2), outputs=tuple(outputs),
                errors=rng.choice(_FAILURES) if outcome == "failed" else "")


def job_times(rng: random.Random, after: int) -> tuple[int, int, int]:
    """(submitted, started, ended): submitted 10 s to 5 min after ``after``, started 5 to
    90 s later, running 1 to 30 min."""
    submitted = after + rng.randint(10, 300)
    started = submitted + rng.randint(5, 90)
    return submitted, started, started + rng.randint(60, 1800)


# -- sample resources ----------------------------------------------------------------------


def sample_resource(event_type: str, rng: random.Random | None = None, *,
                    now: datetime | None = None) -> Resource:
    """A realistic resource for an event of ``event_type``, as the platform would send it.

    The status matches the event (``job.failed`` → ``failed`` with ``failed_at`` and
    ``errors``; ``cluster.idled`` → ``idle`` with ``idle_since``; ...) and the event
    happened at ``now``: ``updated_at`` is ``now``, earlier times lie before it.

    Args:
        event_type: one of the ten catalog event types.
        rng: the source of randomness (a seeded ``random.Random`` and a fixed ``now``
            give the same resource every time); a fresh one by default.
        now: an aware datetime; the current time by default.

    Returns:
        A Job (``job.*``) or Cluster (``cluster.*``) dict shaped as in DESIGN.md §7.

    Raises:
        InputError: ``event_type`` is not one of the ten event types (``ping`` has no
            resource), or ``now`` has no time zone.
    """
    group = catalog.event_type(event_type).group
    kind = event_type.split(".", 1)[1]
    rng = rng if rng is not None else random.Random()  # noqa: S311 - sample data, not secrets
    end = epoch_seconds(now) if now is not None else int(time.time())
    cluster = new_cluster(rng, rng.randint(700, 999), 0, set())
    available = rng.randint(180, 600)
    if group == "cluster":
        at, kwargs = _cluster_stage(rng, cluster, kind, available)
        return cluster.resource(end - at, status=kwargs.pop("status"), at=at, **kwargs)
    outcome = kind if kind in JOB_OUTCOMES else rng.choices(JOB_OUTCOMES, JOB_OUTCOME_WEIGHTS)[0]
    output_ids = itertools.count(rng.randint(90000, 99000))
    job = new_job(rng, rng.randint(48000, 49999), functools.partial(next, output_ids),
                   cluster.id, job_times(rng, available), outcome)
    at = {"submitted": job.submitted_at, "started": job.started_at}.get(kind, job.ended_at)
    return job.resource(end - at, stage=kind)


def _cluster_stage(rng: random.Random, cluster: Cluster, kind: str,
                   available: int) -> tuple[int, dict[str, Any]]:
    """The time and resource arguments of a cluster right after ``cluster.<kind>``."""
    busy_until = available + rng.randint(600, 7200)
    idle = busy_until + cluster.time_to_idle
    if kind == "requested":
        return 0, {"status": "pending"}
    if kind == "error":
        return rng.randint(60, 420), {"status": "error"}
    if kind == "available":
        return available, {"status": "available", "available_since": available}
    if kind == "idled":
        return idle, {"status": "idle", "available_since": available, "idle_since": idle}
    if cluster.terminate_on_idle:
        end = idle + rng.randint(30, 240)
        return end, {"status": "terminated", "available_since": available, "idle_since": idle,
                     "terminated_at": end, "terminated_on_idle": True}
    end = busy_until + rng.randint(60, cluster.time_to_idle - 60)
    return end, {"status": "terminated", "available_since": available, "terminated_at": end}


# -- the simulator -------------------------------------------------------------------------
