"""The event catalog view, and exporting and importing hooks from the File menu (the
files of `hookadmin hooks export/import`; secrets only when asked for)."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QPlainTextEdit
from pytestqt.qtbot import QtBot

from hookadmin.core import events as catalog
from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import click_row, close_dialog, settled


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """Secrets in an in-process keyring."""
    return service_in_memory


def test_the_catalog_shows_every_event_with_its_description_and_an_example_body(
        qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.menus.open_event_catalog()
    qtbot.waitUntil(lambda: visible_top_level("eventCatalog") is not None)
    types = dialog.findChild(QListWidget, "eventTypes")
    description = dialog.findChild(QLabel, "eventDescription")
    body = dialog.findChild(QPlainTextEdit, "exampleBody")
    assert types is not None
    assert description is not None
    assert body is not None
    assert types.count() == len(catalog.EVENT_TYPES)
    failed = [e.id for e in catalog.EVENT_TYPES].index("job.failed")
    types.scrollToItem(types.item(failed))
    qtbot.mouseClick(types.viewport(), Qt.MouseButton.LeftButton,
                     pos=types.visualItemRect(types.item(failed)).center())
    qtbot.waitUntil(lambda: "job.failed" in description.text())
    assert "job completed with failure" in description.text()
    resource = json.loads(body.toPlainText())
    assert resource["status"] == "failed"
    close_dialog(qtbot, dialog)


def test_export_without_secrets_writes_only_the_hooks(
        qtbot: QtBot, tmp_path: Path, hook_factory: HookFactory, service: HookService,
        open_window: Callable[..., MainWindow]) -> None:
    hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    hooks_file = tmp_path / "hooks.json"
    window.transfer.export_hooks(hooks_file, None)
    settled(qtbot, window)
    assert window.statusBar().currentMessage() == "Exported 1 hooks; no secrets."
    secrets_files = [p for p in tmp_path.rglob("*secret*")]
    assert secrets_files == []
    exported = json.loads(hooks_file.read_text(encoding="utf-8"))
    assert [h["settings"]["url"] for h in exported] == ["https://ops.example.com/hooks"]
    assert service.reveal_secret(exported[0]["id"]) not in hooks_file.read_text(
        encoding="utf-8")


def test_export_with_secrets_writes_a_private_file_and_import_skips_existing(
        qtbot: QtBot, tmp_path: Path, hook_factory: HookFactory, service: HookService,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    window.transfer.export_hooks(hooks_file, secrets_file)
    settled(qtbot, window)
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert service.reveal_secret(hook.id) in secrets_file.read_text(encoding="utf-8")

    window.transfer.import_hooks(hooks_file, secrets_file)
    settled(qtbot, window)
    assert window.statusBar().currentMessage() == (
        "Imported 0 hooks; skipped 1 that already exist.")
    assert len(service.hooks()) == 1


def test_importing_a_file_that_is_not_an_export_says_so_in_one_sentence(
        qtbot: QtBot, tmp_path: Path, window: MainWindow, service: HookService) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    window.transfer.import_hooks(bad, None)
    settled(qtbot, window)
    assert window.banner_box.isVisible()
    assert window.banner.text().endswith(".")
    assert "\n" not in window.banner.text()
    assert service.hooks() == []


def test_imported_hooks_appear_in_the_table(
        qtbot: QtBot, tmp_path: Path, window: MainWindow, service: HookService) -> None:
    hooks_file = tmp_path / "hooks.json"
    hooks_file.write_text(json.dumps([{
        "id": 7, "name": "imported", "type": "web", "active": True, "events": ["job"],
        "settings": {"url": "https://in.example.com/h", "insecure_ssl": False},
        "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z"}]),
        encoding="utf-8")
    window.transfer.import_hooks(hooks_file, None)
    settled(qtbot, window)
    qtbot.waitUntil(lambda: window.hooks_model.rowCount() == 1)
    click_row(qtbot, window.hooks_view, 0)
    assert window.page.url_label.text() == "https://in.example.com/h"
