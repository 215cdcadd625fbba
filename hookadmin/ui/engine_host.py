"""The window's delivery engine host: a QProcess-hosted engine whose results become
signals.

The engine runs in a child process (:mod:`hookadmin.delivery.worker_process`), not in a
thread of the window's: a thread shares the window's interpreter lock, and at full speed
the GUI thread's largest stall with the engine in a QThread went over the 50 ms bound
(56-67 ms at load 7) and never met the 16 ms target on every view, while with the
engine in a child process it stayed at 11-14 ms on every view (docs/decisions.md).

The child writes one message per line on its stdout in the typed, versioned envelope of
:mod:`hookadmin.delivery.engine_messages`; QProcess's signals bring them to the GUI
thread's event loop, which decodes and reports them in bounded batches per turn.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal, Slot

import hookadmin
from hookadmin.core.store import DATABASE_ENV, StoreLocation
from hookadmin.delivery.engine_messages import (
    AttemptMessage,
    FailureMessage,
    KeyringAnswered,
    KeyringMessage,
    MessageError,
    decode,
    encode_command,
)
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.settings_json import settings_to_json
from hookadmin.delivery.worker_process import MODULE as WORKER_MODULE
from hookadmin.delivery.worker_process import STOP_LINE as WORKER_STOP_LINE

log = logging.getLogger(__name__)
PACKAGE_ROOT = str(Path(hookadmin.__file__).resolve().parent.parent)
STOP_LINE = WORKER_STOP_LINE + b"\n"
KILL_MARGIN_MS = 500  # stop() kills the engine's process this long before its deadline
LINES_PER_TURN = 100  # messages decoded and reported per turn of the event loop
RESTART_ADVICE = "choose Delivery → Pause delivery twice to start it again"


class EngineHost(QObject):
    """Runs the delivery :class:`~hookadmin.delivery.engine.Engine` in a child process
    and turns its messages into signals.

    The child inherits the environment (the D-Bus session of the keyring among it), so it
    reads secrets, and a team database's team key, from the same OS keyring. A team
    database's URL (which may hold a password) reaches it in ``$HOOKADMIN_DATABASE``,
    never on its command line; for SQLite that variable is removed. It stops when told
    to and when its stdin closes, so a window that dies never leaves an engine running.

    Args:
        location: the store (a :class:`StoreLocation`; a bare data directory is SQLite
            in it).
        settings: the engine's settings (None: the defaults, plus the user's delivery
            options, which the engine reads from the database).
        parent: the Qt parent.

    Signals:
        attempt_recorded(AttemptOutcome): after every attempt (in the GUI thread; the
            child writes them in batches at most 20 ms old).
        running_changed(bool): the engine started, or its process ended.
        errored(str): one sentence: the engine stopped on an error, could not be
            started, or wrote a message this window cannot read (it is then stopped).
        keyring_changed(str): the sentence saying why the engine cannot use the OS
            keyring (deliveries that need a secret wait), or "" once it answers again.
    """

    attempt_recorded = Signal(object)
    running_changed = Signal(bool)
    errored = Signal(str)
    keyring_changed = Signal(str)

    def __init__(self, location: StoreLocation | Path,
                 settings: DeliverySettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._location = (location if isinstance(location, StoreLocation)
                          else StoreLocation(Path(location)))
        self._settings = settings
        self._proc: QProcess | None = None
        self._stop_asked = self._waiting = self._restart = False
        self._partial = b""
        self._lines: deque[bytes] = deque()  # read, not yet decoded
        self._failure = ""  # the child's own last word, from its "failed" message
        self._unreadable = ""  # the first line that could not be decoded, as a sentence
        self._report_timer = QTimer(self)
        self._report_timer.setSingleShot(True)
        self._report_timer.setInterval(0)
        self._report_timer.timeout.connect(self._report)

    @property
    def location(self) -> StoreLocation:
        """The store the engine delivers from."""
        return self._location

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the engine's process has ended (a stop that
        was asked for but not yet done still counts as running)."""
        return self._proc is not None

    @property
    def stopping(self) -> bool:
        """True from :meth:`request_stop` until the engine's process has ended."""
        return self._proc is not None and self._stop_asked

    @property
    def process_id(self) -> int | None:
        """The engine process's id while it runs, else None."""
        proc = self._proc
        if proc is None or proc.state() == QProcess.ProcessState.NotRunning:
            return None
        return int(proc.processId()) or None

    def command(self) -> tuple[str, list[str]]:
        """The program and arguments that run the engine (no URL among them)."""
        # -P: the working directory is not put on sys.path, so a hookadmin folder there
        # (a checkout of another version) is never run instead of this one.
        args = ["-P", "-m", WORKER_MODULE, str(self._location.home)]
        if self._settings is not None:
            args += ["--settings", settings_to_json(self._settings)]
        return sys.executable, args

    def environment(self) -> QProcessEnvironment:
        """The child's environment: this process's, with the store's URL in
        ``$HOOKADMIN_DATABASE`` (removed for SQLite) and this hookadmin first on
        ``PYTHONPATH``."""
        env = QProcessEnvironment.systemEnvironment()
        if self._location.url is None:
            env.remove(DATABASE_ENV)
        else:
            env.insert(DATABASE_ENV, self._location.url)
        # The child imports the same hookadmin as this process, wherever it came from.
        path = env.value("PYTHONPATH")
        env.insert("PYTHONPATH", PACKAGE_ROOT + (os.pathsep + path if path else ""))
        return env

    def start(self) -> None:
        """Start the engine's process (no-op when it runs; after a stop still under way,
        it starts again once that stop is done). Returns at once; a process that cannot
        be started is reported through ``errored``."""
        if self._proc is not None:
            self._restart = self._stop_asked
            return
        proc = QProcess(self)
        program, args = self.command()
        proc.setProgram(program)
        proc.setArguments(args)
        proc.setProcessEnvironment(self.environment())
        proc.readyReadStandardOutput.connect(lambda: self._read_stdout(proc))
        proc.readyReadStandardError.connect(lambda: self._read_stderr(proc))
        proc.finished.connect(lambda code, status: self._on_finished(proc, code, status))
        proc.errorOccurred.connect(lambda error: self._on_error(proc, error))
        self._proc, self._partial = proc, b""
        self._stop_asked = self._waiting = self._restart = False
        self._failure = self._unreadable = ""
        proc.start()
        self.running_changed.emit(True)

    def request_stop(self) -> None:
        """Ask the engine to stop and return at once (Pause): in-flight deliveries stay
        pending; ``running_changed(False)`` follows when its process has ended."""
        self._restart = False
        proc = self._proc
        if proc is not None and not self._stop_asked:
            self._stop_asked = True
            if proc.state() != QProcess.ProcessState.NotRunning:
                proc.write(STOP_LINE)
                proc.closeWriteChannel()

    def keyring_answered(self, ok: bool) -> None:
        """Tell the running engine that the window's own keyring call succeeded
        (``ok``: deliveries that wait for the keyring go out at once) or found it
        unusable (the engine then says when it can be used again); nothing when no
        engine runs or it is stopping."""
        proc = self._proc
        if proc is not None and not self._stop_asked \
                and proc.state() != QProcess.ProcessState.NotRunning:
            proc.write((encode_command(KeyringAnswered(ok)) + "\n").encode("utf-8"))

    def stop(self, timeout_ms: int = 3000) -> None:
        """Stop the engine and wait for its process, at most ``timeout_ms`` (closing the
        window): it is asked to stop (its in-flight deliveries stay pending), and killed
        if it has not ended half a second before the deadline."""
        proc = self._proc
        if proc is None:
            return
        self.request_stop()
        self._waiting = True
        if proc.state() != QProcess.ProcessState.NotRunning \
                and not proc.waitForFinished(max(timeout_ms - KILL_MARGIN_MS, 100)):
            log.warning("delivery engine did not stop within %d ms; killing it",
                        timeout_ms - KILL_MARGIN_MS)
            proc.kill()
            proc.waitForFinished(KILL_MARGIN_MS - 100)
        self._finish(proc)

    def _read_stdout(self, proc: QProcess) -> None:
        if proc is not self._proc:
            return
        data = bytes(proc.readAllStandardOutput().data())
        if not data:
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        self._lines.extend(line for line in lines if line.strip())
        self._report()

    @Slot()
    def _report(self, limit: int | None = LINES_PER_TURN) -> None:
        """Decode and report up to ``limit`` waiting lines (None: all); the rest wait
        for the next turn of the event loop, so a large batch never holds the GUI
        thread long."""
        count = len(self._lines) if limit is None else min(limit, len(self._lines))
        for _ in range(count):
            line = self._lines.popleft()
            try:
                message = decode(line)
            except MessageError as err:
                self._on_unreadable(str(err), line)
                continue
            match message:
                case AttemptMessage(outcome=outcome):
                    self.attempt_recorded.emit(outcome)
                case KeyringMessage(problem=problem):
                    self.keyring_changed.emit(problem or "")
                case FailureMessage(sentence=sentence):
                    self._failure = sentence
        if self._lines:
            self._report_timer.start()

    def _on_unreadable(self, problem: str, line: bytes) -> None:
        """A line that is not a message: said once per run, and the engine stopped (a
        window that cannot read its engine cannot show what it does)."""
        log.warning("delivery engine wrote an unreadable line: %.200r", line)
        if self._unreadable:
            return
        self._unreadable = (f"The delivery engine was stopped because {problem}; "
                            f"{RESTART_ADVICE}.")
        self.errored.emit(self._unreadable)
        self.request_stop()

    def _read_stderr(self, proc: QProcess) -> None:
        """The child's warnings go to this process's log (never parsed)."""
        text = bytes(proc.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                level = logging.getLevelName(line.split(" ", 1)[0])  # "WARNING name: ..."
                log.log(level if isinstance(level, int) else logging.WARNING,
                        "delivery engine: %s", line)

    def _on_error(self, proc: QProcess, error: QProcess.ProcessError) -> None:
        if proc is self._proc and error == QProcess.ProcessError.FailedToStart:
            self.errored.emit(f"The delivery engine could not be started ({proc.errorString()}).")
            self._finish(proc)

    def _on_finished(self, proc: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        if proc is not self._proc or self._waiting:
            return  # an old process, or stop() is waiting for this one and finishes it
        self._read_stdout(proc)
        self._read_stderr(proc)
        self._report(limit=None)
        if (status != QProcess.ExitStatus.NormalExit or code != 0) and not self._unreadable:
            self.errored.emit(self._failure_sentence(code, status))
        self._finish(proc)

    def _failure_sentence(self, code: int, status: QProcess.ExitStatus) -> str:
        """One sentence for an engine process that ended on its own: its ``failed``
        message when it left one, else how it ended."""
        said = self._failure or (
            (f"its process ended with exit status {code}"
             if status == QProcess.ExitStatus.NormalExit else "its process crashed")
            + f"; {RESTART_ADVICE}")
        if not said.startswith("The delivery engine"):
            said = f"The delivery engine stopped: {said}"
        return said if said.endswith(".") else said + "."

    def _finish(self, proc: QProcess) -> None:
        """Forget an ended process (what it wrote last is still reported), and start
        again when :meth:`start` was called while it stopped."""
        if proc is not self._proc:
            return
        self._read_stdout(proc)
        self._read_stderr(proc)
        self._report(limit=None)
        self._report_timer.stop()
        restart = self._restart
        self._proc = None
        self._stop_asked = self._waiting = self._restart = False
        proc.deleteLater()
        self.running_changed.emit(False)
        if restart:
            self.start()
