"""``hookadmin publish``: put events on the outbox, one or a batch in one
transaction."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from hookadmin.cli.common import read_input
from hookadmin.core.errors import InputError
from hookadmin.core.events import event_type
from hookadmin.core.service import HookService

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parser(sub: Subcommands) -> None:
    """Add ``publish`` to ``sub`` (the top parser's subcommands)."""
    pub = sub.add_parser("publish", help="put an event on the local queue")
    pub.add_argument("type", nargs="?", metavar="TYPE")
    pub.add_argument("--resource", metavar="FILE|-", help="the resource JSON (- for stdin)")
    pub.add_argument("--batch", metavar="FILE|-",
                     help='JSON Lines, each {"type": TYPE, "resource": {...}}, one transaction')


def run(service: HookService, args: argparse.Namespace) -> int:
    """Queue one event (``args.type`` with the resource file ``args.resource``) or a
    JSON Lines batch (``args.batch``) in one transaction; prints the event id, or the
    count. Returns 0.

    Raises:
        InputError: neither or both forms given, an unknown event type, an unreadable
            file or a resource that is not valid (nothing queued).
    """
    if args.batch is not None:
        if args.type is not None or args.resource is not None:
            raise InputError("Use either TYPE --resource FILE or --batch FILE, not both.")
        ids = service.publish_batch(read_input(args.batch, "batch").splitlines())
        print(f"Queued {len(ids)} events.")
        return 0
    if args.type is None:
        raise InputError("Name the event type, e.g. `hookadmin publish job.failed --resource "
                         "job.json`, or give --batch FILE.")
    if args.resource is None:
        raise InputError("Give the resource JSON with --resource FILE (or --resource - to read "
                         "it from standard input).")
    event_type(args.type)
    print(service.publish(args.type, read_input(args.resource, "resource")))
    return 0
