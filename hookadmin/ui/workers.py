"""Background work for the window: pings in a QThread, and the checks made once the
window is on screen (the delivery engine's host is :mod:`hookadmin.ui.engine_host`).

Results cross into the GUI thread only as signals carrying frozen dataclasses.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from hookadmin.core.errors import HookadminError, SecretStoreError
from hookadmin.core.hooks import Hook
from hookadmin.delivery.policy import DeliverySettings

if TYPE_CHECKING:  # asyncio, the HTTP stack and the keyring are imported when first needed
    import asyncio

    from hookadmin.delivery.ping import PingResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PingSecrets:
    """What a ping is signed with: the hook's secret and, during a reset's 24-hour
    overlap, the one it replaced, and the hook type's option secrets (a Slack URL, a
    routing key, a basic-auth or SMTP password: ``None`` for a plain web hook) and the
    global proxy's password (when the proxy URL names a user); all read
    on the window's keyring lane, never in the ping's thread."""

    secret: str
    previous: str | None = None
    options: Mapping[str, str] | None = None
    proxy_password: str | None = None


class _PingWorker(QObject):
    done = Signal(object)  # PingResult
    failed = Signal(str)
    finished = Signal()

    def __init__(self, hook: Hook, secrets: PingSecrets, settings: DeliverySettings,
                 home_thread: QThread) -> None:
        super().__init__()
        self.hook, self.secrets, self.settings = hook, secrets, settings
        self._home_thread = home_thread

        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False

    def cancel(self) -> None:
        """Stop waiting for the receiver (any thread)."""
        self._cancelled = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)

    @Slot()
    def run(self) -> None:
        import asyncio

        try:
            result = asyncio.run(self._send())
        except asyncio.CancelledError:
            self.failed.emit("The ping was cancelled before the receiver answered.")
        except HookadminError as err:
            self.failed.emit(str(err))
        except Exception as err:
            log.exception("ping failed")
            self.failed.emit(f"The ping could not be sent: {err}")
        else:
            self.done.emit(result)
        # Back to the thread that made it, where it is deleted (see PingTask).
        self.moveToThread(self._home_thread)
        self.finished.emit()

    async def _send(self) -> PingResult:
        import asyncio

        from hookadmin.delivery.ping import send_ping

        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._cancelled:
            raise asyncio.CancelledError
        return await send_ping(self.hook, self.secrets.secret, self.settings,
                               previous_secret=self.secrets.previous,
                               option_secrets=self.secrets.options,
                               proxy_password=self.secrets.proxy_password)


class PingTask(QObject):
    """Sends one ping in a QThread.

    Signals:
        done(PingResult): the request was made (whatever the response).
        failed(str): nothing was sent (e.g. the secret could not be read).
        ended(): the thread has ended and the worker is gone (after done or failed).
    """

    done = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, hook: Hook, secrets: PingSecrets,
                 settings: DeliverySettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("hookadmin-ping")
        worker = _PingWorker(hook, secrets, settings or DeliverySettings(),
                             home_thread=self.thread())
        worker.moveToThread(self._thread)
        self._thread.started.connect(worker.run)
        worker.done.connect(self.done)
        worker.failed.connect(self.failed)
        self._worker: _PingWorker | None = worker
        worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        # The worker is deleted in the GUI thread, never in the ping thread: deleting a
        # Python-owned QObject there needs the interpreter lock, which the GUI thread may
        # hold while it waits for a Qt lock of that same object (connecting a signal), and
        # the two threads then wait for each other forever.
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    @Slot()
    def _on_thread_finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:  # moved back to this thread by its last step
            worker.deleteLater()
        self.ended.emit()

    def cancel(self) -> None:
        """Give up waiting; ``failed`` is emitted with a sentence saying so."""
        if self._worker is not None:
            self._worker.cancel()

    def wait(self, timeout_ms: int = 20000) -> bool:
        """Block until the thread ends (used at shutdown); True when it ended."""
        return bool(self._thread.wait(timeout_ms))

    @property
    def running(self) -> bool:
        """True while the request is in progress."""
        return self._thread.isRunning()


class StartupChecks(QObject):
    """Work the window does once it is on screen, in a Python thread so the GUI thread
    never waits for it: checks that the OS keyring answers (importing :mod:`keyring` and
    one Secret Service round trip, 0.1-0.7 s), then imports the HTTP stack that pings and
    the engine's reports need (about a second), so the first of those does not freeze
    the window.

    Args:
        check: called in the thread; raises :class:`HookadminError` when the keyring
            cannot be used (e.g. ``lambda: service.secrets.check()``).
        parent: the Qt parent (the window).

    Signals:
        keyring_checked(str): the problem in one sentence, or "" when the keyring
            answered. Emitted once, in the GUI thread; :attr:`cause` then holds the
            problem's kind (``SecretStoreError.cause``, e.g. ``team_key_missing``).
    """

    keyring_checked = Signal(str)

    WARM_UP = ("hookadmin.delivery.engine", "hookadmin.delivery.ping")

    def __init__(self, check: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._check = check
        self._thread: threading.Thread | None = None
        self.cause: str | None = None  # the problem's kind (SecretStoreError.cause)

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hookadmin-startup",
                                            daemon=True)
            self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Block until the thread has ended, at most ``timeout`` seconds; True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _run(self) -> None:
        try:
            self._check()
        except HookadminError as err:
            problem = str(err)
            self.cause = err.cause if isinstance(err, SecretStoreError) else None
        except Exception as err:  # an unexpected keyring failure still gets a sentence
            log.exception("keyring check failed")
            problem = f"The OS keyring could not be checked ({err})."
        else:
            problem = ""
        with contextlib.suppress(RuntimeError):  # the window is gone already
            self.keyring_checked.emit(problem)
        for name in self.WARM_UP:
            try:
                importlib.import_module(name)
            except Exception:  # it is imported again, and fails visibly, when needed
                log.exception("could not import %s", name)
