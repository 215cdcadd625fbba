"""The engine's bookkeeper (:mod:`hookadmin.delivery.bookkeeper`) in a process of its
own: the transport between an engine and its child.

Why another process: the engine is bound by CPU, and in one process the bookkeeping's
Python work (binding rows, building attempt records) took the GIL from the event loop
that sends. Here it runs on another core beside the sends (``docs/decisions.md``).

The wire: :class:`BookkeepingProcess` starts
``python -P -m hookadmin.delivery.bookkeeping FD`` with one end of a socket pair as
``FD``, and sends typed requests (:mod:`hookadmin.delivery.bookkeeping_wire`), pickled
with a 4-byte length before each; each request gets its one reply type back, or a
:class:`~hookadmin.delivery.bookkeeping_wire.Failure` (an error's kind and sentence).
A turn's reply may be preceded by a :class:`~hookadmin.delivery.bookkeeping_wire.Claimed`:
the deliveries the turn claimed, sent as soon as their claim is committed and before
the turn records finished attempts, so fresh deliveries never wait for a batch of
records. The child is its own process group (a Ctrl+C in the terminal reaches the
engine, which then winds up through it) and exits when the engine's end of the socket
closes, so an engine killed with ``kill -9`` never leaves it behind.
"""

from __future__ import annotations

import contextlib
import functools
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hookadmin.core.errors import StoreFault
from hookadmin.core.store import StoreLocation, as_location
from hookadmin.delivery.bookkeeper import Bookkeeper
from hookadmin.delivery.bookkeeping_wire import (
    REPLIES,
    BookkeepingError,
    Claimed,
    ClaimRequest,
    ErrorKind,
    Failure,
    Finished,
    FinishedWire,
    LogEntry,
    Logs,
    Open,
    Opened,
    Reply,
    Request,
    Start,
    Started,
    Status,
    TakeLogs,
    TurnRequest,
    TurnResult,
    WindUp,
    WoundUp,
    job_from_wire,
    job_to_wire,
)
from hookadmin.delivery.policy import DeliverySettings

if TYPE_CHECKING:  # the child never imports asyncio
    import asyncio

__all__ = [  # the wire's names, for the engine and the tests
    "Bookkeeper", "BookkeepingError", "BookkeepingProcess", "ClaimRequest", "Claimed",
    "Finished", "Opened", "TurnRequest", "TurnResult", "job_from_wire", "job_to_wire",
]

MODULE = "hookadmin.delivery.bookkeeping"
START_SECONDS = 30.0  # the child must answer its first call within this
# What a failed write leaves undone, in the sentence of a StoreFault.
UNSAVED = ("the delivery engine could not record its work (deliveries it had not "
           "recorded go out again once their leases expire)")


_R = TypeVar("_R", Started, Opened, TurnResult, WoundUp, Logs)


class BookkeepingProcess:
    """A :class:`Bookkeeper` in a child process, called one request at a time from an
    asyncio event loop (create it with :meth:`start`). Each method sends one request of
    :mod:`hookadmin.delivery.bookkeeping_wire` and returns its reply.

    Every method raises the error the bookkeeper raised (a
    :class:`~hookadmin.core.errors.StoreError`, ...; a BookkeepingError for an
    unexpected one), or BookkeepingError when the child has gone.
    """

    def __init__(self, proc: subprocess.Popen[bytes], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._proc = proc
        self._reader = reader
        self._writer = writer
        self._exchange: asyncio.Future[Reply] | None = None

    @classmethod
    async def start(cls, home: StoreLocation | Path,
                    settings: DeliverySettings) -> BookkeepingProcess:
        """Start the child and its :class:`Bookkeeper` for ``home`` (its location,
        a team database's URL included, goes through the socket, never on the child's
        command line).

        Raises:
            BookkeepingError: the child did not start within :data:`START_SECONDS`.
            StoreError: the database cannot be opened.
        """
        import asyncio

        ours, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [sys.executable, "-P", "-m", MODULE, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as err:
            ours.close()
            raise BookkeepingError(f"The engine's bookkeeping process could not be started "
                                   f"({err.strerror or err}).") from None
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        keeper = cls(proc, reader, writer)
        try:
            async with asyncio.timeout(START_SECONDS):
                await keeper._ask(Start(as_location(home), settings), Started)
        except TimeoutError:
            await keeper.close()
            raise BookkeepingError("The engine's bookkeeping process did not start within "
                                   f"{START_SECONDS:g} s.") from None
        except BaseException:
            await keeper.close()
            raise
        return keeper

    async def open(self) -> Opened:
        """See :meth:`Bookkeeper.open`."""
        return await self._ask(Open(), Opened)

    async def turn(self, request: TurnRequest,
                   on_claimed: Callable[[Claimed], None] | None = None) -> TurnResult:
        """See :meth:`Bookkeeper.turn`: ``on_claimed`` is called (on the event loop) with
        the turn's claims as soon as they are committed, before the turn records what
        finished; without it they come in the returned result.

        Raises:
            as the class says; when ``on_claimed`` was called before, its claims stand.
        """
        return await self._ask(request, TurnResult, on_claimed)

    async def wind_up(self, finished: list[FinishedWire], leftover: list[int]) -> list[Status]:
        """See :meth:`Bookkeeper.wind_up`."""
        return (await self._ask(WindUp(finished, leftover), WoundUp)).statuses

    async def take_logs(self) -> list[LogEntry]:
        """See :meth:`Bookkeeper.take_logs`."""
        return (await self._ask(TakeLogs(), Logs)).entries

    async def call(self, request: Request,
                   on_claimed: Callable[[Claimed], None] | None = None) -> Reply:
        """Send one request and wait for its reply (a :class:`Failure` is returned, not
        raised; the typed methods above raise it). A turn's :class:`Claimed` goes to
        ``on_claimed``, or without it into the returned :class:`TurnResult`.

        Raises:
            BookkeepingError: the child has gone.
        """
        import asyncio

        previous = self._exchange
        if previous is not None and not previous.done():
            # A cancelled caller's call is still under way: its answer must be read
            # before this call's, or every later answer would be one call late.
            await asyncio.wait({previous})
        exchange = self._exchange = asyncio.ensure_future(
            self._send_and_receive(request, on_claimed))
        exchange.add_done_callback(_retrieved)
        return await asyncio.shield(exchange)  # a cancelled caller leaves it going

    async def _ask(self, request: Request, expected: type[_R],
                   on_claimed: Callable[[Claimed], None] | None = None) -> _R:
        reply = await self.call(request, on_claimed)
        if isinstance(reply, expected):
            return reply
        if isinstance(reply, Failure):
            raise reply.error()
        raise BookkeepingError(f"The engine's bookkeeping process answered "
                               f"{type(request).__name__} with {type(reply).__name__}.")

    async def _send_and_receive(self, request: Request,
                                on_claimed: Callable[[Claimed], None] | None) -> Reply:
        import asyncio

        write_message(self._writer.write, request)
        try:
            answer = await self._receive()
            if isinstance(answer, Claimed):  # a turn's first part, the rest follows
                try:
                    if on_claimed is not None:
                        on_claimed(answer)
                finally:  # read on even when it raised: the next call's answer is next
                    rest = await self._receive()
                answer = answer.merged(rest) if on_claimed is None \
                    and isinstance(rest, TurnResult) else rest
        except (asyncio.IncompleteReadError, ConnectionError):
            code = self._proc.poll()
            raise BookkeepingError(
                "The engine's bookkeeping process ended unexpectedly"
                + (f" (exit status {code})" if code is not None else "")
                + "; deliveries it had claimed go out again once their leases expire.") from None
        return answer

    async def _receive(self) -> Reply:
        """The child's next message."""
        size = int.from_bytes(await self._reader.readexactly(4), "big")
        answer: Reply = pickle.loads(  # noqa: S301 - our own child's bytes
            await self._reader.readexactly(size))
        return answer

    async def close(self, timeout: float = 2.0) -> None:
        """End the child: it exits when its end of the socket closes."""
        import asyncio

        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        deadline = time.monotonic() + timeout
        while self._proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def _retrieved(future: asyncio.Future[Reply]) -> None:
    """Mark a call's outcome as seen (its caller may have been cancelled meanwhile)."""
    if not future.cancelled():
        future.exception()


def write_message(write: Callable[[bytes], object], message: Request | Reply) -> None:
    """Send one message of the wire: its length (4 bytes, big-endian), then its pickle.

    ``write`` takes bytes and sends all of them (``socket.sendall``), called once per
    message (length and pickle together, so the reader is woken once, not once for
    the length and again for the rest); it raises what it raises (``OSError`` once the
    other end is gone). Both ends use it: the child for its replies, and whoever plays
    the engine's end of the socket pair for requests.
    """
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    write(len(data).to_bytes(4, "big") + data)


def _serve(sock: socket.socket) -> None:
    """The child's loop: answer requests until the engine closes its end."""
    incoming = sock.makefile("rb")
    keeper: Bookkeeper | None = None
    while True:
        try:
            header = incoming.read(4)
            size = int.from_bytes(header, "big")
            data = incoming.read(size) if len(header) == 4 else b""
        except OSError:  # reset: the engine died (kill -9) before reading an answer
            break
        if len(header) < 4 or len(data) < size:
            break  # the engine closed its end, or died, perhaps in the middle of a call
        request = pickle.loads(data)  # noqa: S301 - our own engine's bytes
        reply: Reply
        try:
            if isinstance(request, Start):
                keeper = Bookkeeper(request.home, request.settings)
                reply = Started()
            elif keeper is None or type(request) not in REPLIES:
                reply = Failure(ErrorKind.BOOKKEEPING, "The bookkeeper cannot answer "
                                f"{type(request).__name__} now.")
            else:
                # A turn's claims go out as soon as they are committed (Bookkeeper.turn).
                reply = keeper.answer(request, functools.partial(write_message, sock.sendall))
        except StoreFault as err:  # a full disk, a lock held too long: typed, one sentence
            reply = Failure.of(err.saying(UNSAVED))
        except Exception as err:  # noqa: BLE001 - every error goes back to the engine
            reply = Failure.of(err)
        try:
            write_message(sock.sendall, reply)
        except OSError:
            break
    if keeper is not None:
        keeper.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The child's entry point: ``FD``, the inherited end of the socket pair."""
    args = list(sys.argv[1:] if argv is None else argv)
    with socket.socket(fileno=int(args[0])) as sock:
        _serve(sock)
    return 0


if __name__ == "__main__":
    # Run the module under its own name, so what it pickles names its classes as
    # hookadmin.delivery.bookkeeping.X, not __main__.X.
    from hookadmin.delivery import bookkeeping

    raise SystemExit(bookkeeping.main())
