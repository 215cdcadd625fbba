"""The plain records a store hands out and takes in: claimed deliveries, attempts,
deliveries (see :mod:`hookadmin.core.store`). No database code here, so every
implementation and every caller share them.

Times are Unix seconds (float).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class DeliveryJob:
    """One due delivery claimed by an engine: everything needed to send it.

    ``body`` is the exact bytes stored at publish time; ``attempts`` counts the
    attempts already made (0 for a new delivery).
    """

    seq: int
    id: str
    hook_id: int
    event_type: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class AttemptRecord:
    """The outcome of one HTTP attempt, as the engine or a ping produces it.

    Attributes:
        started_at: Unix seconds when the request began.
        duration_ms: milliseconds until the response was read or the error happened.
        request_url: the URL posted to.
        request_headers: the headers sent (signatures included; they are not secret).
        status_code: the HTTP status, or None when no response arrived.
        response_headers: list of (name, value) pairs, or None.
        response_body: at most the configured cap of the response body (bytes).
        response_truncated: True when the body was longer than the cap.
        error_kind: None on success, else ``timeout``, ``dns``, ``connect``, ``tls``,
            ``redirect``, ``http_status``, ``protocol``, ``secret_unavailable``, ...
        error_message: one sentence for people, or None.
        request_body: what was sent when it is not the delivery's body (a Slack message,
            a PagerDuty event, an e-mail's text), every secret masked; None when the
            delivery's body was sent as it is.
    """

    started_at: float
    duration_ms: float | None
    request_url: str
    request_headers: dict[str, str]
    status_code: int | None
    response_headers: list[tuple[str, str]] | None
    response_body: bytes | None
    response_truncated: bool
    error_kind: str | None
    error_message: str | None
    request_body: bytes | None = None

    @property
    def succeeded(self) -> bool:
        """True for a 2xx response."""
        return self.error_kind is None and self.status_code is not None \
            and 200 <= self.status_code < 300


KEYRING_WAIT = "secret_unavailable"
"""The error kind of an attempt that only waited for the keyring (nothing was sent):
no failure of the receiver, so it keeps no hook failing and is left out of the
activity counts (the health row's success rate, the activity chart)."""

FailingChange = Literal["clear", "set", "set_if_unset"]
"""What recorded attempts do to a hook's ``failing_since``: clear it (a success), set it
to now (a failure after a success in the same batch), or set it to now if unset (a
failure)."""


@dataclass(frozen=True)
class Recorded:
    """What recording one attempt does to its delivery (see :func:`plan_recording`).

    Attributes:
        status: the delivery's new status: ``succeeded``, ``pending`` or ``failed``.
        number: the attempt's number (1-based).
        next_attempt_at: Unix seconds of the next attempt, or None (finished).
    """

    status: str
    number: int
    next_attempt_at: float | None


def plan_recording(items: Sequence[tuple[DeliveryJob, AttemptRecord, float | None]]
                   ) -> tuple[list[Recorded], dict[int, FailingChange]]:
    """What a batch of attempts does, the same in every store, before any is written.

    Args:
        items: (claimed delivery, what happened, when to try again or None), in the
            order the attempts ended.

    Returns:
        Each attempt's :class:`Recorded`, in the order of ``items``; and per hook id,
        what the batch does to its ``failing_since``, in order: any success clears it; a
        failure sets it if unset, or to now if a success earlier in the batch cleared
        it; waiting for an unavailable secret changes nothing. Recorded when the failure
        is recorded, not when its attempt began: an attempt that began before a success
        must not backdate it.
    """
    recorded: list[Recorded] = []
    failing: dict[int, FailingChange] = {}
    for job, attempt, next_attempt_at in items:
        if attempt.succeeded:
            recorded.append(Recorded("succeeded", job.attempts + 1, None))
            failing[job.hook_id] = "clear"
            continue
        recorded.append(Recorded("pending" if next_attempt_at is not None else "failed",
                                 job.attempts + 1, next_attempt_at))
        if attempt.error_kind != "secret_unavailable":
            failing[job.hook_id] = "set" if failing.get(job.hook_id) == "clear" \
                else failing.get(job.hook_id, "set_if_unset")
    return recorded, failing


@dataclass(frozen=True)
class Attempt(AttemptRecord):
    """A stored attempt: an :class:`AttemptRecord` with its number (1-based) and
    the time the next attempt was scheduled for (Unix seconds, or None)."""

    number: int = 0
    next_attempt_at: float | None = None


@dataclass(frozen=True)
class Delivery:
    """One event sent to one hook, as listed in the delivery history."""

    seq: int
    id: str
    event_id: str
    hook_id: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error_kind: str | None
    last_duration_ms: float | None
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO-8601 UTC)."""
        return {
            "id": self.id, "event_id": self.event_id, "hook_id": self.hook_id,
            "event": self.event_type, "status": self.status, "attempts": self.attempts,
            "status_code": self.last_status_code, "error_kind": self.last_error_kind,
            "duration_ms": self.last_duration_ms,
            "next_attempt_at": iso(self.next_attempt_at) if self.status == "pending" else None,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class HookHealth:
    """How a hook has fared lately, for the window's hook list and hook page.

    Attributes:
        succeeded: attempts that succeeded in the window (the last ``len(hourly)``
            hours, the current one included).
        failed: attempts that failed in the window.
        hourly: ``(succeeded, failed)`` attempts per hour, oldest first, the last
            entry the current hour (for a sparkline).
        last_success_at: Unix seconds, to the minute, of the last successful attempt
            still in the history, or None.
        failing_since: Unix seconds since when every attempt has failed, or None.
    """

    succeeded: int
    failed: int
    hourly: tuple[tuple[int, int], ...]
    last_success_at: float | None
    failing_since: float | None

    @property
    def success_rate(self) -> float | None:
        """Succeeded attempts / all attempts in the window (0.0 to 1.0), or None when
        there were none."""
        total = self.succeeded + self.failed
        return self.succeeded / total if total else None


def health_from_rows(hooks: list[tuple[int, float | None, float | None]],
                     hours_rows: list[tuple[int, int, int, int]], first_hour: int,
                     hours: int) -> dict[int, HookHealth]:
    """Assemble :class:`HookHealth` per hook from a store's two health queries:
    ``hooks`` as (hook id, failing since, last successful minute or None) and
    ``hours_rows`` as (hook id, hour number since the epoch, succeeded, failed)."""
    per: dict[int, list[tuple[int, int]]] = {h: [(0, 0)] * hours for h, _, _ in hooks}
    for hook_id, hour, ok, bad in hours_rows:
        slots = per.get(int(hook_id))
        if slots is not None and 0 <= int(hour) - first_hour < hours:
            old = slots[int(hour) - first_hour]
            slots[int(hour) - first_hour] = (old[0] + int(ok), old[1] + int(bad))
    out = {}
    for hook_id, failing, minute in hooks:
        hourly = tuple(per[hook_id])
        out[int(hook_id)] = HookHealth(
            succeeded=sum(ok for ok, _ in hourly), failed=sum(bad for _, bad in hourly),
            hourly=hourly, last_success_at=None if minute is None else float(minute) * 60,
            failing_since=None if failing is None else float(failing))
    return out


@dataclass(frozen=True)
class ImportedDelivery:
    """A delivery with its history, as another store holds it, for
    :meth:`~hookadmin.core.store.ports.HistoryImport.import_deliveries`.

    Attributes:
        delivery: the delivery as the other store has it (its ``id``, ``event_id``,
            status, attempt count and times are kept; ``seq`` is not).
        hook_id: the hook it belongs to here (ids differ between stores).
        body: the bytes it sends.
        attempts: its attempts, first to last.
    """

    delivery: Delivery
    hook_id: int
    body: bytes
    attempts: tuple[Attempt, ...]


def iso(ts: float | None) -> str | None:
    """Unix seconds → ``2026-11-29T14:21:29Z`` (or None)."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
