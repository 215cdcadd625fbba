"""``hookadmin audit [verify]``: the audit log of administrative actions, and the
check of its hash chain."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from hookadmin.cli.common import Parser, hook_id, print_json
from hookadmin.core import audit
from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from hookadmin.core.store import iso

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands

MAX_LIMIT = 1_000_000


def add_parser(sub: Subcommands) -> None:
    """Add ``audit`` (with ``verify``) to ``sub`` (the top parser's subparsers)."""
    au = sub.add_parser("audit", help="who did what and when (oldest first); `audit verify` "
                                      "checks that no entry was changed or removed")
    au.add_argument("--since", metavar="TIME",
                    help="ISO-8601 time (2026-11-29T10:00:00Z) or a duration like 2h, 3d")
    au.add_argument("--hook", type=hook_id, metavar="ID", help="only entries about this hook")
    au.add_argument("--limit", type=int, metavar="N", help="only the newest N entries")
    au.add_argument("--json", action="store_true")
    asub = au.add_subparsers(dest="audit_command", metavar="ACTION", required=False,
                             parser_class=Parser)
    ver = asub.add_parser("verify", help="check the hash chain of the whole audit log")
    ver.add_argument("--json", action="store_true")


def run(service: HookService, args: argparse.Namespace) -> int:
    """``hookadmin audit`` or ``audit verify``; returns the exit status (``verify``: 0
    when the chain is whole, 1 when it is broken).

    Raises:
        InputError: a bad --since or --limit (exit status 2).
    """
    from hookadmin.cli.deliveries import parse_since

    if args.audit_command == "verify":
        report = audit.verify(service.store)
        if args.json:
            print_json({"ok": report.ok, "checked": report.checked, "problem": report.problem,
                        "seq": report.seq})
        elif report.ok:
            print(f"The audit log is intact: {report.checked} entries checked.")
        else:
            print(f"The audit log was tampered with: {report.problem}")
        return 0 if report.ok else 1
    if args.limit is not None and not 1 <= args.limit <= MAX_LIMIT:
        raise InputError(f"--limit must be from 1 to {MAX_LIMIT}.")
    since = None if args.since is None else parse_since(args.since)
    entries = service.store.list_audit(since=since, hook_id=args.hook)
    if args.limit is not None:
        entries = entries[-args.limit:]
    if args.json:
        print_json([e.to_json() for e in entries])
        return 0
    if not entries:
        print("No audit entries match." if since is not None or args.hook is not None
              else "No audit entries yet.")
        return 0
    for e in entries:
        who = f"{e.user}@{e.host}" + (f" ({e.role})" if e.role else "")
        hook = f" hook {e.hook_id}" if e.hook_id is not None else ""
        details = audit.describe(e.details)
        print(f"{iso(e.at)}  {e.seq:>5}  {who}  {e.origin:6}  {e.action}{hook}"
              + (f"  {details}" if details else ""))
    return 0
