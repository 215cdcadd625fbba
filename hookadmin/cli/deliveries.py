"""``hookadmin deliveries [show ID]`` and ``hookadmin redeliver``: the delivery
history, one delivery's attempts, and sending again."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hookadmin.cli.common import Parser, delivery_id, hook_id, pretty, print_json
from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from hookadmin.core.store import Attempt, Delivery, iso

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parsers(sub: Subcommands) -> None:
    """Add ``deliveries`` (with ``show``) and ``redeliver`` to ``sub`` (the top
    parser's subparsers)."""
    dl = sub.add_parser("deliveries", help="the delivery history, newest first; "
                                           "`deliveries show ID` for one delivery's attempts")
    dl.add_argument("--hook", type=hook_id, metavar="ID")
    dl.add_argument("--status", choices=("pending", "succeeded", "failed"))
    dl.add_argument("--limit", type=int, default=50)
    dl.add_argument("--json", action="store_true")
    dsub = dl.add_subparsers(dest="deliveries_command", metavar="ACTION", required=False,
                             parser_class=Parser)
    show = dsub.add_parser("show", help="every attempt of one delivery: request headers, "
                                        "status, error, response headers and body")
    show.add_argument("delivery", type=delivery_id, metavar="DELIVERY_ID")
    show.add_argument("--json", action="store_true")

    red = sub.add_parser("redeliver", help="send a delivery again (new attempts, same id)")
    red.add_argument("delivery", nargs="?", metavar="DELIVERY_ID")
    red.add_argument("--hook", type=hook_id, metavar="ID",
                     help="with --failed-since: every failed delivery of this hook")
    red.add_argument("--failed-since", metavar="TIME",
                     help="ISO-8601 time (2026-11-29T10:00:00Z) or a duration like 2h, 3d")
    red.add_argument("--until", metavar="TIME",
                     help="with --failed-since: only deliveries that failed before this "
                          "time (same forms; default now)")


def run_deliveries(service: HookService, args: argparse.Namespace) -> int:
    """``hookadmin deliveries`` (the list) or ``deliveries show ID``; returns the exit
    status.

    Raises:
        InputError: a bad --limit, an unknown hook or delivery (exit status 2).
    """
    if args.deliveries_command == "show":
        return _show(service, args.delivery, as_json=args.json)
    if args.hook is not None:
        service.hook(args.hook)
    if not 1 <= args.limit <= 100_000:
        raise InputError("--limit must be from 1 to 100000.")
    rows = service.store.list_deliveries(hook_id=args.hook, status=args.status, limit=args.limit)
    if args.json:
        print_json([d.to_json() for d in rows])
        return 0
    if not rows:
        filtered = args.status is not None or args.hook is not None
        print("No deliveries match." if filtered else "No deliveries yet.")
        return 0
    # The code column is as wide as its widest entry: an error kind such as
    # ``secret_unavailable`` is longer than any HTTP status.
    code_width = max(4, *(len(_code(d)) for d in rows))
    print(f"{'DELIVERY':36}  {'HOOK':>4}  {'EVENT':18}  {'STATUS':9}  {'TRIES':>5}  "
          f"{'CODE':>{code_width}}  {'MS':>6}  CREATED")
    for d in rows:
        print(f"{d.id:36}  {d.hook_id:>4}  {d.event_type:18}  {d.status:9}  {d.attempts:>5}  "
              f"{_code(d):>{code_width}}  {_ms(d):>6}  {iso(d.created_at)}")
    return 0


def _code(d: Delivery) -> str:
    if d.last_status_code is not None:
        return str(d.last_status_code)
    return d.last_error_kind or "-"


def _ms(d: Delivery) -> str:
    return "-" if d.last_duration_ms is None else f"{d.last_duration_ms:.0f}"


def iso_ms(ts: float | None) -> str | None:
    """Unix seconds → ``2026-11-29T14:21:29.123Z`` (milliseconds), or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def attempt_json(a: Attempt) -> dict[str, Any]:
    """One stored attempt as JSON: times ISO-8601 UTC with milliseconds, the duration
    in milliseconds, the response body as text (invalid UTF-8 replaced), at most the
    response cap in bytes (``response_truncated`` says when it was cut); the request's
    ``body`` is what was sent when it is not the delivery's body (a Slack message, a
    PagerDuty event, an e-mail's text; secrets masked), else null."""
    return {
        "number": a.number, "started_at": iso_ms(a.started_at), "duration_ms": a.duration_ms,
        "request": {"url": a.request_url, "headers": a.request_headers,
                    "body": None if a.request_body is None
                    else a.request_body.decode("utf-8", "replace")},
        "status_code": a.status_code, "error_kind": a.error_kind, "error": a.error_message,
        "response_headers": None if a.response_headers is None
        else [list(pair) for pair in a.response_headers],
        "response_body": None if a.response_body is None
        else a.response_body.decode("utf-8", "replace"),
        "response_truncated": a.response_truncated,
        "next_attempt_at": iso_ms(a.next_attempt_at),
    }


def _show(service: HookService, delivery_id: str, *, as_json: bool) -> int:
    d = service.store.get_delivery(delivery_id)  # NotFoundError: exit status 2
    attempts = service.store.list_attempts(d.seq)
    body = service.store.delivery_body(d.id)
    if as_json:
        print_json({"delivery": d.to_json(), "attempts": [attempt_json(a) for a in attempts],
                    "body": body.decode("utf-8", "replace")})
        return 0
    for line in _describe(service, d, attempts, body):
        print(line)
    return 0


def _describe(service: HookService, d: Delivery, attempts: list[Attempt],
              body: bytes) -> list[str]:
    hook = service.hook(d.hook_id)
    tries = f"{d.attempts} attempt{'' if d.attempts == 1 else 's'}"
    lines = [f"Delivery {d.id}",
             f"  Hook:     {hook.id} ({hook.display_name})",
             f"  Event:    {d.event_type} (event id {d.event_id})",
             f"  Status:   {d.status} after {tries}",
             f"  Created:  {iso(d.created_at)}"]
    if d.status == "pending" and d.next_attempt_at is not None:
        lines.append(f"  Next attempt: {iso(d.next_attempt_at)}")
    lines.append("")
    if not attempts:
        lines += ["No attempt yet.", ""]
    for a in attempts:
        result = f"HTTP {a.status_code}" if a.status_code is not None else a.error_kind
        duration = "-" if a.duration_ms is None else f"{a.duration_ms:.0f} ms"
        lines.append(f"── Attempt {a.number} · {iso_ms(a.started_at)} · {result} · {duration}")
        if a.error_kind:
            lines.append(f"Error ({a.error_kind}): {a.error_message or '-'}")
        lines.append(f"POST {a.request_url}")
        lines += [f"{k}: {v}" for k, v in a.request_headers.items()]
        if a.request_body is not None:  # a Slack message, a PagerDuty event, an e-mail
            lines += ["", "Sent:", pretty(a.request_body)]
        if a.response_headers is not None:
            lines += ["", f"Response {a.status_code} headers:"]
            lines += [f"{k}: {v}" for k, v in a.response_headers]
        if a.response_body:
            cut = f" (truncated to {len(a.response_body)} bytes)" if a.response_truncated \
                else ""
            lines += ["", f"Response body{cut}:", pretty(a.response_body)]
        if a.next_attempt_at is not None:
            lines += ["", f"Next attempt: {iso_ms(a.next_attempt_at)}"]
        lines.append("")
    lines += ["Request body:", pretty(body)]
    return lines


def run_redeliver(service: HookService, args: argparse.Namespace) -> int:
    """``hookadmin redeliver``: one delivery, or every failed one of a hook since a
    time; returns the exit status.

    Raises:
        InputError: neither or both forms, a bad time, an unknown delivery or hook.
    """
    if args.delivery is not None:
        if args.hook is not None or args.failed_since is not None or args.until is not None:
            raise InputError("Give either a DELIVERY_ID or --hook ID --failed-since TIME.")
        d = service.redeliver(args.delivery)
        print(f"Delivery {d.id} to hook {d.hook_id} is queued again.")
        return 0
    if args.hook is None or args.failed_since is None:
        raise InputError("Give a DELIVERY_ID, or --hook ID with --failed-since TIME to "
                         "redeliver every failed delivery of a hook.")
    until = None if args.until is None else parse_since(args.until)
    count = service.redeliver_failed(args.hook, parse_since(args.failed_since), until)
    print(f"Queued {count} failed deliveries of hook {args.hook} again.")
    return 0


def parse_since(text: str, *, now: float | None = None) -> float:
    """``2h``, ``30m``, ``3d``, ``45s`` (ago) or an ISO-8601 time → Unix seconds.

    Raises:
        InputError: neither form.
    """
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(text) > 1 and text[-1] in units and text[:-1].isdigit():
        return (time.time() if now is None else now) - int(text[:-1]) * units[text[-1]]
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{text!r} is not a time; use ISO-8601 like 2026-11-29T10:00:00Z "
                         "or a duration like 2h or 3d.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
