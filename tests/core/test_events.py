"""The event catalog against DESIGN.md §2."""

from __future__ import annotations

import pytest

from hookadmin.core import events
from hookadmin.core.errors import InputError

# DESIGN.md §2, in table order: id, group, label, when.
DESIGN_CATALOG = [
    ("job.submitted", "job", "Job Submitted",
     "job was submitted by a user or a schedule for execution"),
    ("job.started", "job", "Job Started", "job execution started"),
    ("job.stopped", "job", "Job Stopped", "job stopped by a user"),
    ("job.completed", "job", "Job Completed", "job completed successfully"),
    ("job.failed", "job", "Job Failed", "job completed with failure"),
    ("cluster.requested", "cluster", "Cluster Requested",
     "cluster creation requested by a user or a schedule"),
    ("cluster.available", "cluster", "Cluster Available",
     "cluster is available and jobs can run on it"),
    ("cluster.terminated", "cluster", "Cluster Terminated", "cluster is terminated"),
    ("cluster.idled", "cluster", "Cluster Idled",
     "no activity on the cluster for a specified interval"),
    ("cluster.error", "cluster", "Cluster Error", "cluster error occurred; jobs can't run on it"),
]
# The operator events of the third group, which only the engine sends.
OPERATOR_CATALOG = [
    ("hook.failing", "hook", "Hook Failing",
     "another hook's deliveries have failed for a while with no success"),
    ("hook.disabled", "hook", "Hook Disabled",
     "the engine deactivated another hook (410 Gone, or failing too long)"),
    ("hook.recovered", "hook", "Hook Recovered",
     "another hook succeeded again after it was reported failing"),
    ("delivery.exhausted", "hook", "Delivery Exhausted",
     "a delivery to another hook gave up after its last retry"),
]
JOB_TYPES = [row[0] for row in DESIGN_CATALOG if row[1] == "job"]
CLUSTER_TYPES = [row[0] for row in DESIGN_CATALOG if row[1] == "cluster"]


def test_catalog_has_exactly_the_ten_design_types_in_order() -> None:
    got = [(e.id, e.group, e.label, e.description) for e in events.EVENT_TYPES]
    assert got == DESIGN_CATALOG + OPERATOR_CATALOG
    assert {row[0] for row in DESIGN_CATALOG + OPERATOR_CATALOG} == events.EVENT_TYPE_IDS
    assert [e.id for e in events.PUBLISHABLE_TYPES] == [row[0] for row in DESIGN_CATALOG]
    assert events.PING not in events.EVENT_TYPE_IDS


def test_groups_are_job_and_cluster_with_their_labels() -> None:
    assert [(g.id, g.name, g.label) for g in events.GROUPS] == [
        ("job", "Job", "All Job Notifications"),
        ("cluster", "Cluster", "All Cluster Notifications"),
        ("hook", "Hook", "All Hook Notifications"),
    ]
    assert events.types_in_group("job") == tuple(JOB_TYPES)
    assert events.types_in_group("hook") == tuple(r[0] for r in OPERATOR_CATALOG)
    assert events.types_in_group("cluster") == tuple(CLUSTER_TYPES)


@pytest.mark.parametrize("row", DESIGN_CATALOG, ids=lambda r: r[0])
def test_event_type_lookup(row: tuple[str, str, str, str]) -> None:
    entry = events.event_type(row[0])
    assert (entry.id, entry.group, entry.label) == row[:3]


@pytest.mark.parametrize("bad", ["job", "ping", "job.exploded", "JOB.FAILED", ""])
def test_event_type_lookup_rejects_anything_else(bad: str) -> None:
    with pytest.raises(InputError, match="Unknown event type") as info:
        events.event_type(bad)
    assert info.value.field == "event"


@pytest.mark.parametrize(("given", "expected"), [
    (["job.failed"], ["job.failed"]),
    (["cluster.error", "job.failed"], ["job.failed", "cluster.error"]),  # catalog order
    (["job.failed", "job.failed"], ["job.failed"]),  # duplicates dropped
    (["job.failed", "job"], ["job"]),  # the group absorbs its own types
    (["cluster", "job.failed"], ["cluster", "job.failed"]),  # other group's types stay
    (["cluster", "job"], ["job", "cluster"]),  # groups first, in catalog order
    ([" job.failed ", "cluster "], ["cluster", "job.failed"]),  # whitespace stripped
    (JOB_TYPES, JOB_TYPES),  # all five types are not turned into the group
])
def test_normalize_subscription(given: list[str], expected: list[str]) -> None:
    assert events.normalize_subscription(given) == expected


@pytest.mark.parametrize(("given", "fragment"), [
    ([], "at least one event type"),
    (["ping"], "'ping' cannot be subscribed to"),
    (["job.exploded"], "Unknown event type 'job.exploded'"),
    (["job", "clusters"], "Unknown event type 'clusters'"),
    ([""], "Unknown event type ''"),
])
def test_normalize_subscription_rejects(given: list[str], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        events.normalize_subscription(given)
    assert fragment in str(info.value)
    assert info.value.field == "events"


@pytest.mark.parametrize(("subscription", "type_id", "expected"), [
    (["job"], "job.failed", True),
    (["job"], "job.submitted", True),
    (["job"], "cluster.error", False),
    (["cluster"], "cluster.idled", True),
    (["job.failed"], "job.failed", True),
    (["job.failed"], "job.completed", False),
    (["job.failed", "cluster.error"], "cluster.error", True),
    (["job.failed", "cluster.error"], "cluster.available", False),
    (["job", "cluster"], "cluster.requested", True),
    (["job", "cluster"], "ping", False),
])
def test_subscribes_to(subscription: list[str], type_id: str, expected: bool) -> None:
    assert events.subscribes_to(subscription, type_id) is expected


def test_expand_covers_groups_and_single_types() -> None:
    assert events.expand(["job"]) == set(JOB_TYPES)
    assert events.expand(["cluster", "job.failed"]) == {*CLUSTER_TYPES, "job.failed"}
    assert events.expand(["job", "cluster", "hook"]) == events.EVENT_TYPE_IDS
    assert events.expand(["hook"]) == {r[0] for r in OPERATOR_CATALOG}
    assert events.subscribes_to(["hook"], "delivery.exhausted")  # by its group, not prefix
    assert not events.subscribes_to(["job", "cluster"], "hook.failing")


def test_catalog_json_shape_like_get_hook_events() -> None:
    got = events.catalog_json()
    assert got[:3] == [
        {"id": "job", "group_name": "Job", "name": "All Job Notifications"},
        {"id": "cluster", "group_name": "Cluster", "name": "All Cluster Notifications"},
        {"id": "hook", "group_name": "Hook", "name": "All Hook Notifications"},
    ]
    assert got[3:] == [
        {"id": id_, "group_name": group.capitalize(), "name": label}
        for id_, group, label, _ in DESIGN_CATALOG + OPERATOR_CATALOG
    ]
