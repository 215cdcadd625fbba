"""The two banners above the window's tabs: a problem in one sentence (red, until it
is dismissed or resolved), and delivery being paused (amber, with Resume)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


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
        layout.addWidget(text, 1)
        layout.addWidget(self.resume_button)
        self.hide()
