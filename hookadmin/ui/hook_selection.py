"""Which hook the window shows: the hooks table's selection, the hook page read on the
reads lane for it, and the form, which keeps its hook selected while it has edits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QObject, Qt, Slot

from hookadmin.core.errors import HookadminError, SecretStoreError
from hookadmin.ui.models import Roles
from hookadmin.ui.queries import HookPageQuery, HookPageRows
from hookadmin.ui.window_refresh import DELIVERIES_SHOWN

if TYPE_CHECKING:
    from hookadmin.ui.hooks_panel import HooksView
    from hookadmin.ui.main_window import MainWindow


class HookSelection(QObject):
    """The hooks table's selection and the right-hand side that follows it.

    Args:
        window: the main window (its hooks table, stack, page, form and reads lane).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._keeping = False  # True while the form's hook is selected again
        self._page_wanted: int | None = None  # a page asked for, its rows not yet read
        self._asking = False  # True while the unsaved-changes question is open

    def follow(self, view: HooksView) -> None:
        """Follow the hooks table ``view``: its selection shows hooks, and is held on
        the hook being edited while the form has unsaved edits."""
        view.selectionModel().selectionChanged.connect(self.selection_changed)
        view.held = self._held
        view.row_wanted.connect(self._row_wanted, Qt.ConnectionType.QueuedConnection)

    def selected_hook_id(self) -> int | None:
        """The id of the hook selected in the table, if any."""
        rows = self.window.hooks_view.selectionModel().selectedRows()
        return int(rows[0].data(Roles.HOOK_ID)) if rows else None

    def view_row(self, hook_id: int) -> int:
        """The row of a hook in the (filtered) table, or -1."""
        w = self.window
        row = w.hooks_model.row_of(hook_id)
        if row < 0:
            return -1
        return w.hooks_proxy.mapFromSource(w.hooks_model.index(row, 0)).row()

    def select_hook(self, hook_id: int) -> None:
        """Select a hook in the table and show its page."""
        w = self.window
        row = self.view_row(hook_id)
        if row < 0 and w.hooks_model.row_of(hook_id) >= 0:
            w.filter_edit.clear()  # the hook is hidden by the filter: show everything
            row = self.view_row(hook_id)
        if row >= 0:
            w.hooks_view.selectRow(row)
            self.show_page(hook_id)

    def show_page(self, hook_id: int) -> None:
        """Show a hook's page once its rows have been read on the reads lane (unless
        another page or the form is asked for meanwhile)."""
        self._page_wanted = hook_id
        query = HookPageQuery(hook_id, DELIVERIES_SHOWN)
        self.window.reads.submit(query.run, self.apply_page,
                                 lambda err: self.window.show_banner(str(err)))

    def show_form(self) -> None:
        """Bring the hook form up (a page asked for before is no longer shown)."""
        self._page_wanted = None
        self.window.stack.setCurrentWidget(self.window.form_scroll)
        self.window.form.url_edit.setFocus()

    def apply_page(self, rows: HookPageRows) -> None:
        """Show a hook page's rows read on the reads lane, if that page is still the
        one asked for or shown (a gone hook shows the placeholder)."""
        w = self.window
        if self._page_wanted == rows.hook_id:
            self._page_wanted = None
        elif not (w.stack.currentWidget() is w.page and w.page.hook is not None
                  and w.page.hook.id == rows.hook_id):
            return  # another hook or the form was asked for meanwhile
        if rows.hook is None:
            if w.stack.currentWidget() is w.page:
                w.stack.setCurrentWidget(w.placeholder)
            return
        w.page.show_hook(rows.hook, rows.deliveries, rows.blocking, rows.head_seq,
                         rows.ordered)
        w.page.show_health(w.hooks_model.health_of(rows.hook_id))
        w.stack.setCurrentWidget(w.page)
        self.check_secret(rows.hook_id)

    def check_secret(self, hook_id: int) -> None:
        """Find out on the keyring lane whether hook ``hook_id``'s secret is in this
        keyring, and tell the page if it still shows that hook. Not asked without a
        team key (the page says that already) nor of a keyring that could not be used
        at the last call (no unlock prompt at each click or refresh; the status bar says
        delivery waits for the keyring): a failure here counts as such a call, and
        leaves the page as it is."""
        w = self.window
        if w.keyring.team_key_problem or w.keyring.problem:
            return

        def found(missing: bool) -> None:
            w.keyring.answered(True)
            if w.page.hook is not None and w.page.hook.id == hook_id:
                w.page.set_secret_missing(missing)

        def failed(err: HookadminError) -> None:
            if isinstance(err, SecretStoreError):
                w.keyring.answered(False)

        w.keyring_lane.submit(lambda svc: svc.secrets.get_optional(hook_id) is None,
                              found, failed)

    @Slot(QItemSelection, QItemSelection)
    def selection_changed(self, *_: object) -> None:
        """The table's selection changed: show the hook's page, or the placeholder; the
        form with unsaved edits asks first."""
        w = self.window
        hook_id = self.selected_hook_id()
        if hook_id is None:
            self._page_wanted = None
            if w.stack.currentWidget() is w.page:
                w.stack.setCurrentWidget(w.placeholder)
            return
        if self._keeping:
            return
        if w.stack.currentWidget() is w.form_scroll and not w.form.confirm_leave(
                lambda: self.select_hook(hook_id), self._select_edited_hook):
            return
        self.show_page(hook_id)

    def _held(self) -> bool:
        """Whether the list keeps its selection on the hook being edited: the form is
        shown with unsaved edits (or its question is open)."""
        w = self.window
        return self._asking or (w.stack.currentWidget() is w.form_scroll
                                and w.form.has_unsaved_edits())

    @Slot(int)
    def _row_wanted(self, row: int) -> None:
        """The user clicked or moved to view row ``row`` while the form had unsaved
        edits: ask (Save / Discard / Cancel) with the list still showing the edited
        hook; Save or Discard then select the wanted hook, Cancel keeps the edited one."""
        w = self.window
        index = w.hooks_proxy.index(row, 0)
        if self._asking or not index.isValid():
            return
        hook_id = int(index.data(Roles.HOOK_ID))

        def proceed() -> None:
            self._asking = False
            self.select_hook(hook_id)

        def stay() -> None:
            self._asking = False
            self._select_edited_hook()

        if w.stack.currentWidget() is not w.form_scroll or w.form.confirm_leave(proceed,
                                                                                stay):
            self.select_hook(hook_id)  # the edits were saved or gone meanwhile
        else:
            self._asking = True

    def _select_edited_hook(self) -> None:
        """Select the row of the hook the form edits (none for a new hook) without
        leaving the form: the list must not show another hook while its edits stay."""
        w = self.window
        editing = w.form.editing
        row = -1 if editing is None else self.view_row(editing.id)
        self._keeping = True
        try:
            if row >= 0:
                w.hooks_view.selectRow(row)
            else:
                w.hooks_view.clearSelection()
        finally:
            self._keeping = False
