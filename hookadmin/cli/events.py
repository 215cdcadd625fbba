"""``hookadmin events``: the event catalog (and the hook types)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from hookadmin.cli.common import print_json
from hookadmin.core.events import EVENT_TYPES, GROUPS, catalog_json

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parser(sub: Subcommands) -> None:
    """Add ``events`` to ``sub`` (the top parser's subcommands)."""
    ev = sub.add_parser("events", help="the event catalog")
    ev.add_argument("--json", action="store_true", help="shaped like GET /hook_events")
    ev.add_argument("--types", action="store_true",
                    help="list the hook types instead (with --json: like GET hooks/types)")


def run(args: argparse.Namespace) -> int:
    """Print the event catalog, or the hook types with ``args.types`` (JSON with
    ``args.json``); returns 0."""
    from hookadmin.core.hook_types import HOOK_TYPES, types_json

    if args.types:
        if args.json:
            print_json(types_json())
        else:
            for t in HOOK_TYPES:
                print(f"{t.name:10} {t.title}: {t.description}")
        return 0
    if args.json:
        print_json(catalog_json())
        return 0
    for g in GROUPS:
        print(f"{g.id:20} {g.label}")
        for e in EVENT_TYPES:
            if e.group == g.id:
                print(f"  {e.id:18} {e.label}: {e.description}")
    print("Hook types (hooks add --type): "
          + ", ".join(t.name for t in HOOK_TYPES) + "; `hookadmin events --types` describes them.")
    return 0
