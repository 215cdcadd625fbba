"""The Help menu: About hookadmin, and where a receiver's side is documented."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from hookadmin import __version__

README = Path(__file__).resolve().parent.parent.parent / "README.md"
RECEIVER_SECTION = "what-a-receiver-gets"


def receiver_docs_url() -> QUrl:
    """The README's "What a receiver gets" section, in this copy of hookadmin."""
    url = QUrl.fromLocalFile(str(README))
    url.setFragment(RECEIVER_SECTION)
    return url


class HelpMenu(QObject):
    """Adds Help → About hookadmin and Help → What a receiver gets to ``menu``, the Help
    menu of ``window`` (the About box's parent)."""

    def __init__(self, window: QMainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.receiver_action = menu.addAction("What a &receiver gets")
        self.receiver_action.setObjectName("receiverDocs")
        self.receiver_action.setEnabled(README.exists())
        self.receiver_action.triggered.connect(self.open_receiver_docs)
        self.about_action = menu.addAction("&About hookadmin")
        self.about_action.setObjectName("about")
        self.about_action.triggered.connect(self.show_about)

    @Slot()
    def open_receiver_docs(self) -> bool:
        """Open the receiver-side documentation; False when nothing could open it."""
        return bool(QDesktopServices.openUrl(receiver_docs_url()))

    @Slot()
    def show_about(self) -> QMessageBox:
        """Show the About box (non-blocking) and return it."""
        box = QMessageBox(QMessageBox.Icon.Information, "About hookadmin",
                          f"hookadmin {__version__}\n\nManages and delivers the ETL "
                          "platform's service hooks: signed POSTs with retries, secrets "
                          "only in the OS keyring.", QMessageBox.StandardButton.Close,
                          self.window)
        box.setObjectName("aboutBox")
        box.finished.connect(box.deleteLater)
        box.open()
        return box
