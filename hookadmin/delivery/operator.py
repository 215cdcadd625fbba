"""Operator events: the engine tells administrators' hooks when other hooks fail.

Four event types of the ``hook`` group ("All Hook Notifications"), made by the
bookkeeper inside the turn that records the attempts, so they are as durable as the
attempts themselves:

- ``hook.failing``: a hook's attempts have failed for ``failing_after`` seconds (default
  15 minutes) with no success; once per failing period (debounced: the period is
  remembered in the ``operator_notified`` setting, so a restart does not repeat it).
- ``hook.disabled``: the engine deactivated a hook (410 Gone, or failing too long).
- ``hook.recovered``: the first success of a hook that was reported failing.
- ``delivery.exhausted``: a delivery gave up after its last retry.

Each goes, as one event aimed at each receiver, to every active hook subscribed to its
type except the hook it is about (no loops). A delivery that was itself an operator
event never makes a ``delivery.exhausted`` (two broken administrators' hooks would
otherwise report each other forever). The body is one JSON object::

    {"type": "hook.failing", "occurred_at": "2026-11-29T10:15:00Z",
     "hook": {... the hook as in DESIGN §4 ...},
     "reason": "every attempt has failed for 15 minutes",
     "failing_since": "2026-11-29T10:00:00Z",
     "counts": {"failed_attempts": 12, "succeeded_attempts": 0},
     "delivery": null}

``delivery`` is set for ``delivery.exhausted`` only: ``{"id", "event", "attempts",
"status_code", "error_kind", "created_at"}``. ``failing_since`` is when the failing
period began (for ``hook.recovered``: the period that just ended), null when the hook
was not failing and for ``delivery.exhausted``. ``counts`` are the hook's attempts
since it began failing (for ``delivery.exhausted``: since the delivery was made).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hookadmin.core import events as catalog
from hookadmin.core.alerts import failing_after
from hookadmin.core.errors import NotFoundError
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Repository, iso

NOTIFIED_KEY = "operator_notified"
"""Setting: ``{hook id: failing_since}`` of the failing periods already reported."""


@dataclass(frozen=True)
class AttemptSummary:
    """What the operator events need of one recorded attempt."""

    hook_id: int
    delivery_seq: int
    succeeded: bool
    status: str  # the delivery's new status: succeeded, pending or failed


class OperatorEvents:
    """The bookkeeper's maker of operator events. Costs nothing while no hook subscribes
    to the ``hook`` group: :meth:`set_hooks` is given every hook whenever one changes.

    Args:
        store: the bookkeeper's store (used inside its turn's transaction).
    """

    def __init__(self, store: Repository) -> None:
        self.store = store
        self.hooks: dict[int, Hook] = {}
        self.receivers: dict[str, list[int]] = {}

    def set_hooks(self, hooks: dict[int, Hook]) -> None:
        """Every hook by id, after any change."""
        self.hooks = hooks
        self.receivers = {t: [h.id for h in hooks.values()
                              if h.active and catalog.subscribes_to(h.events, t)]
                          for t in catalog.OPERATOR_TYPES}

    @property
    def wanted(self) -> bool:
        """Whether any active hook receives operator events."""
        return any(self.receivers.values())

    def after_record(self, attempts: Sequence[AttemptSummary],
                     disabled: Iterable[tuple[int, str]],
                     failing: dict[int, float | None], *, now: float | None = None) -> int:
        """Make the operator events of one turn; returns how many events were queued.

        Args:
            attempts: the turn's recorded attempts.
            disabled: (hook id, reason) of the hooks the turn deactivated.
            failing: hook id → failing since (Unix seconds, or None) for the hooks whose
                attempts failed in the turn.
            now: Unix seconds (default: now).
        """
        if not self.wanted:
            return 0
        now = time.time() if now is None else now
        queued = 0
        notified = self._notified()
        before = dict(notified)
        for hook_id, reason in disabled:
            queued += self._send("hook.disabled", hook_id, now, reason=reason,
                                 since=failing.get(hook_id))
        threshold = failing_after(self.store)
        for hook_id, since in failing.items():
            if since is None or now - since < threshold or notified.get(str(hook_id)) == since:
                continue
            notified[str(hook_id)] = since
            queued += self._send("hook.failing", hook_id, now, since=since,
                                 reason=f"every attempt has failed for "
                                        f"{int((now - since) // 60)} minutes")
        for hook_id in sorted({a.hook_id for a in attempts if a.succeeded}):
            since = notified.pop(str(hook_id), None)
            if since is not None:
                queued += self._send("hook.recovered", hook_id, now, since=since,
                                     reason="an attempt succeeded")
        exhausted = [a.delivery_seq for a in attempts if a.status == "failed"]
        if exhausted and self.receivers["delivery.exhausted"]:
            for d in self.store.deliveries_by_seq(exhausted):
                if d.event_type in catalog.OPERATOR_TYPES:
                    continue  # never report the failure of a report (no ping-pong)
                queued += self._send(
                    "delivery.exhausted", d.hook_id, now, since=d.created_at,
                    reason=f"the delivery gave up after {d.attempts} attempts",
                    delivery={"id": d.id, "event": d.event_type, "attempts": d.attempts,
                              "status_code": d.last_status_code,
                              "error_kind": d.last_error_kind,
                              "created_at": iso(d.created_at)})
        if notified != before:
            self.store.set_setting(NOTIFIED_KEY, notified)
        return queued

    def _notified(self) -> dict[str, float]:
        value = self.store.get_setting(NOTIFIED_KEY)
        return dict(value) if isinstance(value, dict) else {}

    def _send(self, event_type: str, hook_id: int, now: float, *, reason: str,
              since: float | None, delivery: dict[str, Any] | None = None) -> int:
        targets = [h for h in self.receivers[event_type] if h != hook_id]
        if not targets:
            return 0
        hook = self.hooks.get(hook_id)
        try:
            hook = self.store.get_hook(hook_id)  # its state now (a 410 just deactivated it)
        except NotFoundError:
            if hook is None:
                return 0
        counts = self._counts(hook_id, since)
        body = json.dumps({
            "type": event_type, "occurred_at": iso(now), "hook": hook.to_json(),
            "reason": reason,
            "failing_since": None if delivery is not None else iso(since),
            "counts": counts, "delivery": delivery,
        }, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        for target in targets:
            self.store.add_events([(event_type, body)], target_hook_id=target)
        return len(targets)

    def _counts(self, hook_id: int, since: float | None) -> dict[str, int]:
        if since is None:
            return {"failed_attempts": 0, "succeeded_attempts": 0}
        rows = self.store.activity(since=since - 60, bucket=60.0, hook_id=hook_id)
        return {"failed_attempts": sum(r[2] for r in rows),
                "succeeded_attempts": sum(r[1] for r in rows)}
