"""Checks that a published resource looks like the platform's Job or Cluster.

Source: DESIGN.md §7 (the platform's API, version 2; example bodies in
``tests/fixtures``). ``job.*`` events carry a Job, ``cluster.*`` events a Cluster.

What is checked:

* the JSON type of every known field (``int`` means a whole number and never
  ``true``/``false``; ``number`` is a whole or decimal finite number);
* ``status`` (and a cluster's ``type``) against the values listed in §7;
* timestamps: ISO-8601 UTC ending in ``Z`` (``2026-11-29T14:21:29Z``, fractional
  seconds allowed) and a real date, or ``null``;
* ranges: a job's ``progress`` is 0 to 1; ids, counts and durations are not negative;
* nested shapes: a job's ``outputs[]`` items and their ``component``, ``creator``
  and a cluster's ``bootstrap_actions[]``.

Only ``id`` and ``status`` are required (which job or cluster, and what state it is
in); every other §7 field may be left out but, when present, must have the right
type. Nested objects require their identifying fields: an output's ``id``, a
component's ``name`` and ``type``, a creator's ``type`` and ``id``, a bootstrap
action's ``script_path``. Unknown extra fields are accepted at every level: platforms
add fields over time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError

JOB_STATUSES: tuple[str, ...] = ("idle", "pending", "running", "completed", "failed",
                                 "pending_stoppage", "stopping", "stopped")
CLUSTER_STATUSES: tuple[str, ...] = ("pending", "creating", "available", "idle", "error",
                                     "pending_terminate", "terminating", "terminated")
CLUSTER_TYPES: tuple[str, ...] = ("sandbox", "production")
CREATOR_TYPES: tuple[str, ...] = ("User", "Schedule")

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")
_TIME_EXAMPLE = "2026-11-29T14:21:29Z"


@dataclass(frozen=True)
class _Field:
    """One field's rule: JSON ``kind`` (int, number, string, bool, object, list,
    time), whether ``null`` is allowed, whether it is required, allowed
    ``choices``, an inclusive ``minimum``/``maximum``, the ``shape`` of an object and
    the rule for the ``items`` of a list."""

    kind: str
    nullable: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    shape: Mapping[str, _Field] = field(default_factory=dict)
    items: _Field | None = None


def _id(*, required: bool = False) -> _Field:
    return _Field("int", required=required, minimum=0)


_COUNT = _Field("int", minimum=0)
_STRING = _Field("string")
_NULLABLE_STRING = _Field("string", nullable=True)
_TIMESTAMP = _Field("time", nullable=True)
_SPOT = _Field("number", nullable=True, minimum=0)

_CREATOR = _Field("object", shape={
    "type": _Field("string", required=True, choices=CREATOR_TYPES),
    "id": _id(required=True),
    "display_name": _STRING,
    "url": _STRING,
    "html_url": _STRING,
})

_COMPONENT = _Field("object", shape={
    "name": _Field("string", required=True),
    "type": _Field("string", required=True),
    "fields": _Field("list", items=_STRING),
})

_OUTPUT = _Field("object", shape={
    "id": _id(required=True),
    "name": _STRING,
    "records_count": _COUNT,
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "preview_url": _STRING,
    "url": _STRING,
    "component": _COMPONENT,
})

JOB: Mapping[str, _Field] = {
    "id": _id(required=True),
    "status": _Field("string", required=True, choices=JOB_STATUSES),
    "variables": _Field("object"),
    "owner_id": _id(),
    "progress": _Field("number", minimum=0, maximum=1),
    "outputs_count": _COUNT,
    "outputs": _Field("list", items=_OUTPUT),
    "started_at": _TIMESTAMP,
    "created_at": _TIMESTAMP,
    "failed_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "completed_at": _TIMESTAMP,
    "cluster_id": _id(),
    "package_id": _id(),
    "errors": _NULLABLE_STRING,
    "runtime_in_seconds": _COUNT,
    "url": _STRING,
    "html_url": _STRING,
    "log_url": _STRING,
    "creator": _CREATOR,
}
"""The Job resource (DESIGN.md §7): field name → rule."""

_BOOTSTRAP_ACTION = _Field("object", shape={
    "script_path": _Field("string", required=True),
    "args": _Field("list", items=_STRING),
})

CLUSTER: Mapping[str, _Field] = {
    "id": _id(required=True),
    "name": _STRING,
    "description": _NULLABLE_STRING,
    "status": _Field("string", required=True, choices=CLUSTER_STATUSES),
    "owner_id": _id(),
    "plan_id": _id(),
    "nodes": _COUNT,
    "type": _Field("string", choices=CLUSTER_TYPES),
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "available_since": _TIMESTAMP,
    "terminated_at": _TIMESTAMP,
    "idle_since": _TIMESTAMP,
    "running_jobs_count": _COUNT,
    "terminate_on_idle": _Field("bool"),
    "time_to_idle": _COUNT,
    "terminated_on_idle": _Field("bool"),
    "region": _STRING,
    "zone": _NULLABLE_STRING,
    "master_instance_type": _STRING,
    "slave_instance_type": _STRING,
    "master_spot_price": _SPOT,
    "slave_spot_price": _SPOT,
    "master_spot_percentage": _SPOT,
    "slave_spot_percentage": _SPOT,
    "allow_fallback": _Field("bool"),
    "stack": _STRING,
    "bootstrap_actions": _Field("list", items=_BOOTSTRAP_ACTION),
    "url": _STRING,
    "html_url": _STRING,
    "creator": _CREATOR,
}
"""The Cluster resource (DESIGN.md §7): field name → rule."""

_EXPECTED = {"int": "a whole number", "number": "a number", "string": "a string",
             "bool": "true or false", "object": "an object ({...})", "list": "a list ([...])",
             "time": f"an ISO-8601 UTC time like {_TIME_EXAMPLE}"}


class _Problem(Exception):
    """Internal: one problem at ``path``; ``text`` completes "The job's field PATH …"."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__(path, text)
        self.path = path
        self.text = text


def validate_resource(event_type: str, resource: Mapping[str, Any]) -> None:
    """Check that ``resource`` is the Job (``job.*``) or Cluster (``cluster.*``) an event
    of ``event_type`` carries, as DESIGN.md §7 describes it.

    Args:
        event_type: one of the ten catalog event types.
        resource: the parsed resource JSON object.

    Raises:
        InputError: ``event_type`` is unknown (``field="event"``), or the resource has a
            problem (``field="resource"``): one sentence naming the field by its path,
            e.g. "The job's field outputs[0].records_count must be a whole number, not a
            string; fix the resource and publish again."
    """
    group = catalog.event_type(event_type).group
    noun, shape = ("job", JOB) if group == "job" else ("cluster", CLUSTER)
    if not isinstance(resource, Mapping):
        raise InputError(f"The {noun} resource must be a JSON object ({{...}}), not "
                         f"{_kind(resource)}; fix the resource and publish again.",
                         field="resource")
    try:
        _check_object(resource, shape, "")
    except _Problem as problem:
        raise InputError(f"The {noun}'s field {problem.path} {problem.text}; fix the "
                         "resource and publish again.", field="resource") from None


def _check_object(obj: Mapping[str, Any], shape: Mapping[str, _Field], prefix: str) -> None:
    for name, rule in shape.items():
        path = f"{prefix}.{name}" if prefix else name
        if name not in obj:
            if rule.required:
                raise _Problem(path, "is missing")
            continue
        _check_value(obj[name], rule, path)


_IS_KIND: dict[str, Callable[[object], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "time": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, Mapping),
    "list": lambda v: isinstance(v, list),
}


def _check_value(value: object, rule: _Field, path: str) -> None:
    if value is None:
        if rule.nullable:
            return
        raise _Problem(path, f"must be {_EXPECTED[rule.kind]}, not null")
    kind = rule.kind
    if not _IS_KIND[kind](value):
        expected = _EXPECTED[kind] + (" or null" if rule.nullable else "")
        raise _Problem(path, f"must be {expected}, not {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Problem(path, f"must be a finite number, not {value}")
    if kind == "time":
        assert isinstance(value, str)
        _check_time(value, path, rule.nullable)
    if rule.choices and value not in rule.choices:
        allowed = ", ".join(rule.choices[:-1]) + " or " + rule.choices[-1]
        raise _Problem(path, f"must be {allowed}, not {_show(value)}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_range(value, rule, path)
    if kind == "object":
        assert isinstance(value, Mapping)
        _check_object(value, rule.shape, path)
    if kind == "list" and rule.items is not None:
        assert isinstance(value, list)
        for index, item in enumerate(value):
            _check_value(item, rule.items, f"{path}[{index}]")


def _check_time(value: str, path: str, nullable: bool) -> None:
    or_null = " or null" if nullable else ""
    if not _TIME.fullmatch(value):
        raise _Problem(path, f"must be an ISO-8601 UTC time like {_TIME_EXAMPLE} (ending in "
                             f"Z){or_null}, not {_show(value)}")
    try:
        datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise _Problem(path, f"must be a real date and time like {_TIME_EXAMPLE}, not "
                             f"{_show(value)}") from None


def _check_range(value: float, rule: _Field, path: str) -> None:
    low, high = rule.minimum, rule.maximum
    if low is not None and high is not None and not low <= value <= high:
        raise _Problem(path, f"must be between {low:g} and {high:g}, not {value}")
    if low is not None and value < low:
        raise _Problem(path, f"must be at least {low:g}, not {value}")


def _kind(value: object) -> str:
    """How a JSON value is named in a message: "a string", "true", "null", "1.5"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return _show(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a value"


def _show(value: object, limit: int = 40) -> str:
    """A short one-line rendering of ``value`` for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
