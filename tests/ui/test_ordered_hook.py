"""An ordered hook held up in the window: the hook page's banner names the delivery the
others wait behind and when it is tried next, *Open delivery* shows it on the Deliveries
tab, and both tables say "waits in order" for the held deliveries. Against a real
receiver that keeps failing, so the head of the queue really waits for its retry."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from hookadmin.core.ordering import blocking_delivery, order_heads, waits_in_order
from hookadmin.core.service import HookService
from hookadmin.ui.display import local_time
from hookadmin.ui.main_window import MainWindow
from tests.helpers import FAST, resource, run_until_idle
from tests.receiver import Receiver, status
from tests.ui.conftest import HookFactory
from tests.ui.gui import click, click_checkbox, refresh_window, select_hook, view_rows

Make = Callable[..., Receiver]
LATER = dataclasses.replace(FAST, retry_schedule=(0, 600))  # the retry in ten minutes
PAGE_RESULT, PAGE_ID = 1, 5
TAB_RESULT, TAB_NEXT, TAB_ID = 3, 6, 8


def held_up(service: HookService, make_receiver: Make, hook_factory: HookFactory) -> int:
    """An ordered hook with three deliveries: the first failed against the receiver and
    retries in ten minutes, the other two wait behind it. Returns the hook id."""
    receiver = make_receiver(status(503))
    hook = hook_factory(receiver.url, name="ledger", events=("job",))
    service.set_ordered(hook.id, True)
    for n in range(1, 4):
        service.publish("job.failed", resource("job.failed", n))
    assert run_until_idle(service.home, LATER, timeout=15) == 1
    assert len(receiver.requests()) == 1
    return hook.id


def test_the_queries_name_the_head_and_the_held(service: HookService, make_receiver: Make,
                                                hook_factory: HookFactory) -> None:
    hook_id = held_up(service, make_receiver, hook_factory)
    newest_first = service.store.list_deliveries(hook_id=hook_id)
    head = blocking_delivery(service.store, hook_id)
    assert head is not None
    assert head.id == newest_first[-1].id
    assert head.attempts == 1
    assert head.next_attempt_at is not None
    assert head.next_attempt_at > time.time() + 500
    heads = {h: d.seq for h, d in order_heads(service.store).items()}
    assert heads == {hook_id: head.seq}
    assert [waits_in_order(d, heads) for d in newest_first] == [True, True, False]
    service.set_ordered(hook_id, False)
    assert blocking_delivery(service.store, hook_id) is None
    assert order_heads(service.store) == {}


def test_the_hook_page_says_which_delivery_blocks_and_opens_it(
        qtbot: QtBot, service: HookService, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook_id = held_up(service, make_receiver, hook_factory)
    ids = [d.id for d in service.store.list_deliveries(hook_id=hook_id)]  # newest first
    head = service.store.get_delivery(ids[-1])
    assert head.next_attempt_at is not None
    window = open_window()
    select_hook(qtbot, window, hook_id)
    banner = window.page.ordered_banner
    qtbot.waitUntil(banner.isVisible)
    assert banner.label.text() == (
        f"Deliveries wait in order behind delivery {head.id} (retrying, next attempt at "
        f"{local_time(head.next_attempt_at)}).")
    rows = view_rows(window.page.deliveries_view)
    assert [(r[PAGE_ID], r[PAGE_RESULT]) for r in rows] == [
        (ids[0], "waits in order"), (ids[1], "waits in order"), (ids[2], "retrying (503)")]

    click(qtbot, banner.open_button)
    page = window.deliveries_page
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is page)
    selected = page.selected_delivery()
    assert selected is not None
    assert selected.id == head.id
    assert page.search_edit.text() == head.id
    qtbot.waitUntil(lambda: head.id in page.details.toPlainText())
    assert "503" in page.details.toPlainText()

    page.search_edit.clear()  # all deliveries again: the held ones say why they wait
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    refresh_window(qtbot, window)
    rows = view_rows(page.view)
    assert [(r[TAB_ID], r[TAB_RESULT], r[TAB_NEXT]) for r in rows] == [
        (ids[0], "waits in order", "waits in order"),
        (ids[1], "waits in order", "waits in order"),
        (ids[2], "retrying (503)", local_time(head.next_attempt_at))]


def test_an_unordered_hook_has_no_banner_and_nothing_waits(
        qtbot: QtBot, service: HookService, make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    hook_id = held_up(service, make_receiver, hook_factory)
    window = open_window()
    select_hook(qtbot, window, hook_id)
    qtbot.waitUntil(window.page.ordered_banner.isVisible)
    box = window.page.ordered_box
    assert box.isChecked()
    click_checkbox(qtbot, box)  # off: later deliveries may overtake again
    qtbot.waitUntil(lambda: not window.page.ordered_banner.isVisible())
    assert hook_id not in service.ordered_hooks()
    assert not box.isChecked()
    results = [r[PAGE_RESULT] for r in view_rows(window.page.deliveries_view)]
    assert results == ["queued", "queued", "retrying (503)"]


def test_the_hook_page_makes_a_hook_ordered_and_the_change_is_audited(
        qtbot: QtBot, service: HookService, hook_factory: HookFactory,
        window: MainWindow) -> None:
    hook = hook_factory("https://example.com/h", events=("job",))
    refresh_window(qtbot, window)  # the window was open before the hook was made
    select_hook(qtbot, window, hook.id)
    box = window.page.ordered_box
    assert not box.isChecked()
    click_checkbox(qtbot, box)
    qtbot.waitUntil(lambda: hook.id in service.ordered_hooks())
    refresh_window(qtbot, window)
    assert box.isChecked()  # read back from the database
    entry = service.store.list_audit()[-1]
    assert (entry.action, entry.hook_id) == ("hook.ordered", hook.id)
