"""The set-up the tests of the hook form's unsaved edits share: a window with a hook's
form open and its name changed but not saved, and the question "Save your changes?"
that leaving it asks (its object name ``unsavedChanges``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import click, dialog_button, select_hook

EDITED_NAME = "one renamed"


@dataclass(frozen=True)
class Editing:
    """A window editing ``hooks[0]``; the others are beside it in the list."""

    window: MainWindow
    hooks: tuple[Hook, ...]

    @property
    def first(self) -> Hook:
        """The hook being edited (named "one"; "one renamed" in the form, not saved)."""
        return self.hooks[0]

    @property
    def second(self) -> Hook:
        """The next hook in the list's set-up (named "two")."""
        return self.hooks[1]


def start_editing(qtbot: QtBot, window: MainWindow, hook_id: int,
                  name: str = EDITED_NAME) -> None:
    """Select the hook in the list, open its form with Edit and type ``name`` as its
    name: an unsaved edit."""
    select_hook(qtbot, window, hook_id)
    click(qtbot, window.page.edit_button)
    window.form.name_edit.setText(name)


def open_editing(qtbot: QtBot, hook_factory: HookFactory,
                 open_window: Callable[..., MainWindow],
                 names: Sequence[str] = ("one", "two")) -> Editing:
    """Make a hook per name (``https://NAME.example.com/hooks``), open the window and
    start editing the first (see :func:`start_editing`)."""
    hooks = tuple(hook_factory(f"https://{name}.example.com/hooks", name=name)
                  for name in names)
    window = open_window()
    start_editing(qtbot, window, hooks[0].id)
    return Editing(window, hooks)


def wait_for_question(qtbot: QtBot) -> None:
    """Wait until the question about unsaved edits is on screen."""
    qtbot.waitUntil(lambda: visible_top_level("unsavedChanges") is not None)


def close_dialog_with(qtbot: QtBot, text: str) -> None:
    """Click the button labelled ``text`` of the unsaved-changes question."""
    box = visible_top_level("unsavedChanges")
    assert box is not None
    click(qtbot, dialog_button(box, text))
    qtbot.waitUntil(lambda: visible_top_level("unsavedChanges") is None)


def answer_question(qtbot: QtBot, window: MainWindow, text: str, *,
                    selected: int) -> None:
    """Wait for the question, check that the list still has hook ``selected`` selected
    while it asks, and answer with the button labelled ``text``."""
    wait_for_question(qtbot)
    assert window.selected_hook_id() == selected
    close_dialog_with(qtbot, text)


def wait_for_page(qtbot: QtBot, window: MainWindow, hook_id: int) -> None:
    """Wait until the window shows the page of hook ``hook_id``."""
    qtbot.waitUntil(lambda: window.page.hook is not None and window.page.hook.id == hook_id
                    and window.stack.currentWidget() is window.page)
