"""Waking engines of this process as soon as new work is committed.

A publisher that commits events (or makes deliveries due again) rings every engine
watching the same store: engines in this process directly, through the callbacks
registered here, and engines in other processes through the store's own signal (a
datagram to each engine's socket for SQLite, :mod:`hookadmin.core.store.sqlite.wake`;
``NOTIFY`` for PostgreSQL). Best effort: an engine that is not rung still finds the
work at its next look (``wake_interval``, or ``idle_wake_interval`` when idle).

Stores are named by a *key*: the database file's resolved path for SQLite, the URL as
given for PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

_lock = threading.Lock()
_listeners: dict[str, list[Callable[[], None]]] = {}


def listen(key: str, wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` whenever :func:`ring` is called for ``key`` in this process.

    ``wake`` runs on the ringing thread, right after its commit: it must be quick and
    thread-safe (e.g. ``loop.call_soon_threadsafe``) and should not raise (what it
    raises is ignored).

    Returns:
        A function that stops the calls (safe to call more than once).
    """
    with _lock:
        _listeners.setdefault(key, []).append(wake)

    def stop() -> None:
        with _lock:
            found = _listeners.get(key, [])
            if wake in found:
                found.remove(wake)
            if not found:
                _listeners.pop(key, None)

    return stop


def ring(key: str) -> bool:
    """Wake the engines of this process that listen for ``key``.

    Returns:
        Whether any was listening.
    """
    with _lock:
        found = list(_listeners.get(key, ()))
    for wake in found:
        try:
            wake()
        except Exception:  # noqa: BLE001, S112 - best effort: the engine looks anyway soon
            continue
    return bool(found)
