"""``hookadmin team``: the team key of a team database (DESIGN.md §9).

``team export-key FILE`` writes this machine's team key to a new file (mode 0600) to
carry to another machine; ``team import-key FILE`` keeps such a key in this machine's
OS keyring. Errors follow :mod:`hookadmin.cli`: :class:`InputError` (an existing file,
a malformed key file, a key for another database) is exit status 2, a
:class:`SecretStoreError` (no usable keyring) exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hookadmin.core.errors import InputError

# The id of the team database this command line uses, or None when it uses the local
# SQLite database: filled in when the PostgreSQL store is selected (`--database`,
# HOOKADMIN_DATABASE).
DatabaseIdSource = Callable[[argparse.Namespace], str | None]
_P = TypeVar("_P", bound=argparse.ArgumentParser)


def add_team_parser(sub: argparse._SubParsersAction[_P]) -> None:
    """Add ``team`` and its actions to the subcommands ``sub`` (their parsers are of
    the class ``sub`` makes)."""
    team = sub.add_parser("team", help="the team key of a shared team database")
    tsub = team.add_subparsers(dest="team_command", metavar="ACTION", required=True,
                               parser_class=type(team))
    export = tsub.add_parser("export-key", help="write this machine's team key to a new "
                             "file (mode 0600) for another machine")
    export.add_argument("file", metavar="FILE")
    export.add_argument("--database-id", metavar="UUID",
                        help="the team database whose key to export (default: the one in "
                             "use)")
    imp = tsub.add_parser("import-key", help="keep a team key file's key in this "
                          "machine's keyring")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--database-id", metavar="UUID",
                     help="refuse a key of any other team database (default: the one in "
                          "use, if any)")


def run_team(args: argparse.Namespace, database_id: DatabaseIdSource | None = None) -> int:
    """Run ``hookadmin team ACTION``; returns the exit status.

    Args:
        args: the parsed command line (``team_command``, ``file``, ``database_id``).
        database_id: gives the id of the team database in use (None without one).

    Raises:
        InputError: bad input (exit status 2).
        SecretStoreError: the keyring or the key file cannot be used (exit status 1).
    """
    # Imported here: keyring is imported only by the commands that use it, so the
    # window (started through this module's importer) opens sooner.
    from hookadmin.core.team.key import check_database_id, export_team_key, import_team_key

    chosen: str | None = args.database_id
    if chosen is not None:
        check_database_id(chosen)
    elif database_id is not None:
        chosen = database_id(args)
    path = Path(args.file)
    if args.team_command == "export-key":
        if chosen is None:
            raise InputError("This hookadmin uses no team database, so name the one whose "
                             "key to export with --database-id UUID.")
        export_team_key(chosen, path)
        sys.stderr.write(f"Exported the team key of team database {chosen} to {path} (mode "
                         "0600); carry it privately, run `hookadmin team import-key FILE` "
                         "on the other machine, then delete the file.\n")
        return 0
    if args.team_command == "import-key":
        team_key, stored = import_team_key(path, database_id=chosen)
        if stored:
            sys.stderr.write(f"Imported the team key of team database {team_key.database_id} "
                             "into this machine's keyring.\n")
        else:
            sys.stderr.write("This machine's keyring already holds this team key of team "
                             f"database {team_key.database_id}; nothing changed.\n")
        return 0
    raise AssertionError(args.team_command)  # pragma: no cover - argparse limits actions
