"""The engine's settings as JSON (hookadmin.delivery.settings_json): every field goes
through unchanged, and a field of the wrong type or an unknown field is one sentence
naming it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hookadmin.core.errors import InputError
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.settings_json import settings_from_json, settings_to_json
from tests.helpers import FAST


def _every_field_changed() -> DeliverySettings:
    """Settings whose every field differs from its default (of the field's type)."""
    changes: dict[str, object] = {}
    for field in dataclasses.fields(DeliverySettings):
        default = getattr(DeliverySettings(), field.name)
        if isinstance(default, bool):
            changes[field.name] = not default
        elif isinstance(default, int):
            changes[field.name] = default + 3
        elif isinstance(default, float):
            changes[field.name] = default + 0.25
        elif isinstance(default, tuple):
            changes[field.name] = (0.0, 1.5, 60.0)
        else:  # str | None
            changes[field.name] = f"/etc/{field.name}"
    return dataclasses.replace(DeliverySettings(), **changes)  # type: ignore[arg-type]


def test_settings_go_through_json_unchanged() -> None:
    changed = _every_field_changed()
    assert all(getattr(changed, f.name) != getattr(DeliverySettings(), f.name)
               for f in dataclasses.fields(DeliverySettings))
    for settings in (changed, FAST, DeliverySettings()):
        assert settings_from_json(settings_to_json(settings)) == settings
    assert settings_from_json("{}") == DeliverySettings()
    jitter = settings_from_json('{"jitter": 0}').jitter
    assert (jitter, type(jitter)) == (0.0, float)
    assert settings_from_json('{"proxy": null}').proxy is None


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("proxy", 3128, "a string or null"),
    ("proxy_ca_bundle", ["/etc/ca.pem"], "a string or null"),
    ("attempt_timeout", "15", "a number"),
    ("jitter", True, "a number"),
    ("max_in_flight", 2.0, "a whole number"),
    ("proxy_from_env", "yes", "true or false"),
    ("retry_schedule", [0, True], "a list of numbers"),
    ("retry_schedule", 5, "a list of numbers"),
])
def test_a_field_of_the_wrong_type_is_one_sentence_naming_it(
        field: str, value: object, kind: str) -> None:
    with pytest.raises(InputError) as caught:
        settings_from_json(json.dumps({"jitter": 0.1, field: value}))
    assert str(caught.value) == (f"--settings field {field} must be {kind}, "
                                 f"not {json.dumps(value)}.")
    assert caught.value.field == field


def test_unknown_fields_and_text_that_is_not_an_object_are_one_sentence() -> None:
    with pytest.raises(InputError, match=r"^--settings has unknown fields: pace, speed; "
                                         r"leave them out\.$"):
        settings_from_json('{"speed": 2, "pace": 1, "jitter": 0}')
    with pytest.raises(InputError, match=r"^--settings must be a JSON object"):
        settings_from_json('"fast"')
    with pytest.raises(InputError, match=r"^--settings is not valid JSON \("):
        settings_from_json("{")


@pytest.mark.parametrize("rate", [0, -5.0])
def test_a_retry_pace_that_would_never_drain_is_refused(rate: float) -> None:
    with pytest.raises(InputError) as caught:
        settings_from_json(json.dumps({"retry_rate_while_fresh": rate}))
    assert str(caught.value) == ("--settings field retry_rate_while_fresh must be more "
                                 "than 0 retries per second, so a backlog of retries "
                                 "always drains.")
    assert caught.value.field == "retry_rate_while_fresh"
