"""Workarounds for bugs in the Qt bindings, applied once when :mod:`hookadmin.ui` is
imported.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a reference
to it, so every signal emitted from Python code drops one reference to ``True``. The
interpreter aborts ("Fatal Python error: bool_dealloc") once the count reaches zero,
which the window reaches after a few hundred emits (checkbox changes, delivery
attempts). :func:`fix_signal_emit_refcount` detects the bug with a probe and, only
where it is present, gives the missing reference back after every emit. Releases
before 6.12 do not have the bug and are not probed (the probe's class and its emits
would be on the window's first-frame path).
"""

from __future__ import annotations

import sys
from typing import Any

import PySide6
from PySide6.QtCore import QObject, Signal, SignalInstance

FIRST_AFFECTED = (6, 12)  # (major, minor) of the first release with the bug


def _incref_function() -> Any:
    import ctypes  # only where the bug is present: 10 ms of the window's start-up

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    return incref


def _emit_drops_a_reference() -> bool:
    """Emit a probe signal a few times; True when references to ``True`` were lost
    (they are given back before returning)."""

    class _Probe(QObject):
        fired = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:
        incref = _incref_function()
        for _ in range(lost):
            incref(True)
    return lost > 0


def fix_signal_emit_refcount() -> bool:
    """Patch ``SignalInstance.emit`` if (and only if) it drops a reference to its
    result (PySide6 6.12 and later are probed). Idempotent. Returns True when the
    patch is in place."""
    if getattr(SignalInstance.emit, "_hookadmin_refcount_fix", False):
        return True
    if tuple(PySide6.__version_info__[:2]) < FIRST_AFFECTED:
        return False
    if not _emit_drops_a_reference():
        return False
    original = SignalInstance.emit
    incref = _incref_function()

    def emit(self: SignalInstance, *args: Any) -> Any:
        result = original(self, *args)
        incref(result)  # the reference the binding forgot to return with it
        return result

    emit._hookadmin_refcount_fix = True  # type: ignore[attr-defined]
    SignalInstance.emit = emit  # type: ignore[method-assign]
    return True
