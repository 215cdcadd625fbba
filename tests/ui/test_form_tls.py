"""The TLS part of the hook form: an extra CA bundle (checked inline, stored with the hook)
and the "skip verification" box with its warning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import trustme
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui import hook_form
from hookadmin.ui.main_window import MainWindow
from tests.ui.conftest import visible_top_level
from tests.ui.gui import click, click_checkbox, dialog_button, select_hook


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """These window tests are not about secrets and start no engine: their secrets live
    in an in-process keyring."""
    return service_in_memory


W = TypeVar("W", bound=QWidget)
INSECURE_WARNING = ("Without verification anyone on the network path can read or change "
                    "deliveries. Prefer adding the receiver's CA above.")


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    """A PEM file with one freshly made CA certificate."""
    path = tmp_path / "receiver-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


class TlsFields:
    """The TLS widgets of the window's hook form, found by object name."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        form = window.form
        self.ca = self._find(form, QLineEdit, "caBundle")
        self.ca_error = self._find(form, QLabel, "caError")
        self.insecure = self._find(form, QCheckBox, "insecureSsl")
        self.warning = self._find(form, QLabel, "insecureWarning")

    @staticmethod
    def _find(form: QWidget, kind: type[W], name: str) -> W:
        widget = form.findChild(kind, name)
        assert isinstance(widget, kind), name
        return widget

    def show(self, widget: QWidget) -> None:
        """Scroll the form so the widget is in view, as a user would."""
        self.window.form_scroll.ensureWidgetVisible(widget)

    def type_ca(self, qtbot: QtBot, path: str) -> None:
        """Replace the CA bundle field's text by typing, then leave it with Tab."""
        self.show(self.ca)
        self.ca.setFocus()
        qtbot.waitUntil(self.ca.hasFocus)
        qtbot.keyClick(self.ca, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(self.ca, Qt.Key.Key_Delete)
        qtbot.keyClicks(self.ca, path)
        assert self.ca.text() == path
        qtbot.keyClick(self.ca, Qt.Key.Key_Tab)

    def tick_insecure(self, qtbot: QtBot) -> None:
        self.show(self.insecure)
        click_checkbox(qtbot, self.insecure)


def new_hook_form(qtbot: QtBot, window: MainWindow, url: str) -> TlsFields:
    """Open the empty form, type a URL; return the TLS fields."""
    click(qtbot, window.new_button)
    qtbot.keyClicks(window.form.url_edit, url)
    assert window.form.submit_button.isEnabled()
    return TlsFields(window)


def create(qtbot: QtBot, window: MainWindow) -> None:
    window.form_scroll.ensureWidgetVisible(window.form.submit_button)
    click(qtbot, window.form.submit_button)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page)


def test_a_missing_ca_file_is_refused_inline(qtbot: QtBot, window: MainWindow,
                                             service: HookService, tmp_path: Path) -> None:
    fields = new_hook_form(qtbot, window, "https://ops.example.com/hooks")
    assert not fields.ca_error.isVisible()
    missing = tmp_path / "nowhere" / "ca.pem"
    fields.type_ca(qtbot, str(missing))
    assert fields.ca_error.isVisible()
    assert fields.ca_error.text() == (f"The CA bundle {missing} does not exist; give the path "
                                      "of a PEM file.")
    assert not window.form.submit_button.isEnabled()
    # Enter in the URL field does not get past it either.
    with qtbot.assertNotEmitted(window.form.submitted):
        qtbot.keyClick(window.form.url_edit, Qt.Key.Key_Return)
    assert service.hooks() == []


def test_a_file_without_certificates_is_refused_inline(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    not_pem = tmp_path / "notes.pem"
    not_pem.write_text("just some notes, no certificate\n", "utf-8")
    fields = new_hook_form(qtbot, window, "https://ops.example.com/hooks")
    fields.type_ca(qtbot, str(not_pem))
    assert fields.ca_error.isVisible()
    assert fields.ca_error.text() == (f"The CA bundle {not_pem} holds no usable PEM "
                                      "certificate; give a PEM file of CA certificates.")
    assert not window.form.submit_button.isEnabled()


def test_a_pem_file_is_accepted_and_stored_with_the_hook(
        qtbot: QtBot, window: MainWindow, service: HookService, ca_file: Path,
        tmp_path: Path) -> None:
    fields = new_hook_form(qtbot, window, "https://ops.example.com/hooks")
    fields.type_ca(qtbot, str(tmp_path / "typo.pem"))
    assert fields.ca_error.isVisible()
    fields.type_ca(qtbot, str(ca_file))  # corrected
    assert not fields.ca_error.isVisible()
    assert window.form.submit_button.isEnabled()
    create(qtbot, window)

    (hook,) = service.hooks()
    assert hook.ca_bundle == str(ca_file.resolve())
    assert hook.insecure_ssl is False
    assert service.hook(hook.id).ca_bundle == str(ca_file.resolve())
    assert window.page.tls_label.text() == f"Verified; also trusts the CAs in {ca_file.resolve()}"


def test_correcting_the_ca_path_enables_create_without_leaving_the_field(
        qtbot: QtBot, window: MainWindow, service: HookService, ca_file: Path,
        tmp_path: Path) -> None:
    fields = new_hook_form(qtbot, window, "https://ops.example.com/hooks")
    fields.type_ca(qtbot, str(tmp_path / "typo.pem"))
    assert not window.form.submit_button.isEnabled()
    # Back into the field, fix the path, then go straight for the Create button.
    fields.ca.setFocus()
    qtbot.waitUntil(fields.ca.hasFocus)
    qtbot.keyClick(fields.ca, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(fields.ca, str(ca_file))
    # The stale "does not exist" goes away once typing pauses, and Create comes back.
    qtbot.waitUntil(lambda: not fields.ca_error.isVisible(), timeout=2000)
    assert window.form.submit_button.isEnabled()
    create(qtbot, window)
    assert [h.ca_bundle for h in service.hooks()] == [str(ca_file.resolve())]


def test_typing_elsewhere_does_not_recheck_an_unchanged_ca_file(
        qtbot: QtBot, window: MainWindow, ca_file: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking a CA file loads the system's CA store (about 0.1 s): doing it on every
    keystroke in the URL or name field made typing lag."""
    fields = new_hook_form(qtbot, window, "https://ops.example.com/hooks")
    fields.type_ca(qtbot, str(ca_file))
    checked: list[str] = []
    real = hook_form.validate_ca_bundle

    def counting(path: str) -> str:
        checked.append(path)
        return real(path)

    monkeypatch.setattr(hook_form, "validate_ca_bundle", counting)
    qtbot.keyClicks(window.form.name_edit, "ops monitor for the night")
    qtbot.keyClicks(window.form.url_edit, "etl")
    assert window.form.name_edit.text() == "ops monitor for the night"
    assert checked == []
    assert not fields.ca_error.isVisible()
    assert window.form.submit_button.isEnabled()


def test_skipping_verification_warns_and_is_stored(qtbot: QtBot, window: MainWindow,
                                                   service: HookService) -> None:
    fields = new_hook_form(qtbot, window, "https://self-signed.example.com/hooks")
    assert not fields.insecure.isChecked()
    assert not fields.warning.isVisible()

    fields.tick_insecure(qtbot)
    assert fields.insecure.isChecked()
    assert fields.warning.isVisible()
    assert fields.warning.text() == INSECURE_WARNING
    fields.tick_insecure(qtbot)  # changed my mind
    assert not fields.warning.isVisible()
    fields.tick_insecure(qtbot)  # and back
    assert fields.warning.isVisible()
    create(qtbot, window)

    (hook,) = service.hooks()
    assert service.hook(hook.id).insecure_ssl is True
    assert service.hook(hook.id).ca_bundle is None
    assert window.page.tls_label.text() == "Certificates not verified (insecure)"


def test_editing_clears_the_ca_bundle_and_verification_comes_back(
        qtbot: QtBot, service: HookService, ca_file: Path,
        open_window: Callable[..., MainWindow]) -> None:
    hook = service.create_hook(url="https://ops.example.com/hooks", events=["job"],
                               ca_bundle=str(ca_file))
    window = open_window()
    select_hook(qtbot, window, hook.id)
    click(qtbot, window.page.edit_button)
    fields = TlsFields(window)
    assert fields.ca.text() == str(ca_file.resolve())
    assert not fields.insecure.isChecked()
    assert not fields.warning.isVisible()

    fields.type_ca(qtbot, "")
    create(qtbot, window)

    stored = service.hook(hook.id)
    assert (stored.ca_bundle, stored.insecure_ssl) == (None, False)
    assert window.page.tls_label.text() == "Verified against the system's trusted CAs"


def test_browse_picks_the_ca_file_in_a_file_dialog(qtbot: QtBot, window: MainWindow,
                                                   service: HookService, ca_file: Path) -> None:
    fields = new_hook_form(qtbot, window, "https://ops.example.com/hooks")
    browse = window.form.findChild(QPushButton, "caBrowse")
    assert isinstance(browse, QPushButton)
    fields.show(browse)
    click(qtbot, browse)
    qtbot.waitUntil(lambda: visible_top_level("caFileDialog") is not None)
    dialog = visible_top_level("caFileDialog")
    assert isinstance(dialog, QFileDialog)
    # The dialog opens in the folder that holds the file (typing a path there would pop up
    # a completer, which the offscreen plugin cannot show); click the file, then Open.
    dialog.setDirectory(str(ca_file.parent))
    files = dialog.findChild(QListView, "listView")
    assert isinstance(files, QListView)
    model = files.model()
    root = files.rootIndex()

    def file_row() -> int:
        names = [model.index(r, 0, root).data() for r in range(model.rowCount(root))]
        return names.index(ca_file.name) if ca_file.name in names else -1

    qtbot.waitUntil(lambda: file_row() >= 0)
    index = model.index(file_row(), 0, root)
    files.scrollTo(index)
    qtbot.mouseClick(files.viewport(), Qt.MouseButton.LeftButton,
                     pos=files.visualRect(index).center())
    click(qtbot, dialog_button(dialog, "Open"))
    qtbot.waitUntil(lambda: visible_top_level("caFileDialog") is None)

    assert fields.ca.text() == str(ca_file)
    assert not fields.ca_error.isVisible()
    create(qtbot, window)
    assert [h.ca_bundle for h in service.hooks()] == [str(ca_file.resolve())]
