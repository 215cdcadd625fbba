"""Small user-level actions on real widgets for the window tests: click a check box where
its label is, click a table row or a tab, pick a combo box entry, select a hook, ping from
its page, find a visible top-level window, read tables back as text."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableView,
    QTableWidget,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hookadmin.ui.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton
# Columns of the hooks table.
HOOK_COL, EVENTS_COL, ACTIVE_COL, LAST_COL = range(4)


def click(qtbot: QtBot, button: QAbstractButton, *, settle: bool = True) -> None:
    """Left-click a button in its middle (it must be visible and enabled to react),
    then, with ``settle``, wait until the window has applied what the click started
    (its reads and keyring calls run off the GUI thread), as a person waits to see
    the result."""
    assert button.isVisible(), f"{button.objectName() or button.text()!r} is not visible"
    qtbot.mouseClick(button, LEFT)
    if settle:
        settle_windows(qtbot)


def settle_windows(qtbot: QtBot, timeout_ms: int = 10000) -> None:
    """Wait until every open main window is idle (nothing read or asked of the
    keyring is still under way)."""
    windows = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, MainWindow) and w.isVisible()]
    qtbot.waitUntil(lambda: all(w.is_idle() for w in windows), timeout=timeout_ms)


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
    settle_windows(qtbot)


def click_tab(qtbot: QtBot, tabs: QTabWidget, title: str) -> None:
    """Left-click the tab with this title and wait until the window has applied what
    it read for it (the Deliveries and Activity tabs read on the reads lane)."""
    bar = tabs.tabBar()
    titles = [bar.tabText(i) for i in range(bar.count())]
    assert title in titles, f"no tab {title!r} in {titles}"
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(titles.index(title)).center())
    settle_windows(qtbot)


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
    click(qtbot, close, settle=False)

    def closed() -> bool:
        try:
            return not dialog.isVisible()
        except RuntimeError:  # deleted on close
            return True

    qtbot.waitUntil(closed)
    settle_windows(qtbot)


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


def visible_top_level(object_name: str) -> QWidget | None:
    """The visible top-level window or dialog with this object name, if any."""
    return next((w for w in QApplication.topLevelWidgets()
                 if w.objectName() == object_name and w.isVisible()), None)


def select_hook(qtbot: QtBot, window: MainWindow, hook_id: int) -> None:
    """Wait for the hook's row (a refresh under way reads it on the reads lane), click
    it and wait for its page."""
    qtbot.waitUntil(lambda: window.hooks_model.row_of(hook_id) >= 0, timeout=10_000)
    row = window.hooks_model.row_of(hook_id)
    click_row(qtbot, window.hooks_view, row)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page
                    and window.page.hook is not None and window.page.hook.id == hook_id)
    settle_windows(qtbot)


def choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Pick an entry of a combo box with the keyboard: Home, then Down until it shows;
    then wait until the window has applied what the choice made it read (a filter of
    the Deliveries or Activity tab is read on the reads lane)."""
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText() == text:
            break
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    items = [combo.itemText(i) for i in range(combo.count())]
    assert combo.currentText() == text, f"no {text!r} in {combo.objectName()}: {items}"
    settle_windows(qtbot)


def find(dialog: QDialog, kind: type, name: str) -> object:
    """The child of ``dialog`` of this type and object name (asserts there is one)."""
    widget = dialog.findChild(kind, name)
    assert widget is not None, name
    return widget


def ping_from_page(qtbot: QtBot, window: MainWindow) -> QDialog:
    """Click Ping on the open hook page; return the viewer that opens at once."""
    click(qtbot, window.page.ping_button)
    viewer = visible_top_level("pingViewer")
    assert isinstance(viewer, QDialog), "the viewer opens right away, before the answer"
    return viewer


def status_text(viewer: QDialog) -> str:
    """The ping viewer's status line."""
    label = find(viewer, QLabel, "pingStatus")
    assert isinstance(label, QLabel)
    return label.text()


def settled(qtbot: QtBot, window: MainWindow, timeout_ms: int = 10000) -> None:
    """Wait until the window's keyring calls (create, reveal, reset, delete run off the
    GUI thread, one at a time) and its reads have all come back and been applied."""
    qtbot.waitUntil(window.is_idle, timeout=timeout_ms)


def refresh_window(qtbot: QtBot, window: MainWindow, timeout_ms: int = 10000) -> None:
    """Refresh the window (what its 2 s poll does) and wait until the rows, read off
    the GUI thread, have been applied, the open tab's too (the Deliveries tab's follow
    the window's on the reads lane)."""
    done: list[bool] = []
    window.refresh(then=lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=timeout_ms)
    qtbot.waitUntil(window.is_idle, timeout=timeout_ms)
