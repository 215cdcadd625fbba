"""The delivery engine as a child process of the window (no Qt here).

The window starts ``python -m hookadmin.delivery.worker_process HOME [--settings JSON]``
(a team database's URL, which may hold a password, comes in the environment variable
``HOOKADMIN_DATABASE``, never on the command line) and talks to it through three pipes:

* **stdout**: one message per line, in the typed, versioned envelope of
  :mod:`hookadmin.delivery.engine_messages`: an ``attempt`` per recorded attempt, a
  ``keyring`` message when the OS keyring stops or starts answering, and a ``failed``
  message (one sentence) as the last line before the process exits 1. Lines are
  written in batches, at most :data:`FLUSH_INTERVAL` seconds after their attempt was
  recorded.
* **stdin**: a line ``stop`` asks for a clean stop; so does the end of stdin, which is
  what the child sees when the window closes the pipe or dies, so a killed window never
  leaves an engine running. Other lines are window → engine messages of the same
  envelope (``keyring_answered``, see
  :func:`~hookadmin.delivery.engine_messages.decode_command`); one that cannot be read
  is logged and ignored. SIGTERM asks for a clean stop too; SIGINT (Ctrl+C in the
  window's terminal) is left to the window.
* **stderr**: the engine's warnings, one per line (``WARNING logger: message``), for
  the window's log; on failure, also a last line ``hookadmin engine: `` followed by the
  sentence of the ``failed`` message, for a person who runs the module by hand.

A clean stop ends within :data:`STOP_SECONDS`: in-flight requests are cancelled and
their deliveries stay pending for the next start (see :meth:`Engine.stop`).

Exit status: 0 after a clean stop; 2 for bad arguments (e.g. ``--settings`` that are not
:class:`~hookadmin.delivery.policy.DeliverySettings`); 1 for any other failure (the data
directory cannot be opened, the engine stopped on an unexpected error, or it did not
stop in time).

The engine itself (and with it the HTTP stack and the keyring) runs in this process, so
its work never competes with the window's GUI thread for one interpreter's GIL; its
database work runs in a bookkeeping process of its own
(:mod:`hookadmin.delivery.bookkeeping`), which ends with it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, NoReturn

from hookadmin.core.errors import HookadminError, InputError
from hookadmin.core.paths import window_sentence
from hookadmin.delivery.engine_messages import (
    AttemptMessage,
    FailureMessage,
    KeyringMessage,
    MessageError,
    decode_command,
    encode,
)
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.settings_json import settings_from_json

if TYPE_CHECKING:
    from hookadmin.core.store import StoreLocation
    from hookadmin.delivery.engine import AttemptOutcome, Engine
    from hookadmin.delivery.metrics import MetricsServer

MODULE = "hookadmin.delivery.worker_process"
PROG = "hookadmin engine"
FLUSH_INTERVAL = 0.02  # seconds: outcomes are written in batches at most this old
STOP_SECONDS = 2.5  # a stop that takes longer ends the process (exit status 1)
STOP_LINE = b"stop"

log = logging.getLogger(__name__)


def outcome_to_json(outcome: AttemptOutcome) -> str:
    """One stdout line (without its newline) for an attempt: an ``attempt`` message."""
    return encode(AttemptMessage(outcome))


# -- output ------------------------------------------------------------------------------

class _Output:
    """Collects outcome lines from the engine's thread and writes them to ``stream`` in
    batches from a thread of its own, so the engine never waits for the pipe.

    ``broken`` is called once if the reader went away (the window died).
    """

    def __init__(self, stream: IO[bytes], broken: Callable[[], None]) -> None:
        self._stream = stream
        self._broken = broken
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="hookadmin-output",
                                        daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if not self._closed:
                time.sleep(FLUSH_INTERVAL)  # let a batch gather
            self._wake.clear()
            closed = self._closed
            self._write()
            if closed:
                return

    def _write(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if not lines:
            return
        try:
            self._stream.write(("\n".join(lines) + "\n").encode("utf-8"))
            self._stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            self._broken()

    def close(self) -> None:
        """Write what is left and stop the writer thread."""
        self._closed = True
        self._wake.set()
        self._thread.join(1.0)
        self._write()


# -- the process -------------------------------------------------------------------------

class _Worker:
    """One engine run, stopped by stdin, SIGTERM or a broken stdout."""

    def __init__(self, home: str, settings: DeliverySettings | None) -> None:
        self.home = home
        self.settings = settings
        self.lock = threading.Lock()
        self.stop_requested = threading.Event()
        self.engine: Engine | None = None
        self.output = _Output(sys.stdout.buffer, self.request_stop)

    def request_stop(self) -> None:
        """Stop the engine (any thread). Before the engine exists, there is nothing to
        clean up, so the process ends at once."""
        with self.lock:
            first = not self.stop_requested.is_set()
            self.stop_requested.set()
            engine = self.engine
            if engine is None:
                _exit(0)
        if first:
            engine.stop()
            threading.Thread(target=self._watchdog, name="hookadmin-stop", daemon=True).start()

    def _watchdog(self) -> None:
        """End the process if the clean stop takes too long (a hung DNS lookup or keyring
        call holds the engine's executor); leases then expire by themselves."""
        if not threading.Event().wait(STOP_SECONDS):
            _fail(f"The delivery engine did not stop within {STOP_SECONDS:g} s; it was "
                  "ended (its deliveries are taken up again when their leases expire).",
                  output=self.output)

    def watch_stdin(self, stream: IO[bytes]) -> None:
        """Read stdin until ``stop`` or its end, then stop; pass on the window's
        messages meanwhile."""
        try:
            for line in stream:
                if line.strip() == STOP_LINE:
                    break
                if line.strip():
                    self.take_command(line)
        except (OSError, ValueError):
            pass
        self.request_stop()

    def take_command(self, line: bytes) -> None:
        """Carry out one window → engine message (one that cannot be read is logged)."""
        try:
            command = decode_command(line)
        except MessageError as err:
            log.warning("%s; it was ignored", err)
            return
        with self.lock:
            engine = self.engine
        if engine is not None:
            engine.keyring_answered(command.ok)

    def run(self) -> int:
        from hookadmin.core.service import HookService
        from hookadmin.delivery.engine import Engine  # the HTTP stack: about 1 s to import

        # HOME, and the team database in HOOKADMIN_DATABASE (inherited, never on the
        # command line: its URL may hold a password).
        with HookService(self.home) as service:  # opens and migrates, or fails clearly
            location = service.location
            metrics_port = service.metrics_port()
        with self.lock:
            if self.stop_requested.is_set():
                return 0
            self.engine = engine = Engine(
                location, settings=self.settings,
                on_attempt=lambda o: self.output.put(outcome_to_json(o)),
                on_keyring=lambda p: self.output.put(encode(KeyringMessage(p))))
        server = _metrics_server(location, metrics_port)
        try:
            engine.run()
        finally:
            self.output.close()
            if server is not None:
                server.close()
        return 0


def _metrics_server(location: StoreLocation, port: int | None) -> MetricsServer | None:
    """The Settings dialog's ``/metrics`` on 127.0.0.1:``port``, or None (also when the
    port cannot be used: delivering matters more, so that is only logged)."""
    if port is None:
        return None
    from hookadmin.delivery.metrics import MetricsServer

    try:
        return MetricsServer(location, port, engine_up=lambda: True)
    except HookadminError as err:
        log.warning("%s", err)
        return None


def _exit(status: int) -> NoReturn:
    """End the process now, from any thread."""
    sys.stderr.flush()
    os._exit(status)


def _fail(message: str, status: int = 1, output: _Output | None = None) -> NoReturn:
    """Say ``message`` (one sentence) as a ``failed`` message on stdout (through
    ``output``, after what it still holds, when the run has one) and on stderr; then
    end the process with ``status``."""
    line = encode(FailureMessage(message)) + "\n"
    if output is not None:
        output.put(line.rstrip("\n"))
        output.close()
    else:
        try:
            sys.stdout.buffer.write(line.encode("utf-8"))
            sys.stdout.buffer.flush()
        except (OSError, ValueError):
            pass  # the window is gone: nobody to tell
    sys.stderr.write(f"{PROG}: {message}\n")
    _exit(status)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """``HOME`` and ``--settings JSON``; bad usage exits 2 with one line."""

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            _fail(f"{message} (usage: python -m {MODULE} HOME [--settings JSON]).", 2)

    parser = Parser(prog=f"python -m {MODULE}",
                    description="Run the delivery engine for the window; stop it with a "
                                "'stop' line on stdin or by closing stdin.")
    parser.add_argument("home", help="the data directory")
    parser.add_argument("--settings", help="DeliverySettings as a JSON object")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until told to stop; returns the exit status (see the module docstring)."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = settings_from_json(args.settings) if args.settings is not None else None
    except InputError as err:
        _fail(str(err), 2)
    worker = _Worker(args.home, settings)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's to handle
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(
        target=worker.request_stop, daemon=True).start())
    threading.Thread(target=worker.watch_stdin, args=(sys.stdin.buffer,),
                     name="hookadmin-stdin", daemon=True).start()
    try:
        return worker.run()
    except HookadminError as err:  # the window's advice, not the command line's
        _fail(window_sentence(err), output=worker.output)
    except Exception as err:  # one line for the window; the details go to the log
        log.debug("delivery engine stopped", exc_info=True)
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        _fail(f"The delivery engine stopped: {detail}", output=worker.output)


if __name__ == "__main__":
    sys.exit(main())
