"""What the window does to deliveries: show a delivery's attempts, redeliver one or
every failed one since a time, and copy one as a curl command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QGuiApplication

from hookadmin.core.errors import HookadminError, NotFoundError
from hookadmin.delivery.policy import DeliverySettings, with_proxy
from hookadmin.ui.delivery_panel import curl_command
from hookadmin.ui.queries import DeliveryQuery, DeliveryRows

if TYPE_CHECKING:
    from hookadmin.ui.main_window import MainWindow


class DeliveryActions(QObject):
    """The delivery actions of the hook page and the Deliveries tab.

    Args:
        window: the main window (its service, pages, banner and status bar).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    @Slot(str)
    def redeliver(self, delivery_id: str) -> None:
        """Queue a delivery again (new attempts, same id and body)."""
        w = self.window
        try:
            w.service.redeliver(delivery_id)
        except HookadminError as err:
            w.show_banner(str(err))
            return
        w.status.show_message(f"Delivery {delivery_id} is queued again.")
        w.refresh()

    @Slot(list)
    def redeliver_many(self, delivery_ids: list[str]) -> int:
        """Queue several deliveries again (new attempts, same ids and bodies); returns
        how many."""
        w = self.window
        count = 0
        try:
            for delivery_id in delivery_ids:
                w.service.redeliver(delivery_id)
                count += 1
        except HookadminError as err:
            w.show_banner(str(err))
        w.status.show_message(f"Queued {count} deliveries again.")
        w.refresh()
        return count

    @Slot(object, float)
    def redeliver_failed_since(self, hook_id: int | None, since: float) -> int:
        """Queue every failed delivery of a hook (or of every hook) since ``since``
        (Unix seconds) again. Returns how many."""
        w = self.window
        hooks = [hook_id] if hook_id is not None else [h.id for h in w.service.hooks()]
        count = 0
        try:
            for one in hooks:
                count += w.service.redeliver_failed(one, since)
        except HookadminError as err:
            w.show_banner(str(err))
        w.status.show_message(f"Queued {count} failed deliveries again.")
        w.refresh()
        return count

    def _details(self, delivery_id: str, show: Callable[[DeliveryRows], None]) -> None:
        """Read a delivery's attempts on the reads lane, then ``show`` them."""

        def shown(rows: DeliveryRows) -> None:
            show(rows)

        def failed(err: HookadminError) -> None:
            if not isinstance(err, NotFoundError):  # a deleted one is simply not shown
                self.window.show_banner(str(err))

        self.window.reads.submit(DeliveryQuery(delivery_id).run, shown, failed)

    @Slot(str)
    def show_on_deliveries_tab(self, delivery_id: str) -> None:
        """Show a delivery's attempts on the Deliveries tab."""
        page = self.window.deliveries_page

        def show(rows: DeliveryRows) -> None:
            selected = page.selected_delivery()
            if selected is not None and selected.id == delivery_id:
                page.show_delivery(rows.delivery, rows.attempts, rows.body)

        self._details(delivery_id, show)

    @Slot(str)
    def open_on_deliveries_tab(self, delivery_id: str) -> None:
        """Switch to the Deliveries tab with one delivery found and selected (the hook
        page's *Open delivery*); says so in the banner when it is gone."""
        w = self.window
        w.build_pages()  # at once, if it is asked for before they were built
        w.tabs.setCurrentWidget(w.deliveries_page)

        def found(there: bool) -> None:
            if not there:
                w.show_banner(f"Delivery {delivery_id} is no longer in the history; it may "
                              "have been pruned.")

        w.deliveries_page.find_delivery(delivery_id, found)

    @Slot(str)
    def show_on_hook_page(self, delivery_id: str) -> None:
        """Show a delivery's attempts on the hook page."""
        page = self.window.page

        def show(rows: DeliveryRows) -> None:
            if page.selected_delivery_id() == delivery_id:
                page.show_delivery(rows.delivery, rows.attempts, rows.body)

        self._details(delivery_id, show)

    @Slot(str)
    def copy_as_curl(self, delivery_id: str) -> None:
        """Put a curl command repeating the delivery's last request on the clipboard."""
        w = self.window
        store = w.service.store
        try:
            delivery = store.get_delivery(delivery_id)
        except NotFoundError as err:
            w.show_banner(str(err))
            return
        attempts = store.list_attempts(delivery.seq)
        body = store.delivery_body(delivery_id)
        try:
            hook = w.service.hook(delivery.hook_id)
        except NotFoundError as err:
            w.show_banner(str(err))
            return
        if attempts and attempts[-1].request_headers:
            url, headers = attempts[-1].request_url, attempts[-1].request_headers
            body = attempts[-1].request_body or body  # a Slack message, a PagerDuty event
        else:
            url, headers = hook.url, {"Content-Type": "application/json",
                                      "X-Hook-Event": delivery.event_type,
                                      "X-Hook-Delivery": delivery.id}
        # The proxy it goes through now (the hook's, the global or the environment's).
        # Imported here: it pulls in aiohttp and httpx (0.5 s), which the first paint
        # does not need.
        from hookadmin.delivery.proxy import shown_proxy
        proxy = shown_proxy(hook, url, with_proxy(DeliverySettings(),
                                                  w.service.proxy_setting()))
        QGuiApplication.clipboard().setText(curl_command(url, headers, body, proxy))
        w.status.show_message("Copied a curl command for this delivery.")
