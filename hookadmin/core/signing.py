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


def is_hex_signature(signature: str) -> bool:
    """True when ``signature`` has the form of an ``X-Hook-Signature``: exactly 64
    hexadecimal characters (either case), nothing around them."""
    return isinstance(signature, str) and _HEX_SIG_RE.fullmatch(signature) is not None


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
    :func:`standard_failure` says why a check fails.

    Args:
        body: the raw request body bytes.
        secret: the hook's secret, or its ``whsec_…`` form.
        msg_id: the ``webhook-id`` header.
        timestamp: the ``webhook-timestamp`` header.
        signature: the ``webhook-signature`` header.
        tolerance: seconds of clock difference accepted either way.
        now: Unix seconds (default: the current time).
    """
    return standard_failure(body, secret, msg_id, timestamp, signature, tolerance=tolerance,
                            now=now) is None


def standard_failure(body: bytes, secret: str, msg_id: str, timestamp: str, signature: str,
                     *, tolerance: float = 300.0, now: float | None = None) -> str | None:
    """Why Standard Webhooks headers do not verify, or None when they do (the same
    check as :func:`verify_standard`, same arguments; never raises).

    Returns:
        One phrase starting with the kind of failure: ``malformed input``, ``malformed
        secret``, ``malformed header``, ``timestamp too old``, ``timestamp too new`` or
        ``signature mismatch``, then what was found (never the secret).
    """
    if not isinstance(body, bytes | bytearray | memoryview) \
            or not all(isinstance(v, str) for v in (secret, msg_id, timestamp, signature)):
        return "malformed input: the body must be bytes and the headers text"
    try:
        if secret.startswith("whsec_"):
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        else:
            key = secret.strip().encode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        return "malformed secret: neither hex nor a valid whsec_ (base64) form"
    if not key:  # "" or "whsec_": never accept signatures made with an empty key
        return "malformed secret: it is empty"
    try:
        stamp = int(timestamp)
    except ValueError:
        return "malformed header: webhook-timestamp is not Unix seconds"
    given = []
    for entry in signature.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            decoded = base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            continue
        if decoded:
            given.append(decoded)
    if not given:
        return "malformed header: webhook-signature holds no v1,<base64> signature"
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    matches = any(hmac.compare_digest(expected, g) for g in given)
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        side = "old" if stamp < current else "new"
        where = "before" if stamp < current else "after"
        verdict = "the signature itself matches" if matches \
            else "the signature does not match either"
        return (f"timestamp too {side}: {abs(current - stamp):.0f} s {where} now, more than "
                f"the {tolerance:.0f} s allowed; {verdict}")
    if not matches:
        return ("signature mismatch: no v1 signature was made from this webhook-id, "
                "webhook-timestamp and body with this secret")
    return None


class Signer:
    """Both signatures of one secret, with its HMAC-SHA256 key prepared once: the engine
    signs every delivery of a hook with the same secret, and copying a prepared key is
    cheaper than preparing it for each signature (``benchmarks/attempt_overhead.py``).
    :func:`delivery_headers` builds its headers with it.

    Args:
        secret: the hook's secret (ASCII; its bytes are the key).

    Raises:
        UnicodeEncodeError: the secret is not ASCII (as :func:`sign` raises).
    """

    __slots__ = ("_key",)

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode("ascii"), digestmod=hashlib.sha256)

    def headers(self, *, event_type: str, delivery_id: str, timestamp: int,
                body: bytes) -> dict[str, str]:
        """All request headers of one attempt, as :func:`delivery_headers` makes them.

        Args:
            event_type: e.g. ``job.failed``.
            delivery_id: the delivery UUID, the same on every attempt.
            timestamp: Unix seconds of this attempt.
            body: the exact body bytes.
        """
        plain = self._key.copy()
        plain.update(body)
        standard = self._key.copy()
        standard.update(f"{delivery_id}.{timestamp}.".encode())
        standard.update(body)
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Hook-Event": event_type,
            "X-Hook-Delivery": delivery_id,
            "X-Hook-Signature": plain.hexdigest(),
            "webhook-id": delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": "v1," + base64.b64encode(standard.digest()).decode("ascii"),
        }


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
    headers = Signer(secret).headers(event_type=event_type, delivery_id=delivery_id,
                                     timestamp=timestamp, body=body)
    if previous_secret is not None:
        headers["webhook-signature"] += " " + sign_standard(
            previous_secret, delivery_id, timestamp, body)
    return headers
