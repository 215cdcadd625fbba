"""A one-line label that elides its text to its width, the whole text as its tooltip
(a URL keeps its host: :func:`~hookadmin.ui.url_elision.elide_url`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…", with
    the whole text as its tooltip: a long hook name must not widen the page past the
    window (and push Delete… and the badges off-screen).

    Args:
        text: the whole text.
        parent: the Qt parent.
        mode: where Qt's elision cuts the text (default: its end).
        elide: instead of ``mode``, how to shorten the text: ``elide(text, metrics,
            width in pixels)`` gives what is shown (a URL: :func:`elide_url`).
    """

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 elide: Callable[[str, QFontMetrics, int], str] | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._shorten = elide or (lambda text, metrics, width:
                                  metrics.elidedText(text, mode, width))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        """Show ``text``, elided to the label's width."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        """The text before eliding."""
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance(self._full) + 4),
                     hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self._shorten(self._full, self.fontMetrics(), max(0, self.width()))
        super().setText(shown)
