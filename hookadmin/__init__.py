"""hookadmin: manage and deliver an ETL platform's outgoing webhooks (service hooks)."""

from __future__ import annotations

__version__ = "0.1.0"

from typing import Any

__all__ = ["__version__", "publish", "verify_signature"]


def publish(event_type: str, resource: bytes | str | dict[str, Any], *,
            home: str | None = None) -> str:
    """Put one event on the local outbox of a data directory; durable on return.

    Safe from any number of processes at once, while a window or worker runs.

    Args:
        event_type: one of the ten event types (``job.failed``, ``cluster.available``…).
        resource: the job or cluster JSON (DESIGN.md §7): bytes or text are stored
            exactly as given; a dict is serialised once as compact UTF-8 JSON.
        home: the data directory (default: ``$HOOKADMIN_HOME`` or the user data folder).

    Returns:
        The event's UUID.

    Raises:
        hookadmin.core.errors.InputError: unknown event type or invalid resource.
        hookadmin.core.errors.StoreError: the database cannot be opened.
    """
    from hookadmin.core.service import HookService

    with HookService(home) as service:
        return service.publish(event_type, resource)


def verify_signature(body: bytes, secret: str, signature: str) -> bool:
    """Receiver-side check of an ``X-Hook-Signature`` header.

    See :func:`hookadmin.core.signing.verify_signature`.
    """
    from hookadmin.core.signing import verify_signature as _verify

    return _verify(body, secret, signature)
