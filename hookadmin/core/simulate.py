"""A platform simulator: realistic job and cluster lifecycles.

:func:`simulate` plays whole lifecycles (``hookadmin simulate``) with the jobs and
clusters of :mod:`hookadmin.core.sample_resources`, which also gives
:func:`sample_resource` (re-exported here).
Every resource is shaped like the example bodies in ``tests/fixtures`` and passes
:func:`hookadmin.core.resources.validate_resource` (DESIGN.md §7).

Lifecycles:

* cluster: ``cluster.requested`` (status ``pending``) → ``cluster.available`` →
  [``cluster.idled``] → ``cluster.terminated``; or ``cluster.requested`` →
  ``cluster.error``.
* job, on a cluster after its ``cluster.available`` and before it idles or is
  terminated: ``job.submitted`` (``pending``) → ``job.started`` (``running``) →
  ``job.completed`` | ``job.failed`` | ``job.stopped``.

Times are whole seconds, rendered as ISO-8601 UTC (``2026-11-29T14:21:29Z``).
"""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from hookadmin.core.errors import InputError
from hookadmin.core.sample_resources import (
    JOB_OUTCOME_WEIGHTS,
    JOB_OUTCOMES,
    Cluster,
    Resource,
    epoch_seconds,
    job_times,
    new_cluster,
    new_job,
    sample_resource,
)

__all__ = ["DEFAULT_START", "Resource", "sample_resource", "simulate"]

DEFAULT_START = datetime(2026, 11, 29, 5, 0, 0, tzinfo=UTC)
"""Where a seeded simulation starts unless ``start`` is given, so that the same seed
always gives the same events."""

CLUSTER_ERROR_RATE = 0.15


def simulate(clusters: int = 2, jobs: int = 10, seed: int | None = None, *,
             start: datetime | None = None) -> Iterator[tuple[str, Resource]]:
    """Realistic platform activity: cluster and job lifecycles, in time order.

    Each cluster is requested (a few minutes after the previous one), then becomes
    available or, about one time in seven, fails with ``cluster.error``. Jobs are spread
    over the available clusters; on each, they are submitted one after another while
    the cluster is busy and end as ``completed`` (about 70 %), ``failed`` (20 %) or
    ``stopped`` (10 %). When a cluster's last job has ended it idles (after its
    ``time_to_idle``) and is terminated, or a user terminates it earlier. When jobs are
    asked for, the first cluster never fails, so every job has a cluster to run on.

    Args:
        clusters: how many clusters (0 or more).
        jobs: how many jobs (0 or more; at least one cluster is needed for jobs).
        seed: the same seed gives the identical event sequence (ids, times, values);
            ``None`` gives a different run each time.
        start: an aware datetime for the first event; by default
            :data:`DEFAULT_START` for a seeded run, otherwise chosen so that the last
            event happens now.

    Returns:
        An iterator of (event type, resource) pairs, in the order the events happen:
        ``updated_at`` never decreases from one event to the next. 2 to 4 events per
        cluster (requested, then error; or available, [idled,] terminated) and 3 per job.

    Raises:
        InputError: a negative count, jobs without clusters, or a naive ``start``
            (raised by this call, before anything is produced).
    """
    for name, value in (("clusters", clusters), ("jobs", jobs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"The number of {name} must be a whole number of 0 or more, "
                             f"not {value!r}.", field=name)
    if jobs and not clusters:
        raise InputError("Jobs need a cluster to run on; simulate at least one cluster.",
                         field="clusters")
    rng = random.Random(seed)  # noqa: S311 - simulated data, not secrets
    timeline = _timeline(rng, clusters, jobs)
    if start is not None:
        offset = epoch_seconds(start)
    elif seed is not None:
        offset = epoch_seconds(DEFAULT_START)
    else:
        offset = int(time.time()) - (timeline[-1][0] if timeline else 0)
    return ((event_type, build(offset)) for _, _, event_type, build in timeline)


_Build = Callable[[int], Resource]


def _timeline(rng: random.Random, n_clusters: int,
              n_jobs: int) -> list[tuple[int, int, str, _Build]]:
    """Every event as (time, insertion order, event type, resource builder), sorted by
    time; the insertion order keeps each cluster's and job's own events in sequence."""
    events: list[tuple[int, int, str, _Build]] = []

    def add(at: int, event_type: str, build: _Build) -> None:
        events.append((at, len(events), event_type, build))

    names: set[str] = set()
    available: list[tuple[Cluster, int]] = []
    first_cluster_id = rng.randint(700, 899)
    requested = 0
    for i in range(n_clusters):
        requested += rng.randint(0, 600) if i else 0
        cluster = new_cluster(rng, first_cluster_id + i, requested, names)
        add(requested, "cluster.requested",
            functools.partial(cluster.resource, status="pending", at=requested))
        if rng.random() < CLUSTER_ERROR_RATE and not (n_jobs and i == 0):
            failed = requested + rng.randint(60, 420)
            add(failed, "cluster.error",
                functools.partial(cluster.resource, status="error", at=failed))
        else:
            available.append((cluster, requested + rng.randint(180, 600)))

    per_cluster = [0] * len(available)
    for _ in range(n_jobs):
        per_cluster[rng.randrange(len(available))] += 1

    runs: list[tuple[tuple[int, int, int], int, str]] = []  # (times, cluster id, outcome)
    for (cluster, since), count in zip(available, per_cluster, strict=True):
        add(since, "cluster.available", functools.partial(
            cluster.resource, status="available", at=since, available_since=since))
        # Each job is submitted at most 5 min after the previous one, well within the
        # cluster's time_to_idle (15 min or more): it never idles while jobs come in.
        submitted, last_end = since, since
        for _ in range(count):
            times = job_times(rng, submitted)
            submitted, last_end = times[0], max(last_end, times[2])
            runs.append((times, cluster.id,
                         rng.choices(JOB_OUTCOMES, JOB_OUTCOME_WEIGHTS)[0]))
        _add_cluster_end(rng, add, cluster, since, last_end)

    # Job and output ids grow in submission order, as the platform hands them out.
    runs.sort(key=lambda run: (run[0][0], run[1]))
    first_job_id = rng.randint(48000, 48999)
    output_ids = itertools.count(rng.randint(90000, 90999))
    for number, (times, cluster_id, outcome) in enumerate(runs):
        job = new_job(rng, first_job_id + number, functools.partial(next, output_ids),
                       cluster_id, times, outcome)
        add(job.submitted_at, "job.submitted", functools.partial(job.resource, stage="submitted"))
        add(job.started_at, "job.started", functools.partial(job.resource, stage="started"))
        add(job.ended_at, f"job.{outcome}", functools.partial(job.resource, stage=outcome))

    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _add_cluster_end(rng: random.Random, add: Callable[[int, str, _Build], None],
                     cluster: Cluster, since: int, last_end: int) -> None:
    """The end of an available cluster whose last job ended at ``last_end``: idle then
    terminated (on idle, or later by a user), or terminated by a user before idling."""
    idle = last_end + cluster.time_to_idle
    if cluster.terminate_on_idle or rng.random() < 0.5:
        add(idle, "cluster.idled", functools.partial(
            cluster.resource, status="idle", at=idle, available_since=since, idle_since=idle))
        end = idle + (rng.randint(30, 240) if cluster.terminate_on_idle
                      else rng.randint(300, 3600))
        add(end, "cluster.terminated", functools.partial(
            cluster.resource, status="terminated", at=end, available_since=since,
            idle_since=idle, terminated_at=end, terminated_on_idle=cluster.terminate_on_idle))
        return
    end = last_end + rng.randint(60, cluster.time_to_idle - 60)
    add(end, "cluster.terminated", functools.partial(
        cluster.resource, status="terminated", at=end, available_since=since,
        terminated_at=end))
