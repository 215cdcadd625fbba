"""What the window does to hooks: create, edit, duplicate, (de)activate, delete,
reveal and reset secrets, send test events and show the verify snippets."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt, Slot
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox

from hookadmin.core.errors import HookadminError, InputError, NotFoundError, SecretStoreError
from hookadmin.core.hooks import Hook
from hookadmin.ui.dialogs import SettingsDialog, TestEventDialog, VerifyDialog
from hookadmin.ui.models import Roles
from hookadmin.ui.rotation import overlap_choice
from hookadmin.ui.secret_dialog import SecretDialog

if TYPE_CHECKING:
    from hookadmin.core.service import HookService
    from hookadmin.ui.main_window import MainWindow


class HookActions(QObject):
    """The hook actions of the window's menus, page and table.

    Args:
        window: the main window (its service, form, stack, banner and status bar).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    @property
    def service(self) -> HookService:
        """The window's service layer."""
        return self.window.service

    # -- create / edit / delete ---------------------------------------------------------

    @Slot()
    def start_new_hook(self) -> None:
        """Open an empty form; the form with unsaved edits asks first (Save / Discard /
        Cancel, Cancel keeps it)."""
        w = self.window
        if w.stack.currentWidget() is w.form_scroll and not w.form.confirm_leave(
                self.start_new_hook, lambda: None):
            return
        w.hooks_view.clearSelection()
        w.form.reset()
        w.show_form()

    @Slot(int)
    def duplicate_hook(self, hook_id: int) -> None:
        """Open the form filled with a copy of a hook's settings (a new secret is made
        when it is created); the form with unsaved edits asks first."""
        w = self.window
        if w.stack.currentWidget() is w.form_scroll and not w.form.confirm_leave(
                lambda: self.duplicate_hook(hook_id), lambda: None):
            return
        hook = self._hook(hook_id)
        if hook is None:
            return
        w.hooks_view.clearSelection()
        w.form.reset_as_copy(hook)
        w.show_form()

    @Slot(QPoint)
    def context_menu(self, pos: QPoint) -> None:
        """Pop up the hooks table's context menu at ``pos`` (viewport coordinates)."""
        w = self.window
        index = w.hooks_view.indexAt(pos)
        if not index.isValid():
            return
        hook_id = int(index.data(Roles.HOOK_ID))
        hook = self._hook(hook_id)
        if hook is None:
            return
        menu = QMenu(w)
        menu.setObjectName("hookContextMenu")
        menu.addAction("Deactivate" if hook.active else "Activate",
                       lambda: self.set_active(hook_id, not hook.active))
        menu.addAction("Edit", lambda: self.edit(hook_id))
        menu.addAction("Ping", lambda: w.pings.ping_hook(hook_id))
        menu.addAction("Send test event…", lambda: self.send_test_event(hook_id))
        menu.addAction("Duplicate", lambda: self.duplicate_hook(hook_id))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.delete(hook_id))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(w.hooks_view.viewport().mapToGlobal(pos))

    @Slot(int)
    def edit(self, hook_id: int) -> None:
        """Open the form on a hook."""
        w = self.window
        try:
            hook = self.service.hook(hook_id)
        except NotFoundError as err:
            w.show_banner(str(err))
            return
        w.form.reset(hook)
        w.show_form()

    @Slot(dict)
    def submit(self, values: dict[str, object]) -> None:
        """Create or save the hook of the submitted form. A new hook's secret goes to
        the keyring, so it is created on the keyring lane; the form waits, disabled."""
        w = self.window
        editing = w.form.editing
        url = values["url"]  # a str, or a sealed value for a type whose URL is a secret
        name = str(values["name"])
        events = [str(e) for e in values["events"]]  # type: ignore[attr-defined]
        insecure = bool(values["insecure_ssl"])
        options = values["options"]
        option_secrets = values["option_secrets"]
        if editing is None:
            active = bool(values["active"])
            ca_bundle = str(values["ca_bundle"]) or None
            hook_type = str(values["type"])
            w.form.setEnabled(False)
            w.keyring_lane.submit(
                lambda svc: svc.create_hook(
                    url=url, name=name, events=events,  # type: ignore[arg-type]
                    active=active, ca_bundle=ca_bundle, insecure_ssl=insecure,
                    type=hook_type, options=options,  # type: ignore[arg-type]
                    option_secrets=option_secrets),  # type: ignore[arg-type]
                lambda hook: self._saved(hook, created=True), self._not_saved)
            return
        # Only a changed Active box is sent: re-sending "inactive" would erase the
        # engine's deactivated_reason (e.g. after a 410) on any edit.
        active_now = bool(values["active"])
        edit_id = editing.id
        changed_active = None if active_now == editing.active else active_now
        ca = str(values["ca_bundle"])

        def save(svc: HookService) -> Hook:
            return svc.edit_hook(edit_id, url=url, name=name,  # type: ignore[arg-type]
                                 events=events, active=changed_active, ca_bundle=ca,
                                 insecure_ssl=insecure,
                                 options=options,  # type: ignore[arg-type]
                                 option_secrets=option_secrets)  # type: ignore[arg-type]

        if option_secrets:  # new option secrets go to the keyring: off the GUI thread
            w.form.setEnabled(False)
            w.keyring_lane.submit(save, lambda hook: self._saved(hook, created=False),
                                  self._not_saved)
            return
        try:
            hook = save(self.service)
        except HookadminError as err:
            self._not_saved(err)
            return
        self._saved(hook, created=False)

    def _saved(self, hook: Hook, *, created: bool) -> None:
        w = self.window
        w.form.setEnabled(True)
        if created:
            w.keyring.answered(True)
        w.clear_banner()
        if w.form.submit_finished(True):  # saved on the way to another hook
            w.refresh()
        else:
            w.refresh(then=lambda: w.select_hook(hook.id))
        w.status.show_message(f"Created hook {hook.id}." if created else f"Saved hook {hook.id}.")

    def _not_saved(self, err: HookadminError) -> None:
        w = self.window
        w.form.setEnabled(True)
        w.form.submit_finished(False)
        if isinstance(err, InputError):
            w.form.show_error(err)
        else:
            self._keyring_failed(err)

    def _hook(self, hook_id: int) -> Hook | None:
        """The hook, read now; None when it has been deleted elsewhere (the command
        line) since the last refresh, which the banner then says."""
        try:
            return self.service.hook(hook_id)
        except NotFoundError as err:
            self.window.hook_gone(err)
            return None

    def _keyring_failed(self, err: HookadminError) -> None:
        """A keyring call failed: the banner says why."""
        if isinstance(err, SecretStoreError) and err.cause != "missing":
            self.window.keyring.answered(False)
        self.window.show_banner(str(err))

    @Slot()
    def cancel_form(self) -> None:
        """Leave the form, its edits thrown away: back to the edited hook's page, or to
        the placeholder."""
        w = self.window
        w.form.forget_edits()  # selecting the hook again must not ask to save them
        if w.form.editing is not None:
            w.select_hook(w.form.editing.id)
        else:
            w.stack.setCurrentWidget(w.placeholder)

    @Slot(int)
    def delete(self, hook_id: int) -> None:
        """Ask, then delete a hook with its history and secret."""
        w = self.window
        hook = self._hook(hook_id)
        if hook is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete hook",
                          f"Delete hook {hook.id} ({hook.display_name})?\n\nIts delivery "
                          "history and its secret are deleted too; queued deliveries to it "
                          "are dropped.",
                          QMessageBox.StandardButton.Cancel, w)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("confirmDelete")

        def finished() -> None:
            if box.clickedButton() is delete:
                w.keyring_lane.submit(lambda svc: svc.delete_hook(hook_id), deleted, failed)
            box.deleteLater()

        def deleted(kept: SecretStoreError | None) -> None:
            # ``kept``: the hook is gone but the keyring could not be used, so its
            # secret stays there until hookadmin can remove it.
            w.keyring.answered(kept is None)
            if w.page.hook is not None and w.page.hook.id == hook_id:
                w.stack.setCurrentWidget(w.placeholder)
            w.refresh()
            if kept is None:
                w.status.show_message(f"Deleted hook {hook_id}.")
            else:
                w.status.show_message(
                    f"Deleted hook {hook_id}; its secret stays in the OS keyring until "
                    "hookadmin can use the keyring again.", 0)

        def failed(err: HookadminError) -> None:
            if isinstance(err, NotFoundError):
                w.hook_gone(err)
            else:
                self._keyring_failed(err)

        box.finished.connect(finished)
        box.open()

    @Slot(int, bool)
    def set_active(self, hook_id: int, active: bool) -> None:
        """Activate or deactivate a hook."""
        try:
            self.service.edit_hook(hook_id, active=active)
        except NotFoundError as err:
            self.window.hook_gone(err)
            return
        self.window.refresh()

    @Slot(int, bool)
    def set_ordered(self, hook_id: int, ordered: bool) -> None:
        """Make a hook ordered (one delivery at a time, in publish order) or not; the
        change is audited and running engines take it up within a few seconds."""
        try:
            self.service.set_ordered(hook_id, ordered)
        except NotFoundError as err:
            self.window.hook_gone(err)
            return
        self.window.refresh()

    # -- secret -------------------------------------------------------------------------

    @Slot(int)
    def reveal_secret(self, hook_id: int) -> None:
        """Read a hook's secret on the keyring lane, then open the Reveal dialog
        (non-blocking); when it cannot be read the banner says why."""
        w = self.window

        def show(found: tuple[Hook, str]) -> None:
            hook, secret = found
            w.keyring.answered(True)
            dialog = SecretDialog(hook.display_name, secret, w)
            dialog.copied.connect(lambda: self.service.audit("secret.copied", hook_id=hook_id))
            _open(dialog)

        w.keyring_lane.submit(
            lambda svc: (svc.hook(hook_id), svc.reveal_secret(hook_id)), show,
            self._keyring_failed)

    @Slot(int)
    def reset_secret(self, hook_id: int) -> None:
        """Ask, then replace a hook's secret and show the new one."""
        w = self.window
        hook = self._hook(hook_id)
        if hook is None:
            return
        # A secret not in this keyring (the page said so) has no old one to keep signing.
        missing = w.page.secret_missing and w.page.hook is not None \
            and w.page.hook.id == hook_id
        box = QMessageBox(QMessageBox.Icon.Question, "Reset secret",
                          f"Write a new secret for {hook.display_name} into this keyring?"
                          "\n\nThis keyring has no secret for this hook, so deliveries to it "
                          "wait. Both signature headers use the new secret at once; give it "
                          "to the receiver." if missing else
                          f"Replace the secret of {hook.display_name}?\n\nX-Hook-Signature "
                          "uses the new secret at once. For 24 hours (or the overlap chosen "
                          "below) the old secret also signs webhook-signature, so receivers "
                          "can switch over.",
                          QMessageBox.StandardButton.Cancel, w)
        reset = box.addButton("Reset secret", QMessageBox.ButtonRole.AcceptRole)
        expire = box.addButton("Expire old secret now", QMessageBox.ButtonRole.ActionRole) \
            if (hook.previous_secret_expires_at or 0) > time.time() and not missing else None
        overlap = None if missing else overlap_choice(box)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("confirmReset")

        def finished() -> None:
            box.deleteLater()
            if expire is not None and box.clickedButton() is expire:
                w.keyring_lane.submit(lambda svc: svc.expire_previous_secret(hook_id),
                                      lambda _: w.refresh(), self._keyring_failed)
                return
            if box.clickedButton() is not reset:
                return
            chosen = 0.0 if overlap is None else overlap.currentData()
            w.keyring_lane.submit(lambda svc: svc.reset_secret(hook_id, overlap=chosen), show,
                                  self._keyring_failed)

        def show(secret: str) -> None:
            w.keyring.answered(True)
            if w.page.hook is not None and w.page.hook.id == hook_id:
                w.page.set_secret_missing(False)  # the new secret is in this keyring
            w.refresh()
            dialog = SecretDialog(hook.display_name, secret, w,
                                  note="This is the new secret. Give it to the receiver now: "
                                       "it is shown this once (Reveal shows it again).")
            dialog.setObjectName("newSecretDialog")
            _open(dialog)

        box.finished.connect(finished)
        box.open()

    # -- test events, snippets and settings ---------------------------------------------

    @Slot(int)
    def send_test_event(self, hook_id: int) -> TestEventDialog | None:
        """Open the "Send test event" dialog for a hook (non-blocking)."""
        w = self.window
        hook = self._hook(hook_id)
        if hook is None:
            return None
        dialog = TestEventDialog(self.service, hook, w)
        dialog.sent.connect(lambda event_id: w.status.show_message(
            f"Queued test event {event_id} for {hook.display_name}."))
        dialog.sent.connect(lambda _event_id: w.refresh())
        _open(dialog)
        return dialog

    @Slot(int)
    def show_verify_snippets(self, hook_id: int) -> VerifyDialog | None:
        """Open the "Verify on your side" snippets of a hook (non-blocking)."""
        w = self.window
        hook = self._hook(hook_id)
        if hook is None:
            return None
        dialog = VerifyDialog(hook, w)
        _open(dialog)
        return dialog

    @Slot()
    def open_settings(self) -> SettingsDialog:
        """Open the Settings dialog (non-blocking)."""
        dialog = SettingsDialog(self.service, self.window)
        _open(dialog)
        return dialog


def _open(dialog: QDialog) -> None:
    """Open ``dialog`` window-modal without blocking; it is deleted when closed."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
