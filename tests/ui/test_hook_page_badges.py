"""What the window says about a hook at a glance: the "internal address" badge, the plain
http and TLS warnings and the TLS row of the hook page, the Events column of the hooks
table, and the problem banner with its Dismiss button."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
import trustme
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.gui import EVENTS_COL, click, refresh_window, select_hook, view_rows

INTERNAL = "⌂ internal address"
PLAIN_HTTP = "⚠ Plain http: deliveries and their signatures travel unencrypted."
NO_TLS_CHECK = ("⚠ TLS certificates are not verified for this hook; anyone on the path could "
                "read or alter deliveries.")
SYSTEM_CAS = "Verified against the system's trusted CAs"


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    """A PEM file with one freshly made CA certificate."""
    path = tmp_path / "extra-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def page_says(window: MainWindow) -> tuple[str, str, str]:
    """(badge, warnings, TLS row) as the page shows them; a hidden label counts as ""."""
    page = window.page
    badge = page.badges.text() if page.badges.isVisible() else ""
    warnings = page.warnings.text() if page.warnings.isVisible() else ""
    assert page.tls_label.isVisible()
    return badge, warnings, page.tls_label.text()


def test_badges_warnings_and_tls_row_follow_the_selected_hook(
        qtbot: QtBot, hook_factory: HookFactory, service: HookService, ca_file: Path,
        open_window: Callable[..., MainWindow]) -> None:
    loopback = hook_factory("http://127.0.0.1:8089/hook", name="loopback")
    public = hook_factory("https://example.com/hooks", name="public")
    insecure = service.create_hook(url="https://self-signed.example.com/hooks",
                                   events=["job"], name="insecure", insecure_ssl=True)
    extra_ca = service.create_hook(url="https://ca.example.com/hooks", events=["job"],
                                   name="own CA", ca_bundle=str(ca_file))
    private_https = hook_factory("https://10.1.2.3/hooks", name="private")
    localhost = hook_factory("http://localhost:8080/hooks", name="localhost")
    ipv6_loopback = hook_factory("http://[::1]:8080/hooks", name="ipv6")
    window = open_window()

    expected: list[tuple[Hook, tuple[str, str, str]]] = [
        (loopback, (INTERNAL, PLAIN_HTTP, SYSTEM_CAS)),
        (public, ("", "", SYSTEM_CAS)),
        (insecure, ("", NO_TLS_CHECK, "Certificates not verified (insecure)")),
        (extra_ca, ("", "", f"Verified; also trusts the CAs in {ca_file.resolve()}")),
        (private_https, (INTERNAL, "", SYSTEM_CAS)),
        (localhost, (INTERNAL, PLAIN_HTTP, SYSTEM_CAS)),
        (ipv6_loopback, (INTERNAL, PLAIN_HTTP, SYSTEM_CAS)),
    ]
    # Twice round, so a badge or warning left over from the previous hook would show.
    for hook, says in expected + expected[::-1]:
        select_hook(qtbot, window, hook.id)
        assert page_says(window) == says, hook.name
        if says[0]:
            assert "strict network mode" in window.page.badges.toolTip()


def test_switching_tls_verification_off_and_on_updates_the_page(
        qtbot: QtBot, hook_factory: HookFactory, service: HookService,
        open_window: Callable[..., MainWindow]) -> None:
    hook = hook_factory("https://ops.example.com/hooks")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    assert page_says(window) == ("", "", SYSTEM_CAS)
    # Changed from the command line; the window's poll (here: refresh) picks it up.
    service.edit_hook(hook.id, insecure_ssl=True)
    refresh_window(qtbot, window)
    assert page_says(window) == ("", NO_TLS_CHECK, "Certificates not verified (insecure)")
    service.edit_hook(hook.id, insecure_ssl=False)
    refresh_window(qtbot, window)
    assert page_says(window) == ("", "", SYSTEM_CAS)


def test_the_events_column_uses_the_catalog_labels(
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    hook_factory("https://a.example.com/", events=("job", "cluster"))
    hook_factory("https://b.example.com/", events=("cluster",))
    hook_factory("https://c.example.com/", events=("job.failed", "cluster.error"))
    hook_factory("https://d.example.com/", events=("cluster", "job.failed", "job.stopped"))
    window = open_window()
    assert [row[EVENTS_COL] for row in view_rows(window.hooks_view)] == [
        "All Job Notifications, All Cluster Notifications",
        "All Cluster Notifications",
        "Job Failed, Cluster Error",
        "All Cluster Notifications, Job Stopped, Job Failed",
    ]
    assert window.hooks_model.headerData(EVENTS_COL, Qt.Orientation.Horizontal) == "Events"


def test_the_banner_can_be_dismissed(qtbot: QtBot, hook_factory: HookFactory,
                                     open_window: Callable[..., MainWindow],
                                     service: HookService) -> None:
    hook = hook_factory("https://ops.example.com/hooks", name="ops")
    window = open_window()
    select_hook(qtbot, window, hook.id)
    # The secret vanished from the keyring (another tool, a keyring reset).
    keyring.delete_password("hookadmin", f"{service.store.store_id}/hook/{hook.id}")
    assert not window.banner_box.isVisible()

    click(qtbot, window.page.reveal_button)
    assert visible_top_level("secretDialog") is None
    qtbot.waitUntil(window.banner_box.isVisible)
    problem = window.banner.text()
    assert problem
    assert str(hook.id) in problem

    dismiss = window.findChild(QPushButton, "dismissBanner")
    assert dismiss is not None
    assert dismiss.text() == "Dismiss"
    click(qtbot, dismiss)
    assert not window.banner_box.isVisible()
    assert not window.banner.isVisible()

    # Dismissing hides this message; the next problem shows the banner again.
    click(qtbot, window.page.reveal_button)
    qtbot.waitUntil(window.banner_box.isVisible)
    assert window.banner.text() == problem
    click(qtbot, dismiss)
    assert not window.banner_box.isVisible()
