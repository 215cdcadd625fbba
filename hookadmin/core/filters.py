"""Hook filters at fan-out: which waiting events a hook with a filter gets.

A filter is a JMESPath expression on the event's resource (checked when the hook is
saved, :func:`hookadmin.core.hook_types.validate_filter`); an event is delivered when
the result is truthy in JMESPath's sense (not ``null``, ``false``, an empty string,
list or object). Events filtered out create no delivery; each store counts them per
hook (``Hook.filtered_out``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from hookadmin.core.events import subscribes_to
from hookadmin.core.hooks import Hook


@functools.lru_cache(maxsize=256)
def _compiled(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def matches(expression: str, resource: Any) -> bool:
    """True when ``expression`` is truthy on ``resource`` (a parsed JSON value). An
    expression that fails on this resource (a function given the wrong type) does not
    match."""
    try:
        result = _compiled(expression).search(resource)
    except JMESPathError:
        return False
    return result is not None and result is not False and result not in ("", [], {})


def filtered_fan_out(hooks: Sequence[Hook], events: Sequence[tuple[int, str, bytes]]
                     ) -> tuple[list[tuple[int, int, str]], dict[int, int]]:
    """The deliveries hooks with a filter get from waiting events.

    Args:
        hooks: active hooks whose ``options.filter`` is set.
        events: (event seq, event type, body bytes) of events being fanned out, test
            events aimed at one hook left out.

    Returns:
        (deliveries to make as (event seq, hook id, event type); hook id → events that
        the hook subscribes to but its filter left out).
    """
    made: list[tuple[int, int, str]] = []
    skipped: dict[int, int] = {}
    parsed: dict[int, Any] = {}
    for seq, event_type, body in events:
        for hook in hooks:
            if not subscribes_to(hook.events, event_type) or hook.options.filter is None:
                continue
            if seq not in parsed:
                try:
                    parsed[seq] = json.loads(body)
                except ValueError:
                    parsed[seq] = None
            if matches(hook.options.filter, parsed[seq]):
                made.append((seq, hook.id, event_type))
            else:
                skipped[hook.id] = skipped.get(hook.id, 0) + 1
    return made, skipped
