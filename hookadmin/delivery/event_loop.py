"""Which asyncio event loop the engine runs on: the standard one, or uvloop.

uvloop (``pip install 'hookadmin[uvloop]'``) is a drop-in event loop built on libuv.
The engine uses it only when asked (``hookadmin worker --event-loop uvloop``, or
``HOOKADMIN_EVENT_LOOP=uvloop`` for every engine, the window's too) and when it is
installed; otherwise it runs on the standard loop. The measured difference is in the
README's benchmarks section.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
from collections.abc import Callable, Coroutine
from typing import TypeVar

from hookadmin.delivery.gc_tuning import engine_gc

log = logging.getLogger("hookadmin.delivery.engine")

ENV_VAR = "HOOKADMIN_EVENT_LOOP"

_T = TypeVar("_T")


class EventLoop(enum.Enum):
    """The event loop to run the engine on."""

    STANDARD = "asyncio"
    UVLOOP = "uvloop"

    @classmethod
    def parse(cls, text: str) -> EventLoop:
        """The loop named ``text`` (``asyncio`` or ``uvloop``, any case).

        Raises:
            ValueError: another name; its message says which names are known.
        """
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(k.value for k in cls)
            raise ValueError(f"{text!r} is not an event loop hookadmin knows; use one of "
                             f"{names}.") from None

    @classmethod
    def from_environment(cls) -> EventLoop:
        """The loop named by ``$HOOKADMIN_EVENT_LOOP``; the standard one when it is unset
        or names no known loop (said in the log)."""
        text = os.environ.get(ENV_VAR, "")
        if not text:
            return cls.STANDARD
        try:
            return cls.parse(text)
        except ValueError as err:
            log.warning("%s=%s: %s The standard loop is used.", ENV_VAR, text, err)
            return cls.STANDARD


def loop_factory(kind: EventLoop) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """A factory of event loops of this kind for :class:`asyncio.Runner`, or None for
    the standard loop (also when uvloop is asked for but not installed: said once in
    the log)."""
    if kind is EventLoop.STANDARD:
        return None
    try:
        import uvloop
    except ImportError:
        log.warning("uvloop is not installed (pip install 'hookadmin[uvloop]'); the "
                    "engine runs on the standard event loop.")
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[object, object, _T], kind: EventLoop) -> _T:
    """Run ``main`` to its end on a new event loop of this kind (see :func:`asyncio.run`),
    with the garbage collector's first threshold raised while it runs
    (:func:`hookadmin.delivery.gc_tuning.engine_gc`)."""
    with engine_gc(), asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
