"""The team key: 32 random bytes that encrypt one team database's hook secrets.

A team key belongs to one team database, named by its database id (the UUID the
database keeps in its meta table). A machine keeps it in its OS keyring, in the entry
``<database id>/team-key`` of the service ``hookadmin`` (through the keyring access of
:mod:`hookadmin.core.keyring_access`), or, on a headless server without a desktop keyring, in
the file that ``HOOKADMIN_TEAM_KEY_FILE`` names (readable and writable by its owner
only).

A key file, and the keyring entry, hold one line of ASCII::

    hookadmin-team-key:v1:<database id>:<the 32 bytes as unpadded base64url>

No message of this module ever contains a key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookadmin.core.errors import HookadminError, InputError, TeamKeyError, TeamKeyMissing
from hookadmin.core.keyring_access import read_entry, write_entry

KEY_BYTES = 32
KEY_FILE_ENV = "HOOKADMIN_TEAM_KEY_FILE"
FORMAT = "hookadmin-team-key"
VERSION = "v1"
MAX_FILE_BYTES = 4096  # a key file is about 100 bytes

_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url without padding
_VERSION_TEXT = re.compile(r"v[0-9]+")

MISSING = ("This machine has no team key for team database {database_id}, so it can list "
           "hooks and history but cannot sign, reveal or ping; run `hookadmin team "
           "export-key FILE` on a machine that has it, then `hookadmin team import-key FILE` "
           f"here (or point {KEY_FILE_ENV} at that file).")


@dataclass(frozen=True)
class TeamKey:
    """A team key and the team database it belongs to.

    Attributes:
        database_id: the team database's id, a UUID in its canonical lower-case form.
        key: the 32 key bytes (never shown by ``repr``).
    """

    database_id: str
    key: bytes = field(repr=False)

    def to_text(self) -> str:
        """The one-line form kept in key files and the keyring (no line break)."""
        encoded = base64.urlsafe_b64encode(self.key).rstrip(b"=").decode("ascii")
        return f"{FORMAT}:{VERSION}:{self.database_id}:{encoded}"


def parse_team_key(text: str) -> TeamKey:
    """The team key that ``text`` (a key file's content: one line, an optional line
    break after it) holds.

    Raises:
        ValueError: ``text`` is not a team key; the message is a clause saying what is
            wrong (never with key material), for the caller's sentence.
    """
    line = text[:-1] if text.endswith("\n") else text
    line = line[:-1] if line.endswith("\r") else line
    if "\n" in line or "\r" in line:
        raise ValueError("it holds more than one line")
    parts = line.split(":")
    if parts[0] != FORMAT:
        raise ValueError(f"it does not start with {FORMAT}:")
    if len(parts) < 2 or not _VERSION_TEXT.fullmatch(parts[1]):
        raise ValueError(f"it has no format version after {FORMAT}:")
    if parts[1] != VERSION:
        raise ValueError(f"its format {parts[1]} is not {VERSION}, the one this hookadmin "
                         "reads; use the hookadmin that wrote it")
    if len(parts) != 4:
        raise ValueError(f"a {VERSION} key has four fields separated by colons")
    _, _, database_id, encoded = parts
    try:
        check_database_id(database_id)
    except InputError:
        raise ValueError("its database id is not a UUID") from None
    if not _KEY_TEXT.fullmatch(encoded):
        raise ValueError(f"its key is not {KEY_BYTES} bytes in base64url")
    try:
        key = base64.urlsafe_b64decode(encoded + "=")
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern rules it out
        raise ValueError(f"its key is not {KEY_BYTES} bytes in base64url") from None
    if len(key) != KEY_BYTES or base64.urlsafe_b64encode(key).rstrip(b"=") != encoded.encode():
        raise ValueError(f"its key is not {KEY_BYTES} bytes in base64url")
    return TeamKey(database_id, key)


def check_database_id(database_id: str) -> None:
    """Make sure ``database_id`` is a UUID in canonical form (lower case, with hyphens).

    Raises:
        InputError: it is not.
    """
    try:
        canonical = str(uuid.UUID(database_id))
    except (ValueError, TypeError, AttributeError):
        canonical = None
    if canonical != database_id:
        raise InputError(f"{database_id!r} is not a team database id (a UUID such as "
                         f"{uuid.UUID(int=0)}); use the id the team database reports.")


def keyring_entry_name(database_id: str) -> str:
    """The keyring entry (user name, service ``hookadmin``) of a database's team key."""
    return f"{database_id}/team-key"


def create_team_key(database_id: str, *, backend: Any | None = None) -> TeamKey:
    """Make a new random team key for the team database ``database_id`` and keep it in
    this machine's keyring. For ``hookadmin team init``.

    Args:
        database_id: the new team database's id (canonical UUID).
        backend: a keyring backend; defaults to the one :mod:`keyring` selects.

    Raises:
        InputError: ``database_id`` is not a UUID, or this machine already has a team
            key for it (one is never replaced).
        SecretStoreError: the keyring cannot be used.
    """
    check_database_id(database_id)
    name = keyring_entry_name(database_id)
    if read_entry(name, backend) is not None:
        raise InputError(f"This machine already has a team key for team database "
                         f"{database_id}, and hookadmin never replaces one; share it with "
                         "`hookadmin team export-key FILE`.")
    team_key = TeamKey(database_id, secrets.token_bytes(KEY_BYTES))
    write_entry(name, team_key.to_text(), backend)
    return team_key


def load_team_key(database_id: str, *, backend: Any | None = None,
                  environ: Mapping[str, str] | None = None) -> TeamKey:
    """The team key of ``database_id`` on this machine: from the file that
    ``HOOKADMIN_TEAM_KEY_FILE`` names when it is set, else from the OS keyring.

    Args:
        database_id: the team database's id (canonical UUID).
        backend: a keyring backend; defaults to the one :mod:`keyring` selects.
        environ: the environment to read ``HOOKADMIN_TEAM_KEY_FILE`` from (default
            ``os.environ``).

    Raises:
        TeamKeyMissing: neither the file nor the keyring has it (the sentence says what
            to run).
        TeamKeyError: the file is readable or writable by group or others, cannot be
            read, is malformed or holds another database's key; or the keyring entry is
            malformed (``cause == "team_key_invalid"``).
        SecretStoreError: the keyring cannot be used.
    """
    env = os.environ if environ is None else environ
    file_name = env.get(KEY_FILE_ENV)
    if file_name:
        team_key = _read_env_key_file(Path(file_name))
        if team_key.database_id != database_id:
            raise TeamKeyError(f"The team key in {file_name} ({KEY_FILE_ENV}) belongs to team "
                               f"database {team_key.database_id}, not to this one "
                               f"({database_id}); point {KEY_FILE_ENV} at this team's key "
                               "file.", cause="team_key_invalid")
        return team_key
    text = read_entry(keyring_entry_name(database_id), backend)
    if text is None:
        raise TeamKeyMissing(MISSING.format(database_id=database_id))
    parsed: TeamKey | None
    try:
        parsed = parse_team_key(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.database_id != database_id:
        raise TeamKeyError(f"The keyring entry {keyring_entry_name(database_id)} of service "
                           "hookadmin is not a team key; delete it in your keyring manager "
                           "and import the key again with `hookadmin team import-key FILE`.",
                           cause="team_key_invalid")
    return parsed


def export_team_key(database_id: str, path: Path, *, backend: Any | None = None,
                    environ: Mapping[str, str] | None = None) -> TeamKey:
    """Write this machine's team key of ``database_id`` to the new file ``path`` (mode
    0600 from its creation), to carry it to another machine.

    Raises:
        InputError: ``path`` exists (it is never overwritten), is a symbolic link, or
            cannot be created there.
        TeamKeyMissing, TeamKeyError, SecretStoreError: as :func:`load_team_key`.
        HookadminError: the file could not be written in full (a full disk); nothing is
            left behind.
    """
    team_key = load_team_key(database_id, backend=backend, environ=environ)
    write_key_file(path, team_key)
    return team_key


def write_key_file(path: Path, team_key: TeamKey) -> None:
    """Create ``path`` with mode 0600 and write ``team_key`` into it.

    Raises:
        InputError: ``path`` exists, is a symbolic link (even a dangling one), or cannot
            be created.
        HookadminError: the write failed (a full disk); the partial file is removed.
    """
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; hookadmin writes a team key only to a "
                         "new file of its own, so choose another path.")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InputError(f"{path} already exists and hookadmin never overwrites a key "
                         "file; choose a new path.") from None
    except OSError as err:
        raise InputError(f"Cannot create {path} ({err.strerror}); choose another "
                         "path.") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write((team_key.to_text() + "\n").encode("ascii"))
            out.flush()
            os.fsync(out.fileno())
    except OSError as err:
        path.unlink(missing_ok=True)
        raise HookadminError(f"Cannot write {path} ({err.strerror}); free some space or "
                             "choose another path.") from None


def import_team_key(path: Path, *, database_id: str | None = None,
                    backend: Any | None = None) -> tuple[TeamKey, bool]:
    """Read a key file written by :func:`export_team_key` and keep its key in this
    machine's keyring.

    Args:
        path: the key file.
        database_id: when given (the team database this machine uses), a key for
            another database is refused.
        backend: a keyring backend; defaults to the one :mod:`keyring` selects.

    Returns:
        ``(team key, stored)``: ``stored`` is False when the keyring already held this
        very key (nothing changed).

    Raises:
        InputError: the file cannot be read or is not a team key, the key belongs to
            another database than ``database_id``, or the keyring already holds a
            different key for its database (one is never replaced).
        SecretStoreError: the keyring cannot be used.
    """
    try:
        data = _read_small_file(path)
    except OSError as err:
        raise InputError(f"Cannot read {path} ({err.strerror}); check the path.") from None
    except _NotAKeyFile as err:
        raise InputError(f"{path} is not a hookadmin team key file ({err}); export one "
                         "with `hookadmin team export-key FILE`.") from None
    try:
        team_key = parse_team_key(_decode(data))
    except ValueError as err:
        raise InputError(f"{path} is not a hookadmin team key file ({err}); export one "
                         "with `hookadmin team export-key FILE`.") from None
    if database_id is not None and team_key.database_id != database_id:
        raise InputError(f"{path} holds the team key of team database "
                         f"{team_key.database_id}, not of this one ({database_id}); import "
                         "the key exported from this team's database.")
    name = keyring_entry_name(team_key.database_id)
    existing = read_entry(name, backend)
    if existing is not None:
        try:
            same = parse_team_key(existing) == team_key
        except ValueError:
            same = False
        if same:
            return team_key, False
        raise InputError(f"This machine already has a different team key for team "
                         f"database {team_key.database_id}, and hookadmin never replaces "
                         "one; check that the file is the right team's key.")
    write_entry(name, team_key.to_text(), backend)
    return team_key, True


class _NotAKeyFile(ValueError):
    """The file is too big, or not a regular file, to be a key file."""


def _read_small_file(path: Path) -> bytes:
    """The bytes of the regular file ``path`` (at most :data:`MAX_FILE_BYTES`).

    Raises:
        OSError: it cannot be opened or read.
        _NotAKeyFile: it is not a regular file, or is too big.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            raise _NotAKeyFile("it is not a regular file")
        data = src.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _NotAKeyFile("it is far longer than a key")
    return data


def _parse_file(data: bytes) -> TeamKey:
    """The key in a key file's bytes (see :func:`parse_team_key`).

    Raises:
        ValueError: they are not a key file (a clause saying why).
    """
    if len(data) > MAX_FILE_BYTES:
        raise ValueError("it is far longer than a key")
    return parse_team_key(_decode(data))


def _decode(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("it is not plain ASCII text") from None


def _read_env_key_file(path: Path) -> TeamKey:
    """The key in the file ``HOOKADMIN_TEAM_KEY_FILE`` names, after checking that only
    its owner can read or write it (on the open file, so a swap after the check is
    caught too).

    Raises:
        TeamKeyError: it cannot be read, others can read or write it, or it is not a
            key file (``cause == "team_key_invalid"``).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as err:
        raise TeamKeyError(f"{KEY_FILE_ENV} names {path}, which cannot be read "
                           f"({err.strerror}); point it at the team key file.",
                           cause="team_key_invalid") from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise TeamKeyError(f"{KEY_FILE_ENV} names {path}, which is not a regular file; "
                               "point it at the team key file.", cause="team_key_invalid")
        if info.st_mode & 0o077:
            raise TeamKeyError(f"The team key file {path} ({KEY_FILE_ENV}) can be read or "
                               f"written by other users (mode {stat.S_IMODE(info.st_mode):o}), "
                               f"so hookadmin refuses it; run `chmod 600 {path}` and try "
                               "again.", cause="team_key_invalid")
        try:
            data = src.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise TeamKeyError(f"{KEY_FILE_ENV} names {path}, which cannot be read "
                               f"({err.strerror}); point it at the team key file.",
                               cause="team_key_invalid") from None
    try:
        return _parse_file(data)
    except ValueError as err:
        raise TeamKeyError(f"The team key file {path} ({KEY_FILE_ENV}) is not a hookadmin "
                           f"team key file ({err}); export one with `hookadmin team "
                           "export-key FILE`.", cause="team_key_invalid") from None
