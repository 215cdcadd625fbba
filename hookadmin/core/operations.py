"""The operator side of :class:`hookadmin.core.service.HookService`: the audit log
entry every administrative action appends, redelivery, the end of a secret rotation's
overlap, ordered hooks and the operating settings (audit retention, the failing alert,
the window's metrics port). A mixin, so the service stays one object for the window
and the CLI."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from hookadmin.core import alerts, audit, ordering
from hookadmin.core.errors import InputError, SecretStoreError
from hookadmin.core.store import Delivery, Repository

if TYPE_CHECKING:
    from hookadmin.core.secrets import HookSecrets

METRICS_PORT_KEY = "window_metrics_port"


class Operations:
    """Mixed into :class:`hookadmin.core.service.HookService`, which provides
    :attr:`store`, :attr:`secrets` and :attr:`actor`."""

    store: Repository
    actor: audit.Actor

    @property
    def secrets(self) -> HookSecrets:
        """The secret store (provided by the service)."""
        raise NotImplementedError

    def audit(self, action: str, *, hook_id: int | None = None, **details: Any) -> None:
        """Append an administrative action to the audit log (see
        :mod:`hookadmin.core.audit`); ``details`` never hold a secret value."""
        audit.record(self.store, self.actor, action, hook_id=hook_id, **details)

    def expire_previous_secret(self, hook_id: int) -> None:
        """End a secret rotation's overlap now: the replaced secret stops signing and
        leaves the keyring.

        Raises:
            NotFoundError: no such hook.
        """
        with self.store.transaction():
            self.store.get_hook(hook_id)
            self.store.update_hook(hook_id, clear_previous_secret=True)
            self.audit("secret.previous_expired", hook_id=hook_id)
        with contextlib.suppress(SecretStoreError):
            self.secrets.delete(hook_id, previous=True)

    def redeliver(self, delivery_id: str) -> Delivery:
        """Make a delivery due again now (same id, same body), audited.

        Raises:
            NotFoundError: no such delivery. InputError: a ping.
        """
        with self.store.transaction():
            delivery = self.store.redeliver(delivery_id)
            self.audit("delivery.redelivered", hook_id=delivery.hook_id,
                       delivery=delivery_id)
        return delivery

    def redeliver_failed(self, hook_id: int, since: float, until: float | None = None) -> int:
        """Make a hook's failed deliveries last updated from ``since`` to ``until``
        (Unix seconds; None: now) due again now, audited. Returns how many.

        Raises:
            NotFoundError: no such hook. InputError: ``until`` is before ``since``.
        """
        if until is not None and until < since:
            raise InputError("The end of the time range is before its start; swap them.",
                             field="until")
        with self.store.transaction():
            count = self.store.redeliver_failed(hook_id, since, until=until)
            self.audit("deliveries.redelivered", hook_id=hook_id, since=since, until=until,
                       count=count)
        return count

    def audit_retention_days(self) -> int | None:
        """Days of audit log kept, or None to keep every entry (the default)."""
        return audit.audit_retention_days(self.store)

    def set_audit_retention_days(self, days: int | None) -> None:
        """Keep ``days`` days of audit log (1 to 36,500), or every entry (None).

        Raises:
            InputError: out of range.
        """
        self._set_setting(audit.AUDIT_RETENTION_KEY, audit.check_audit_retention(days))

    def failing_alert_after(self) -> float:
        """Seconds a hook's attempts fail with no success before ``hook.failing`` is
        sent to administrators' hooks (default 900)."""
        return alerts.failing_after(self.store)

    def set_failing_alert_after(self, seconds: float) -> None:
        """Change the ``hook.failing`` threshold (1 second to 7 days).

        Raises:
            InputError: out of range.
        """
        self._set_setting(alerts.FAILING_AFTER_KEY, alerts.check_failing_after(seconds))

    def ordered_hooks(self) -> frozenset[int]:
        """The ids of the ordered (FIFO) hooks (see :mod:`hookadmin.core.ordering`)."""
        return ordering.ordered_hooks(self.store)

    def set_ordered(self, hook_id: int, ordered: bool) -> None:
        """Make a hook ordered (one request in flight, a later delivery waits while an
        earlier one is retried) or not.

        Raises:
            NotFoundError: no such hook.
        """
        self.store.get_hook(hook_id)
        ids = set(self.ordered_hooks()) & {h.id for h in self.store.list_hooks()}
        ids = ids | {hook_id} if ordered else ids - {hook_id}
        with self.store.transaction():
            self.store.set_setting(ordering.ORDERED_KEY, sorted(ids))
            self.audit("hook.ordered" if ordered else "hook.unordered", hook_id=hook_id)

    def metrics_port(self) -> int | None:
        """The port the window's engine serves ``/metrics`` on (127.0.0.1), or None."""
        value = self.store.get_setting(METRICS_PORT_KEY)
        return value if isinstance(value, int) and not isinstance(value, bool) \
            and 1 <= value <= 65535 else None

    def set_metrics_port(self, port: int | None) -> None:
        """Serve ``/metrics`` from the window's engine on ``port`` (1 to 65535), or not
        (None); taken up when the engine next starts.

        Raises:
            InputError: out of range.
        """
        if port is not None and (isinstance(port, bool) or not 1 <= port <= 65535):
            raise InputError("The metrics port must be from 1 to 65535.", field="metrics_port")
        self._set_setting(METRICS_PORT_KEY, port)

    def _set_setting(self, key: str, value: Any) -> None:
        """Store a setting and audit the change (before → after) when it changed."""
        with self.store.transaction():
            before = self.store.get_setting(key)
            self.store.set_setting(key, value)
            if before != value and not (before is None and value == {}):
                self.audit("settings.changed", setting=key, changes=[before, value])
