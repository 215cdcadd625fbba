"""Signatures and delivery headers (DESIGN.md §3).

Two signature schemes are sent on every delivery:

* ``X-Hook-Signature``: ``HMAC-SHA256(key=secret.encode("ascii"), msg=body)`` as 64
  lowercase hex characters, no prefix.
* Standard Webhooks (https://www.standardwebhooks.com/, "Signature scheme"):
  ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
  ``webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}." + body)>``
  with the same key bytes. Receivers using a Standard Webhooks library configure the
  secret ``"whsec_" + base64(secret.encode("ascii"))``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
import time

from hookadmin import __version__
from hookadmin.core.errors import InputError

SECRET_BYTES = 32
_SECRET_RE = re.compile(r"[0-9a-f]{64}")
_HEX_SIG_RE = re.compile(r"[0-9a-fA-F]{64}")
USER_AGENT = f"hookadmin/{__version__}"


def new_secret() -> str:
    """A fresh secret: 32 bytes from :mod:`secrets` as 64 lowercase hex characters."""
    return _secrets.token_hex(SECRET_BYTES)


def check_secret(secret: str) -> str:
    """Strip surrounding whitespace from a secret and check its form.

    Raises:
        InputError: the secret has inner whitespace or is not 64 lowercase hex characters.
    """
    secret = secret.strip()
    if any(c.isspace() for c in secret):
        raise InputError("The secret contains whitespace inside it; use the 64 hex characters "
                         "exactly as hookadmin showed them.", field="secret")
    if not _SECRET_RE.fullmatch(secret):
        raise InputError("A secret must be 64 lowercase hex characters (32 bytes); "
                         "copy it again with `hookadmin hooks secret ID`.", field="secret")
    return secret


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hook-Signature`` value: hex HMAC-SHA256 of ``body`` under ``secret``.

    Args:
        secret: the hook's secret (ASCII; its bytes are the key).
        body: the exact request body bytes.

    Returns:
        64 lowercase hex characters.
    """
    return hmac.digest(secret.encode("ascii"), body, "sha256").hex()


def sign_standard(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value ``v1,<base64>``.

    Args:
        secret: the hook's secret (ASCII; its bytes are the key).
        delivery_id: the ``webhook-id`` (our delivery UUID).
        timestamp: the ``webhook-timestamp``, Unix seconds.
        body: the exact request body bytes.
    """
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.digest(secret.encode("ascii"), signed, "sha256")
    return "v1," + base64.b64encode(digest).decode("ascii")


def standard_webhooks_secret(secret: str) -> str:
    """The receiver-side ``whsec_…`` string for Standard Webhooks libraries."""
    return "whsec_" + base64.b64encode(secret.encode("ascii")).decode("ascii")


def verify_signature(body: bytes, secret: str, signature: str) -> bool:
    """Check an ``X-Hook-Signature`` value on the receiving side.

    Compares in constant time on bytes. An empty, malformed (not 64 hex characters)
    or non-ASCII signature, a body that is not bytes, and an empty or non-ASCII secret
    return False; this function never raises for bad input.

    Args:
        body: the raw request body bytes as received.
        secret: the hook's secret.
        signature: the header value.
    """
    if not isinstance(signature, str) or not _HEX_SIG_RE.fullmatch(signature):
        return False
    if not isinstance(body, bytes | bytearray | memoryview):
        return False  # None or text: hmac would take None as an empty body
    try:
        key = secret.strip().encode("ascii")
    except (UnicodeError, AttributeError):
        return False
    if not key:  # an unset secret must not accept signatures made with an empty key
        return False
    expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
    return hmac.compare_digest(expected, signature.lower().encode("ascii"))


def verify_standard(body: bytes, secret: str, msg_id: str, timestamp: str, signature: str,
                    *, tolerance: float = 300.0, now: float | None = None) -> bool:
    """Check Standard Webhooks headers on the receiving side.

    True when ``timestamp`` (Unix seconds, as sent in ``webhook-timestamp``) is within
    ``tolerance`` seconds (default 5 minutes) of ``now`` and any ``v1,<base64>`` entry
    of the space-separated ``signature`` (``webhook-signature``) matches. Never raises
    for malformed input (None, text instead of body bytes, an empty secret: False).

    Args:
        body: the raw request body bytes.
        secret: the hook's secret, or its ``whsec_…`` form.
        msg_id: the ``webhook-id`` header.
        timestamp: the ``webhook-timestamp`` header.
        signature: the ``webhook-signature`` header.
        tolerance: seconds of clock difference accepted either way.
        now: Unix seconds (default: the current time).
    """
    if not isinstance(body, bytes | bytearray | memoryview) \
            or not all(isinstance(v, str) for v in (secret, msg_id, timestamp, signature)):
        return False
    try:
        stamp = int(timestamp)
        if secret.startswith("whsec_"):
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        else:
            key = secret.strip().encode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        return False
    if not key:  # "" or "whsec_": never accept signatures made with an empty key
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    for entry in signature.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            continue
        if hmac.compare_digest(expected, given):
            return True
    return False


def delivery_headers(*, secret: str, event_type: str, delivery_id: str, timestamp: int,
                     body: bytes, previous_secret: str | None = None) -> dict[str, str]:
    """All request headers of one attempt (DESIGN.md §3).

    Args:
        secret: the hook's secret.
        event_type: e.g. ``job.failed`` or ``ping``.
        delivery_id: the delivery UUID, the same on every attempt.
        timestamp: Unix seconds of this attempt.
        body: the exact body bytes.
        previous_secret: during the overlap after a secret reset, the replaced secret:
            ``webhook-signature`` then carries both signatures, space-separated (new
            first), as the Standard Webhooks spec allows; ``X-Hook-Signature`` uses
            the new secret only.

    Returns:
        Header name → value, in the order they are sent.
    """
    standard = sign_standard(secret, delivery_id, timestamp, body)
    if previous_secret is not None:
        standard += " " + sign_standard(previous_secret, delivery_id, timestamp, body)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Hook-Event": event_type,
        "X-Hook-Delivery": delivery_id,
        "X-Hook-Signature": sign(secret, body),
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
    }
