"""The window's first frame and what comes after it: the menu bar's menus, there (empty
and disabled) from the first paint so that nothing moves when they fill, and
:class:`AfterPaint`, which runs something once a widget has painted: how the window puts
what it does not need for its first frames (the service layer and the pages, then the
engine and the keyring check) after them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

# The menu bar's menus, in their order (File, Delivery, Hooks, Help); a plain tuple,
# not a NamedTuple, whose class would be built on the first frame's path.
FrameMenus: TypeAlias = tuple[QMenu, QMenu, QMenu, QMenu]


def frame_menus(window: QMainWindow) -> FrameMenus:
    """Put the menu bar with its four menus, empty and disabled, on ``window`` for its
    first frame (the menu bar takes its height then, not when the window completes);
    :class:`~hookadmin.ui.window_menus.WindowMenus` fills and enables them once the
    services are ready."""
    bar = window.menuBar()
    file, delivery, hooks, help_ = (bar.addMenu(title)
                                    for title in ("&File", "De&livery", "&Hooks", "&Help"))
    menus = (file, delivery, hooks, help_)
    for menu in menus:
        menu.setEnabled(False)
    return menus


class AfterPaint(QObject):
    """Calls ``callback`` once, from the event loop, after ``widget``'s next paint, or
    after ``wait_ms`` milliseconds if it has not painted by then (a minimised window,
    a tab not shown), whichever comes first. The object is a child of ``widget``.

    Args:
        widget: the widget whose paint is waited for.
        callback: called with no arguments, once.
        wait_ms: the longest wait for the paint, in milliseconds; None: no limit.
    """

    def __init__(self, widget: QWidget, callback: Callable[[], None],
                 wait_ms: int | None = None) -> None:
        super().__init__(widget)
        self._callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)
        if wait_ms is not None:
            QTimer.singleShot(wait_ms, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()
