"""The window's right side: a placeholder while no hook is selected, the hook form (in a
scroll area of its own) or a hook's page, one at a time."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QStackedWidget, QWidget

from hookadmin.ui.hook_form import HookForm
from hookadmin.ui.hook_page import HookPage


class HookStack(QStackedWidget):
    """The placeholder, the form and the hook page, stacked; which one shows is chosen by
    :class:`~hookadmin.ui.hook_selection.HookSelection`.

    Attributes:
        placeholder: the greyed "Select a hook…" label.
        form: the hook form (new hook, edit, duplicate).
        form_scroll: the scroll area the form is in (``formScroll``): it scrolls up and
            down, never sideways, and is at least as wide as the form's minimum.
        page: the hook page (settings, health, recent deliveries).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = QLabel("Select a hook to see its settings and deliveries.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.form = HookForm()
        self.page = HookPage()
        self.addWidget(self.placeholder)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("formScroll")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setWidget(self.form)
        # The form scrolls up and down, never sideways: the splitter stops where it fits.
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setMinimumWidth(
            self.form.minimumSizeHint().width()
            + self.form_scroll.verticalScrollBar().sizeHint().width())
        self.addWidget(self.form_scroll)
        self.addWidget(self.page)
