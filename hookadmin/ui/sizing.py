"""Sizes of dialogs: as large as asked, but never larger than the screen they show on
nor than the window they belong to, so their buttons stay in reach on a small screen or
beside a small window; what does not fit then scrolls inside their views."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def room_for(dialog: QWidget) -> QSize:
    """The largest size (pixels) ``dialog`` may take: the available area of its
    screen (the parent window's screen, else the primary one), and no more than its
    parent window when it has one that is shown."""
    parent = dialog.parentWidget()
    window = parent.window() if parent is not None else None
    screen = (window.screen() if window is not None else dialog.screen()) \
        or QGuiApplication.primaryScreen()
    room = screen.availableGeometry().size()
    if window is not None and window.isVisible():
        room = room.boundedTo(window.size())
    return room


def fit_dialog(dialog: QWidget, width: int, height: int) -> None:
    """Resize ``dialog`` to ``width`` x ``height`` pixels, or less where
    :func:`room_for` gives less (never below the dialog's own minimum size)."""
    wanted = QSize(width, height).boundedTo(room_for(dialog))
    dialog.resize(wanted.expandedTo(dialog.minimumSizeHint()))
