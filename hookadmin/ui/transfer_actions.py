"""File → Export hooks… and Import hooks…: the same files as ``hookadmin hooks
export/import``; secrets only when asked for, into a file of their own (mode 0600).
Both run on the keyring lane: exporting secrets reads the keyring, importing writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from hookadmin.core.errors import HookadminError, InputError

if TYPE_CHECKING:
    from hookadmin.core.service import HookService
    from hookadmin.ui.main_window import MainWindow

JSON_FILTER = "JSON files (*.json);;All files (*)"


def export_to(service: HookService, hooks_path: Path, secrets_path: Path | None) -> str:
    """Write every hook to ``hooks_path`` and, when given, their secrets to
    ``secrets_path`` (mode 0600, never through a symbolic link). Returns one sentence
    saying what was written.

    Raises:
        InputError: a file cannot be written, or both paths are the same.
        SecretStoreError: the keyring cannot be read (no secrets file is written).
    """
    from hookadmin.core.transfer import (
        export_hooks,
        export_secrets,
        secrets_document,
        write_private_file,
    )

    if secrets_path is not None and secrets_path.resolve() == hooks_path.resolve():
        raise InputError("Give the secrets a file of their own; they are never written "
                         "with the hooks.")
    hooks = export_hooks(service)
    if secrets_path is not None:
        write_private_file(secrets_path, json.dumps(
            secrets_document(export_secrets(service)), indent=2) + "\n")
    try:
        hooks_path.write_text(json.dumps(hooks, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")
    except OSError as err:
        raise InputError(f"Cannot write {hooks_path} ({err.strerror}); choose another "
                         "file.") from None
    return (f"Exported {len(hooks)} hooks"
            + (f"; secrets in {secrets_path} (readable by you only)." if secrets_path
               else "; no secrets."))


def import_from(service: HookService, hooks_path: Path, secrets_path: Path | None) -> str:
    """Create the hooks of an export file (with the secrets of ``secrets_path`` when
    given, else new ones). Returns one sentence saying what was done.

    Raises:
        InputError: a file cannot be read or is not an export.
        SecretStoreError: the keyring refused a secret (nothing is created then).
    """
    from hookadmin.core.transfer import import_hooks, parse_export, parse_secrets

    def read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as err:
            raise InputError(f"Cannot read {path} ({err.strerror}); choose another "
                             "file.") from None

    hooks = parse_export(read(hooks_path))
    secrets = None if secrets_path is None else parse_secrets(read(secrets_path))
    created, skipped, restored = import_hooks(service, hooks, secrets)
    line = f"Imported {len(created)} hooks"
    if skipped:
        line += f"; skipped {skipped} that already exist"
    if restored:
        line += f"; put the secrets of {len(restored)} of those into this keyring"
    if created and secrets is None:
        line += "; each has a new secret (Reveal shows it)"
    return line + "."


class TransferActions(QObject):
    """The File menu's export and import of hooks.

    Args:
        window: the main window (its keyring lane, banner and status bar).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def export_hooks(self, hooks_path: Path, secrets_path: Path | None) -> None:
        """Export on the keyring lane; the status bar or the banner says how it went."""
        self.window.keyring_lane.submit(
            lambda svc: export_to(svc, hooks_path, secrets_path), self._done, self._failed)

    def import_hooks(self, hooks_path: Path, secrets_path: Path | None) -> None:
        """Import on the keyring lane, then refresh."""
        def done(line: str) -> None:
            self._done(line)
            self.window.refresh()
            page = self.window.page
            if page.hook is not None:  # its secret may have been put back
                self.window.selection.check_secret(page.hook.id)

        self.window.keyring_lane.submit(
            lambda svc: import_from(svc, hooks_path, secrets_path), done, self._failed)

    def _done(self, line: str) -> None:
        self.window.keyring.answered(True)
        self.window.clear_banner()
        self.window.status.show_message(line, 10000)

    def _failed(self, err: HookadminError) -> None:
        self.window.show_banner(str(err))

    def _ask_secrets(self, question: str) -> bool:
        answer = QMessageBox.question(self.window, "Secrets", question,
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def ask_export(self) -> None:
        """Ask for the hooks file, whether to export the secrets too, and where."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export hooks", "hooks.json",
                                              JSON_FILTER)
        if not path:
            return
        secrets: Path | None = None
        if self._ask_secrets("Export the hooks' secrets too, into a separate file only "
                             "you can read? Anyone with that file can sign deliveries."):
            chosen, _ = QFileDialog.getSaveFileName(self.window, "Export secrets",
                                                    "secrets.json", JSON_FILTER)
            if not chosen:
                return
            secrets = Path(chosen)
        self.export_hooks(Path(path), secrets)

    @Slot()
    def ask_import(self) -> None:
        """Ask for the hooks file and, optionally, the secrets file to import."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Import hooks", "", JSON_FILTER)
        if not path:
            return
        secrets: Path | None = None
        if self._ask_secrets("Import the hooks' secrets from a secrets file too? Without "
                             "one, each imported hook gets a new secret."):
            chosen, _ = QFileDialog.getOpenFileName(self.window, "Import secrets", "",
                                                    JSON_FILTER)
            if not chosen:
                return
            secrets = Path(chosen)
        self.import_hooks(Path(path), secrets)
