"""Delivery settings: the retry schedule, timeouts and limits.

Every number is a setting so tests (and administrators) can shorten or widen them.
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from hookadmin.core.proxy_settings import ProxySetting
from hookadmin.core.store import AttemptRecord

# Delays before attempt 1, 2, 3, … in seconds: immediately, 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h, 10 h. After the last one fails, the delivery is failed.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(frozen=True)
class DeliverySettings:
    """How the engine delivers.

    Attributes:
        retry_schedule: delay in seconds before each attempt (the first is normally 0);
            its length is the maximum number of attempts.
        jitter: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter].
        connect_timeout: seconds to establish the connection (TCP and TLS).
        attempt_timeout: seconds for the whole attempt, response body included.
        response_cap: bytes of the response body kept (the rest is discarded and the
            attempt marked truncated).
        retry_after_max: seconds; a ``Retry-After`` on 429/503 is honoured up to this
            (it can only lengthen a wait, see :meth:`next_delay`).
        max_in_flight: requests in flight at once, over all hooks.
        per_hook_in_flight: requests in flight at once to one hook, so a slow hook
            cannot take every slot.
        ready_rounds: how many more rounds of ``per_hook_in_flight`` deliveries per hook
            (and of ``max_in_flight`` in all) the engine claims ahead of those in flight,
            so a finished request is followed at once by the next without waiting for
            the database. All of them are leased (see ``lease_seconds``).
        low_rounds: when a hook has this many rounds or fewer ready beyond those in
            flight, the engine claims more for it at once, so they arrive before its
            last round is sent even when a turn is slow (a WAL checkpoint, a fan-out).
        poll_interval: seconds between full looks at the queue (for retries that have
            come due) when nothing else happens.
        wake_interval: seconds between the engine's turns when it is not woken
            sooner: each turn records finished attempts and checks (with SQLite's
            ``data_version``, a few microseconds) whether another process published
            events or changed anything.
        idle_after: seconds without anything to send or record after which the engine
            looks only every ``idle_wake_interval``.
        idle_wake_interval: seconds between an idle engine's looks for events published
            by other processes (a wake-up costs CPU even when there is nothing to do).
        fan_out_batch: events turned into deliveries per turn at most. The turn's claims
            wait for its fan-out, so a large batch (1,000 events to 4 hooks takes
            about 0.1 s) would let the hooks run dry meanwhile.
        prune_interval: seconds between removals of delivery history older than the
            retention setting (also done when the engine starts).
        lease_seconds: how long a claimed delivery stays reserved for the engine that
            claimed it. A running engine renews its leases every third of this, so only
            a dead engine's claims run out: its deliveries are sent again (same
            delivery id) at most this long after it died.
        strict_network: refuse loopback and private addresses too (link-local and cloud
            metadata addresses are always refused); see :mod:`hookadmin.delivery.netpolicy`.
        secret_retry_interval: seconds between tries of a delivery whose secret could not
            be read from the keyring; such tries never use up the retry schedule.
        retry_in_flight: the retry lane: retries (deliveries tried before) in flight at
            once over all hooks; the rest of ``max_in_flight`` stays for first attempts.
        retry_per_hook_in_flight: retries in flight at once to one hook, so a recovering
            receiver's backlog does not take the engine from fresh events.
        retry_rate_while_fresh: retries started per second at most, over all hooks,
            while fresh events flow (see ``fresh_flow_seconds``); the rest of the time
            retries go as fast as the retry lane lets them. It is also the floor at
            which a backlog of retries drains however many fresh events there are.
            Must be > 0.
        fresh_flow_seconds: fresh events flow while a first attempt was started
            within this many seconds.
        deactivate_after: seconds; a hook whose every attempt has failed for this long
            (no success in between) is deactivated with the reason recorded.
        proxy: the global proxy (``http://user@proxy.example:3128``, no password) every
            HTTP hook without a proxy of its own sends through, or None; see
            :mod:`hookadmin.core.proxy_settings`.
        proxy_from_env: honour ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` for hooks
            with neither their own proxy nor a global one (never otherwise).
        proxy_serial: changes with every change of the proxy setting (its password
            included), so the engine reads the password again.
        proxy_ca_bundle: a PEM file of CA certificates also trusted by requests through
            the global or the environment's proxy, or None.
    """

    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    jitter: float = 0.2
    connect_timeout: float = 5.0
    attempt_timeout: float = 15.0
    response_cap: int = 64 * 1024
    retry_after_max: float = 6 * 3600.0
    max_in_flight: int = 64
    per_hook_in_flight: int = 8
    ready_rounds: int = 4
    low_rounds: int = 2
    poll_interval: float = 0.05
    wake_interval: float = 0.005
    fan_out_batch: int = 100
    idle_after: float = 1.0
    idle_wake_interval: float = 0.05
    prune_interval: float = 3600.0
    lease_seconds: float = 10.0
    strict_network: bool = False
    secret_retry_interval: float = 60.0
    deactivate_after: float = 5 * 86400.0
    retry_in_flight: int = 16
    retry_per_hook_in_flight: int = 2
    retry_rate_while_fresh: float = 50.0
    fresh_flow_seconds: float = 1.0
    proxy: str | None = None
    proxy_from_env: bool = False
    proxy_serial: int = 0
    proxy_ca_bundle: str | None = None

    @property
    def claimed_per_hook(self) -> int:
        """Deliveries of one hook an engine holds at most: in flight and ready."""
        return (1 + self.ready_rounds) * self.per_hook_in_flight

    @property
    def claimed_per_engine(self) -> int:
        """Deliveries an engine holds at most over all hooks: in flight and ready."""
        return (1 + self.ready_rounds) * self.max_in_flight

    @property
    def lease_renew_interval(self) -> float:
        """Seconds between renewals of the leases of in-flight deliveries."""
        return self.lease_seconds / 3.0

    def next_delay(self, attempts_made: int, *, retry_after: float | None = None,
                   rng: random.Random | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None when none is left.

        Args:
            attempts_made: attempts made so far, the failed one included (>= 1).
            retry_after: a server's ``Retry-After`` in seconds (clamped to 1 s ..
                ``retry_after_max``). It only ever delays an attempt: the wait is the
                longer of it and the schedule's delay, so a receiver that keeps asking
                to be retried soon never makes a delivery give up sooner than the
                schedule would.
            rng: random source for the jitter.
        """
        if attempts_made >= len(self.retry_schedule):
            return None
        base = self.retry_schedule[attempts_made]
        factor = 1.0 + (rng or random).uniform(-self.jitter, self.jitter)
        if retry_after is not None:
            return max(base * factor, min(max(retry_after, 1.0), self.retry_after_max))
        return base * factor


def with_options(settings: DeliverySettings, options: Mapping[str, Any]) -> DeliverySettings:
    """``settings`` with the user's delivery options applied (see
    :func:`hookadmin.core.service.delivery_options`)."""
    changes: dict[str, Any] = {}
    if "retry_schedule" in options:
        changes["retry_schedule"] = tuple(float(d) for d in options["retry_schedule"])
    for key in ("connect_timeout", "attempt_timeout"):
        if key in options:
            changes[key] = float(options[key])
    if "response_cap" in options:
        changes["response_cap"] = int(options["response_cap"])
    if "retry_rate_while_fresh" in options:
        changes["retry_rate_while_fresh"] = float(options["retry_rate_while_fresh"])
    return dataclasses.replace(settings, **changes) if changes else settings



def with_proxy(settings: DeliverySettings, setting: ProxySetting) -> DeliverySettings:
    """``settings`` with the global proxy setting applied."""
    return dataclasses.replace(settings, proxy=setting.url,
                               proxy_from_env=setting.from_environment,
                               proxy_serial=setting.serial,
                               proxy_ca_bundle=setting.ca_bundle)


def engine_share(settings: DeliverySettings, engines: int) -> DeliverySettings:
    """The settings of one of ``engines`` engines sharing a data directory (``worker
    --processes N``): each gets ``per_hook_in_flight // engines`` (at least 1), so a
    receiver still sees at most ``per_hook_in_flight`` requests at once from all of them
    together (``engines`` at once when there are more engines than that), and
    ``retry_rate_while_fresh / engines``, so the retry pace is the data directory's."""
    if engines <= 1:
        return settings
    return dataclasses.replace(
        settings, per_hook_in_flight=max(1, settings.per_hook_in_flight // engines),
        retry_rate_while_fresh=settings.retry_rate_while_fresh / engines)

def retry_after_seconds(attempt: AttemptRecord, *, now: float | None = None) -> float | None:
    """The ``Retry-After`` of a 429 or 503 response in seconds, or None.

    Accepts both forms of RFC 9110 §10.2.3: delay-seconds and an HTTP-date.
    """
    if attempt.status_code not in (429, 503) or not attempt.response_headers:
        return None
    value = next((v for k, v in attempt.response_headers if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # the asctime form names no zone; every HTTP-date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
