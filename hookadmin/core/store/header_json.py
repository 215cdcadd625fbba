"""An attempt's headers as the JSON text both stores keep, built for every attempt.

The text is exactly what :func:`json.dumps` makes with its defaults (``", "`` and
``": "`` separators, non-ASCII escaped), so rows written before and after read the same.
:func:`json.dumps` sets up a new encoder on each call, which for eight short headers
costs more than the encoding; the bookkeeping process stores two header sets per
attempt, so these functions quote each string with the json module's own
:func:`json.encoder.encode_basestring_ascii` and join them (``docs/decisions.md``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring_ascii as _quote


def request_headers_json(headers: Mapping[str, str]) -> str:
    """``json.dumps(headers)`` for a mapping of header names to values.

    Args:
        headers: header name → value, both ``str``; another type of key or value
            falls back to :func:`json.dumps` itself (same text or its usual error).

    Returns:
        A JSON object as text, e.g. ``{"Content-Type": "application/json"}``.

    Raises:
        TypeError: a value :func:`json.dumps` cannot encode either.
    """
    try:
        return "{" + ", ".join([_quote(k) + ": " + _quote(v) for k, v in headers.items()]) + "}"
    except TypeError:
        return json.dumps(headers)


def response_headers_json(headers: Sequence[tuple[str, str]]) -> str:
    """``json.dumps(headers)`` for a list of (name, value) pairs, as responses keep them
    (a name may repeat).

    Args:
        headers: (name, value) pairs, both ``str``; anything else falls back to
            :func:`json.dumps` itself.

    Returns:
        A JSON array of two-item arrays as text, e.g. ``[["Server", "nginx"]]``.

    Raises:
        TypeError: a value :func:`json.dumps` cannot encode either.
    """
    try:
        return "[" + ", ".join(["[" + _quote(k) + ", " + _quote(v) + "]"
                                for k, v in headers]) + "]"
    except (TypeError, ValueError):
        return json.dumps(headers)
