"""What a store tells the metrics (``/metrics`` and ``hookadmin metrics``): the state
of the queue now, and the attempts recorded since a given attempt id.

No database code here. Times are Unix seconds (float), durations seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryGauges:
    """The queue now.

    Attributes:
        pending: deliveries not yet attempted.
        retrying: deliveries attempted and waiting for another attempt.
        failed: deliveries that gave up (still in the history).
        outbox: events published and not yet fanned out.
        oldest_pending_at: when the oldest waiting event or unfinished delivery was
            published (Unix seconds), or None when nothing waits.
        hooks_active: active hooks. hooks_inactive: inactive hooks.
    """

    pending: int
    retrying: int
    failed: int
    outbox: int
    oldest_pending_at: float | None
    hooks_active: int
    hooks_inactive: int


@dataclass(frozen=True)
class AttemptSample:
    """One recorded attempt, as the metrics count it.

    Attributes:
        id: the attempt's id (increasing).
        hook_id: the hook.
        status_code: the HTTP status, or None.
        error_kind: None on success, else the kind (``timeout``, ``http_status``, ...).
        duration: seconds the attempt took, or None.
        latency: seconds from publishing the event to the end of this attempt when it
            succeeded, else None.
    """

    id: int
    hook_id: int
    status_code: int | None
    error_kind: str | None
    duration: float | None
    latency: float | None
