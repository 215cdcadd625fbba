"""Pings from the window: each one in a thread of its own, its answer in a viewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot

from hookadmin.core.errors import HookadminError, NotFoundError, SecretStoreError
from hookadmin.core.hooks import Hook
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.ui.ping_viewer import PingViewer
from hookadmin.ui.workers import PingSecrets, PingTask

if TYPE_CHECKING:
    from hookadmin.core.service import HookService
    from hookadmin.delivery.ping import PingResult
    from hookadmin.ui.main_window import MainWindow


def read_ping_secrets(service: HookService, hook: Hook) -> PingSecrets:
    """A hook's secret and, during a reset's overlap, the one it replaced.

    Raises:
        SecretStoreError: the keyring cannot be read, or holds no secret for the hook.
    """
    from hookadmin.core.hook_types import read_option_secrets
    from hookadmin.core.proxy_settings import global_proxy_password
    from hookadmin.delivery.ping import previous_secret

    options = None
    if hook.type != "web" or not hook.options.empty:
        options = read_option_secrets(service.secrets, hook.id)
    proxy = service.proxy_setting().url
    password = global_proxy_password(service.secrets) if proxy and "@" in proxy else None
    return PingSecrets(service.secrets.get(hook.id), previous_secret(service.secrets, hook),
                       options, password)


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
        settings = effective_ping_settings(w.service, self.settings)
        closed: list[bool] = []
        cancelled: list[bool] = []
        viewer.destroyed.connect(lambda: closed.append(True))

        def failed(message: str) -> None:
            if not closed:
                viewer.show_failure(message)

        def send(secrets: PingSecrets) -> None:
            w.keyring.answered(True)
            if cancelled:
                failed("The ping was cancelled before the receiver answered.")
                return
            self._start(hook_id, PingTask(hook, secrets, settings, self), viewer, closed)

        def not_read(err: HookadminError) -> None:
            if isinstance(err, SecretStoreError) and err.cause != "missing":
                w.keyring.answered(False)
            failed(str(err))

        viewer.on_cancel = lambda: cancelled.append(True)
        viewer.open()
        # The secrets are read on the keyring lane (one prompt for a locked keyring,
        # shared with every other keyring call), then the ping goes in its own thread.
        w.keyring_lane.submit(lambda svc: read_ping_secrets(svc, hook), send, not_read)
        return viewer

    def _start(self, hook_id: int, task: PingTask, viewer: PingViewer,
               closed: list[bool]) -> None:
        w = self.window
        self._tasks.append(task)

        def done(result: PingResult) -> None:
            w.service.store.record_ping(hook_id, result.delivery_id, result.body,
                                        result.attempt)
            if not closed:
                viewer.show_result(result)
            w.refresh()

        def failed(message: str) -> None:
            if not closed:
                viewer.show_failure(message)

        def forget() -> None:
            if task in self._tasks:
                self._tasks.remove(task)

        task.done.connect(done)
        task.failed.connect(failed)
        if not closed:
            viewer.on_cancel = task.cancel
        task.ended.connect(forget)
        task.start()

    def wait_all(self) -> None:
        """Wait for every ping under way to end (at shutdown), each at most its
        timeout plus 2 s."""
        for task in list(self._tasks):
            task.wait(int(self.settings.attempt_timeout * 1000) + 2000)
