"""Create the window's ``QApplication``, or say in one sentence why there is no display.

Without a display Qt aborts the process (exit status 134, several lines ending in "no
Qt platform plugin could be initialized"). :func:`start_application` routes Qt's
messages through a handler while the application object is made, and only then: a
fatal message (no platform plugin started) prints one ``hookadmin:`` sentence from
:func:`hookadmin.ui.display_server.unusable_display` and exits with status 1 before
Qt aborts; the warnings Qt gave on the way are dropped then. When Qt starts, the
warnings it gave (if any) are written to stderr as Qt would have, and Qt's own handler
is back. Costs the window's start about 0.1 µs (README, benchmarks)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QMessageLogContext, QtMsgType, qFormatLogMessage, qInstallMessageHandler
from PySide6.QtWidgets import QApplication


class StartMessages:
    """Qt's messages while the ``QApplication`` is made: kept until it is known
    whether the platform plugin started."""

    def __init__(self) -> None:
        self.kept: list[str] = []  # formatted as Qt's default handler would
        self.first_warning = ""

    def handle(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        """Qt's message handler: keep ``message``; on a fatal one, say why the
        window cannot open (one line on stderr) and end the process with status 1."""
        if kind == QtMsgType.QtFatalMsg:
            from hookadmin.ui.display_server import unusable_display

            sentence = unusable_display(os.environ, self.first_warning)
            sys.stderr.write(f"hookadmin: {sentence}\n")
            sys.stderr.flush()
            os._exit(1)  # Qt aborts when this handler returns
        if kind == QtMsgType.QtWarningMsg and not self.first_warning:
            self.first_warning = message.splitlines()[0] if message else ""
        self.kept.append(qFormatLogMessage(kind, context, message))


def start_application(argv: Sequence[str]) -> QApplication:
    """The process's ``QApplication`` (the existing one, else a new one on ``argv``).
    Exits the process with status 1 and one sentence on stderr when Qt can start no
    platform plugin (an unreachable or unset display); returns otherwise."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    messages = StartMessages()
    previous = qInstallMessageHandler(messages.handle)
    try:
        app = QApplication(list(argv))
    finally:
        qInstallMessageHandler(previous)
    for line in messages.kept:
        sys.stderr.write(line + "\n")
    return app
