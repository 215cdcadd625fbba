"""Event input: an event's type and resource checked and serialised once, and the
strict JSON reading (UTF-8, no NaN, no duplicate keys, bounded nesting) that publishing
and batches share."""

from __future__ import annotations

import json
import re
from typing import Any

from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError
from hookadmin.core.resources import validate_resource

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 200


def prepare_event(event_type: str, resource: bytes | str | dict[str, Any]) -> tuple[str, bytes]:
    """Check an event and serialise its body once.

    Bytes and text are stored exactly as given (less a leading UTF-8 byte order mark);
    the parsed object (or the dict) is
    only checked against the Job or Cluster shape of DESIGN.md §7
    (:func:`hookadmin.core.resources.validate_resource`).

    Returns:
        (event type, body bytes).

    Raises:
        InputError: unknown type, invalid JSON or UTF-8, not an object, over 1 MiB, or
            the resource is not a valid job (``job.*``) or cluster (``cluster.*``).
    """
    if event_type == catalog.PING:
        raise InputError("'ping' events are sent with `hookadmin ping ID`, not published.",
                         field="type")
    if event_type in catalog.OPERATOR_TYPES:
        raise InputError(f"{event_type!r} events are sent by the engine about hooks; they "
                         "cannot be published.", field="type")
    catalog.event_type(event_type)
    if isinstance(resource, dict):
        parsed = resource
        try:
            body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError, RecursionError) as err:
            raise InputError(f"The resource cannot be sent as standard JSON ({_short(err)}); "
                             "remove NaN/Infinity values and unpaired surrogates.",
                             field="resource") from None
    else:
        body = resource.encode("utf-8", "surrogatepass") if isinstance(resource, str) \
            else bytes(resource)
        # A byte order mark (editors on Windows write one) is not part of the JSON: the
        # stored body is the JSON without it, as receivers' parsers expect.
        body = body.removeprefix(UTF8_BOM)
        if len(body) > MAX_BODY_BYTES:  # before parsing: a huge body is refused cheaply
            raise InputError(f"The resource is {len(body):,} bytes; the limit is "
                             f"{MAX_BODY_BYTES:,} bytes (1 MiB).", field="resource")
        parsed = parse_strict_json(body, what="The resource")
        if not isinstance(parsed, dict):
            raise InputError("The resource must be a JSON object ({...}) such as a job or a "
                             f"cluster, not a {_json_kind(parsed)}.", field="resource")
    if len(body) > MAX_BODY_BYTES:
        raise InputError(f"The resource is {len(body):,} bytes; the limit is "
                         f"{MAX_BODY_BYTES:,} bytes (1 MiB).", field="resource")
    validate_resource(event_type, parsed)
    return event_type, body


UTF8_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark, stripped from the start of a published resource or batch."""

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def parse_strict_json(data: bytes, *, what: str) -> Any:
    """Parse JSON as strict receivers (JavaScript's ``JSON.parse``, Go) read it: UTF-8,
    no NaN or Infinity, no duplicate keys, no unpaired surrogates, nesting at most 200
    levels deep.

    Args:
        data: the raw bytes.
        what: how to name the input in the error ("The resource", "Line 3").

    Raises:
        InputError: one sentence saying what is wrong.
    """
    def no_constants(name: str) -> Any:
        raise InputError(f"{what} contains {name}, which is not JSON; use a number or null.",
                         field="resource")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise InputError(f"{what} has the key {key!r} twice; receivers would read "
                                 "only one of them, so keep one.", field="resource")
            seen[key] = value
        return seen

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text; save it as UTF-8 JSON.",
                         field="resource") from None
    depth = max_depth = 0
    # Brackets outside strings: refuse deep nesting before parsing (a regular
    # expression drops the strings, so only the brackets are looked at in Python).
    for char in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            max_depth = max(max_depth, depth)
        else:
            depth -= 1
    if max_depth > MAX_JSON_DEPTH:
        raise InputError(f"{what} is nested {max_depth} levels deep; the limit is "
                         f"{MAX_JSON_DEPTH}.", field="resource")
    try:
        parsed = json.loads(text, parse_constant=no_constants,
                            object_pairs_hook=no_duplicates)
    except ValueError as err:
        raise InputError(f"{what} is not valid JSON ({_short(err)}); fix it and try again.",
                         field="resource") from None
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} contains an unpaired surrogate escape (like \\ud800), "
                         "which strict JSON parsers refuse; remove it.",
                         field="resource") from None
    return parsed


def _short(err: Exception) -> str:
    return str(err).split("\n")[0]


def _json_kind(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), "value")
