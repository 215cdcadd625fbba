"""What hooks of the types ``slack``, ``pagerduty`` and ``email`` send for an event,
built from the event's resource (DESIGN §7): pure functions, no network.

- :func:`slack_message`: Slack's incoming-webhook ``{"text", "blocks", "attachments"}``.
- :func:`pagerduty_event`: a PagerDuty Events API v2 trigger or resolve.
- :func:`summary`: the one-line summary all of them start from.
"""

from __future__ import annotations

import json
from typing import Any

from hookadmin.core.hook_types import PAGERDUTY

# PagerDuty: these trigger an incident, these resolve the same resource's incident.
PAGERDUTY_TRIGGER = {"job.failed": "error", "cluster.error": "critical"}
PAGERDUTY_RESOLVE = ("job.completed", "cluster.available")
# Operator events (the ``hook`` group): a hook failing or disabled, or a delivery given
# up, triggers an incident; hook.recovered resolves the hook's.
PAGERDUTY_OPERATOR_TRIGGER = {"hook.failing": "warning", "hook.disabled": "error",
                              "delivery.exhausted": "warning"}
PAGERDUTY_OPERATOR_RESOLVE = ("hook.recovered",)
PAGERDUTY_EVENTS: tuple[str, ...] = (*PAGERDUTY_TRIGGER, *PAGERDUTY_RESOLVE,
                                     *PAGERDUTY_OPERATOR_TRIGGER, *PAGERDUTY_OPERATOR_RESOLVE)

GOOD, BAD, NEUTRAL = "#2eb67d", "#e01e5a", "#439fe0"
_OUTCOME = {"job.completed": GOOD, "cluster.available": GOOD, "job.failed": BAD,
            "cluster.error": BAD, "job.stopped": "#ecb22e", "hook.recovered": GOOD,
            "hook.failing": BAD, "hook.disabled": BAD, "delivery.exhausted": BAD}
_OPERATOR_VERB = {"hook.failing": "is failing", "hook.disabled": "was deactivated",
                  "hook.recovered": "recovered"}
_VERB = {"job.submitted": "was submitted", "job.started": "started",
         "job.stopped": "was stopped", "job.completed": "completed", "job.failed": "failed",
         "cluster.requested": "was requested", "cluster.available": "is available",
         "cluster.terminated": "was terminated", "cluster.idled": "is idle",
         "cluster.error": "is in error"}


def duration(seconds: int | float) -> str:
    """``192`` → ``"3 m 12 s"`` (``"1 h 2 m"``, ``"45 s"``)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} m"
    if minutes:
        return f"{minutes} m {secs} s"
    return f"{secs} s"


def _resource(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def summary(event_type: str, resource: dict[str, Any]) -> str:
    """One line about the event, e.g. ``Job 1234 failed on cluster 56 after 3 m 12 s``."""
    verb = _VERB.get(event_type, event_type)
    ident = resource.get("id", "?")
    if event_type.startswith("job."):
        line = f"Job {ident} {verb}"
        if resource.get("cluster_id") is not None:
            line += f" on cluster {resource['cluster_id']}"
        runtime = resource.get("runtime_in_seconds")
        if event_type in ("job.completed", "job.failed", "job.stopped") \
                and isinstance(runtime, int | float) and not isinstance(runtime, bool) \
                and runtime > 0:
            line += f" after {duration(runtime)}"
        return line
    if event_type.startswith("cluster."):
        name = resource.get("name")
        return f"Cluster {name} ({ident}) {verb}" if name else f"Cluster {ident} {verb}"
    if is_operator_event(event_type):
        return _operator_summary(event_type, resource)
    return f"{event_type} {ident}"


def is_operator_event(event_type: str) -> bool:
    """True for the ``hook`` group's events, whose body is an operator event's object
    (``{"type", "hook", "reason", "delivery", ...}``) rather than a resource."""
    return event_type.startswith("hook.") or event_type == "delivery.exhausted"


def _operator_summary(event_type: str, body: dict[str, Any]) -> str:
    """``Hook 3 (billing) is failing: every attempt has failed for 15 minutes``."""
    hook = body.get("hook") if isinstance(body.get("hook"), dict) else {}
    assert isinstance(hook, dict)
    name = hook.get("name")
    who = f"hook {hook.get('id', '?')}" + (f" ({name})" if name else "")
    if event_type == "delivery.exhausted":
        delivery = body.get("delivery") if isinstance(body.get("delivery"), dict) else {}
        assert isinstance(delivery, dict)
        line = f"Delivery {delivery.get('id', '?')} of {who} gave up"
    else:
        line = f"H{who[1:]} {_OPERATOR_VERB.get(event_type, event_type)}"
    reason = body.get("reason")
    return f"{line}: {reason}" if isinstance(reason, str) and reason else line


def slack_message(event_type: str, body: bytes) -> bytes:
    """The Slack incoming-webhook message for an event: ``text`` (the summary, what
    notifications show), ``blocks`` (the summary linked to the resource's
    ``html_url``, then the event type) and one ``attachments`` entry whose ``color``
    says the outcome (green success, red failure, blue otherwise)."""
    resource = _resource(body)
    line = summary(event_type, resource)
    link = resource.get("html_url")
    shown = f"<{link}|{_escape(line)}>" if isinstance(link, str) and link else _escape(line)
    details = []
    if resource.get("status") is not None:
        details.append(f"status *{_escape(str(resource['status']))}*")
    if isinstance(resource.get("errors"), str) and resource["errors"]:
        details.append(f"error: {_escape(resource['errors'][:500])}")
    message = {
        "text": line,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": shown}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"`{event_type}` · hookadmin"}]},
        ],
        "attachments": [{"color": _OUTCOME.get(event_type, NEUTRAL),
                         "fallback": line, "text": " · ".join(details) or line}],
    }
    return _dumps(message)


def slack_ping(hook_id: int) -> bytes:
    """A Slack test message for a ping."""
    line = f"Ping from hookadmin: hook {hook_id} can post to this channel."
    return _dumps({"text": line, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": line}}]})


def pagerduty_event(event_type: str, body: bytes, routing_key: str) -> bytes | None:
    """The PagerDuty Events API v2 event for an event, or None for an event type that
    neither triggers nor resolves (see :data:`PAGERDUTY_EVENTS`).

    A trigger (``job.failed``, ``cluster.error``) carries ``dedup_key`` (``job/<id>``
    or ``cluster/<id>``), ``payload`` with ``summary``, ``source`` (the cluster),
    ``severity`` (``error``; ``critical`` for a cluster), ``timestamp`` and the
    resource as ``custom_details``, and a link to its ``html_url``. A resolve
    (``job.completed``, ``cluster.available``) names the same ``dedup_key``.
    """
    resource = _resource(body)
    if is_operator_event(event_type):
        return _pagerduty_operator_event(event_type, resource, routing_key)
    kind = event_type.split(".", 1)[0]
    dedup_key = f"{kind}/{resource.get('id', '')}"
    if event_type in PAGERDUTY_RESOLVE:
        return _dumps({"routing_key": routing_key, "event_action": "resolve",
                       "dedup_key": dedup_key})
    severity = PAGERDUTY_TRIGGER.get(event_type)
    if severity is None:
        return None
    if kind == "job":
        source = f"cluster {resource.get('cluster_id', '?')}"
        when = resource.get("failed_at") or resource.get("updated_at")
    else:
        source = f"cluster {resource.get('name') or resource.get('id', '?')}"
        when = resource.get("updated_at")
    event: dict[str, Any] = {
        "routing_key": routing_key, "event_action": "trigger", "dedup_key": dedup_key,
        "payload": {"summary": summary(event_type, resource)[:1024], "source": source,
                    "severity": severity, "component": kind, "class": event_type,
                    "custom_details": resource},
        "client": "hookadmin",
    }
    if isinstance(when, str):
        event["payload"]["timestamp"] = when
    link = resource.get("html_url")
    if isinstance(link, str) and link:
        event["links"] = [{"href": link, "text": f"{kind.title()} {resource.get('id')}"}]
    return _dumps(event)


def _pagerduty_operator_event(event_type: str, body: dict[str, Any],
                              routing_key: str) -> bytes | None:
    """An operator event for PagerDuty: ``hook.failing``/``hook.disabled`` trigger the
    incident ``hookadmin-hook/<id>``, ``hook.recovered`` resolves it, and
    ``delivery.exhausted`` triggers ``hookadmin-delivery/<delivery id>``."""
    hook = body.get("hook") if isinstance(body.get("hook"), dict) else {}
    assert isinstance(hook, dict)
    delivery = body.get("delivery") if isinstance(body.get("delivery"), dict) else {}
    assert isinstance(delivery, dict)
    dedup_key = f"hookadmin-delivery/{delivery.get('id', '')}" \
        if event_type == "delivery.exhausted" else f"hookadmin-hook/{hook.get('id', '')}"
    if event_type in PAGERDUTY_OPERATOR_RESOLVE:
        return _dumps({"routing_key": routing_key, "event_action": "resolve",
                       "dedup_key": dedup_key})
    severity = PAGERDUTY_OPERATOR_TRIGGER.get(event_type)
    if severity is None:
        return None
    event: dict[str, Any] = {
        "routing_key": routing_key, "event_action": "trigger", "dedup_key": dedup_key,
        "payload": {"summary": summary(event_type, body)[:1024], "source": "hookadmin",
                    "severity": severity, "component": "hook", "class": event_type,
                    "custom_details": body},
        "client": "hookadmin",
    }
    if isinstance(body.get("occurred_at"), str):
        event["payload"]["timestamp"] = body["occurred_at"]
    return _dumps(event)


def pagerduty_ping(hook_id: int, routing_key: str) -> bytes:
    """A ping for a PagerDuty hook: a ``resolve`` of a key no incident has, which
    PagerDuty accepts (checking the routing key) without paging anyone."""
    return _dumps({"routing_key": routing_key, "event_action": "resolve",
                   "dedup_key": f"hookadmin-ping/{hook_id}"})


def allowed_events(type_name: str) -> tuple[str, ...] | None:
    """The event types a hook of this type may subscribe to, or None for any."""
    return PAGERDUTY_EVENTS if type_name == PAGERDUTY else None


def default_events(type_name: str) -> tuple[str, ...]:
    """A new hook's subscription when none is given: every job and cluster event it can
    send (operator events are never subscribed to by default)."""
    if type_name == PAGERDUTY:
        return (*PAGERDUTY_TRIGGER, *PAGERDUTY_RESOLVE)
    return ("job", "cluster")


def _escape(text: str) -> str:
    """Text for Slack mrkdwn: ``&``, ``<`` and ``>`` escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
