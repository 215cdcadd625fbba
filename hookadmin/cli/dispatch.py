"""Running the subcommand the parser chose: each command group's ``run`` with what it
needs (the parsed arguments, the store's location, an open service), and the one
sentence for a store that failed a command."""

from __future__ import annotations

import argparse

from hookadmin.cli import (
    audit,
    deliveries,
    events,
    hooks,
    metrics,
    ping,
    publish,
    settings,
    simulate,
    verify,
    worker,
)
from hookadmin.cli.common import remove_orphaned_secrets
from hookadmin.cli.team import run_team
from hookadmin.core.errors import StoreError, StoreFault
from hookadmin.core.paths import check_data_home
from hookadmin.core.service import HookService
from hookadmin.core.store import resolve_location


def dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand ``args.command`` (any but ``gui``) with the parsed ``args``;
    returns its exit status.

    Raises:
        InputError: bad input (exit status 2 in :func:`hookadmin.cli.main`).
        DataDirectoryError: the data directory cannot be used, whatever the database
            (exit status 1).
        HookadminError: any other failure (exit status 1).
    """
    if args.command == "events":
        return events.run(args)
    if args.command == "verify":
        return verify.run(args)
    if args.command == "simulate":
        return simulate.run(args)
    location = resolve_location(args.home, args.database)
    check_data_home(location.home)  # a team database's too: never ignored
    if args.command == "worker":
        return worker.run(args, location)
    if args.command == "team":
        return run_team(args, location)
    with HookService(location) as service:
        remove_orphaned_secrets(service)
        if args.command == "hooks":
            return hooks.run(service, args)
        if args.command == "publish":
            return publish.run(service, args)
        if args.command == "ping":
            return ping.run(service, args)
        if args.command == "deliveries":
            return deliveries.run_deliveries(service, args)
        if args.command == "redeliver":
            return deliveries.run_redeliver(service, args)
        if args.command == "settings":
            return settings.run(service, args)
        if args.command == "audit":
            return audit.run(service, args)
        if args.command == "metrics":
            return metrics.run(service, args)
    raise AssertionError(args.command)  # pragma: no cover - argparse limits commands


def store_sentence(err: StoreError, command: str) -> str:
    """The one sentence for a database that failed ``command``: a fault of the machine
    under it (a full disk, a lock another process held too long; see
    :class:`~hookadmin.core.errors.StoreFault`) names what the command left undone; any
    other :class:`StoreError` (a PostgreSQL server that cannot be reached, a newer
    database) says what it says."""
    if isinstance(err, StoreFault) and command in ("publish", "simulate"):
        return str(err.saying("nothing was queued"))
    return str(err)
