"""Pings from the window: each one in a thread of its own, its answer in a viewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot

from hookadmin.core.errors import NotFoundError
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.ui.ping_viewer import PingViewer
from hookadmin.ui.workers import PingTask

if TYPE_CHECKING:
    from hookadmin.delivery.ping import PingResult
    from hookadmin.ui.main_window import MainWindow


class Pings(QObject):
    """Sends pings for the window and keeps track of those under way.

    Args:
        window: the main window (its service, banner and refresh).
        settings: timeouts for pings (the user's delivery options override them).
    """

    def __init__(self, window: MainWindow, settings: DeliverySettings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self._tasks: list[PingTask] = []

    @Slot(int)
    def ping_hook(self, hook_id: int) -> PingViewer | None:
        """Send a ping in the background and open its response viewer."""
        w = self.window
        try:
            hook = w.service.hook(hook_id)
        except NotFoundError as err:
            w.show_banner(str(err))
            return None
        from hookadmin.delivery.ping import ping_settings as effective_ping_settings

        viewer = PingViewer(hook.display_name, w)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        task = PingTask(hook, w.service.secrets,
                        effective_ping_settings(w.service, self.settings), self)
        self._tasks.append(task)

        def done(result: PingResult) -> None:
            w.service.store.record_ping(hook_id, result.delivery_id, result.body,
                                        result.attempt)
            if viewer_alive():
                viewer.show_result(result)
            w.refresh()

        def failed(message: str) -> None:
            if viewer_alive():
                viewer.show_failure(message)

        closed = []
        viewer.destroyed.connect(lambda: closed.append(True))

        def viewer_alive() -> bool:
            return not closed

        def forget() -> None:
            if task in self._tasks:
                self._tasks.remove(task)

        task.done.connect(done)
        task.failed.connect(failed)
        viewer.on_cancel = task.cancel
        task.ended.connect(forget)
        viewer.open()
        task.start()
        return viewer

    def wait_all(self) -> None:
        """Wait for every ping under way to end (at shutdown), each at most its
        timeout plus 2 s."""
        for task in list(self._tasks):
            task.wait(int(self.settings.attempt_timeout * 1000) + 2000)
