"""The engine's side of a keyring that cannot be used: noticing that it can be again.

A delivery whose secret could not be read is recorded as a ``secret_unavailable``
attempt and tried again ``secret_retry_interval`` (60 s) later (see
:mod:`hookadmin.delivery.retry`). :class:`KeyringWait` shortens that wait to moments
after the keyring can be used again:

* after a failed read, an :class:`~hookadmin.core.keyring_watch.UnlockWatch` runs on a
  thread of its own and tells the engine's loop when the keyring is unlocked (never
  prompting; a keyring backend that cannot be watched leaves the fixed interval);
* the window tells the engine when its own keyring call succeeded (the user unlocked
  the keyring to reveal a secret) or failed (so the engine watches too and reports the
  keyring usable once it is, which clears the window's status bar).

Either way the waiting deliveries are made due at the engine's next turn
(:meth:`take_due`). A keyring found unlocked whose reads still fail is not retried
again at once: each such round waits twice as long as the last, from
:data:`FIRST_PAUSE` up to ``secret_retry_interval``, until a read succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from hookadmin.core.keyring_watch import UnlockWatch, unlock_watch
from hookadmin.core.secrets import HookSecrets

FIRST_PAUSE = 2.0  # seconds before a second round after reads failed on an unlocked keyring


class KeyringWait:
    """When deliveries waiting for the keyring go out again. Used on the engine's event
    loop only.

    Args:
        secrets: where the engine reads secrets (watched when it is the Secret
            Service; see :func:`~hookadmin.core.keyring_watch.unlock_watch`).
        back: called on the loop when the keyring can be used again (the engine
            reports it and wakes its loop, which then calls :meth:`take_due`).
        longest_pause: seconds; the longest pause between rounds whose reads still
            failed (the engine's ``secret_retry_interval``).
    """

    def __init__(self, secrets: HookSecrets, back: Callable[[], None], *,
                 longest_pause: float) -> None:
        self._secrets = secrets
        self._unwatchable = False  # found out by the first watch
        self._back = back
        self._longest = longest_pause
        self._loop = asyncio.get_running_loop()
        self._cancel = threading.Event()
        self._watching = False
        self._due = False
        self._rounds = 0  # rounds made due since the last successful read
        self._last_round = float("-inf")  # loop time of the last round
        self._later: asyncio.TimerHandle | None = None  # a round put off by its pause

    @property
    def watching(self) -> bool:
        """True while a watch waits for the keyring to be unlocked."""
        return self._watching

    def unusable(self) -> None:
        """A read found the keyring unusable (locked, or its service not answering):
        watch for it to be usable again, one watch at a time."""
        if self._unwatchable or self._watching or self._cancel.is_set():
            return
        self._watching = True
        threading.Thread(target=self._run, daemon=True,
                         name="hookadmin-keyring-watch").start()

    def read_ok(self) -> None:
        """A secret was read: the keyring works, the next problem starts afresh."""
        self._rounds = 0

    def answered(self) -> None:
        """The keyring can be used now (the window's own call succeeded, or the watch
        saw it unlocked): the deliveries that wait for it are due at the next turn, or
        after a pause when the last round's reads failed too."""
        if self._later is not None:
            return  # a round is already put off; it covers this answer too
        pause = 0.0 if self._rounds == 0 else min(FIRST_PAUSE * 2 ** (self._rounds - 1),
                                                   self._longest)
        wait = self._last_round + pause - self._loop.time()
        if wait > 0:
            self._later = self._loop.call_later(wait, self._put_off)
            return
        self._rounds += 1
        self._last_round = self._loop.time()
        self._due = True
        self._back()

    def _put_off(self) -> None:
        self._later = None
        if not self._cancel.is_set():
            self.answered()

    def take_due(self) -> bool:
        """Whether the engine's next turn makes the waiting deliveries due (once)."""
        due, self._due = self._due, False
        return due

    def give_back(self, due: bool) -> None:
        """A turn that was to make them due failed: the next one does."""
        self._due = self._due or due

    def close(self) -> None:
        """Stop watching (on the loop); the watch's thread ends at its next wake-up."""
        self._cancel.set()
        if self._later is not None:
            self._later.cancel()
            self._later = None

    def _run(self) -> None:
        watch: UnlockWatch | None = unlock_watch(self._secrets)  # imports keyring's backends
        unlocked = watch is not None and watch.wait(self._cancel)
        with contextlib.suppress(RuntimeError):  # the loop closed: the run is over
            self._loop.call_soon_threadsafe(self._watched, unlocked, watch is None)

    def _watched(self, unlocked: bool, unwatchable: bool) -> None:
        self._watching = False
        self._unwatchable = unwatchable
        if unlocked and not self._cancel.is_set():
            self.answered()
