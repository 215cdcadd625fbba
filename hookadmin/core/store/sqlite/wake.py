"""Waking the engines of a SQLite data directory in other processes: each running
engine binds a Unix datagram socket in the data directory's ``wake`` folder, and a
publisher sends one byte to each socket there after its commit.

Best effort on both sides: a datagram that cannot be sent (the receiver's queue is
full: it has been rung already; the socket path is too long; the folder cannot be
made) is skipped, and the engine finds the work at its next look anyway. A socket
left by an engine that was killed answers ``ECONNREFUSED`` and is removed by the
publisher that finds it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import socket
import threading
from pathlib import Path

from hookadmin.core.store import wakeups

WAKE_DIR = "wake"
"""The folder of the data directory that holds the engines' sockets."""

_MAX_PATH = 107  # bytes of a Unix socket's path, its terminating NUL left out (Linux)

_sender_lock = threading.Lock()
_sender: socket.socket | None = None  # one unbound socket per process, for every ring


def key_of(db_path: Path) -> str:
    """The key of a database file among :mod:`hookadmin.core.store.wakeups`'s."""
    return str(db_path.resolve())


class WakeSocket:
    """An engine's doorbell: a non-blocking datagram socket bound in ``home/wake``
    (create it with :meth:`open`); it becomes readable when a publisher rings.

    Args:
        sock: the bound socket.
        path: where it is bound (removed by :meth:`close`).
    """

    def __init__(self, sock: socket.socket, path: Path) -> None:
        self._sock = sock
        self.path = path

    @classmethod
    def open(cls, home: Path) -> WakeSocket | None:
        """Bind a new socket in ``home/wake`` (made, private to the user, if missing).

        Returns:
            The socket, or None when it cannot be made (the path would be longer than a
            Unix socket allows, the folder cannot be written): the engine then finds
            new work at its next look only.
        """
        folder = home / WAKE_DIR
        path = folder / f"{os.getpid()}-{secrets.token_hex(4)}"
        if len(os.fsencode(path)) > _MAX_PATH:
            return None
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        except OSError:
            return None
        try:
            sock.setblocking(False)
            sock.bind(os.fspath(path))
        except OSError:
            sock.close()
            return None
        return cls(sock, path)

    def fileno(self) -> int:
        """The socket's descriptor, readable when rung."""
        return self._sock.fileno()

    def drain(self) -> bool:
        """Read every datagram waiting, without blocking. Returns whether there was
        one (the bell was rung since the last call)."""
        rung = False
        while True:
            try:
                self._sock.recv(64)
            except (BlockingIOError, InterruptedError):
                return rung
            except OSError:
                return rung
            rung = True

    def close(self) -> None:
        """Close the socket and remove its path."""
        self._sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def ring(home: Path, key: str) -> None:
    """After a commit that left new work (events published, deliveries made due):
    wake every engine of the data directory ``home`` (the store's key ``key``) in this
    process directly, and those of other processes through their sockets. Never
    raises; costs a directory listing and one ``sendto`` per engine."""
    local = wakeups.ring(key)
    ours = f"{os.getpid()}-"
    try:
        entries = list(os.scandir(home / WAKE_DIR))
    except OSError:
        return  # no engine ever ran here, or the folder cannot be read
    sender = _sending_socket()
    if sender is None:
        return
    for entry in entries:
        if local and entry.name.startswith(ours):
            continue  # rung directly above
        try:
            sender.sendto(b"\0", entry.path)
        except OSError as err:
            if err.errno == errno.ECONNREFUSED:  # its engine was killed: nobody reads it
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            # EAGAIN: its queue is full, so it has been rung already; others: skip


def _sending_socket() -> socket.socket | None:
    global _sender  # one per process, made at the first ring
    with _sender_lock:
        if _sender is None:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            except OSError:
                return None
            sock.setblocking(False)
            _sender = sock
        return _sender
