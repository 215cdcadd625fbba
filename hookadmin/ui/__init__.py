"""The PySide6 window (DESIGN.md §8: ``ui`` → ``delivery`` → ``core``)."""

from hookadmin.ui.qtcompat import fix_signal_emit_refcount

fix_signal_emit_refcount()
