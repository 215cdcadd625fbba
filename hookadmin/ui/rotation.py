"""The overlap choice of the Reset secret box: how long the replaced secret keeps
signing ``webhook-signature`` (0 to 7 days, default 24 hours)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QMessageBox

OVERLAPS: tuple[tuple[str, float], ...] = (
    ("none (the old secret stops at once)", 0.0), ("1 hour", 3600.0),
    ("24 hours", 86400.0), ("3 days", 3 * 86400.0), ("7 days", 7 * 86400.0))


def overlap_choice(box: QMessageBox) -> QComboBox:
    """Add "Old secret keeps signing for: [24 hours]" to the Reset secret box and return
    the combo box (its ``currentData()`` is the overlap in seconds, 0 to 7 days)."""
    combo = QComboBox(box)
    combo.setObjectName("secretOverlap")
    combo.setAccessibleName("Old secret keeps signing for")
    for text, seconds in OVERLAPS:
        combo.addItem(text, seconds)
    combo.setCurrentIndex(2)
    layout = box.layout()
    if isinstance(layout, QGridLayout):
        row = QHBoxLayout()
        caption = QLabel("&Old secret keeps signing for", box)
        caption.setBuddy(combo)
        row.addWidget(caption)
        row.addWidget(combo, 1)
        layout.addLayout(row, layout.rowCount(), 0, 1, layout.columnCount())
    return combo
