"""Workarounds for bugs in the Qt bindings, applied once when :mod:`hookadmin.ui` is
imported.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a reference
to it, so every signal emitted from Python code drops one reference to ``True``. The
interpreter aborts ("Fatal Python error: bool_dealloc") once the count reaches zero,
which the window reaches after a few hundred emits (checkbox changes, delivery
attempts). :func:`fix_signal_emit_refcount` detects the bug with a probe and, only
where it is present, gives the missing reference back after every emit.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    fired = Signal()


def _incref_function() -> Any:
    import ctypes  # only where the bug is present: 10 ms of the window's start-up

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    return incref


def _emit_drops_a_reference() -> bool:
    """Emit a probe signal a few times; True when references to ``True`` were lost
    (they are given back before returning)."""
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
    result. Idempotent. Returns True when the patch is in place."""
    if getattr(SignalInstance.emit, "_hookadmin_refcount_fix", False):
        return True
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
