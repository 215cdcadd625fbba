"""Start the admin window: ``hookadmin``, ``hookadmin gui`` or ``hookadmin-gui``.

The window opens on ``--database URL``, else ``$HOOKADMIN_DATABASE``, else the team
database last chosen in *File → Connect to team database…* (see
:mod:`hookadmin.core.team.database_choice`), else SQLite in the data directory."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtWidgets import QApplication, QWidget

from hookadmin import __version__
from hookadmin.ui.first_paint import AfterPaint
from hookadmin.ui.qt_start import start_application
from hookadmin.ui.window_host import WindowHost

if TYPE_CHECKING:  # imported after the window's first paint, as the store's types and
    # the remembered database (platformdirs, json, the keyring)
    from hookadmin.core.errors import HookadminError
    from hookadmin.core.service import HookService
    from hookadmin.core.store import StoreLocation
    from hookadmin.ui.engine_host import EngineHost

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
# hookadmin.core.database_url.DATABASE_ENV, which is imported (with the errors) only
# when a URL is given to check: most starts give none.
DATABASE_ENV = "HOOKADMIN_DATABASE"
FIRST_PAINT_WAIT_MS = 1000  # the rest of the window is built then even without a paint


def engine_for(location: StoreLocation) -> EngineHost:
    """The window's delivery engine on ``location``: in a child process, whose messages
    become signals (:class:`~hookadmin.ui.engine_host.EngineHost`)."""
    from hookadmin.ui.engine_host import EngineHost

    return EngineHost(location)


def open_service(home: str | None, database: str | None,
                 parent: QWidget | None = None) -> HookService | None:
    """The service the window runs on (see :func:`start_location` for which database):
    that database's, else (when it is the remembered team database and it cannot be
    opened) the local database's, after saying why in a message box. None when
    neither opens, or the remembered database's password cannot be read from the
    keyring: a message box said why, and stderr (for a terminal it was started from).
    The window itself reads a remembered database's password off the GUI thread
    (:class:`~hookadmin.ui.remembered_start.RememberedStart`)."""
    from hookadmin.core.errors import HookadminError

    try:
        location, remembered = start_location(home, database)
    except HookadminError as err:
        _say_fatal(err, parent)
        return None
    return open_location(location, remembered, parent)


def _say_fatal(err: HookadminError, parent: QWidget | None) -> None:
    """Say why the window cannot open, on stderr and in a message box."""
    from PySide6.QtWidgets import QMessageBox

    from hookadmin.core.paths import window_sentence

    sys.stderr.write(f"hookadmin: {err}\n")
    QMessageBox.critical(parent, "hookadmin", window_sentence(err))


def open_location(location: StoreLocation, remembered: bool,
                  parent: QWidget | None = None) -> HookService | None:
    """The service on ``location``; when that is the ``remembered`` team database and
    it cannot be opened, the local database's, after saying why in a message box. None
    when nothing opens (said in a message box and on stderr)."""
    from PySide6.QtWidgets import QMessageBox

    from hookadmin.core.errors import HookadminError
    from hookadmin.core.service import HookService
    from hookadmin.core.store import StoreLocation

    try:
        return HookService(location, origin="window")
    except HookadminError as err:
        if not remembered:
            _say_fatal(err, parent)
            return None
        QMessageBox.warning(parent, "hookadmin", f"{err} The window opens on the local "
                            "database; File → Connect to team database… tries again.")
    try:
        return HookService(StoreLocation(location.home), origin="window")
    except HookadminError as local_err:
        _say_fatal(local_err, parent)
        return None


def set_window_icon(app: QApplication) -> None:
    """Give ``app``'s windows hookadmin's icon (``resources/hookadmin.svg``), if it is
    there. Called after the window's first paint: loading the icon (QtGui's QIcon, the
    SVG image plugin on a real display) is not needed for that frame."""
    from PySide6.QtGui import QIcon

    icon = RESOURCES / "hookadmin.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The options of ``hookadmin-gui``: ``--home DIR`` and ``--database URL``, as the
    command line has them. Bad usage exits with status 2 and one line on stderr."""
    parser = argparse.ArgumentParser(
        prog="hookadmin-gui", description="Open the hookadmin window.")
    parser.add_argument("--version", action="version", version=f"hookadmin {__version__}")
    parser.add_argument("--home", metavar="DIR",
                        help="data directory (default: $HOOKADMIN_HOME or the user data folder)")
    parser.add_argument("--database", metavar="URL",
                        help="a team's PostgreSQL database, postgresql://USER@HOST:PORT/DBNAME "
                             f"(default: ${DATABASE_ENV}, else the one last connected to from "
                             "the window, else SQLite in the data directory)")
    return parser.parse_args(argv)


def start_choice(home: str | None, database: str | None) -> tuple[StoreLocation, bool]:
    """Where the window opens, without reading the keyring: the location given (or
    the local one), or the remembered team database with its URL still without its
    password; and whether it is the remembered one.

    Raises:
        InputError: ``--database`` or ``$HOOKADMIN_DATABASE`` is not a PostgreSQL URL.
        DataDirectoryError: the data directory cannot be used (checked whichever
            database opens: it holds the local files and the local fallback).
    """
    from hookadmin.core.paths import check_data_home
    from hookadmin.core.store import StoreLocation, resolve_location
    from hookadmin.core.team.database_choice import load_choice

    location = resolve_location(home, database)
    check_data_home(location.home)  # before a team database can stand in for it
    if location.team:
        return location, False
    url = load_choice()
    return (StoreLocation(location.home, url), True) if url is not None else (location, False)


def start_location(home: str | None, database: str | None) -> tuple[StoreLocation, bool]:
    """Where the window opens, and whether that is the remembered choice (not
    ``--database`` or ``$HOOKADMIN_DATABASE``). Called after the window's first paint.

    Raises:
        InputError: ``--database`` or ``$HOOKADMIN_DATABASE`` is not a PostgreSQL URL.
        DataDirectoryError: the data directory cannot be used (checked whichever
            database opens: it holds the local files and the local fallback).
        SecretStoreError: the remembered database's password cannot be read.
    """
    from hookadmin.core.store import StoreLocation
    from hookadmin.core.team.database_choice import remembered_location

    location, remembered = start_choice(home, database)
    if not remembered:
        return location, False
    found = remembered_location(location.home)
    return (found, True) if found is not None else (StoreLocation(location.home), False)


def main(home: str | None = None, database: str | None = None,
         argv: Sequence[str] | None = None) -> int:
    """Open the window (see the module's docstring for which database) and run until
    it is closed. ``home`` and ``database`` come from ``hookadmin gui``; without them
    the options are read from ``argv`` (default: ``sys.argv[1:]``), as for
    ``hookadmin-gui``. Returns the exit status: 2 for a bad option or URL (said on
    stderr before any window shows), 1 when the database cannot be opened; exits the
    process with status 1 and one sentence on stderr when there is no display Qt can
    open the window on (:func:`~hookadmin.ui.qt_start.start_application`).

    The window's frame is shown first, generic ("hookadmin", "Opening…"); which
    database it opens (the remembered choice, its password from the keyring) is read,
    the service opened and the rest of the window built (:meth:`MainWindow.complete`)
    right after its first paint, and a database that cannot be opened is reported
    then, in a message box."""
    if home is None and database is None:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        home, database = args.home, args.database
    if database is not None or os.environ.get(DATABASE_ENV):
        from hookadmin.core.database_url import given_database_url
        from hookadmin.core.errors import InputError

        try:
            given_database_url(database)  # only checked here: a bad URL shows no window
        except InputError as err:
            sys.stderr.write(f"hookadmin: {err}\n")
            return 2
    app = start_application(sys.argv)  # no display: one sentence, exit status 1
    app.setApplicationName("hookadmin")
    app.setOrganizationName("hookadmin")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hookadmin")
    # The window's frame paints first; the service layer, the pages and the engine
    # are imported and built right after that first paint (README, window figures).
    host = WindowHost(engine_for)
    window = host.open_frame()

    def finish() -> None:
        set_window_icon(app)  # after the first paint, as the service
        from hookadmin.core.errors import HookadminError

        try:
            location, remembered = start_choice(home, database)
        except HookadminError as err:
            _say_fatal(err, window)
            app.exit(1)
            return
        if remembered:  # its password is read off the GUI thread (an unlock prompt)
            from hookadmin.ui.remembered_start import RememberedStart

            start = RememberedStart(window, location,
                                    lambda at, team: open_location(at, team, window))
            start.opened.connect(completed)
            start.start()
            return
        completed(open_service(home, database, window))

    def completed(service: HookService | None) -> None:
        if service is None:
            app.exit(1)
            return
        try:
            host.complete(service)
        except BaseException:
            app.exit(1)  # not a half-built window left open: the error is printed
            raise
        # What start-up made (Qt wrappers, modules, the window) lives as long as the
        # process: frozen, a full collection no longer walks it on the GUI thread
        # (a gen-2 collection 12.9 ms -> under 0.1 ms with 100,000 deliveries; README).
        # The Deliveries, Activity and Audit tabs are built a moment later, once the
        # hooks have painted: frozen again then, so their objects are not walked either.
        gc.freeze()
        if window.pages_built:
            return
        window.tabs_built.connect(freeze_again, QtCore.Qt.ConnectionType.SingleShotConnection)

    def freeze_again() -> None:
        gc.freeze()

    AfterPaint(window, finish, FIRST_PAINT_WAIT_MS)
    status = app.exec()
    host.close()
    return int(status)
