"""The publishing part of :class:`hookadmin.core.service.HookService`: events put on
the outbox one at a time, many in one transaction, as JSON Lines, or as a test event for
one hook."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hookadmin.core.errors import InputError
from hookadmin.core.event_input import UTF8_BOM, parse_strict_json, prepare_event
from hookadmin.core.operations import Operations


class Publishing(Operations):
    """The publishing part of :class:`hookadmin.core.service.HookService` (a mixin over
    :class:`~hookadmin.core.operations.Operations`, which provides :attr:`store`)."""

    def send_test_event(self, hook_id: int, event_type: str,
                        resource: bytes | str | dict[str, Any]) -> str:
        """Queue one event for one hook only, whatever the hook subscribes to.

        Returns:
            The event UUID.

        Raises:
            NotFoundError: no such hook. InputError: invalid event.
        """
        self.store.get_hook(hook_id)
        return self.store.add_events([prepare_event(event_type, resource)],
                                     target_hook_id=hook_id)[0]

    def publish(self, event_type: str, resource: bytes | str | dict[str, Any]) -> str:
        """Put one event on the outbox; it is durable when this returns.

        Args:
            event_type: one of the ten catalog types.
            resource: the resource JSON: bytes or text are stored exactly as given
                (after checking they are one JSON object, UTF-8, at most 1 MiB); a dict
                is serialised once as compact UTF-8 JSON.

        Returns:
            The event UUID.

        Raises:
            InputError: unknown type, invalid JSON, not an object, or too large.
        """
        return self.publish_many([(event_type, resource)])[0]

    def publish_many(self, items: Sequence[tuple[str, bytes | str | dict[str, Any]]]) -> list[str]:
        """Put many events on the outbox in one transaction (all or nothing).

        Raises:
            InputError: an item is invalid; its 1-based position is named when there
                are several. Nothing is queued then.
        """
        prepared = []
        for position, (event_type, resource) in enumerate(items, start=1):
            try:
                prepared.append(prepare_event(event_type, resource))
            except InputError as err:
                if len(items) == 1:
                    raise
                raise InputError(f"Event {position}: {err}", field=err.field) from None
        return self.store.add_events(prepared)

    def publish_batch(self, lines: Iterable[bytes]) -> list[str]:
        """Publish JSON Lines, each ``{"type": TYPE, "resource": {...}}``, in one
        transaction. Blank lines are skipped, and so is a UTF-8 byte order mark before
        the first line.

        Raises:
            InputError: a line is invalid (its line number is named); nothing is queued.
        """
        items: list[tuple[str, bytes]] = []
        for number, raw in enumerate(lines, start=1):
            if number == 1:
                raw = raw.removeprefix(UTF8_BOM)  # a byte order mark is not part of it
            if not raw.strip():
                continue
            obj = parse_strict_json(raw, what=f"Line {number}")
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) \
                    or not isinstance(obj.get("resource"), dict):
                raise InputError(f'Line {number} must be an object like {{"type": "job.failed",'
                                 ' "resource": {...}}.')
            try:
                items.append(prepare_event(obj["type"], obj["resource"]))
            except InputError as err:
                raise InputError(f"Line {number}: {err}", field=err.field) from None
        if not items:
            raise InputError("The batch has no events; give one JSON object per line.")
        return self.store.add_events(items)
