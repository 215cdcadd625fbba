"""Small user-level actions on real widgets for the window tests: click a check box where
its label is, click a table row or a tab, read tables back as text."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QDialogButtonBox,
    QTableView,
    QTableWidget,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

LEFT = Qt.MouseButton.LeftButton


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    """Left-click a button in its middle (it must be visible and enabled to react)."""
    assert button.isVisible(), f"{button.objectName() or button.text()!r} is not visible"
    qtbot.mouseClick(button, LEFT)


def click_checkbox(qtbot: QtBot, box: QCheckBox) -> None:
    """Left-click a check box on its indicator and label, as a user would (the middle
    of a stretched check box is empty space that ignores clicks)."""
    assert box.isVisible(), f"{box.text()!r} is not visible"
    hint = box.sizeHint()
    qtbot.mouseClick(box, LEFT, pos=QPoint(min(hint.width(), box.width()) // 2,
                                           box.height() // 2))


def click_row(qtbot: QtBot, view: QTableView, row: int, column: int = 0) -> None:
    """Left-click a cell of a table view (scrolling it into view first)."""
    index = view.model().index(row, column)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())


def click_tab(qtbot: QtBot, tabs: QTabWidget, title: str) -> None:
    """Left-click the tab with this title."""
    bar = tabs.tabBar()
    titles = [bar.tabText(i) for i in range(bar.count())]
    assert title in titles, f"no tab {title!r} in {titles}"
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(titles.index(title)).center())


def dialog_button(parent: QWidget, text: str) -> QAbstractButton:
    """The button with this text (mnemonic ampersands ignored) inside ``parent``."""
    buttons = [b for b in parent.findChildren(QAbstractButton) if b.text().replace("&", "") == text]
    assert len(buttons) == 1, f"expected one {text!r} button, found {len(buttons)}"
    return buttons[0]


def close_dialog(qtbot: QtBot, dialog: QWidget) -> None:
    """Click the dialog's Close button."""
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    close = box.button(QDialogButtonBox.StandardButton.Close)
    assert close is not None
    click(qtbot, close)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def view_rows(view: QTableView) -> list[list[str]]:
    """Every row of a table view as the display texts of its cells."""
    model = view.model()
    return [[str(model.index(r, c).data() or "") for c in range(model.columnCount())]
            for r in range(model.rowCount())]


def table_pairs(table: QTableWidget) -> list[tuple[str, str]]:
    """A two-column table widget (headers and their values) as (name, value) pairs."""
    out = []
    for row in range(table.rowCount()):
        name, value = table.item(row, 0), table.item(row, 1)
        assert name is not None
        assert value is not None
        out.append((name.text(), value.text()))
    return out
