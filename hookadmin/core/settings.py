"""The store settings part of :class:`hookadmin.core.service.HookService`: the delivery
settings (retry schedule, timeouts, response cap), the network policy and the history's
retention, each read by a function of a store (the engine reads them so too) and changed
by a method of the :class:`ServiceSettings` mixin, which audits each change."""

from __future__ import annotations

import time
from typing import Any

from hookadmin.core import audit
from hookadmin.core.errors import InputError
from hookadmin.core.operations import Operations
from hookadmin.core.store import Repository, SettingsRepository

DEFAULT_RETENTION_DAYS = 30
RETENTION_KEY = "retention_days"
NETWORK_POLICY_KEY = "network_policy"
NETWORK_POLICIES = ("workstation", "strict")
DELIVERY_KEY = "delivery"
# The defaults of the delivery settings a user can change (seconds, bytes); the engine's
# DeliverySettings carries the same numbers.
DELIVERY_DEFAULTS: dict[str, Any] = {
    "retry_schedule": [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
    "connect_timeout": 5.0,
    "attempt_timeout": 15.0,
    "response_cap": 65536,
    "retry_rate_while_fresh": 50.0,
}



class ServiceSettings(Operations):
    """The settings part of :class:`hookadmin.core.service.HookService` (a mixin over
    :class:`~hookadmin.core.operations.Operations`, whose ``_set_setting`` audits each
    change)."""

    def delivery_options(self) -> dict[str, Any]:
        """The delivery settings changed from their defaults: some of
        ``retry_schedule`` (list of seconds), ``connect_timeout``, ``attempt_timeout``
        (seconds), ``response_cap`` (bytes) and ``retry_rate_while_fresh`` (the retry
        pace, retries per second while fresh events flow)."""
        return delivery_options(self.store)

    def set_delivery_options(self, *, retry_schedule: list[float] | None = None,
                             connect_timeout: float | None = None,
                             attempt_timeout: float | None = None,
                             response_cap: int | None = None,
                             retry_rate_while_fresh: float | None = None) -> None:
        """Change delivery settings (``None`` leaves one as it is).

        Raises:
            InputError: a value is out of range: the schedule must have 1 to 20 delays of
                0 to 7 days each; timeouts 0.1 to 300 s (the attempt's at least the
                connect timeout); the response cap 1 KiB to 16 MiB; the retry pace 1 to
                100,000 retries per second.
        """
        current = {**DELIVERY_DEFAULTS, **self.delivery_options()}
        if retry_schedule is not None:
            if not 1 <= len(retry_schedule) <= 20 or not all(
                    isinstance(d, int | float) and not isinstance(d, bool)
                    and 0 <= d <= 7 * 86400 for d in retry_schedule):
                raise InputError("The retry schedule needs 1 to 20 delays, each from 0 "
                                 "seconds to 7 days.", field="retry_schedule")
            current["retry_schedule"] = [float(d) for d in retry_schedule]
        for key, value in (("connect_timeout", connect_timeout),
                           ("attempt_timeout", attempt_timeout)):
            if value is not None:
                if not 0.1 <= value <= 300:
                    raise InputError("Timeouts must be from 0.1 to 300 seconds.", field=key)
                current[key] = float(value)
        if current["attempt_timeout"] < current["connect_timeout"]:
            raise InputError("The attempt timeout must be at least the connect timeout.",
                             field="attempt_timeout")
        if response_cap is not None:
            if not 1024 <= response_cap <= 16 * 1024 * 1024:
                raise InputError("The response cap must be from 1 KiB to 16 MiB.",
                                 field="response_cap")
            current["response_cap"] = int(response_cap)
        if retry_rate_while_fresh is not None:
            if not 1 <= retry_rate_while_fresh <= 100_000:
                raise InputError("The retry pace must be from 1 to 100000 retries per "
                                 "second.", field="retry_rate_while_fresh")
            current["retry_rate_while_fresh"] = float(retry_rate_while_fresh)
        self._set_setting(DELIVERY_KEY, {k: v for k, v in current.items()
                                         if v != DELIVERY_DEFAULTS[k]})

    def network_policy(self) -> str:
        """``workstation`` (internal addresses allowed, the default) or ``strict``."""
        return network_policy(self.store)

    def set_network_policy(self, policy: str) -> None:
        """Set the network policy: ``workstation`` or ``strict``.

        Raises:
            InputError: another value.
        """
        if policy not in NETWORK_POLICIES:
            raise InputError(f"The network policy must be one of: {', '.join(NETWORK_POLICIES)}.",
                             field="network_policy")
        self._set_setting(NETWORK_POLICY_KEY, policy)

    def retention_days(self) -> int:
        """How many days of finished delivery history are kept (default 30)."""
        return retention_days(self.store)

    def set_retention_days(self, days: int) -> None:
        """Keep ``days`` days of finished delivery history (1 to 3650).

        Raises:
            InputError: out of range.
        """
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise InputError("Retention must be a whole number of days from 1 to 3650.",
                             field="retention_days")
        self._set_setting(RETENTION_KEY, days)

    def prune_history(self, *, now: float | None = None) -> int:
        """Delete finished deliveries older than the retention setting. Returns how many."""
        return prune_history(self.store, now=now)


def delivery_options(store: SettingsRepository) -> dict[str, Any]:
    """A store's delivery settings that differ from the defaults (see
    :meth:`ServiceSettings.set_delivery_options`)."""
    value = store.get_setting(DELIVERY_KEY)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k in DELIVERY_DEFAULTS}


def network_policy(store: SettingsRepository) -> str:
    """A store's network policy setting: ``workstation`` (default) or ``strict``."""
    value = store.get_setting(NETWORK_POLICY_KEY)
    return value if value in NETWORK_POLICIES else "workstation"


def retention_days(store: SettingsRepository) -> int:
    """The retention setting of a store in days (default 30)."""
    value = store.get_setting(RETENTION_KEY)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return DEFAULT_RETENTION_DAYS


def prune_history(store: Repository, *, now: float | None = None) -> int:
    """Delete a store's finished deliveries older than its retention setting, and
    audit entries older than the audit retention setting (by default none).

    Returns:
        The number of deliveries deleted.
    """
    now = time.time() if now is None else now
    audit.prune_audit(store, now=now)
    return store.prune(now - retention_days(store) * 86400.0)
