"""The event catalog: every event type with its description and an example body, as
a receiver gets it (a realistic resource from :mod:`hookadmin.core.simulate`)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.ui.sizing import fit_dialog

EXAMPLE_SEED = 7
EXAMPLE_TIME = datetime(2026, 11, 29, 5, 30, 0, tzinfo=UTC)


def example_body(event_type: str) -> str:
    """The example body of ``event_type``, pretty-printed JSON (the same every time).

    Raises:
        InputError: not one of the catalog's event types.
    """
    from hookadmin.core.simulate import sample_resource

    resource = sample_resource(event_type, random.Random(EXAMPLE_SEED),  # noqa: S311
                               now=EXAMPLE_TIME)
    return json.dumps(resource, indent=2, ensure_ascii=False)


class EventCatalogDialog(QDialog):
    """Event types on the left; the selected one's description and example body on the
    right. Non-modal; open it with :meth:`open`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventCatalog")
        self.setWindowTitle("Event catalog")
        self.types = QListWidget()
        self.types.setObjectName("eventTypes")
        self.types.setAccessibleName("Event types")
        for group in catalog.GROUPS:
            for event in catalog.EVENT_TYPES:
                if event.group == group.id:
                    item = QListWidgetItem(f"{event.label}  ({event.id})")
                    item.setData(Qt.ItemDataRole.UserRole, event.id)
                    self.types.addItem(item)
        self.description = QLabel()
        self.description.setObjectName("eventDescription")
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body = QPlainTextEdit()
        self.body.setObjectName("exampleBody")
        self.body.setAccessibleName("Example body")
        self.body.setReadOnly(True)
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.description)
        right_layout.addWidget(QLabel("Example body (the signed POST's JSON):"))
        right_layout.addWidget(self.body, 1)
        splitter = QSplitter()
        splitter.addWidget(self.types)
        splitter.addWidget(right)
        splitter.setSizes([280, 580])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        fit_dialog(self, 860, 560)
        self.types.currentRowChanged.connect(self._on_row)
        self.types.setCurrentRow(0)

    @Slot(int)
    def _on_row(self, row: int) -> None:
        item = self.types.item(row)
        if item is None:
            return
        event = catalog.event_type(str(item.data(Qt.ItemDataRole.UserRole)))
        self.description.setText(f"<b>{event.label}</b> (<code>{event.id}</code>): "
                                 f"{event.description}.")
        self.body.setPlainText(example_body(event.id))
