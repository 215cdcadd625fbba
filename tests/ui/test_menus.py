"""The window's menus and banners: Hooks → Edit, Help → About, the receiver docs, the
banner while delivery is paused, and which database the window is on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.help_menu import README, receiver_docs_url
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import click, dialog_button, select_hook


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """Secrets in an in-process keyring: these tests are about menus."""
    return service_in_memory


def test_hooks_menu_edit_opens_the_selected_hook_in_the_form(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    qtbot.keyClick(window.hooks_view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.form_scroll)
    assert window.form.editing is not None
    assert window.form.editing.id == hook.id
    assert window.form.url_edit.text() == "https://ops.example.com/hooks"


def test_about_box_names_the_version(qtbot: QtBot, window: MainWindow) -> None:
    from hookadmin import __version__

    window.help_menu.about_action.trigger()
    qtbot.waitUntil(lambda: visible_top_level("aboutBox") is not None)
    box = visible_top_level("aboutBox")
    assert isinstance(box, QMessageBox)
    assert f"hookadmin {__version__}" in box.text()
    click(qtbot, dialog_button(box, "Close"))
    qtbot.waitUntil(lambda: visible_top_level("aboutBox") is None)


def test_receiver_docs_point_at_the_readme_section_in_this_copy() -> None:
    url = receiver_docs_url()
    assert Path(url.toLocalFile()) == README
    assert README.is_file()
    assert url.fragment() == "what-a-receiver-gets"
    assert "## What a receiver gets" in README.read_text(encoding="utf-8")


def test_title_and_status_bar_say_which_database(window: MainWindow,
                                                 service: HookService) -> None:
    assert window.windowTitle() == "hookadmin — service hooks — Local (SQLite)"
    assert window.status.database_label.text() == "Local (SQLite)"
    assert str(service.home) in window.status.database_label.toolTip()


def test_a_banner_says_delivery_is_paused_and_resumes_it(
        qtbot: QtBot, open_window: Callable[..., MainWindow], service: HookService) -> None:
    window = open_window(EngineHost(service.home))
    assert not window.paused_box.isVisible()
    window.pause_action.trigger()
    qtbot.waitUntil(window.paused_box.isVisible)
    assert window.engine_label.text() == "Delivery: paused"
    click(qtbot, window.resume_button)
    qtbot.waitUntil(lambda: not window.paused_box.isVisible())
    assert not window.pause_action.isChecked()
    qtbot.waitUntil(lambda: window.engine_label.text() == "Delivery: running")



def test_the_status_bar_fits_the_window_at_its_minimum_size(
        qtbot: QtBot, window: MainWindow) -> None:
    """At the window's minimum width the engine state and the counts are shown whole
    ("waiting for the keyrin", "pendir" were cut off): the database's path is in the
    label's tooltip (and the window's title), not in the bar."""
    window.status.show_engine_state("waiting for the keyring")
    window.resize(window.minimumSizeHint())
    qtbot.waitUntil(lambda: window.width() <= 800)
    status = window.status
    for label in (status.engine_label, status.rate_label, status.queue_label):
        shown = label.contentsRect().width()
        assert shown >= label.fontMetrics().horizontalAdvance(label.text()), label.objectName()
    right = status.queue_label.mapTo(window, status.queue_label.rect().topRight()).x()
    assert right <= window.width()
    assert status.database_label.contentsRect().width() >= \
        status.database_label.fontMetrics().horizontalAdvance(status.database_label.text())
