"""``hookadmin worker``: run the delivery engine without a window, in one process or
side by side in several (``--processes N``), until stopped or idle."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from hookadmin.cli import metrics
from hookadmin.cli.common import remove_orphaned_secrets
from hookadmin.core.errors import SecretStoreError
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation, iso

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands
    from hookadmin.delivery.engine import Engine

MAX_PROCESSES = 64


def add_parser(sub: Subcommands) -> None:
    """Add ``worker`` (with its metrics options) to ``sub`` (the top parser's
    subcommands)."""
    worker = sub.add_parser("worker", help="run the delivery engine without a window")
    worker.add_argument("--until-idle", action="store_true",
                        help="exit once nothing is queued or due now")
    worker.add_argument("--processes", type=_processes, default=1, metavar="N",
                        help="engines to run side by side, each in its own process (default "
                             "1); they share the queue through leases, so more of them use "
                             "more CPU cores")
    worker.add_argument("--event-loop", choices=("asyncio", "uvloop"), default=None,
                        help="the engine's event loop (default: $HOOKADMIN_EVENT_LOOP, else "
                             "asyncio); uvloop needs pip install 'hookadmin[uvloop]'")
    # One of N engines started by `worker --processes N` (set on the others it starts).
    worker.add_argument("--share-of", type=_processes, default=None, help=argparse.SUPPRESS)
    metrics.add_worker_options(worker)


def _processes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes; give a whole number from 1 to "
            f"{MAX_PROCESSES}")
    return value


ORPHAN_STOP_SECONDS = 10.0
"""How long one of ``worker --processes N``'s other engines may take to stop after the
first has gone."""


def run(args: argparse.Namespace, location: StoreLocation) -> int:
    """Run the engine on the store at ``location`` (and ``args.processes - 1`` more
    in processes of their own), printing each attempt on stderr, until a signal or,
    with ``args.until_idle``, until nothing is queued or due.

    Returns:
        0, or 1 when one of the other engines failed.

    Raises:
        StoreError, SecretStoreError, InputError: the store, keyring or settings
            cannot be used (every engine stops). With ``args.until_idle``, a keyring
            that still cannot be used when the run ends is a SecretStoreError too (its
            one sentence says how many deliveries wait, still pending, and what to
            do); without it the engine says so once and waits for the keyring.
    """
    from hookadmin.delivery.engine import AttemptOutcome, Engine
    from hookadmin.delivery.event_loop import EventLoop
    from hookadmin.delivery.policy import DeliverySettings, engine_share

    keyring_down = False
    keyring_problem = ""
    waiting: set[str] = set()  # deliveries whose secret could not be read

    def on_keyring(problem: str | None) -> None:
        nonlocal keyring_down, keyring_problem
        was_down, keyring_down = keyring_down, problem is not None
        keyring_problem = problem or ""
        if args.until_idle or (problem is None and not was_down):
            return  # the run ends with one sentence instead (see below); or it never was
        if problem is None:
            print("hookadmin worker: the OS keyring can be used again; waiting deliveries "
                  "go out now.", file=sys.stderr, flush=True)
        else:
            print(f"hookadmin worker: deliveries wait, and are never sent unsigned, until "
                  f"the OS keyring can be used: {problem}", file=sys.stderr, flush=True)

    lines = AttemptLines()

    def report(o: AttemptOutcome) -> None:
        if keyring_down and o.error_kind == "secret_unavailable":
            waiting.add(o.delivery_id)
            return  # said once by on_keyring, or at the end of an --until-idle run
        result = str(o.status_code) if o.status_code is not None else o.error_kind
        line = (f"{o.delivery_id} hook {o.hook_id} {o.event_type} attempt {o.attempt_number}: "
                f"{result} in {o.duration_ms or 0:.0f} ms -> {o.status}")
        if o.next_attempt_at is not None:
            line += f" (next attempt {iso(o.next_attempt_at)})"
        lines.add(line)

    with HookService(location) as service:  # opens (and migrates) the database, or fails
        remove_orphaned_secrets(service)
    running = [True]
    server = metrics.start_for_worker(location, args, lambda: running[0])
    engine = Engine(location, settings=engine_share(DeliverySettings(),
                                                args.share_of or args.processes),
                    on_attempt=report, on_keyring=on_keyring,
                    event_loop=EventLoop.parse(args.event_loop) if args.event_loop else None)
    # The other engines: the same command, one process each (-P: never a hookadmin
    # folder in the working directory instead of this one). A team database's URL goes
    # in their environment, never on a command line (it may hold a password).
    command = [sys.executable, "-P", "-m", "hookadmin", "--home", str(location.home),
               "worker",
               "--share-of", str(args.processes),
               *(["--event-loop", args.event_loop] if args.event_loop else []),
               *(["--until-idle"] if args.until_idle else [])]
    # Each tells its number of attempts on its standard output when it ends. Their
    # standard input is a pipe this process never writes to: its end (this process
    # ended, even by kill -9) stops them, so no engine outlives the first.
    others = [subprocess.Popen(command, stdin=subprocess.PIPE,  # noqa: S603 - our own
                               stdout=subprocess.PIPE, text=True, env=location.environ())
              for _ in range(args.processes - 1)]

    def stop_others() -> None:
        for other in others:
            if other.poll() is None:
                other.send_signal(signal.SIGTERM)

    def on_signal(signum: int, _frame: object) -> None:
        engine.stop()
        stop_others()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if args.share_of is not None:
        _stop_with_first_engine(engine)
    try:
        try:
            attempts = engine.run(until_idle=args.until_idle)
        finally:
            lines.flush()  # what the run's last turn reported
    except BaseException:
        stop_others()  # this engine failed (one sentence follows): the others stop too
        for other in others:
            _wait_for_engine(other)
        raise
    finally:
        running[0] = False
        if server is not None:
            server.close()
    if args.share_of is not None:  # one of the others: the first engine sums up
        summary = EngineSummary(attempts, keyring_problem if keyring_down else None,
                                sorted(waiting))
        try:
            print(summary.line(), flush=True)
        except BrokenPipeError:  # the first engine has gone: nobody to tell
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.until_idle and keyring_down:
        stop_others()  # the run ends with the keyring's sentence anyway
    summaries = [_wait_for_engine(other) for other in others]
    # Every engine's view of the keyring counts: the one that met it locked may be any.
    problems = [keyring_problem] if keyring_down else []
    problems += [s.keyring_problem for s in summaries if s.keyring_problem is not None]
    if args.until_idle and problems:
        for s in summaries:
            waiting.update(s.waiting)
        raise SecretStoreError(_keyring_sentence(len(waiting), problems[0]),
                               cause="unavailable")
    counts = [attempts] + [s.attempts for s in summaries]
    total = sum(counts)
    split = f" by {len(counts)} engines ({', '.join(map(str, counts))})" if others else ""
    print(f"hookadmin worker: {total} attempt{'' if total == 1 else 's'} made{split}.",
          file=sys.stderr)
    for number, other in enumerate(others, start=2):
        if other.returncode < 0 and other.returncode != -signal.SIGTERM:
            print(f"hookadmin worker: engine {number} of {len(counts)} was killed (signal "
                  f"{-other.returncode}); the deliveries it held go out again once their "
                  "leases expire.", file=sys.stderr)
    # An engine ended by the SIGTERM passed on above (before it could catch it) stopped
    # as asked, too.
    ok = all(other.returncode in (0, -signal.SIGTERM) for other in others)
    return 0 if ok else 1


def _keyring_sentence(waiting: int, problem: str) -> str:
    """The one sentence an ``--until-idle`` run ends with when the keyring cannot be
    used: ``waiting`` deliveries (never sent unsigned) and ``problem`` (what to do)."""
    count = f"{waiting} deliver{'y waits' if waiting == 1 else 'ies wait'}"
    return f"{count}, unsent and still pending, because the OS keyring cannot be used: {problem}"


class AttemptLines:
    """The lines ``worker`` prints for attempts, written to standard error together once
    the engine has reported a batch (all the attempts one bookkeeping turn recorded):
    one write per batch instead of one per delivery. Called on the engine's event loop;
    :meth:`flush` writes what is left (after the run)."""

    def __init__(self) -> None:
        self.pending: list[str] = []

    def add(self, line: str) -> None:
        """Queue one line (without its newline); it is written once the event loop has
        run the rest of the batch."""
        if not self.pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self.pending.append(line)

    def flush(self) -> None:
        """Write the queued lines now, in the order they came."""
        lines, self.pending = self.pending, []
        if lines:
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()


@dataclass(frozen=True)
class EngineSummary:
    """What one of ``worker --processes N``'s other engines tells the first when it
    ends, as one JSON line on its standard output.

    Attributes:
        attempts: the attempts it made.
        keyring_problem: why it could not use the OS keyring when it ended, or None.
        waiting: the ids of the deliveries that waited for the keyring meanwhile.
    """

    attempts: int
    keyring_problem: str | None = None
    waiting: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The summary as one line of JSON (without its newline)."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_line(cls, text: str) -> EngineSummary:
        """The summary one line holds; an engine that ended without one (killed) or
        with another shape made no attempts as far as the first engine knows."""
        try:
            data = json.loads(text)
        except ValueError:
            return cls(0)
        if not isinstance(data, dict):
            return cls(0)
        attempts, problem, waiting = (data.get("attempts"), data.get("keyring_problem"),
                                      data.get("waiting"))
        return cls(attempts if isinstance(attempts, int) else 0,
                   problem if isinstance(problem, str) else None,
                   [w for w in waiting if isinstance(w, str)]
                   if isinstance(waiting, list) else [])


def _wait_for_engine(other: subprocess.Popen[str]) -> EngineSummary:
    """Wait for one of ``worker --processes N``'s other engines to end (its standard
    input stays open meanwhile, see :func:`_stop_with_first_engine`); returns what it
    reported (no attempts if it reported nothing)."""
    assert other.stdout is not None
    assert other.stdin is not None
    out = other.stdout.read()
    other.wait()
    other.stdout.close()
    other.stdin.close()
    return EngineSummary.from_line(out.strip())


def _stop_with_first_engine(engine: Engine) -> None:
    """In one of ``worker --processes N``'s other engines: stop cleanly when standard
    input ends, which is when the first engine's process has ended, however it ended.
    A stop that takes longer than :data:`ORPHAN_STOP_SECONDS` ends the process (the
    leases it held then expire by themselves)."""
    fd = sys.stdin.fileno()

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered read would
        # stop the interpreter from shutting down when the engine ends normally.
        with contextlib.suppress(OSError):
            while os.read(fd, 4096):
                pass
        engine.stop()
        if not threading.Event().wait(ORPHAN_STOP_SECONDS):
            os._exit(1)

    threading.Thread(target=watch, name="hookadmin-first-engine", daemon=True).start()
