"""The window's left side: the Webhooks title with New hook, the filter, and the
hooks table (one row per hook: name and URL, events, Active, last delivery)."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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


class HooksPanel(QWidget):
    """The hooks table with its filter and New hook button.

    Signals:
        delete_pressed(): the Delete key was pressed in the table.
    """

    delete_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = HooksModel(self)
        self.view = QTableView()
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
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(1, 120)  # the Hook column (stretched) keeps the most room
        for col in (2, 3, 4):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
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
        # An empty list has nothing to scroll to: no sideways scrollbar under its headers.
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.modelReset, self.proxy.layoutChanged):
            signal.connect(self._update_sideways_scrolling)
        self._update_sideways_scrolling()

    def _update_sideways_scrolling(self) -> None:
        self.view.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self.proxy.rowCount() == 0
            else Qt.ScrollBarPolicy.ScrollBarAsNeeded)
