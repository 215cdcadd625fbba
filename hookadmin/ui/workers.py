"""Background work for the window: the delivery engine and pings, each in a QThread.

Results cross into the GUI thread only as signals carrying frozen dataclasses.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from hookadmin.core.errors import HookadminError
from hookadmin.core.hooks import Hook
from hookadmin.core.secrets import SecretStore
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.ping import PingResult, previous_secret, send_ping
from hookadmin.delivery.policy import DeliverySettings

log = logging.getLogger(__name__)


class _EngineWorker(QObject):
    attempt_recorded = Signal(object)  # AttemptOutcome
    errored = Signal(str)
    finished = Signal()

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    @Slot()
    def run(self) -> None:
        try:
            self.engine.run()
        except Exception as err:
            log.exception("delivery engine stopped")
            self.errored.emit(f"The delivery engine stopped: {err}")
        self.finished.emit()


class EngineHost(QObject):
    """Runs the delivery :class:`~hookadmin.delivery.engine.Engine` in a QThread.

    Signals:
        attempt_recorded(AttemptOutcome): after every attempt (GUI thread receives it).
        running_changed(bool): the engine started or stopped.
        errored(str): the engine stopped because of an unexpected error (one sentence).
    """

    attempt_recorded = Signal(object)
    running_changed = Signal(bool)
    errored = Signal(str)

    def __init__(self, home: Path, settings: DeliverySettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._home = home
        self._settings = settings
        self._thread: QThread | None = None
        self._worker: _EngineWorker | None = None
        self._engine: Engine | None = None
        self._heap_frozen = False

    @property
    def running(self) -> bool:
        """True while the engine's thread runs."""
        return self._thread is not None and self._thread.isRunning()

    def start(self) -> None:
        """Start the engine (no-op when it runs)."""
        if self.running:
            return
        worker_ref: list[_EngineWorker] = []
        engine = Engine(self._home, settings=self._settings,
                        on_attempt=lambda o: worker_ref[0].attempt_recorded.emit(o))
        worker = _EngineWorker(engine)
        worker_ref.append(worker)
        thread = QThread(self)
        thread.setObjectName("hookadmin-engine")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and stop() blocks the GUI thread in wait().
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.attempt_recorded.connect(self.attempt_recorded)
        worker.errored.connect(self.errored)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker, self._engine = thread, worker, engine
        self._freeze_the_heap()
        thread.start()
        self.running_changed.emit(True)

    def _freeze_the_heap(self) -> None:
        """Leave the objects alive now (modules, Qt wrappers, the window: they live as
        long as the program) out of every later garbage collection while the engine
        runs. The engine thread allocates fast, and a full collection that scans them
        all holds the GIL for 100 ms and more on a slow machine: the window freezes
        meanwhile. Undone when the engine stops."""
        if not self._heap_frozen:
            gc.collect()
            gc.freeze()
            self._heap_frozen = True

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop the engine and wait for its thread (at most ``timeout_ms``)."""
        thread, engine = self._thread, self._engine
        if thread is None or engine is None:
            return
        # Engine.stop() does nothing until the engine's loop runs, so a stop that comes
        # right after start() (the window closed at once) is repeated until it lands.
        deadline = time.monotonic() + timeout_ms / 1000
        engine.stop()
        while not thread.wait(20):
            if time.monotonic() >= deadline:
                log.warning("delivery engine did not stop within %d ms", timeout_ms)
                break
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: done
                engine.stop()
        self._on_thread_finished()

    @Slot()
    def _on_thread_finished(self) -> None:
        sender = self.sender()
        if self._thread is None or (sender is not None and sender is not self._thread):
            # A stopped engine's finished signal, queued until after a new engine had
            # started (pause, then resume at once): waiting here for the new, running
            # thread would freeze the window for good.
            return
        self._thread.wait()
        if self._worker is not None:
            self._worker.deleteLater()
        self._thread.deleteLater()
        self._thread = self._worker = self._engine = None
        if self._heap_frozen:
            gc.unfreeze()
            self._heap_frozen = False
        self.running_changed.emit(False)


class _PingWorker(QObject):
    done = Signal(object)  # PingResult
    failed = Signal(str)
    finished = Signal()

    def __init__(self, hook: Hook, secrets: SecretStore, settings: DeliverySettings) -> None:
        super().__init__()
        self.hook, self.secrets, self.settings = hook, secrets, settings

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
        try:
            secret = self.secrets.get(self.hook.id)
            result = asyncio.run(self._send(secret))
        except asyncio.CancelledError:
            self.failed.emit("The ping was cancelled before the receiver answered.")
        except HookadminError as err:
            self.failed.emit(str(err))
        except Exception as err:
            log.exception("ping failed")
            self.failed.emit(f"The ping could not be sent: {err}")
        else:
            self.done.emit(result)
        self.finished.emit()


    async def _send(self, secret: str) -> PingResult:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._cancelled:
            raise asyncio.CancelledError
        previous = await asyncio.to_thread(previous_secret, self.secrets, self.hook)
        return await send_ping(self.hook, secret, self.settings, previous_secret=previous)


class PingTask(QObject):
    """Sends one ping in a QThread.

    Signals:
        done(PingResult): the request was made (whatever the response).
        failed(str): nothing was sent (e.g. the secret could not be read).
    """

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, hook: Hook, secrets: SecretStore,
                 settings: DeliverySettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("hookadmin-ping")
        self._worker = _PingWorker(hook, secrets, settings or DeliverySettings())
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self.done)
        self._worker.failed.connect(self.failed)
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._worker.deleteLater)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def cancel(self) -> None:
        """Give up waiting; ``failed`` is emitted with a sentence saying so."""
        self._worker.cancel()

    def wait(self, timeout_ms: int = 20000) -> bool:
        """Block until the thread ends (used at shutdown); True when it ended."""
        return bool(self._thread.wait(timeout_ms))

    @property
    def running(self) -> bool:
        """True while the request is in progress."""
        return self._thread.isRunning()
