"""The banners: above the window's tabs a problem in one sentence (red, until it is
dismissed or resolved) and delivery being paused (amber, with Resume); on a hook's page
an ordered hook held up behind a delivery that is being retried (amber, with Open
delivery)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from hookadmin.core.store import Delivery
from hookadmin.ui.models import local_time

# Thin top and bottom margins (left, top, right, bottom; pixels): with both banners up,
# a hook's page still fits a window of 800 x 500.
BANNER_MARGINS = (9, 3, 9, 3)


class ProblemBanner(QFrame):
    """A problem in one sentence, with Dismiss. Hidden until :meth:`show_message`."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("bannerBox")
        self.setStyleSheet("#bannerBox { background: #fdecea; border: 1px solid "
                           "#f5c2c0; border-radius: 4px; }")
        self.label = QLabel()
        self.label.setObjectName("banner")
        self.label.setWordWrap(True)
        self.label.setStyleSheet("color: #8a1c1c; padding: 4px;")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setObjectName("dismissBanner")
        self.dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(*BANNER_MARGINS)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss)
        self.hide()

    def show_message(self, message: str) -> None:
        """Show ``message`` (one sentence) until dismissed or replaced."""
        self.label.setText(message)
        self.show()


class PausedBanner(QFrame):
    """Says delivery is paused, with a Resume button that calls ``resume``."""

    def __init__(self, resume: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName("pausedBanner")
        self.setStyleSheet("#pausedBanner { background: #fff4d6; border: 1px solid "
                           "#e6c36a; border-radius: 4px; } "
                           "#pausedBanner QLabel { color: #5c4400; }")
        text = QLabel("Delivery is paused: events are queued and nothing is sent until "
                      "you resume.")
        text.setWordWrap(True)
        self.resume_button = QPushButton("&Resume delivery")
        self.resume_button.setObjectName("resumeDelivery")
        self.resume_button.clicked.connect(resume)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(*BANNER_MARGINS)
        layout.addWidget(text, 1)
        layout.addWidget(self.resume_button)
        self.hide()


def blocked_text(blocking: Delivery, now: float | None = None) -> str:
    """The sentence for an ordered hook whose deliveries wait behind ``blocking`` (a
    delivery being retried): its id and when it is tried next."""
    now = time.time() if now is None else now
    due = blocking.next_attempt_at
    when = ("due now" if due is None or due <= now else
            f"next attempt at {local_time(due)}")
    return f"Deliveries wait in order behind delivery {blocking.id} (retrying, {when})."


class OrderedBanner(QFrame):
    """An ordered hook's deliveries wait behind one that is being retried: says which
    and when it is tried next, with *Open delivery* (``open_requested(str)``, the
    delivery id). Hidden while nothing blocks."""

    open_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("orderedBanner")
        self.setStyleSheet("#orderedBanner { background: #fff4d6; border: 1px solid "
                           "#e6c36a; border-radius: 4px; } "
                           "#orderedBanner QLabel { color: #5c4400; }")
        self.label = QLabel()
        self.label.setObjectName("orderedBlocked")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("&Open delivery")
        self.open_button.setObjectName("openBlockingDelivery")
        self.open_button.setToolTip("Show the delivery the others wait behind, with its "
                                    "attempts, on the Deliveries tab")
        self.open_button.clicked.connect(self._on_open)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(*BANNER_MARGINS)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.open_button)
        self.blocking: Delivery | None = None
        self.hide()

    def show_blocking(self, blocking: Delivery | None) -> None:
        """Show the delivery the others wait behind, or hide the banner (None)."""
        self.blocking = blocking
        if blocking is None:
            self.hide()
            return
        self.label.setText(blocked_text(blocking))
        self.show()

    def _on_open(self) -> None:
        if self.blocking is not None:
            self.open_requested.emit(self.blocking.id)
