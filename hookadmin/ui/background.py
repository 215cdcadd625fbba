"""Work the window hands to threads of its own, so the GUI thread never waits for the
database or the OS keyring: a :class:`Lane` runs one job at a time on one thread and
hands each result back to the GUI thread through a queued signal.

Two lanes serve the window: *reads* (the periodic reads of hooks, recent deliveries
and the status bar's counts, as query objects run against a store of the lane's own)
and *keyring* (every call that may make the OS keyring prompt: create, reveal, reset,
delete). One keyring call at a time means a locked keyring prompts once: the calls
behind the first find it unlocked.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from hookadmin.core.errors import HookadminError

if TYPE_CHECKING:
    from hookadmin.core.service import HookService
    from hookadmin.core.store import Repository

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class _Outcome(Generic[T]):
    """What a job gave: a value, or the sentence of a :class:`HookadminError`."""

    on_done: Callable[[T], None]
    on_error: Callable[[HookadminError], None]
    value: T | None = None
    error: HookadminError | None = None


class Lane(QObject, Generic[R]):
    """One thread that runs jobs in order, each given a resource the thread opened
    itself (a store or a service), and reports back in the GUI thread.

    Args:
        name: the thread's name (``hookadmin-reads``, ``hookadmin-keyring``).
        open_resource: called once, in the lane's thread, before the first job; its
            value is given to every job. A :class:`HookadminError` it raises fails the
            job (and is tried again on the next one).
        close_resource: called in the lane's thread by :meth:`close`.
        slow_after_ms: a job still running after this long makes ``busy_changed(True)``.
        parent: the Qt parent.

    Signals:
        busy_changed(bool): True when a job has been running longer than
            ``slow_after_ms``; False when nothing is waiting any more.
    """

    busy_changed = Signal(bool)
    _finished = Signal(object)  # an _Outcome, emitted in the lane's thread

    def __init__(self, name: str, open_resource: Callable[[], R],
                 close_resource: Callable[[R], None] | None = None, *,
                 slow_after_ms: int = 300, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._open, self._close_resource = open_resource, close_resource
        self._resource: R | None = None
        self._resource_lock = threading.Lock()
        self._pending = 0
        self._busy = False
        self._closed = False
        self._slow = QTimer(self)
        self._slow.setSingleShot(True)
        self._slow.setInterval(slow_after_ms)
        self._slow.timeout.connect(self._on_slow)
        self._finished.connect(self._deliver)

    @property
    def busy(self) -> bool:
        """True while a job has been running longer than ``slow_after_ms``."""
        return self._busy

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet reported back."""
        return self._pending

    def submit(self, job: Callable[[R], T], on_done: Callable[[T], None],
               on_error: Callable[[HookadminError], None]) -> None:
        """Run ``job(resource)`` in the lane's thread after the jobs before it; then,
        in the GUI thread, ``on_done(value)`` or ``on_error(err)`` for a
        :class:`HookadminError`. Any other exception is logged and reported as a
        :class:`HookadminError` with one sentence."""
        if self._closed:
            return
        self._pending += 1
        if not self._slow.isActive() and not self._busy:
            self._slow.start()
        self._executor.submit(self._run, job, on_done, on_error)

    def _resource_now(self) -> R:
        with self._resource_lock:
            if self._resource is None:
                self._resource = self._open()
            return self._resource

    def _run(self, job: Callable[[R], T], on_done: Callable[[T], None],
             on_error: Callable[[HookadminError], None]) -> None:
        try:
            outcome: _Outcome[T] = _Outcome(on_done, on_error, value=job(self._resource_now()))
        except HookadminError as err:
            outcome = _Outcome(on_done, on_error, error=err)
        except Exception as err:
            log.exception("background job failed")
            outcome = _Outcome(on_done, on_error,
                               error=HookadminError(f"Something went wrong: {err}."))
        with contextlib.suppress(RuntimeError):  # the window is gone already
            self._finished.emit(outcome)

    @Slot(object)
    def _deliver(self, outcome: _Outcome[object]) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._slow.stop()
            if self._busy:
                self._busy = False
                self.busy_changed.emit(False)
        if self._closed:
            return
        if outcome.error is not None:
            outcome.on_error(outcome.error)
        else:
            outcome.on_done(outcome.value)

    @Slot()
    def _on_slow(self) -> None:
        if self._pending and not self._busy:
            self._busy = True
            self.busy_changed.emit(True)

    def close(self, wait: bool = False) -> None:
        """Report nothing more; close the resource in the lane's thread after the
        running job (waiting for it when ``wait``)."""
        self._closed = True
        self._slow.stop()

        def close_resource() -> None:
            with self._resource_lock:
                resource, self._resource = self._resource, None
            if resource is not None and self._close_resource is not None:
                with contextlib.suppress(Exception):
                    self._close_resource(resource)

        with contextlib.suppress(RuntimeError):
            self._executor.submit(close_resource)
        self._executor.shutdown(wait=wait)


def keyring_lane(service: HookService, parent: QObject | None = None) -> Lane[HookService]:
    """The window's keyring lane: every keyring call runs on it, one at a time, with a
    service of its own (its own database connection) on ``service``'s location and
    secret store, so a locked keyring prompts once and the window goes on painting
    meanwhile."""
    from hookadmin.core.service import HookService

    return Lane("hookadmin-keyring",
                lambda: HookService(service.location, secrets=service.secrets),
                lambda lane_service: lane_service.close(), parent=parent)


def reads_lane(service: HookService, parent: QObject | None = None) -> Lane[Repository]:
    """The window's reads lane: the periodic reads run on it, with a store of its own
    opened on ``service``'s location."""
    from hookadmin.core.store import open_store

    return Lane("hookadmin-reads", lambda: open_store(service.location),
                lambda store: store.close(), parent=parent)
