"""``hookadmin ping ID``: send a ping to a hook now and show the response."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from hookadmin.cli.common import hook_id, pretty, print_json
from hookadmin.core.service import HookService

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parser(sub: Subcommands) -> None:
    """Add ``ping`` to ``sub`` (the top parser's subcommands)."""
    ping = sub.add_parser("ping", help="send a ping now and show the response")
    ping.add_argument("id", type=hook_id)
    ping.add_argument("--json", action="store_true")


def run(service: HookService, args: argparse.Namespace) -> int:
    """Ping hook ``args.id`` and print the response (JSON with ``args.json``).

    Returns:
        0 when the hook answered with a 2xx status, else 1 (the reason on stderr).

    Raises:
        NotFoundError: there is no such hook.
        SecretStoreError: its secret cannot be read from the keyring.
    """
    from hookadmin.delivery.ping import ping

    result = ping(service, args.id)
    a = result.attempt
    if args.json:
        print_json({
            "delivery_id": result.delivery_id, "status_code": a.status_code,
            "duration_ms": a.duration_ms, "error_kind": a.error_kind,
            "error": a.error_message, "response_headers": a.response_headers,
            "response_body": None if a.response_body is None
            else a.response_body.decode("utf-8", "replace"),
            "response_truncated": a.response_truncated,
            "request": {"url": a.request_url, "headers": a.request_headers,
                        "body": result.body.decode("utf-8")}})
        return 0 if a.succeeded else 1
    if a.status_code is not None:
        print(f"{a.status_code} in {a.duration_ms:.0f} ms ({'ok' if a.succeeded else 'failed'})")
        for k, v in a.response_headers or []:
            print(f"{k}: {v}")
        print()
        print(pretty(a.response_body or b""))
        if a.response_truncated:
            print("[response body truncated]")
    if a.error_message:
        print(f"hookadmin: ping failed: {a.error_message}", file=sys.stderr)
    return 0 if a.succeeded else 1
