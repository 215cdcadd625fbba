"""The event checkboxes of the hook form: the ten event types grouped under tri-state
"All Job/Cluster Notifications" parents."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog


class GroupCheckBox(QCheckBox):
    """A tri-state parent: partially checked when some children are; a click checks
    all children (or unchecks all when every child is checked)."""

    def nextCheckState(self) -> None:
        self.setCheckState(Qt.CheckState.Unchecked if self.checkState() == Qt.CheckState.Checked
                           else Qt.CheckState.Checked)


class EventPicker(QWidget):
    """The ten event checkboxes grouped under their tri-state group parents.

    The groups stand side by side when there is room, else one above the other: the
    picker's minimum width is that of its widest group, so a narrow form never scrolls
    sideways.

    The selection is read as a subscription: a fully checked group is stored as the
    group id (``job``: every job event, including any added later).

    Signals:
        changed(): the selection changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group_boxes: dict[str, GroupCheckBox] = {}
        self.event_boxes: dict[str, QCheckBox] = {}
        # One column per group keeps the form short; stacked when narrow.
        self.columns = columns = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        columns.setContentsMargins(0, 0, 0, 0)
        # Not the layout's minimum (the groups side by side): see minimumSizeHint.
        columns.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._groups: list[QWidget] = []
        for group in catalog.GROUPS:
            column = QWidget()
            self._groups.append(column)
            layout = QVBoxLayout(column)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(2)
            columns.addWidget(column, 1)
            parent_box = GroupCheckBox(group.label)
            parent_box.setTristate(True)
            parent_box.setObjectName(f"group_{group.id}")
            parent_box.setAccessibleName(group.label)
            font = QFont(parent_box.font())
            font.setBold(True)
            parent_box.setFont(font)
            parent_box.clicked.connect(lambda _=False, g=group.id: self._on_group_clicked(g))
            self.group_boxes[group.id] = parent_box
            layout.addWidget(parent_box)
            for event in catalog.EVENT_TYPES:
                if event.group != group.id:
                    continue
                box = QCheckBox(event.label)
                box.setObjectName(f"event_{event.id}")
                box.setToolTip(f"{event.id}: {event.description}")
                box.setAccessibleName(event.label)
                box.setAccessibleDescription(event.description)
                box.toggled.connect(lambda _=False, g=group.id: self._on_event_toggled(g))
                self.event_boxes[event.id] = box
                note = QLabel(event.description)
                note.setObjectName("eventDescription")
                note.setWordWrap(True)
                note.setEnabled(False)
                row = QVBoxLayout()
                row.setContentsMargins(24, 0, 0, 2)
                row.setSpacing(0)
                row.addWidget(box)
                desc = QHBoxLayout()
                desc.setContentsMargins(22, 0, 0, 0)
                desc.addWidget(note)
                row.addLayout(desc)
                layout.addLayout(row)
            layout.addStretch(1)

    def side_by_side_width(self) -> int:
        """The width (pixels) the groups need to stand side by side."""
        spacing = max(0, self.columns.spacing())
        return sum(g.minimumSizeHint().width() for g in self._groups) \
            + spacing * (len(self._groups) - 1)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the widest group (stacked), as tall as the groups need then."""
        hints = [g.minimumSizeHint() for g in self._groups]
        return QSize(max(h.width() for h in hints), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Stand the groups side by side when they fit, else one above the other."""
        wanted = QBoxLayout.Direction.LeftToRight \
            if event.size().width() >= self.side_by_side_width() \
            else QBoxLayout.Direction.TopToBottom
        if self.columns.direction() != wanted:
            self.columns.setDirection(wanted)
            self.updateGeometry()
        super().resizeEvent(event)

    def subscription(self) -> list[str]:
        """The canonical event list for the current ticks (may be empty)."""
        picked: list[str] = []
        for group in catalog.GROUPS:
            if self.group_boxes[group.id].checkState() == Qt.CheckState.Checked:
                picked.append(group.id)
            else:
                picked += [e for e in catalog.types_in_group(group.id)
                           if self.event_boxes[e].isChecked()]
        return catalog.normalize_subscription(picked) if picked else []

    def set_subscription(self, events: tuple[str, ...] | list[str]) -> None:
        """Tick the boxes for a stored subscription."""
        covered = catalog.expand(events)
        for type_id, box in self.event_boxes.items():
            box.setChecked(type_id in covered)

    @Slot()
    def _on_group_clicked(self, group_id: str) -> None:
        checked = self.group_boxes[group_id].checkState() == Qt.CheckState.Checked
        for type_id in catalog.types_in_group(group_id):
            box = self.event_boxes[type_id]
            box.blockSignals(True)
            box.setChecked(checked)
            box.blockSignals(False)
        self._sync_group(group_id)
        self.changed.emit()

    @Slot()
    def _on_event_toggled(self, group_id: str) -> None:
        self._sync_group(group_id)
        self.changed.emit()

    def _sync_group(self, group_id: str) -> None:
        states = [self.event_boxes[t].isChecked() for t in catalog.types_in_group(group_id)]
        box = self.group_boxes[group_id]
        box.blockSignals(True)
        if all(states):
            box.setCheckState(Qt.CheckState.Checked)
        elif any(states):
            box.setCheckState(Qt.CheckState.PartiallyChecked)
        else:
            box.setCheckState(Qt.CheckState.Unchecked)
        box.blockSignals(False)
