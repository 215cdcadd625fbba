"""The window's menus (File, Delivery, Hooks, Help: on the menu bar, empty and disabled,
from the first frame) filled in, and their keyboard shortcuts for the selected or shown
hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from hookadmin.ui.database_actions import DatabaseActions
from hookadmin.ui.help_menu import HelpMenu
from hookadmin.ui.transfer_actions import TransferActions

if TYPE_CHECKING:
    from hookadmin.ui.event_catalog import EventCatalogDialog
    from hookadmin.ui.main_window import MainWindow


class WindowMenus(QObject):
    """Fills the window's menus (those of its first frame, :attr:`MainWindow.frame_menus`),
    enables them, and runs their shortcuts.

    Args:
        window: the main window (its menus, controllers, selection and page).

    Attributes:
        pause_action: *Delivery → Pause delivery* (checkable; off without an engine).
        transfer: *File → Export / Import hooks…*.
        database_actions: *File → Connect to team database… / Use local database*.
        help_menu: the Help menu.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        w = window
        file_menu, delivery_menu, hooks_menu, help_menu = w.frame_menus
        settings_action = file_menu.addAction("&Settings…")
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.triggered.connect(w.hook_actions.open_settings)
        file_menu.addSeparator()
        self.transfer = TransferActions(w)
        self._add(file_menu.addAction("&Export hooks…"), "exportHooks",
                  self.transfer.ask_export)
        self._add(file_menu.addAction("&Import hooks…"), "importHooks",
                  self.transfer.ask_import)
        file_menu.addSeparator()
        self.database_actions = DatabaseActions(w)
        self.database_actions.add_to(file_menu)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(w.close)

        self.pause_action = delivery_menu.addAction("&Pause delivery")
        self.pause_action.setObjectName("pauseDelivery")
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.pause_action.setEnabled(w.engine is not None)
        self.pause_action.toggled.connect(w.engine_control.set_paused)

        for text, key, slot in (
                ("&New hook", QKeySequence.StandardKey.New, w.hook_actions.start_new_hook),
                ("&Ping", "Ctrl+P", self._ping_shown),
                ("&Find", QKeySequence.StandardKey.Find, self._find),
                ("&Duplicate", "Ctrl+D", self._duplicate_selected),
                ("Send &test event…", "Ctrl+T", self._test_event_shown)):
            action = hooks_menu.addAction(text)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
        edit_action = hooks_menu.addAction("&Edit")
        edit_action.setShortcut(QKeySequence("Ctrl+E"))
        self._add(edit_action, "editHook", self._edit_selected)
        self._add(hooks_menu.addAction("Event &catalog"), "eventCatalog",
                  self.open_event_catalog)
        self.help_menu = HelpMenu(w, help_menu)
        for menu in w.frame_menus:
            menu.setEnabled(True)

    @Slot()
    def open_event_catalog(self) -> EventCatalogDialog:
        """Open the event catalog (*Hooks → Event catalog*; non-modal) and return it."""
        from hookadmin.ui.event_catalog import EventCatalogDialog

        dialog = EventCatalogDialog(self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @staticmethod
    def _add(action: QAction, name: str, slot: object) -> None:
        action.setObjectName(name)
        action.triggered.connect(slot)

    def _shown_hook_id(self) -> int | None:
        w = self.window
        if w.stack.currentWidget() is w.page and w.page.hook is not None:
            return w.page.hook.id
        return None

    @Slot()
    def _find(self) -> None:
        self.window.filter_edit.setFocus()
        self.window.filter_edit.selectAll()

    @Slot()
    def _edit_selected(self) -> None:
        hook_id = self.window.selected_hook_id()
        if hook_id is not None:
            self.window.hook_actions.edit(hook_id)

    @Slot()
    def _duplicate_selected(self) -> None:
        hook_id = self.window.selected_hook_id()
        if hook_id is not None:
            self.window.hook_actions.duplicate_hook(hook_id)

    @Slot()
    def delete_selected(self) -> None:
        """Ask to delete the selected hook (the Delete key in the hooks table)."""
        hook_id = self.window.selected_hook_id()
        if hook_id is not None:
            self.window.hook_actions.delete(hook_id)

    @Slot()
    def _test_event_shown(self) -> None:
        hook_id = self._shown_hook_id()
        if hook_id is not None:
            self.window.hook_actions.send_test_event(hook_id)

    @Slot()
    def _ping_shown(self) -> None:
        hook_id = self._shown_hook_id()
        if hook_id is not None:
            self.window.pings.ping_hook(hook_id)
