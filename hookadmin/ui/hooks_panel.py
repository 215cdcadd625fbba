"""The window's left side: the Webhooks title with New hook, the filter, and the
hooks table (one row per hook: name and URL, events, Active, last delivery)."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hookadmin.ui.models import ElideEndDelegate, HookCellDelegate, HooksModel

HOOK_SHARE = 0.4  # of the list's width the Hook column keeps at least
EVENTS_WIDTH = 120  # pixels: the Events column at most (its text is elided at the end)
MIN_EVENTS = 80  # pixels: the Events column at least, else it is hidden
# Which columns get the room the Hook column leaves first.
ROOM_ORDER = (HooksModel.ACTIVE, HooksModel.LAST, HooksModel.HEALTH, HooksModel.EVENTS)


class HooksView(QTableView):
    """The hooks table, whose selection can be held: while :attr:`held` returns True
    (the form has unsaved edits), a click or an arrow key leaves the selected row as it
    is and emits ``row_wanted`` instead, so the list keeps showing the hook being edited
    until the user has answered whether to leave it. Selections made by the program
    (``selectRow``, ``clearSelection``) are not held. Typing a hook's name goes the same
    way (:meth:`keyboardSearch`).

    Signals:
        row_wanted(int): the user clicked or moved to this row (of the view's model)
            while the selection was held.
    """

    row_wanted = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.held: Callable[[], bool] = lambda: False

    def selectionCommand(
            self, index: QModelIndex | QPersistentModelIndex,
            event: QEvent | None = None) -> QItemSelectionModel.SelectionFlag:
        """Qt's selection command for ``index``, or no change while the selection is
        held and the user asks for it (``event`` is a mouse or key event); a press on
        another row (left button) or a key that moves to one emits ``row_wanted``."""
        command = super().selectionCommand(index, event)
        if event is None or not self.held():
            return command
        selected = self.selectionModel().selectedRows()
        # A left press or a key asks; a right press only opens the context menu.
        asks = event.type() == QEvent.Type.KeyPress or (
            isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton
            and event.type() in (QEvent.Type.MouseButtonPress,
                                 QEvent.Type.MouseButtonDblClick))
        if asks and index.isValid() and not any(i.row() == index.row() for i in selected):
            self.row_wanted.emit(index.row())
        return QItemSelectionModel.SelectionFlag.NoUpdate

    def keyboardSearch(self, search: str) -> None:
        """Qt's search by typed text (the start of a hook's name), which selects the
        row it finds without asking :meth:`selectionCommand`: while the selection is
        held it only moves the current row, and a row other than the selected one
        emits ``row_wanted``."""
        if not self.held():
            super().keyboardSearch(search)
            return
        before = self.currentIndex()
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        try:
            super().keyboardSearch(search)  # without a selection mode: current only
        finally:
            self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        found = self.currentIndex()
        selected = self.selectionModel().selectedRows()
        if (found.isValid() and found != before
                and not any(i.row() == found.row() for i in selected)):
            self.row_wanted.emit(found.row())


class HooksPanel(QWidget):
    """The hooks table with its filter and New hook button.

    Signals:
        delete_pressed(): the Delete key was pressed in the table.
    """

    delete_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = HooksModel(self)
        self.view = HooksView()
        self.view.setObjectName("hooks")
        self.view.setAccessibleName("Hooks")
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.view.setModel(self.proxy)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        delete_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete),
                                    self.view)
        delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_shortcut.activated.connect(self.delete_pressed)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("hookFilter")
        self.filter_edit.setPlaceholderText("Filter by name, URL or event (Ctrl+F)")
        self.filter_edit.setAccessibleName("Filter hooks")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setItemDelegateForColumn(0, HookCellDelegate(self.view))
        self.view.setItemDelegateForColumn(1, ElideEndDelegate(self.view))
        self.view.setAlternatingRowColors(True)
        # The columns always fit the list's width (no sideways scrollbar): the Hook
        # column stretches over what the others leave (see fit_columns).
        hh = self.view.horizontalHeader()
        hh.setTextElideMode(Qt.TextElideMode.ElideRight)  # a header squeezed by a style
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(HooksModel.COLUMNS)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        self.view.viewport().installEventFilter(self)
        # Rows of one height, with room for two lines (name, then URL): rows sized to
        # their contents were all measured again whenever a cell changed (every 2 s).
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(2 * self.view.fontMetrics().lineSpacing() + 10)

        self.new_button = QPushButton("&New hook")
        self.new_button.setObjectName("newHook")
        self.new_button.setToolTip("Create a webhook (Ctrl+N)")
        left_header = QHBoxLayout()
        hooks_title = QLabel("Webhooks")
        font = hooks_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        hooks_title.setFont(font)
        left_header.addWidget(hooks_title)
        left_header.addStretch(1)
        left_header.addWidget(self.new_button)
        self.empty_hint = QLabel("No hooks yet. Click “New hook” to send job and cluster "
                                 "notifications to a URL.")
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setWordWrap(True)
        left_layout = QVBoxLayout(self)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(left_header)
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.empty_hint)
        left_layout.addWidget(self.view, 1)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.modelReset, self.proxy.layoutChanged,
                       self.proxy.dataChanged):
            signal.connect(self.fit_columns)
        self.fit_columns()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Fits the columns again when the list's viewport changes width."""
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return False

    @Slot()
    def fit_columns(self) -> None:
        """Fit the columns to the list's width (pixels). The Hook column keeps at least
        :data:`HOOK_SHARE` of it and stretches over the rest. The others, in
        :data:`ROOM_ORDER`, get the width that shows their header and contents whole
        (Events: :data:`MIN_EVENTS`, its text elided, up to :data:`EVENTS_WIDTH` when
        there is room), a column left less being hidden until the list is wider (the
        hook's page shows it all): a header is never cut short ("Last d…"), and the
        room left widens the Hook column, whose URL then keeps its host in sight."""
        hh = self.view.horizontalHeader()
        width = self.view.viewport().width()
        room = width - math.ceil(width * HOOK_SHARE)
        wanted: list[tuple[int, int, int]] = []  # (column, its width, its natural width)
        for col in ROOM_ORDER:
            content = self.view.sizeHintForColumn(col)  # -1 without rows
            hh.setSectionHidden(col, False)  # a hidden section's size hint is 0
            natural = max(content, hh.sectionSizeHint(col))
            floor = max(natural, hh.minimumSectionSize())  # its header whole, never "Last d…"
            if col == HooksModel.EVENTS:
                natural, floor = min(natural, EVENTS_WIDTH), MIN_EVENTS
            floor = min(floor, natural)
            hh.setSectionHidden(col, floor > room)
            if floor <= room:
                wanted.append((col, floor, natural))
                room -= floor
        for col, floor, natural in wanted:
            size = min(natural, floor + room)
            room -= size - floor
            hh.resizeSection(col, size)
