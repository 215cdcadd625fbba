"""``hookadmin verify``: check a delivery's signature the way a receiver would, and say
why a check failed."""

from __future__ import annotations

import argparse
import base64
import binascii
from typing import TYPE_CHECKING

from hookadmin.cli.common import read_input
from hookadmin.core.errors import InputError

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parser(sub: Subcommands) -> None:
    """Add ``verify`` to ``sub`` (the top parser's subparsers)."""
    ver = sub.add_parser("verify", help="receiver-side check of a delivery's signature")
    ver.add_argument("body", nargs="?", default="-", metavar="BODY_FILE|-")
    ver.add_argument("--secret-file", required=True, metavar="F",
                     help="file holding the hook's secret (or its whsec_ form)")
    ver.add_argument("--signature", metavar="HEX",
                     help="the X-Hook-Signature value (64 hex characters)")
    ver.add_argument("--webhook-id", metavar="ID", help="Standard Webhooks: webhook-id")
    ver.add_argument("--webhook-timestamp", metavar="SECONDS",
                     help="Standard Webhooks: webhook-timestamp")
    ver.add_argument("--webhook-signature", metavar="SIG",
                     help="Standard Webhooks: webhook-signature (5-minute tolerance)")


def run(args: argparse.Namespace) -> int:
    """Check the signatures given; prints one line per check, ``valid`` or ``INVALID
    (why)``. Returns 0 when every check passed, else 1.

    Raises:
        InputError: missing or malformed options (a --signature that is not 64 hex
            characters, a bad timestamp or secret), or an unreadable file: exit status 2.
    """
    from hookadmin.core.signing import (
        check_secret,
        is_hex_signature,
        standard_failure,
        verify_signature,
    )

    raw = read_input(args.secret_file, "secret").decode("utf-8", "replace").strip()
    secret = _whsec(raw) if raw.startswith("whsec_") else check_secret(raw)
    standard = (args.webhook_id, args.webhook_timestamp, args.webhook_signature)
    if args.signature is None and not all(standard):
        raise InputError("Give --signature HEX, or --webhook-id, --webhook-timestamp and "
                         "--webhook-signature together.")
    if any(standard) and not all(standard):
        raise InputError("Give --webhook-id, --webhook-timestamp and --webhook-signature "
                         "together.")
    if args.webhook_timestamp is not None and not args.webhook_timestamp.strip().isdigit():
        raise InputError("--webhook-timestamp must be Unix seconds, e.g. 1795962144.")
    if args.signature is not None:
        if secret.startswith("whsec_"):
            raise InputError("--signature needs the hex secret, not the whsec_ form.")
        if not is_hex_signature(args.signature):
            count = len(args.signature)
            raise InputError(f"--signature must be the 64 hex characters of X-Hook-Signature "
                             f"(this one has {count} characters"
                             f"{', not all hex' if count == 64 else ''}); copy the header "
                             "value without a prefix.")
    body = read_input(args.body, "body")
    checks: list[tuple[str, str | None]] = []
    if args.signature is not None:
        checks.append(("X-Hook-Signature", None if verify_signature(body, secret, args.signature)
                       else "signature mismatch: it was not made from this body with this "
                            "secret; the body must be the raw bytes received"))
    if all(standard):
        checks.append(("webhook-signature", standard_failure(
            body, secret, args.webhook_id, args.webhook_timestamp, args.webhook_signature)))
    for name, failure in checks:
        print(f"{name}: valid" if failure is None else f"{name}: INVALID ({failure})")
    return 0 if all(failure is None for _, failure in checks) else 1


def _whsec(secret: str) -> str:
    """Check a ``whsec_…`` secret's base64 part; returns it unchanged.

    Raises:
        InputError: empty or not base64.
    """
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if not key:
        raise InputError("The whsec_ secret is not valid base64 after its prefix; copy it "
                         "again with `hookadmin hooks secret ID --whsec`.")
    return secret
