"""hookadmin: manage and deliver an ETL platform's outgoing webhooks (service hooks)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "verify_signature"]


def verify_signature(body: bytes, secret: str, signature: str) -> bool:
    """Receiver-side check of an ``X-Hook-Signature`` header.

    See :func:`hookadmin.core.signing.verify_signature`.
    """
    from hookadmin.core.signing import verify_signature as _verify

    return _verify(body, secret, signature)
