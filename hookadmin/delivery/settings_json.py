"""The engine's :class:`~hookadmin.delivery.policy.DeliverySettings` as one JSON object,
the form in which the window hands them to its engine process
(``--settings JSON``, see :mod:`hookadmin.delivery.worker_process`).

Reading it back checks every field against the type of its
:class:`DeliverySettings` field (no value passes unchecked) and rejects fields it does
not know, each with one sentence naming the field.
"""

from __future__ import annotations

import dataclasses
import json

from hookadmin.core.errors import InputError
from hookadmin.delivery.policy import DeliverySettings


def settings_to_json(settings: DeliverySettings) -> str:
    """``settings`` as one JSON object of its fields (tuples become lists)."""
    return json.dumps(dataclasses.asdict(settings), allow_nan=True)


def settings_from_json(text: str) -> DeliverySettings:
    """The :class:`DeliverySettings` a JSON object of its fields describes; fields left
    out keep their defaults.

    Raises:
        InputError: not JSON, not an object, an unknown field, or a value of the wrong
            type (one sentence naming it).
    """
    try:
        data = json.loads(text)
    except ValueError as err:
        raise InputError(f"--settings is not valid JSON ({err}); give the delivery "
                         "settings as one JSON object.") from None
    if not isinstance(data, dict):
        raise InputError("--settings must be a JSON object of delivery settings, "
                         '{"field": value, ...}.')
    fields = _SettingsFields(data)
    d = DeliverySettings()
    settings = DeliverySettings(
        retry_schedule=fields.numbers("retry_schedule", d.retry_schedule),
        jitter=fields.number("jitter", d.jitter),
        connect_timeout=fields.number("connect_timeout", d.connect_timeout),
        attempt_timeout=fields.number("attempt_timeout", d.attempt_timeout),
        response_cap=fields.whole("response_cap", d.response_cap),
        retry_after_max=fields.number("retry_after_max", d.retry_after_max),
        max_in_flight=fields.whole("max_in_flight", d.max_in_flight),
        per_hook_in_flight=fields.whole("per_hook_in_flight", d.per_hook_in_flight),
        ready_rounds=fields.whole("ready_rounds", d.ready_rounds),
        low_rounds=fields.whole("low_rounds", d.low_rounds),
        poll_interval=fields.number("poll_interval", d.poll_interval),
        wake_interval=fields.number("wake_interval", d.wake_interval),
        fan_out_batch=fields.whole("fan_out_batch", d.fan_out_batch),
        idle_after=fields.number("idle_after", d.idle_after),
        idle_wake_interval=fields.number("idle_wake_interval", d.idle_wake_interval),
        prune_interval=fields.number("prune_interval", d.prune_interval),
        lease_seconds=fields.number("lease_seconds", d.lease_seconds),
        strict_network=fields.boolean("strict_network", d.strict_network),
        secret_retry_interval=fields.number("secret_retry_interval",
                                            d.secret_retry_interval),
        deactivate_after=fields.number("deactivate_after", d.deactivate_after),
        retry_in_flight=fields.whole("retry_in_flight", d.retry_in_flight),
        retry_per_hook_in_flight=fields.whole("retry_per_hook_in_flight",
                                              d.retry_per_hook_in_flight),
        retry_rate_while_fresh=fields.number("retry_rate_while_fresh",
                                             d.retry_rate_while_fresh),
        fresh_flow_seconds=fields.number("fresh_flow_seconds", d.fresh_flow_seconds),
        proxy=fields.text_or_none("proxy", d.proxy),
        proxy_from_env=fields.boolean("proxy_from_env", d.proxy_from_env),
        proxy_serial=fields.whole("proxy_serial", d.proxy_serial),
        proxy_ca_bundle=fields.text_or_none("proxy_ca_bundle", d.proxy_ca_bundle),
    )
    fields.check_all_read()
    if not settings.retry_rate_while_fresh > 0:
        raise InputError("--settings field retry_rate_while_fresh must be more than 0 "
                         "retries per second, so a backlog of retries always drains.",
                         field="retry_rate_while_fresh")
    return settings


class _SettingsFields:
    """The fields of a ``--settings`` object, each read with the type its
    :class:`DeliverySettings` field has; a field left out gives the default passed.

    Every reader raises :class:`InputError` (one sentence naming the field, the type it
    must have and the value given) for a value of another type; bool is never taken
    for a number.
    """

    def __init__(self, data: dict[str, object]) -> None:
        self._data = data
        self._read: set[str] = set()

    def _get(self, name: str) -> tuple[bool, object]:
        self._read.add(name)
        return name in self._data, self._data.get(name)

    @staticmethod
    def _wrong(name: str, kind: str, value: object) -> InputError:
        return InputError(f"--settings field {name} must be {kind}, not "
                          f"{json.dumps(value)}.", field=name)

    def boolean(self, name: str, default: bool) -> bool:
        """The field as true or false."""
        given, value = self._get(name)
        if not given:
            return default
        if isinstance(value, bool):
            return value
        raise self._wrong(name, "true or false", value)

    def whole(self, name: str, default: int) -> int:
        """The field as a whole number (a JSON integer, not 2.0)."""
        given, value = self._get(name)
        if not given:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self._wrong(name, "a whole number", value)

    def number(self, name: str, default: float) -> float:
        """The field as a number (seconds, a fraction...), as a float."""
        given, value = self._get(name)
        if not given:
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self._wrong(name, "a number", value)

    def numbers(self, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        """The field as a list of numbers, as a tuple."""
        given, value = self._get(name)
        if not given:
            return default
        if isinstance(value, list) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return tuple(value)
        raise self._wrong(name, "a list of numbers", value)

    def text_or_none(self, name: str, default: str | None) -> str | None:
        """The field as a string, or None for ``null``."""
        given, value = self._get(name)
        if not given:
            return default
        if value is None or isinstance(value, str):
            return value
        raise self._wrong(name, "a string or null", value)

    def check_all_read(self) -> None:
        """Raises :class:`InputError` naming the fields no reader asked for."""
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            raise InputError(f"--settings has unknown fields: {', '.join(unknown)}; "
                             "leave them out.", field="settings")
