"""Start the admin window: ``hookadmin`` or ``hookadmin gui``."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from hookadmin import __version__
from hookadmin.core.errors import HookadminError
from hookadmin.core.service import HookService
from hookadmin.ui.engine_thread import ThreadEngineHost
from hookadmin.ui.main_window import MainWindow

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def main(home: str | None = None) -> int:
    """Open the window on the data directory ``home`` (default per DESIGN.md §5) and
    run until it is closed. Returns the exit status."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("hookadmin")
    app.setOrganizationName("hookadmin")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hookadmin")
    icon = RESOURCES / "hookadmin.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    try:
        service = HookService(home, origin="window")
    except HookadminError as err:
        QMessageBox.critical(None, "hookadmin", str(err))
        return 1
    engine = ThreadEngineHost(service.home)
    window = MainWindow(service, engine)
    window.show()
    status = app.exec()
    service.close()
    return int(status)
