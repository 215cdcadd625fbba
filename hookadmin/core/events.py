"""The event catalog (DESIGN.md §2): ten event types in two groups, plus ``ping``, and
the operator events of a third group (``hook``) that only the engine produces.

Group ids (``job``, ``cluster``, ``hook``) stand for every event type of the group,
including any added later, so they are stored as given and expanded only when matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hookadmin.core.errors import InputError

PING = "ping"
OPERATOR_GROUP = "hook"
"""The group of operator events: about hooks, sent by the engine, never published."""


@dataclass(frozen=True)
class EventGroup:
    """A group of event types: ``id`` (``job``), ``name`` ("Job"), ``label``."""

    id: str
    name: str
    label: str


@dataclass(frozen=True)
class EventType:
    """One event type: ``id`` (``job.failed``), its group id, label and description."""

    id: str
    group: str
    label: str
    description: str


GROUPS: tuple[EventGroup, ...] = (
    EventGroup("job", "Job", "All Job Notifications"),
    EventGroup("cluster", "Cluster", "All Cluster Notifications"),
    EventGroup(OPERATOR_GROUP, "Hook", "All Hook Notifications"),
)

EVENT_TYPES: tuple[EventType, ...] = (
    EventType("job.submitted", "job", "Job Submitted",
              "job was submitted by a user or a schedule for execution"),
    EventType("job.started", "job", "Job Started", "job execution started"),
    EventType("job.stopped", "job", "Job Stopped", "job stopped by a user"),
    EventType("job.completed", "job", "Job Completed", "job completed successfully"),
    EventType("job.failed", "job", "Job Failed", "job completed with failure"),
    EventType("cluster.requested", "cluster", "Cluster Requested",
              "cluster creation requested by a user or a schedule"),
    EventType("cluster.available", "cluster", "Cluster Available",
              "cluster is available and jobs can run on it"),
    EventType("cluster.terminated", "cluster", "Cluster Terminated", "cluster is terminated"),
    EventType("cluster.idled", "cluster", "Cluster Idled",
              "no activity on the cluster for a specified interval"),
    EventType("cluster.error", "cluster", "Cluster Error",
              "cluster error occurred; jobs can't run on it"),
    EventType("hook.failing", OPERATOR_GROUP, "Hook Failing",
              "another hook's deliveries have failed for a while with no success"),
    EventType("hook.disabled", OPERATOR_GROUP, "Hook Disabled",
              "the engine deactivated another hook (410 Gone, or failing too long)"),
    EventType("hook.recovered", OPERATOR_GROUP, "Hook Recovered",
              "another hook succeeded again after it was reported failing"),
    EventType("delivery.exhausted", OPERATOR_GROUP, "Delivery Exhausted",
              "a delivery to another hook gave up after its last retry"),
)
OPERATOR_TYPES: tuple[str, ...] = tuple(e.id for e in EVENT_TYPES if e.group == OPERATOR_GROUP)
PUBLISHABLE_TYPES: tuple[EventType, ...] = tuple(e for e in EVENT_TYPES
                                                 if e.group != OPERATOR_GROUP)

EVENT_TYPE_IDS: frozenset[str] = frozenset(e.id for e in EVENT_TYPES)
GROUP_IDS: frozenset[str] = frozenset(g.id for g in GROUPS)
_BY_ID = {e.id: e for e in EVENT_TYPES}


def event_type(type_id: str) -> EventType:
    """Return the catalog entry for ``type_id``.

    Raises:
        InputError: ``type_id`` is not one of the ten event types.
    """
    try:
        return _BY_ID[type_id]
    except KeyError:
        raise InputError(
            f"Unknown event type {type_id!r}; use one of: {', '.join(sorted(EVENT_TYPE_IDS))}.",
            field="event",
        ) from None


def types_in_group(group_id: str) -> tuple[str, ...]:
    """The event type ids of one group, in catalog order."""
    return tuple(e.id for e in EVENT_TYPES if e.group == group_id)


def normalize_subscription(events: Iterable[str]) -> list[str]:
    """Validate and canonicalise a hook's event list.

    Accepts event type ids and group ids. Duplicates are dropped; a group that is
    given absorbs its own event types; the result is in catalog order (groups first).

    Raises:
        InputError: an entry is neither an event type nor a group id, or the list is
            empty.
    """
    wanted = [e.strip() for e in events]
    if not wanted:
        raise InputError("Choose at least one event type (or a group: job, cluster).",
                         field="events")
    for item in wanted:
        if item == PING:
            raise InputError("'ping' cannot be subscribed to; use `hookadmin ping ID` instead.",
                             field="events")
        if item not in EVENT_TYPE_IDS and item not in GROUP_IDS:
            raise InputError(
                f"Unknown event type {item!r}; use job, cluster or one of: "
                f"{', '.join(e.id for e in EVENT_TYPES)}.",
                field="events",
            )
    groups = [g.id for g in GROUPS if g.id in wanted]
    types = [e.id for e in EVENT_TYPES if e.id in wanted and e.group not in groups]
    return groups + types


def subscribes_to(subscription: Iterable[str], type_id: str) -> bool:
    """True when a hook subscribed to ``subscription`` receives events of ``type_id``."""
    known = _BY_ID.get(type_id)
    group = known.group if known is not None else type_id.split(".", 1)[0]
    return any(item in (type_id, group) for item in subscription)


def expand(subscription: Iterable[str]) -> frozenset[str]:
    """All event type ids a subscription covers (groups expanded)."""
    return frozenset(e.id for e in EVENT_TYPES if subscribes_to(subscription, e.id))


def catalog_json() -> list[dict[str, object]]:
    """The catalog shaped like the platform's ``GET /hook_events`` response.

    Returns a list of ``{"id", "group_name", "name"}`` objects: the two groups (with
    ``group_name`` equal to their own name) followed by the ten event types.
    """
    out: list[dict[str, object]] = []
    names = {g.id: g.name for g in GROUPS}
    for g in GROUPS:
        out.append({"id": g.id, "group_name": g.name, "name": g.label})
    for e in EVENT_TYPES:
        out.append({"id": e.id, "group_name": names[e.group], "name": e.label})
    return out
