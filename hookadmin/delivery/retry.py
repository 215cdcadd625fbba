"""What happens after an attempt: when the delivery is tried again, and when its hook
is deactivated. Pure decisions (no database, no clock of their own), so the engine's
bookkeeping only carries them out.

- A success is final.
- A secret that could not be read waits ``secret_retry_interval`` without using up
  the retry schedule (never sent unsigned).
- An address the network policy refuses is final: retrying cannot help.
- ``410 Gone`` is final and deactivates the hook at once.
- Any other failure follows the retry schedule (a ``Retry-After`` on 429/503 is
  honoured, but only ever lengthens the wait) until it runs out.
- A hook whose every attempt has failed for ``deactivate_after`` seconds is
  deactivated.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from hookadmin.core.store import AttemptRecord
from hookadmin.delivery.policy import DeliverySettings, retry_after_seconds

GONE = 410


@dataclass(frozen=True)
class NextStep:
    """The decision after one attempt.

    Attributes:
        next_attempt_at: when to try again (Unix seconds), or None: the delivery is
            final (succeeded, or failed for good).
        deactivate_reason: when set, deactivate the hook now with this sentence.
    """

    next_attempt_at: float | None
    deactivate_reason: str | None = None


FINAL = NextStep(None)  # the delivery is done: it succeeded, or failed for good


def uses_schedule(attempt: AttemptRecord) -> bool:
    """True when :func:`after_attempt` needs ``tried``: the attempt failed in a way the
    retry schedule handles (so the caller reads the delivery's counted attempts only
    then)."""
    return not attempt.succeeded and attempt.error_kind not in ("secret_unavailable", "policy") \
        and attempt.status_code != GONE


def after_attempt(attempt: AttemptRecord, settings: DeliverySettings, *, now: float,
                  tried: int, rng: random.Random | None = None) -> NextStep:
    """When the delivery is tried next, and whether its hook is deactivated.

    Args:
        attempt: what happened.
        settings: the retry schedule, jitter and intervals.
        now: Unix seconds.
        tried: the delivery's attempts that count toward the schedule, this one
            included (only read when :func:`uses_schedule` is True).
        rng: random source for the jitter.
    """
    if attempt.succeeded:
        return FINAL
    if attempt.error_kind == "secret_unavailable":
        # Not the receiver's fault: wait for the keyring without using up the retry
        # schedule, however long it stays unavailable; never send unsigned.
        return NextStep(now + settings.secret_retry_interval)
    if attempt.error_kind == "policy":
        return FINAL  # retrying cannot help until the URL or the policy changes
    if attempt.status_code == GONE:
        return NextStep(None, "The receiver answered 410 Gone, so the hook was deactivated "
                              f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(now))}.")
    delay = settings.next_delay(tried, retry_after=retry_after_seconds(attempt, now=now),
                                rng=rng)
    return NextStep(None if delay is None else now + delay)


def counts_as_failing(attempt: AttemptRecord) -> bool:
    """True for a failure that keeps a hook's failing clock running toward
    deactivation (a 410 deactivates by itself; a missing secret is not the
    receiver's fault)."""
    return not attempt.succeeded and attempt.status_code != GONE \
        and attempt.error_kind != "secret_unavailable"


def failing_too_long(since: float | None, last: AttemptRecord, settings: DeliverySettings,
                     *, now: float) -> str | None:
    """The reason to deactivate a hook whose every attempt has failed since ``since``
    (Unix seconds, or None when it is not failing), or None while that is shorter than
    ``deactivate_after``. ``last`` is its latest failed attempt, named in the reason."""
    if since is None or now - since < settings.deactivate_after:
        return None
    what = f"HTTP {last.status_code}" if last.status_code is not None else last.error_kind
    return (f"Every delivery since {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(since))}"
            f" failed ({duration(settings.deactivate_after)} without a success; "
            f"last: {what}), so the hook was deactivated. Fix the receiver, then "
            "activate the hook again.")


def duration(seconds: float) -> str:
    """``5 days``, ``3 hours``, ``12 minutes`` or ``4 seconds``."""
    for unit, size in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            value = seconds / size
            return f"{value:g} {unit}{'' if value == 1 else 's'}"
    return f"{seconds:.3g} seconds"
