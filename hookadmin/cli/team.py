"""``hookadmin team``: set up a team database and carry its key (DESIGN.md §9).

``team init`` sets up an empty PostgreSQL database (``--database URL`` or
``HOOKADMIN_DATABASE``) and keeps a new team key in this machine's keyring;
``team export-key FILE`` writes this machine's team key to a new file (mode 0600) to
carry to another machine; ``team import-key FILE`` keeps such a key in this machine's
OS keyring; ``team import-local [--home DIR]`` copies a workstation's hooks, secrets,
pending deliveries and history into the team database. Errors follow
:mod:`hookadmin.cli`: :class:`InputError` (an existing file, a malformed key file, a key
for another database, no team database given) is exit status 2, a
:class:`SecretStoreError` (no usable keyring) or a database that cannot be used exit
status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hookadmin.core.errors import InputError
from hookadmin.core.store import StoreLocation

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands

NO_DATABASE = ("`hookadmin team {action}` needs the team's PostgreSQL database; give it "
               "with --database postgresql://USER@HOST:PORT/DBNAME or HOOKADMIN_DATABASE.")


def add_team_parser(sub: Subcommands) -> None:
    """Add ``team`` and its actions to the subcommands ``sub`` (their parsers are of
    the class ``sub`` makes)."""
    team = sub.add_parser("team", help="a team database shared by several machines")
    tsub = team.add_subparsers(dest="team_command", metavar="ACTION", required=True,
                               parser_class=type(team))
    tsub.add_parser("init", help="set up an empty PostgreSQL database (--database) as a "
                    "team database, with a new team key in this machine's keyring")
    local = tsub.add_parser("import-local", help="copy a workstation's hooks, secrets, "
                            "pending deliveries and history into the team database")
    local.add_argument("--from-home", "--home", dest="from_home", metavar="DIR",
                       help="the workstation's data directory (default: this machine's)")
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


def run_team(args: argparse.Namespace, location: StoreLocation) -> int:
    """Run ``hookadmin team ACTION``; returns the exit status.

    Args:
        args: the parsed command line (``team_command``, and ``file``,
            ``database_id``, ``from_home`` as the action has them).
        location: the store this command line uses (``--database``/``--home``).

    Raises:
        InputError: bad input (exit status 2).
        SecretStoreError: the keyring or the key file cannot be used (exit status 1).
        StoreUnavailable, StoreError: the team database cannot be used (exit status 1).
    """
    if args.team_command == "init":
        return _init(location)
    if args.team_command == "import-local":
        return _import_local(args, location)
    # Imported here: keyring is imported only by the commands that use it, so the
    # window (started through this module's importer) opens sooner.
    from hookadmin.core.team.key import check_database_id, export_team_key, import_team_key

    chosen: str | None = args.database_id
    if chosen is not None:
        check_database_id(chosen)
    elif location.team:
        chosen = _database_id(location)
    path = Path(args.file)
    if args.team_command == "export-key":
        if chosen is None:
            raise InputError("This hookadmin uses no team database; give it with --database "
                             "URL (or HOOKADMIN_DATABASE), or name its id with "
                             "--database-id UUID.")
        export_team_key(chosen, path)
        _audit(location, "team_key.exported", chosen, path)
        sys.stderr.write(f"Exported the team key of team database {chosen} to {path} (mode "
                         "0600); carry it privately, run `hookadmin team import-key FILE` "
                         "on the other machine, then delete the file.\n")
        return 0
    if args.team_command == "import-key":
        team_key, stored = import_team_key(path, database_id=chosen)
        _audit(location, "team_key.imported", team_key.database_id, path, changed=stored)
        if stored:
            sys.stderr.write(f"Imported the team key of team database {team_key.database_id} "
                             "into this machine's keyring.\n")
        else:
            sys.stderr.write("This machine's keyring already holds this team key of team "
                             f"database {team_key.database_id}; nothing changed.\n")
        return 0
    raise AssertionError(args.team_command)  # pragma: no cover - argparse limits actions


def _audit(location: StoreLocation, action: str, database_id: str, path: Path,
           changed: bool | None = None) -> None:
    """Record a team key's export or import (``action``) in the audit log of the store
    in use (the team database in team mode, with its database role): the team
    database's id, the key file's absolute path and, for an import, whether the
    keyring changed. Never the key.

    Raises:
        StoreError: the store cannot be written.
    """
    from hookadmin.core.service import HookService

    details: dict[str, str | bool] = {"database_id": database_id,
                                      "file": str(path.absolute())}
    if changed is not None:
        details["changed"] = changed
    with HookService(location) as service:
        service.audit(action, hook_id=None, **details)


def _database_id(location: StoreLocation) -> str:
    """The id of the team database at ``location`` (opening it)."""
    from hookadmin.core.store import open_store

    store = open_store(location)
    try:
        return store.store_id
    finally:
        store.close()


def _init(location: StoreLocation) -> int:
    from hookadmin.core.keyring_access import read_entry
    from hookadmin.core.store import init_team_store
    from hookadmin.core.team.key import create_team_key, keyring_entry_name

    if not location.team:
        raise InputError(NO_DATABASE.format(action="init"), field="database")
    # The keyring must work before the database is touched: a team database whose key
    # could not be kept anywhere would be of no use.
    read_entry(keyring_entry_name("00000000-0000-0000-0000-000000000000"), None)
    store = init_team_store(location)
    try:
        database_id = store.store_id
    finally:
        store.close()
    create_team_key(database_id)
    where = location.describe()
    sys.stdout.write(
        f"Set up the {where} as team database {database_id}; its new team key is in "
        "this machine's keyring.\n"
        "Next steps:\n"
        "  1. On this machine: hookadmin team export-key team.key\n"
        "  2. Carry team.key privately to each other machine, and there run\n"
        "     hookadmin team import-key team.key   (then delete the file)\n"
        "  3. On every machine, point hookadmin at the database:\n"
        "     export HOOKADMIN_DATABASE='postgresql://USER@HOST:PORT/DBNAME'\n"
        "     (the password in ~/.pgpass or PGPASSWORD, not in the URL)\n"
        "  4. Optionally copy a workstation's hooks and history: hookadmin team "
        "import-local\n"
        "  5. Run the delivery engine: hookadmin worker (or open the window)\n")
    return 0


def _import_local(args: argparse.Namespace, location: StoreLocation) -> int:
    from hookadmin.core.service import HookService
    from hookadmin.core.store import DB_FILENAME
    from hookadmin.core.team.import_local import import_local

    if not location.team:
        raise InputError(NO_DATABASE.format(action="import-local"), field="database")
    workstation = StoreLocation(Path(args.from_home).expanduser() if args.from_home
                                else location.home)
    if not (workstation.home / DB_FILENAME).exists():
        raise InputError(f"There is no hookadmin database in {workstation.home}; name the "
                         "workstation's data directory with --home DIR.", field="home")
    with HookService(workstation) as source, HookService(location) as target:
        done = import_local(source, target)
    sys.stdout.write(
        f"Copied {done.hooks_added} hook{'' if done.hooks_added == 1 else 's'} "
        f"({done.hooks_known} copied before), {done.secrets} secret"
        f"{'' if done.secrets == 1 else 's'} and {done.deliveries_added} "
        f"deliver{'y' if done.deliveries_added == 1 else 'ies'} with their attempts "
        f"({done.deliveries_known} copied before) from the {workstation.describe()} into "
        f"the {location.describe()}.\n")
    if done.deliveries_added or done.hooks_added:
        sys.stderr.write("The workstation's database is left as it was; stop its engine "
                         "(close its window) so it does not send its pending deliveries "
                         "too.\n")
    return 0
