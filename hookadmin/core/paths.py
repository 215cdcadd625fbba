"""Where hookadmin keeps its state (DESIGN.md §5)."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from enum import Enum
from pathlib import Path

from hookadmin.core.errors import DataDirectoryError, HookadminError

HOME_ENV = "HOOKADMIN_HOME"


def data_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``explicit`` (``--home``), else ``$HOOKADMIN_HOME``, else
    ``platformdirs.user_data_dir("hookadmin")``. The folder is not created here."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return default_home()


def check_data_home(folder: Path) -> None:
    """Make sure ``folder`` can be the data directory: create it (and its parents) if
    it is not there, and check it is a folder this process can write to. Called at
    every start, whichever database is used: a team database's local files, and the
    window's fallback to this machine's database, are kept there.

    Raises:
        DataDirectoryError: it, or a parent, is not a folder (``Not a directory``), or
            it cannot be created or written (the OS's reason).
    """
    if folder.exists() and not folder.is_dir():
        raise DataDirectoryError(folder, os.strerror(errno.ENOTDIR))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataDirectoryError(folder, str(err.strerror or err)) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataDirectoryError(folder, os.strerror(errno.EACCES))


def default_home() -> Path:
    """The user data folder, the data directory when neither ``--home`` nor
    ``$HOOKADMIN_HOME`` names one (not created here)."""
    import platformdirs  # only here: the window reads its folders after its first paint

    return Path(platformdirs.user_data_dir("hookadmin", appauthor=False))


class HomeSource(Enum):
    """Where a data directory was chosen (see :func:`data_home`)."""

    OPTION = "--home"
    ENVIRONMENT = HOME_ENV
    DEFAULT = "the user data folder"


def home_source(folder: Path, environ: Mapping[str, str] | None = None) -> HomeSource:
    """How ``folder`` became this process's data directory, by :func:`data_home`'s
    rules: ``$HOOKADMIN_HOME`` when it names ``folder``, else the user data folder when
    that is ``folder``, else ``--home``."""
    env = os.environ if environ is None else environ
    named = env.get(HOME_ENV)
    if named and Path(named).expanduser() == folder:
        return HomeSource.ENVIRONMENT
    if not named and default_home() == folder:
        return HomeSource.DEFAULT
    return HomeSource.OPTION


def window_fix(folder: Path, environ: Mapping[str, str] | None = None) -> str:
    """What a window user does about a data directory that cannot be used, for how the
    window was started (:func:`home_source`): start it with another ``--home``, set
    ``$HOOKADMIN_HOME`` to another folder, or make the default folder usable."""
    match home_source(folder, environ):
        case HomeSource.OPTION:
            return "start hookadmin again with --home set to a folder you can write to"
        case HomeSource.ENVIRONMENT:
            return (f"set {HOME_ENV} to a folder you can write to and start hookadmin "
                    "again")
        case HomeSource.DEFAULT:
            return ("make it a folder you can write to, or start hookadmin with --home "
                    "set to one")


def window_sentence(err: HookadminError, environ: Mapping[str, str] | None = None) -> str:
    """The sentence the window shows for ``err``: for a
    :class:`~hookadmin.core.errors.DataDirectoryError` the folder and the fix for how the
    window was started (:func:`window_fix`) instead of the command line's, else
    ``str(err)``."""
    if isinstance(err, DataDirectoryError):
        return err.sentence(err.folder, err.reason, window_fix(err.folder, environ))
    return str(err)
