"""The ``hookadmin`` command line (DESIGN.md §6).

Exit status: 0 on success, 2 for bad usage or bad input (one line on stderr), 1 for
any other failure (keyring unavailable, receiver error on ping, ...).

The parser is built in :mod:`hookadmin.cli.parser` from each command group's module
(``hooks``, ``deliveries``, ``events``, ``ping``, ``worker``, ``settings``,
``simulate``, ``metrics``, ``verify``, ``audit``, ``team``);
:mod:`hookadmin.cli.dispatch` runs the chosen subcommand. Opening the window
(``hookadmin``, ``hookadmin gui``, with ``--home`` and ``--database`` before it)
imports none of them: :func:`window_options` recognises those command lines, and the
window starts without the service layer, the command groups or asyncio (README,
window figures).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookadmin.cli.common import MAX_ID
    from hookadmin.cli.deliveries import parse_since
    from hookadmin.cli.parser import build_parser

__all__ = ["MAX_ID", "build_parser", "main", "parse_since", "window_options"]

WINDOW_OPTIONS = ("--home", "--database")


def window_options(argv: Sequence[str]) -> tuple[str | None, str | None] | None:
    """``(home, database)`` when ``argv`` only opens the window: ``--home DIR`` and
    ``--database URL`` (each also as ``--home=DIR``; the last one given wins), then
    ``gui`` or nothing. None for any other command line, which the full parser reads
    (a subcommand, ``--help``, ``--version``, an abbreviated option, a value that
    starts with ``-``, a missing value, anything after ``gui``)."""
    found: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        name, equals, value = token.partition("=")
        if name not in WINDOW_OPTIONS:
            break
        if not equals:
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                return None
            value = argv[i + 1]
            i += 1
        found[name] = value
        i += 1
    rest = list(argv[i:])
    if rest not in ([], ["gui"]):
        return None
    return found.get("--home"), found.get("--database")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (default: ``sys.argv[1:]``); returns the exit status."""
    window = window_options(sys.argv[1:] if argv is None else argv)
    if window is not None:
        from hookadmin.ui.app import main as gui_main

        home, database = window
        return gui_main(home=home, database=database, argv=())
    return run_command(argv)


def run_command(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with every subcommand's parser and run the command (the window
    for ``gui`` or none); returns the exit status."""
    from hookadmin.cli.dispatch import dispatch, store_sentence
    from hookadmin.cli.parser import build_parser
    from hookadmin.core.errors import HookadminError, InputError, StoreError

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


def __getattr__(name: str) -> object:
    """``MAX_ID``, ``build_parser`` and ``parse_since``, imported when first asked for
    (the window's start does without them)."""
    if name == "MAX_ID":
        from hookadmin.cli.common import MAX_ID

        return MAX_ID
    if name == "build_parser":
        from hookadmin.cli.parser import build_parser

        return build_parser
    if name == "parse_since":
        from hookadmin.cli.deliveries import parse_since

        return parse_since
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
