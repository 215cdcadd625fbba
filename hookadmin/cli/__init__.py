"""The ``hookadmin`` command line (DESIGN.md §6).

Exit status: 0 on success, 2 for bad usage or bad input (one line on stderr), 1 for
any other failure (keyring unavailable, receiver error on ping, ...).

The parser is built in :mod:`hookadmin.cli.parser` from each command group's module
(``hooks``, ``deliveries``, ``events``, ``ping``, ``worker``, ``settings``,
``simulate``, ``metrics``, ``verify``, ``audit``, ``team``);
:mod:`hookadmin.cli.dispatch` runs the chosen subcommand.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hookadmin.cli.common import MAX_ID
from hookadmin.cli.deliveries import parse_since
from hookadmin.cli.dispatch import dispatch, store_sentence
from hookadmin.cli.parser import build_parser
from hookadmin.core.errors import HookadminError, InputError, StoreError

__all__ = ["MAX_ID", "build_parser", "main", "parse_since"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command in (None, "gui"):
        from hookadmin.ui.app import main as gui_main

        return gui_main(home=args.home, database=args.database, argv=())
    try:
        return dispatch(args)
    except InputError as err:
        print(f"hookadmin: {err}", file=sys.stderr)
        return 2
    except StoreError as err:  # a full disk, a lock held too long, a server down: one line
        print(f"hookadmin: {store_sentence(err, args.command)}", file=sys.stderr)
        return 1
    except HookadminError as err:
        print(f"hookadmin: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
