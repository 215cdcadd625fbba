"""The delivery engine in a QThread of the window's process: kept only to measure it
against the window's host (:class:`~hookadmin.ui.engine_host.EngineHost`, a child
process) with ``HOOKADMIN_TEST_ENGINE_HOST=thread`` in
``tests/ui/test_gui_responsiveness.py``.

A thread shares the window's interpreter lock: at full speed the GUI thread's largest
stall with the engine here went over the 50 ms bound under load (56-67 ms) and never
met the 16 ms target on every view, so the window does not use it (docs/decisions.md).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from hookadmin.core.errors import HookadminError
from hookadmin.core.store import StoreLocation
from hookadmin.delivery.policy import DeliverySettings

if TYPE_CHECKING:
    from hookadmin.delivery.engine import AttemptOutcome, Engine

log = logging.getLogger(__name__)
REPORT_INTERVAL_MS = 20  # outcomes reach the GUI thread in batches at most this old


class _EngineThread(QThread):
    """Imports the engine (the HTTP stack, about a second: never on the GUI thread),
    then runs one until it stops; ``problem`` is the sentence of a failure."""

    def __init__(self, home: StoreLocation | Path, settings: DeliverySettings | None,
                 on_attempt: Callable[[AttemptOutcome], None],
                 on_keyring: Callable[[str | None], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hookadmin-engine")
        self._home, self._settings, self._on_attempt = home, settings, on_attempt
        self._on_keyring = on_keyring
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._stop_requested = False
        self.problem = ""

    def request_stop(self) -> None:
        """Ask the engine to stop (any thread), even before it exists."""
        with self._lock:
            self._stop_requested = True
            engine = self._engine
        if engine is not None:
            engine.stop()

    def keyring_answered(self, ok: bool) -> None:
        """Pass the window's keyring answer on (see :meth:`Engine.keyring_answered`)."""
        with self._lock:
            engine = self._engine
        if engine is not None:
            engine.keyring_answered(ok)

    def run(self) -> None:
        try:
            from hookadmin.delivery.engine import Engine

            engine = Engine(self._home, settings=self._settings, on_attempt=self._on_attempt,
                            on_keyring=self._on_keyring)
            with self._lock:
                self._engine = engine
                if self._stop_requested:
                    return
            engine.run()
        except HookadminError as err:
            self.problem = str(err)
        except Exception as err:
            log.exception("delivery engine failed")
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            self.problem = f"The delivery engine stopped: {detail}."


class ThreadEngineHost(QObject):
    """Runs :class:`~hookadmin.delivery.engine.Engine` in a QThread and turns what it
    reports into signals. Same methods and signals as
    :class:`~hookadmin.ui.workers.EngineHost`.

    Args:
        home: the store (a data directory: as ``Engine`` resolves it).
        settings: the engine's settings (None: the defaults, plus the user's delivery
            options, which the engine reads from the database).
        parent: the Qt parent.

    Signals:
        attempt_recorded(AttemptOutcome): after every attempt, in the GUI thread, in
            batches at most 20 ms old.
        running_changed(bool): the engine started, or its thread ended.
        errored(str): the engine stopped on an error (one sentence).
        keyring_changed(str): why the engine cannot use the OS keyring, or "" once it
            answers again.
    """

    attempt_recorded = Signal(object)
    running_changed = Signal(bool)
    errored = Signal(str)
    keyring_changed = Signal(str)

    def __init__(self, home: StoreLocation | Path, settings: DeliverySettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._home: StoreLocation | Path = home
        self._settings = settings
        self._thread: _EngineThread | None = None
        self._stopping = self._restart = False
        self._outcomes: deque[AttemptOutcome] = deque()
        self._timer = QTimer(self)
        self._timer.setInterval(REPORT_INTERVAL_MS)
        self._timer.timeout.connect(self._report)

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the engine's thread has ended (a stop that
        was asked for but not yet done still counts as running)."""
        return self._thread is not None

    @property
    def stopping(self) -> bool:
        """True from :meth:`request_stop` until the engine's thread has ended."""
        return self._stopping

    def start(self) -> None:
        """Start the engine (no-op when it runs; after a stop still under way, it
        starts again once that stop is done). Returns at once."""
        if self._thread is not None:
            self._restart = self._stopping
            return
        thread = _EngineThread(self._home, self._settings, self._outcomes.append,
                               lambda problem: self.keyring_changed.emit(problem or ""), self)
        # To a slot of this object, so it runs in the GUI thread (a lambda would run
        # in the engine's thread, which emits finished).
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        thread.start()
        self._timer.start()
        self.running_changed.emit(True)

    def request_stop(self) -> None:
        """Ask the engine to stop and return at once (Pause): in-flight deliveries stay
        pending; ``running_changed(False)`` follows when its thread has ended."""
        self._restart = False
        if self._thread is not None:
            self._stopping = True
            self._thread.request_stop()

    def keyring_answered(self, ok: bool) -> None:
        """Tell the running engine how the window's own keyring call went (see
        :meth:`EngineHost.keyring_answered`)."""
        if self._thread is not None:
            self._thread.keyring_answered(ok)

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop the engine and wait for its thread, at most ``timeout_ms`` (at
        shutdown)."""
        thread = self._thread
        self.request_stop()
        if thread is not None:
            if not thread.wait(timeout_ms):
                log.warning("delivery engine did not stop within %d ms", timeout_ms)
            self._on_finished(thread)

    @Slot()
    def _report(self) -> None:
        while self._outcomes:
            self.attempt_recorded.emit(self._outcomes.popleft())

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None:
            self._on_finished(self._thread)

    def _on_finished(self, thread: _EngineThread) -> None:
        if thread is not self._thread or not thread.wait(1000):
            return
        self._report()
        self._timer.stop()
        self._thread, self._stopping = None, False
        thread.deleteLater()
        if thread.problem:
            self.errored.emit(thread.problem)
        self.running_changed.emit(False)
        if self._restart:
            self._restart = False
            self.start()
