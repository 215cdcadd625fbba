"""The team database the window opens at start, and the check it makes before
switching to one.

The window remembers the database chosen in *File → Connect to team database…* in a
small JSON file in the user config folder (``platformdirs.user_config_dir("hookadmin")``,
``database.json``, mode 0600) as a URL **without** its password; a password given in the
dialog is kept in the OS keyring (service ``hookadmin``, entry
``database-password/<URL without password>``) and put back into the URL when the
database is opened. ``--database`` and ``$HOOKADMIN_DATABASE`` win over the remembered
choice.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from hookadmin.core.errors import InputError, SecretStoreError, StoreError
from hookadmin.core.store import URL_SCHEMES, StoreLocation, open_store

log = logging.getLogger(__name__)

CHOICE_FILE = "database.json"
PASSWORD_ENTRY = "database-password/{url}"  # noqa: S105 - an entry's name, not a secret

__all__ = ["CHOICE_FILE", "TeamCheck", "check_team_database", "choice_file", "forget_choice",
           "load_choice", "parse_team_url", "remember_choice", "remembered_location",
           "split_password", "with_password"]


def choice_file() -> Path:
    """The file the window's database choice is kept in (``database.json`` in the user
    config folder; ``$XDG_CONFIG_HOME`` is honoured on Linux)."""
    import platformdirs  # imported when first needed: the window reads it after its first paint

    return Path(platformdirs.user_config_dir("hookadmin", appauthor=False)) / CHOICE_FILE


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (None when it has none)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), unquote(parts.password)


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` put in (percent-encoded); ``url`` itself when
    ``password`` is empty or None. A password already in ``url`` is replaced."""
    if not password:
        return url
    bare, _ = split_password(url)
    parts = urlsplit(bare)
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def parse_team_url(url: str, password: str | None = None) -> str:
    """The URL typed in the connect dialog, checked, with ``password`` put in.

    Raises:
        InputError: it is empty, not a ``postgresql://`` URL, or does not parse as a
            libpq connection URL (one sentence, without the URL).
    """
    url = url.strip()
    if not url:
        raise InputError("Enter the team database's URL, like "
                         "postgresql://USER@HOST:5432/DBNAME.", field="database")
    if not url.startswith(URL_SCHEMES):
        raise InputError("The database URL must start with postgresql://; give one like "
                         "postgresql://USER@HOST:5432/DBNAME.", field="database")
    from hookadmin.core.store.postgres.schema import check_url

    full = with_password(url, password)
    check_url(full, "The database URL")
    return full


def load_choice(path: Path | None = None) -> str | None:
    """The remembered team database's URL (without password), or None for the local
    database (no file, or one that cannot be read: it is then ignored)."""
    path = path or choice_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:  # unreadable, or not UTF-8
        log.warning("ignoring %s: %s", path, err)
        return None
    import json  # only when there is a file

    try:
        data = json.loads(text)
    except ValueError as err:
        log.warning("ignoring %s: %s", path, err)
        return None
    url = data.get("database") if isinstance(data, dict) else None
    return url if isinstance(url, str) and url.startswith(URL_SCHEMES) else None


def remember_choice(url: str | None, path: Path | None = None) -> None:
    """Remember ``url`` (None: the local database) for the next start; a password in
    ``url`` goes to the OS keyring, never into the file.

    Raises:
        SecretStoreError: the keyring cannot store the password (the file is unchanged).
        StoreError: the file cannot be written (one sentence with the reason).
    """
    path = path or choice_file()
    stored: str | None = None
    if url is not None:
        stored, password = split_password(url)
        if password:
            from hookadmin.core.keyring_access import write_entry

            write_entry(PASSWORD_ENTRY.format(url=stored), password)
    import json

    text = json.dumps({"database": stored}, indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except OSError as err:
        raise StoreError(f"Cannot remember the database choice in {path} ({err.strerror}); "
                         "check that folder's permissions.") from None


def forget_choice(path: Path | None = None) -> None:
    """Use the local database at the next start (the keyring entry of a password is
    kept, for a later connection to the same database).

    Raises:
        StoreError: the file cannot be written.
    """
    remember_choice(None, path)


def remembered_location(home: Path, path: Path | None = None) -> StoreLocation | None:
    """The remembered team database as a location (its password read back from the
    keyring), or None when the local database is remembered.

    Raises:
        SecretStoreError: the keyring cannot be read.
    """
    url = load_choice(path)
    if url is None:
        return None
    from hookadmin.core.keyring_access import read_entry

    return StoreLocation(home, with_password(url, read_entry(PASSWORD_ENTRY.format(url=url))))


@dataclass(frozen=True)
class TeamCheck:
    """What :func:`check_team_database` found.

    Attributes:
        database_id: the team database's id.
        key_problem: "" when this machine has the team key; else the one sentence
            saying why it cannot sign, reveal or ping (no key, or a key for another
            team database).
    """

    database_id: str
    key_problem: str


def check_team_database(location: StoreLocation) -> TeamCheck:
    """Connect to the team database of ``location`` and check this machine's team
    key for it (a round trip or two: call it off the GUI thread).

    Raises:
        StoreUnavailable: the server cannot be reached, refuses the connection or the
            password.
        StoreError: it is not a hookadmin database, or one written by a newer hookadmin.
    """
    if location.url is None:
        raise ValueError("only team databases are checked")
    store = open_store(location)
    try:
        from hookadmin.core.secret_source import open_hook_secrets

        database_id = store.store_id
        secrets = open_hook_secrets(location, database_id)
        try:
            secrets.check()
        except SecretStoreError as err:
            return TeamCheck(database_id, str(err))
        finally:
            secrets.close()
        return TeamCheck(database_id, "")
    finally:
        store.close()
