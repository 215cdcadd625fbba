"""The ``hookadmin`` argument parser: the global options, then each command group's
subcommands, added by the group's module."""

from __future__ import annotations

import argparse

from hookadmin import __version__
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
from hookadmin.cli.common import Parser
from hookadmin.cli.team import add_team_parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; ``parse_args`` exits with status 2 and
    one line on stderr for bad usage. The chosen subcommand is in ``command`` (None
    without one)."""
    p = Parser(prog="hookadmin", description="Manage and deliver the ETL platform's "
               "service hooks (outgoing webhooks). Without a command, opens the window.")
    p.add_argument("--version", action="version", version=f"hookadmin {__version__}")
    p.add_argument("--home", metavar="DIR",
                   help="data directory (default: $HOOKADMIN_HOME or the user data folder)")
    p.add_argument("--database", metavar="URL",
                   help="a team's PostgreSQL database, postgresql://USER@HOST:PORT/DBNAME "
                        "(default: $HOOKADMIN_DATABASE, else SQLite in the data directory)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    sub.add_parser("gui", help="open the admin window")
    hooks.add_parser(sub)
    ping.add_parser(sub)
    publish.add_parser(sub)
    worker.add_parser(sub)
    metrics.add_parser(sub)
    deliveries.add_parsers(sub)
    settings.add_parser(sub)
    verify.add_parser(sub)
    audit.add_parser(sub)
    events.add_parser(sub)
    add_team_parser(sub)
    simulate.add_parser(sub)
    return p
