"""The Audit tab: actions made in the window show up with who, from where and what
changed; the period and hook filters narrow the list; Verify finds a tampered log.
Also the Settings dialog's metrics port."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSpinBox, QTableWidget
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from hookadmin.ui.audit_page import AuditPage
from hookadmin.ui.main_window import MainWindow
from tests.ui.gui import choose, click, click_tab, find
from tests.ui.test_settings_dialog import open_settings


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """No engine and no secrets at stake: an in-process keyring."""
    return service_in_memory


def _rows(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def _page(window: MainWindow) -> AuditPage:
    page = window.findChild(AuditPage, "auditPage")
    assert isinstance(page, AuditPage)
    return page


def test_the_audit_tab_lists_filters_and_verifies(qtbot: QtBot, window: MainWindow,
                                                  service: HookService) -> None:
    window.service.actor = dataclasses.replace(window.service.actor, origin="window")
    a = window.service.create_hook(url="https://a.example/h", events=["job"], name="A")
    b = window.service.create_hook(url="https://b.example/h", events=["job"], name="B")
    window.service.edit_hook(a.id, name="A2")
    window.service.reveal_secret(b.id)
    click_tab(qtbot, window.tabs, "A&udit")
    page = _page(window)
    table = find(page, QTableWidget, "auditTable")
    assert isinstance(table, QTableWidget)
    qtbot.waitUntil(lambda: table.rowCount() == 4)
    rows = _rows(table)
    assert [r[3] for r in rows] == ["secret.revealed", "hook.edited", "hook.created",
                                    "hook.created"]  # newest first
    assert {r[2] for r in rows} == {"window"}
    assert "name: 'A' → 'A2'" in rows[1][5]
    # The Hook column names the hook as the filter does (it showed the bare id).
    assert [r[4] for r in rows] == [f"{b.id}: B", f"{a.id}: A2", f"{b.id}: B",
                                    f"{a.id}: A2"]
    hook_filter = find(page, QComboBox, "auditHook")
    assert isinstance(hook_filter, QComboBox)
    choose(qtbot, hook_filter, f"{b.id}: B")
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    assert [r[3] for r in _rows(table)] == ["secret.revealed", "hook.created"]

    status = find(page, QLabel, "auditStatus")
    verify = find(page, QPushButton, "auditVerify")
    assert isinstance(status, QLabel)
    assert isinstance(verify, QPushButton)
    click(qtbot, verify)
    assert status.text() == "The log is intact: 4 entries checked."
    db = sqlite3.connect(service.home / DB_FILENAME)
    db.executescript("DROP TRIGGER audit_no_update;"
                     "UPDATE audit_log SET os_user = 'someone' WHERE seq = 3;")
    db.close()
    click(qtbot, verify)
    assert status.text() == ("The log was tampered with: Entry 3 was changed after it was "
                             "written: its hash does not match its contents.")


def test_a_deleted_hook_is_named_deleted_in_the_audit_tab(
        qtbot: QtBot, window: MainWindow) -> None:
    a = window.service.create_hook(url="https://a.example/h", events=["job"], name="A")
    window.service.delete_hook(a.id)
    click_tab(qtbot, window.tabs, "A&udit")
    table = find(_page(window), QTableWidget, "auditTable")
    assert isinstance(table, QTableWidget)
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    assert [(r[3], r[4]) for r in _rows(table)] == [
        ("hook.deleted", f"{a.id} (deleted)"), ("hook.created", f"{a.id} (deleted)")]


def test_the_settings_dialog_sets_the_metrics_port(qtbot: QtBot, window: MainWindow,
                                                    service: HookService) -> None:
    ui = open_settings(qtbot, window)
    port = find(ui.dialog, QSpinBox, "metricsPort")
    assert isinstance(port, QSpinBox)
    assert port.text() == "Off"
    port.setValue(9464)
    ui.press(qtbot, "Save")
    assert service.metrics_port() == 9464
    assert [e.action for e in service.store.list_audit()][-1] == "settings.changed"
