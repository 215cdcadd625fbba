"""The PySide6 6.12.0 emit() reference bug and its workaround in hookadmin.ui.qtcompat.

Without the workaround every ``signal.emit()`` made from Python drops a reference to
``True`` and the window aborts ("Fatal Python error: bool_dealloc") after a few hundred
checkbox changes or delivery attempts.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import PySide6
import pytest
from PySide6.QtCore import SignalInstance
from pytestqt.qtbot import QtBot

import hookadmin.ui  # noqa: F401 - importing the package applies the workaround
from hookadmin.ui import qtcompat
from hookadmin.ui.event_picker import EventPicker
from tests.ui.gui import click_checkbox


@contextmanager
def no_garbage_collection() -> Iterator[None]:
    """Collect garbage left by earlier tests now and not during the block, so the only
    references to ``True`` that go away in it are the ones the code under test drops."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_emitting_a_signal_keeps_the_reference_count_of_true(qtbot: QtBot) -> None:
    picker = EventPicker()
    qtbot.addWidget(picker)
    with no_garbage_collection():
        before = sys.getrefcount(True)
        for _ in range(200):
            picker.changed.emit()
        after = sys.getrefcount(True)
    assert after >= before - 10  # the bug lost one per emit (200)


def test_clicking_checkboxes_many_times_keeps_the_reference_count_of_true(
        qtbot: QtBot) -> None:
    picker = EventPicker()
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    job = picker.group_boxes["job"]
    with no_garbage_collection():
        before = sys.getrefcount(True)
        for number in range(1, 101):
            click_checkbox(qtbot, job)
            assert picker.subscription() == (["job"] if number % 2 else [])
        after = sys.getrefcount(True)
    assert after >= before - 10  # the bug lost one per change (>= 100)
    picker.close()


@pytest.mark.parametrize(("version", "probed"), [((6, 11, 3, "", ""), False),
                                                 ((6, 12, 0, "", ""), True),
                                                 ((7, 0, 0, "", ""), True)])
def test_only_releases_from_6_12_on_are_probed(
        monkeypatch: pytest.MonkeyPatch, version: tuple[object, ...], probed: bool) -> None:
    """The bug cannot be made on this machine's binding: which releases are probed is
    what is checked (the probe itself runs on the window's first-frame path otherwise)."""
    calls: list[bool] = []
    if getattr(SignalInstance.emit, "_hookadmin_refcount_fix", False):
        pytest.skip("this binding has the bug: the workaround is in place already")
    monkeypatch.setattr(PySide6, "__version_info__", version)
    monkeypatch.setattr(qtcompat, "_emit_drops_a_reference", lambda: calls.append(True) or False)
    assert qtcompat.fix_signal_emit_refcount() is False
    assert calls == ([True] if probed else [])
