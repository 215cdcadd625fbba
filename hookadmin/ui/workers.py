"""Background work for the window: the delivery engine in a child process, pings in a
QThread.

Results cross into the GUI thread only as signals carrying frozen dataclasses.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QObject,
    QProcess,
    QProcessEnvironment,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)

import hookadmin
from hookadmin.core.errors import HookadminError, SecretStoreError
from hookadmin.core.hooks import Hook
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.worker_process import MODULE as WORKER_MODULE
from hookadmin.delivery.worker_process import PROG as WORKER_PROG
from hookadmin.delivery.worker_process import STOP_LINE as WORKER_STOP_LINE
from hookadmin.delivery.worker_process import settings_to_json

if TYPE_CHECKING:  # asyncio, the HTTP stack and the keyring are imported when first needed
    import asyncio

    from hookadmin.delivery.ping import PingResult

log = logging.getLogger(__name__)
PACKAGE_ROOT = str(Path(hookadmin.__file__).resolve().parent.parent)
STOP_LINE = WORKER_STOP_LINE + b"\n"
KILL_MARGIN_MS = 500  # stop() kills the engine's process this long before its deadline
STDERR_LINES_KEPT = 20
LINES_PER_TURN = 100  # attempts reported per turn of the event loop


class EngineHost(QObject):
    """Runs the delivery :class:`~hookadmin.delivery.engine.Engine` in a child process
    (:mod:`hookadmin.delivery.worker_process`) and turns what it reports into signals.

    The engine runs in a process of its own, not in a thread of the window's, because a
    thread would share the window's interpreter lock: at full speed the engine's many
    small socket and SQLite calls kept the GUI thread waiting for it 70-260 ms at a time.
    The child inherits the environment (the D-Bus session of the keyring among it), so it
    reads secrets from the same OS keyring. It stops when told to and when its stdin
    closes, so a window that dies never leaves an engine running.

    Args:
        home: the data directory.
        settings: the engine's settings (None: the defaults, plus the user's delivery
            options, which the engine reads from the database).
        parent: the Qt parent.

    Signals:
        attempt_recorded(AttemptOutcome): after every attempt (in the GUI thread; the
            child writes them in batches at most 20 ms old).
        running_changed(bool): the engine started or stopped.
        errored(str): the engine stopped because of an unexpected error, or could not be
            started (one sentence).
    """

    attempt_recorded = Signal(object)
    running_changed = Signal(bool)
    errored = Signal(str)

    def __init__(self, home: Path, settings: DeliverySettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._home = Path(home)
        self._settings = settings
        self._proc: QProcess | None = None
        self._stopping = False
        self._partial = b""
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        self._outcome_type: Any = None
        self._lines: deque[bytes] = deque()  # read, not yet reported
        self._report_timer = QTimer(self)
        self._report_timer.setSingleShot(True)
        self._report_timer.setInterval(0)
        self._report_timer.timeout.connect(self._report)

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the engine's process has ended."""
        return self._proc is not None

    @property
    def process_id(self) -> int | None:
        """The engine process's id while it runs, else None."""
        proc = self._proc
        if proc is None or proc.state() == QProcess.ProcessState.NotRunning:
            return None
        return int(proc.processId()) or None

    def command(self) -> tuple[str, list[str]]:
        """The program and arguments that run the engine for this data directory."""
        # -P: the working directory is not put on sys.path, so a hookadmin folder there
        # (a checkout of another version) is never run instead of this one.
        args = ["-P", "-m", WORKER_MODULE, str(self._home)]
        if self._settings is not None:
            args += ["--settings", settings_to_json(self._settings)]
        return sys.executable, args

    def start(self) -> None:
        """Start the engine's process (no-op when it runs). Returns at once; a process
        that cannot be started is reported through ``errored``."""
        if self._proc is not None:
            return
        proc = QProcess(self)
        program, args = self.command()
        proc.setProgram(program)
        proc.setArguments(args)
        env = QProcessEnvironment.systemEnvironment()
        # The child imports the same hookadmin as this process, wherever it came from.
        path = env.value("PYTHONPATH")
        env.insert("PYTHONPATH", PACKAGE_ROOT + (os.pathsep + path if path else ""))
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(lambda: self._read_stdout(proc))
        proc.readyReadStandardError.connect(lambda: self._read_stderr(proc))
        proc.finished.connect(lambda code, status: self._on_finished(proc, code, status))
        proc.errorOccurred.connect(lambda error: self._on_error(proc, error))
        self._proc, self._stopping, self._partial = proc, False, b""
        self._stderr.clear()
        proc.start()
        self.running_changed.emit(True)

    def request_stop(self) -> None:
        """Ask the engine to stop and return at once (Pause): ``running_changed(False)``
        follows when its process has ended."""
        proc = self._proc
        if proc is not None and proc.state() != QProcess.ProcessState.NotRunning:
            proc.write(STOP_LINE)
            proc.closeWriteChannel()

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop the engine and wait for its process, at most ``timeout_ms``: it is asked
        to stop (its in-flight deliveries stay pending), and killed if it has not ended
        half a second before the deadline."""
        proc = self._proc
        if proc is None:
            return
        self._stopping = True
        if proc.state() != QProcess.ProcessState.NotRunning:
            proc.write(STOP_LINE)
            proc.closeWriteChannel()
            if not proc.waitForFinished(max(timeout_ms - KILL_MARGIN_MS, 100)):
                log.warning("delivery engine did not stop within %d ms; killing it",
                            timeout_ms - KILL_MARGIN_MS)
                proc.kill()
                proc.waitForFinished(KILL_MARGIN_MS - 100)
        self._finish(proc)

    def _read_stdout(self, proc: QProcess) -> None:
        data = bytes(proc.readAllStandardOutput().data())
        if not data:
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        self._lines.extend(line for line in lines if line.strip())
        self._report()

    @Slot()
    def _report(self, limit: int | None = LINES_PER_TURN) -> None:
        """Emit ``attempt_recorded`` for up to ``limit`` waiting lines (None: all); the
        rest wait for the next turn of the event loop, so a large batch never holds the
        GUI thread long."""
        if not self._lines:
            return
        if self._outcome_type is None:
            # Imported here, not at start-up: it brings the HTTP stack with it (about a
            # second), which the window warms up in the background after its first paint.
            from hookadmin.delivery.engine import AttemptOutcome

            self._outcome_type = AttemptOutcome
        count = len(self._lines) if limit is None else min(limit, len(self._lines))
        for _ in range(count):
            line = self._lines.popleft()
            try:
                outcome = self._outcome_type(**json.loads(line))
            except (ValueError, TypeError):
                log.warning("delivery engine wrote an unreadable line: %.200r", line)
                continue
            self.attempt_recorded.emit(outcome)
        if self._lines:
            self._report_timer.start()

    def _read_stderr(self, proc: QProcess) -> None:
        text = bytes(proc.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self._stderr.append(line)
                level = logging.getLevelName(line.split(" ", 1)[0])  # "WARNING name: ..."
                log.log(level if isinstance(level, int) else logging.WARNING,
                        "delivery engine: %s", line)

    def _on_error(self, proc: QProcess, error: QProcess.ProcessError) -> None:
        if proc is self._proc and error == QProcess.ProcessError.FailedToStart:
            self.errored.emit(f"The delivery engine could not be started ({proc.errorString()}).")
            self._finish(proc)

    def _on_finished(self, proc: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        if proc is not self._proc or self._stopping:
            return  # an old process, or stop() is waiting for this one and finishes it
        self._read_stdout(proc)
        self._read_stderr(proc)
        if status != QProcess.ExitStatus.NormalExit or code != 0:
            self.errored.emit(self._failure(code, status))
        self._finish(proc)

    def _failure(self, code: int, status: QProcess.ExitStatus) -> str:
        """One sentence for an engine process that ended on its own: its own last word
        when it left one, else how it ended."""
        prefix = f"{WORKER_PROG}: "
        said = next((line[len(prefix):].strip() for line in reversed(self._stderr)
                     if line.startswith(prefix)), "")
        if not said:
            said = (f"its process ended with exit status {code}"
                    if status == QProcess.ExitStatus.NormalExit else "its process crashed")
        if not said.startswith("The delivery engine"):
            said = f"The delivery engine stopped: {said}"
        return said if said.endswith(".") else said + "."

    def _finish(self, proc: QProcess) -> None:
        """Forget an ended process (what it wrote last is still reported)."""
        if proc is not self._proc:
            return
        self._read_stdout(proc)
        self._read_stderr(proc)
        self._report(limit=None)
        self._proc = None
        self._stopping = False
        proc.deleteLater()
        self.running_changed.emit(False)


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
