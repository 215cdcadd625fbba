"""Finding deliveries in the Deliveries tab: search by delivery id, event id, body
text, event type or hook name, filter by HTTP status class, sort by a column, select
several and redeliver them, and the empty states, against real receiver processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.helpers import drain, resource
from tests.receiver import Receiver, status
from tests.ui.conftest import HookFactory
from tests.ui.gui import choose, click
from tests.ui.test_deliveries_tab import ATTEMPTS, EVENT, ID, RESULT, open_deliveries_tab, shown

Make = Callable[..., Receiver]


def search(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type into the search box and press Return."""
    edit = window.deliveries_page.search_edit
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_search_filter_sort_and_redeliver_several(
        qtbot: QtBot, home: Path, receiver: Receiver, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    broken = make_receiver(status(503))
    gone = make_receiver(status(404))
    service.set_delivery_options(retry_schedule=[0])  # one attempt, then failed
    hook_factory(receiver.url, name="ok", events=("job",))
    hook_factory(broken.url, name="broken", events=("job.failed",))
    hook_factory(gone.url, name="gone", events=("job.completed",))
    event_ids = [service.publish(kind, resource(kind, n, name=f"orders-{kind}"))
                 for kind, n in (("job.completed", 1), ("job.failed", 2), ("job.started", 3))]
    drain(home)
    every = service.store.list_deliveries(limit=50)
    assert len(every) == 5

    window = open_window()
    open_deliveries_tab(qtbot, window)
    page = window.deliveries_page
    assert len(shown(window, ID)) == 5

    one = every[0]
    search(qtbot, window, one.id)
    qtbot.waitUntil(lambda: shown(window, ID) == [(one.id,)])
    search(qtbot, window, event_ids[1])  # job.failed went to "ok" and "broken"
    qtbot.waitUntil(lambda: sorted(shown(window, EVENT)) == [("job.failed",)] * 2)
    search(qtbot, window, "orders-job.started")
    qtbot.waitUntil(lambda: shown(window, EVENT) == [("job.started",)])
    search(qtbot, window, "job.failed")  # the event type, not in the body
    qtbot.waitUntil(lambda: sorted(shown(window, EVENT)) == [("job.failed",)] * 2)
    search(qtbot, window, "Comple")  # a part of an event type, in another case
    qtbot.waitUntil(lambda: sorted(shown(window, EVENT)) == [("job.completed",)] * 2)
    search(qtbot, window, "broken")  # the hook's name
    qtbot.waitUntil(lambda: shown(window, RESULT) == [("✗ 503",)])
    search(qtbot, window, "no delivery has this text")
    qtbot.waitUntil(page.empty_label.isVisible)
    assert page.empty_label.text() == "No delivery matches these filters."
    search(qtbot, window, "")
    qtbot.waitUntil(lambda: len(shown(window, ID)) == 5)

    choose(qtbot, page.class_box, "5xx")
    qtbot.waitUntil(lambda: shown(window, RESULT) == [("✗ 503",)])
    choose(qtbot, page.class_box, "4xx")
    qtbot.waitUntil(lambda: shown(window, RESULT) == [("✗ 404",)])
    choose(qtbot, page.class_box, "Any HTTP status")
    qtbot.waitUntil(lambda: len(shown(window, ID)) == 5)

    # Sort by Result: the failures together.
    header = page.view.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().topLeft() + _section_middle(header, RESULT))
    results = [r[0] for (r,) in shown(window, RESULT)]
    assert "".join(results) in ("✗✗✓✓✓", "✓✓✓✗✗")
    assert int(shown(window, ATTEMPTS)[0][0]) == 1

    # Select the two failed ones and redeliver both.
    failed_rows = [i for i, (r,) in enumerate(shown(window, RESULT)) if r.startswith("✗")]
    assert len(failed_rows) == 2
    selection = page.view.selectionModel()
    for row in failed_rows:
        selection.select(page.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                         | QItemSelectionModel.SelectionFlag.Rows)
    assert page.redeliver_button.text().replace("&", "") == "Redeliver 2"
    assert not page.curl_button.isEnabled()  # one request at a time
    assert page.details.placeholder.text().startswith("2 deliveries selected.")
    failed_ids = {d.id for d in every if d.status == "failed"}
    click(qtbot, page.redeliver_button)
    assert window.statusBar().currentMessage() == "Queued 2 deliveries again."
    assert {d.id for d in service.store.list_deliveries(status="pending")} == failed_ids
    drain(home)
    assert len(broken.requests()) == 2
    assert len(gone.requests()) == 2


def _section_middle(header: object, column: int) -> object:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QHeaderView

    assert isinstance(header, QHeaderView)
    return QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
                  header.height() // 2)


def test_an_empty_history_says_so(qtbot: QtBot, open_window: Callable[..., MainWindow]
                                  ) -> None:
    window = open_window()
    open_deliveries_tab(qtbot, window)
    page = window.deliveries_page
    assert page.empty_label.isVisible()
    assert page.empty_label.text().startswith("No deliveries yet.")
