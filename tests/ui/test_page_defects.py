"""Defects found by using the window's pages: colours bleeding between cells, actions
enabled with nothing selected, no "retry now", long names pushing the page's buttons
off-screen, and the form's keyboard handling and unsaved edits."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QScrollArea,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)
from pytestqt.qtbot import QtBot

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.core.store import Delivery, Repository, open_store
from hookadmin.ui.background import Lane
from hookadmin.ui.display import AMBER
from hookadmin.ui.hook_form import HookForm
from hookadmin.ui.hook_page import HookPage
from hookadmin.ui.main_window import MainWindow
from hookadmin.ui.models import DeliveriesModel, ElideEndDelegate, HooksModel
from tests.ui.conftest import HookFactory, visible_top_level
from tests.ui.editing import close_dialog_with, open_editing, start_editing, wait_for_question
from tests.ui.gui import click_row, select_hook

NOW = time.time()


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG 2 contrast ratio of two colours: 1 (the same) to 21 (black on white)."""
    def luminance(c: QColor) -> float:
        parts = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
                 for v in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@contextlib.contextmanager
def palette_restored() -> Iterator[tuple[QGuiApplication, QPalette]]:
    """The application and its palette as the block starts; the block may change the
    application's palette, which is set back when it ends."""
    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    light = app.palette()
    try:
        yield app, light
    finally:
        app.setPalette(light)


def delivery(seq: int, status: str, code: int | None = 200, event: str = "job.succeeded",
             next_at: float | None = None) -> Delivery:
    """A delivery record as the store lists it."""
    return Delivery(seq=seq, id=f"d-{seq}", event_id=f"e-{seq}", hook_id=1, event_type=event,
                    status=status, attempts=1, next_attempt_at=next_at,
                    last_status_code=code, last_error_kind=None if code else "timeout",
                    last_duration_ms=12.0, created_at=NOW - 60, updated_at=NOW - 30)


def unread_lane() -> Lane[Repository]:
    """A reads lane for a model whose rows the test sets itself: it must read nothing."""
    def no_store() -> Repository:
        raise AssertionError("the model read the store")

    return Lane("test-reads", no_store)


def hook(hook_id: int = 1, name: str = "ops", active: bool = True,
         reason: str | None = None) -> Hook:
    """A hook record as the store lists it."""
    return Hook(id=hook_id, name=name, url="https://example.com/hook", events=("job",),
                active=active, insecure_ssl=False, created_at="2026-12-01T00:00:00Z",
                updated_at="2026-12-01T00:00:00Z", deactivated_reason=reason)


class Delegate(QStyledItemDelegate):
    """The table's delegate, with its protected ``initStyleOption`` reachable."""

    def style_of(self, index: QModelIndex) -> QStyleOptionViewItem:
        option = QStyleOptionViewItem()
        self.initStyleOption(option, index)
        return option

    @staticmethod
    def style_of_with(delegate: QStyledItemDelegate, option: QStyleOptionViewItem,
                      index: QModelIndex) -> None:
        """Let ``delegate`` fill ``option`` (its rect already set) for ``index``."""
        delegate.initStyleOption(option, index)


def test_a_status_colour_does_not_bleed_into_the_next_cell(qtbot: QtBot) -> None:
    model = DeliveriesModel()
    model.set_rows([delivery(2, "pending", 500), delivery(1, "succeeded", 200)])
    delegate = Delegate()
    result, event = model.COLUMNS.index("Result"), model.COLUMNS.index("Event")
    first = delegate.style_of(model.index(0, result))
    assert first.palette.color(QPalette.ColorRole.Text) == AMBER
    # The same delegate paints the next cell with the span it used for the last one.
    second = delegate.style_of(model.index(0, event))
    assert second.palette.color(QPalette.ColorRole.Text) != AMBER


def test_redeliver_and_curl_follow_the_selection_across_hooks(qtbot: QtBot) -> None:
    page = HookPage()
    qtbot.addWidget(page)
    page.show_hook(hook(1), [delivery(1, "failed", 500)])
    page.deliveries_view.selectRow(0)
    assert page.redeliver_button.isEnabled()
    assert page.curl_button.isEnabled()
    page.show_hook(hook(2, "other"), [delivery(5, "succeeded")])
    assert page.selected_delivery_id() is None
    assert not page.redeliver_button.isEnabled()
    assert not page.curl_button.isEnabled()


def test_a_waiting_delivery_can_be_retried_now(qtbot: QtBot) -> None:
    page = HookPage()
    qtbot.addWidget(page)
    page.show_hook(hook(1), [delivery(1, "pending", 500, next_at=NOW + 600)])
    page.deliveries_view.selectRow(0)
    assert page.redeliver_button.isEnabled()
    assert page.redeliver_button.text().replace("&", "") == "Retry now"
    with qtbot.waitSignal(page.redeliver_requested) as sent:
        page.redeliver_button.click()
    assert sent.args == ["d-1"]


def test_a_long_name_keeps_delete_and_the_badge_on_screen(qtbot: QtBot) -> None:
    page = HookPage()
    qtbot.addWidget(page)
    page.resize(700, 600)
    page.show()
    page.show_hook(hook(1, "a very long hook name " * 20), [])
    qtbot.waitExposed(page)
    scroll = page.findChild(QScrollArea, "pageScroll")
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    right = page.delete_button.mapTo(page, page.delete_button.rect().topRight()).x()
    assert right <= page.width()
    assert page.title.toolTip().startswith("a very long hook name")
    assert page.title.sizeHint().width() < page.width()


def test_events_column_elides_at_the_end(qtbot: QtBot) -> None:
    model = HooksModel()
    model.set_data([hook(1)], {})
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = ElideEndDelegate(view)
    option = QStyleOptionViewItem()
    delegate.initStyleOption(option, model.index(0, 1))
    assert option.textElideMode == Qt.TextElideMode.ElideRight


def test_the_hook_column_keeps_a_long_name_s_start_and_the_url_s_host(
        qtbot: QtBot) -> None:
    """"Data warehouse…d APAC fleets": the name was cut in its middle like the URL. The
    name keeps its start (elided at the end); the URL keeps its host, and its path is
    elided in the middle (its start and end kept) while there is room for the scheme,
    else the scheme goes before the host does."""
    from hookadmin.ui.hooks_panel import HooksPanel

    panel = HooksPanel()
    qtbot.addWidget(panel)
    name = "Data warehouse loader for the nightly reconciliation of every regional cluster"
    long_url = Hook(id=1, name=name, url="https://hooks.warehouse.example.com/ingest/" +
                    "x" * 80 + "/end", events=("job",), active=True, insecure_ssl=False,
                    created_at="2026-12-01T00:00:00Z", updated_at="2026-12-01T00:00:00Z")
    panel.model.set_data([long_url], {})
    delegate = panel.view.itemDelegateForIndex(panel.model.index(0, 0))
    assert isinstance(delegate, QStyledItemDelegate)
    host_width = panel.view.fontMetrics().horizontalAdvance("hooks.warehouse.example.com")
    lines = []
    ellipsis = panel.view.fontMetrics().horizontalAdvance("…")
    assert panel.view.fontMetrics().horizontalAdvance("/") > 2
    # The cell's text is 8 pixels narrower than the cell (the view's margins).
    for width in (host_width + 60, host_width + 200, host_width + 8 + ellipsis + 2):
        option = QStyleOptionViewItem()
        option.initFrom(panel.view)
        option.rect = panel.view.visualRect(panel.model.index(0, 0))
        option.rect.setWidth(width)
        Delegate.style_of_with(delegate, option, panel.model.index(0, 0))
        lines.append(option.text.replace("\u2028", "\n").split("\n"))
    (first, narrow), (_, wide), (_, host_only) = lines
    assert first.startswith("Data ware")
    assert first.endswith("…")
    assert narrow.startswith("hooks.warehouse.example.com/")
    assert "…" in narrow
    assert wide.startswith("https://hooks.warehouse.example.com/ingest/")
    assert wide.endswith("/end")
    assert "…" in wide
    # Room for the host and little more: it still shows that the URL goes on.
    assert host_only == "hooks.warehouse.example.com…"


def test_a_deactivated_hook_is_grey_and_an_engine_deactivated_one_red(qtbot: QtBot) -> None:
    model = HooksModel()
    model.set_data([hook(1, active=False), hook(2, active=False, reason="410 Gone")], {})
    by_hand = model.index(0, 2).data(Qt.ItemDataRole.ForegroundRole).color()
    by_engine = model.index(1, 2).data(Qt.ItemDataRole.ForegroundRole).color()
    assert by_hand != by_engine
    assert by_hand.saturation() < 60  # grey, not the failure red


def test_next_attempt_in_the_past_says_due_now(qtbot: QtBot) -> None:
    from hookadmin.ui.delivery_pages import DeliveryPagesModel

    model = DeliveryPagesModel(unread_lane())
    model._rows = [delivery(1, "pending", 500, next_at=NOW - 30)]
    col = model.COLUMNS.index("Next attempt")
    assert model.index(0, col).data() == "due now"


def test_a_delivery_waiting_for_an_inactive_hook_says_so(qtbot: QtBot) -> None:
    """Deliveries queued for a hook that answered 410 (or was switched off) wait until
    it is active again: "Next attempt" said "due now" for them, forever."""
    from hookadmin.ui.delivery_pages import DeliveryPagesModel

    model = DeliveryPagesModel(unread_lane())
    model.set_hook_names({1: "gone"}, inactive={1})
    model._rows = [delivery(1, "pending", None, next_at=NOW - 30)]
    col = model.COLUMNS.index("Next attempt")
    assert model.index(0, col).data() == "hook inactive"
    assert "inactive" in model.index(0, col).data(Qt.ItemDataRole.ToolTipRole)
    model.set_hook_names({1: "gone"}, inactive=set())
    assert model.index(0, col).data() == "due now"


def test_the_next_attempt_column_shows_the_whole_time(
        qtbot: QtBot, open_window: Callable[..., MainWindow]) -> None:
    """"Next attempt" is wide enough for a date and time ("2026-12-05 08:45:12"); it
    showed "2026-12-05 …"."""
    from hookadmin.ui.display import local_time

    window = open_window()
    view = window.deliveries_page.view
    col = window.deliveries_page.model.COLUMNS.index("Next attempt")
    needed = view.fontMetrics().horizontalAdvance(local_time(NOW)) + 12
    assert view.horizontalHeader().sectionSize(col) >= needed


def test_the_edit_title_names_the_hook(qtbot: QtBot) -> None:
    form = HookForm()
    qtbot.addWidget(form)
    form.reset(hook(7, "ops monitor"))
    assert form.title.text() == "Edit hook “ops monitor”"


def test_return_submits_from_any_field_and_escape_cancels(qtbot: QtBot) -> None:
    form = HookForm()
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.url_edit.setText("https://example.com/hooks")
    form.name_edit.setFocus()
    with qtbot.waitSignal(form.submitted, timeout=2000):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Return)
    box = next(iter(form.events.event_boxes.values()))
    box.setFocus()
    with qtbot.waitSignal(form.submitted, timeout=2000):
        qtbot.keyClick(box, Qt.Key.Key_Enter)
    with qtbot.waitSignal(form.cancelled, timeout=2000):
        qtbot.keyClick(form.name_edit, Qt.Key.Key_Escape)


def test_the_form_knows_when_it_has_unsaved_edits(qtbot: QtBot) -> None:
    form = HookForm()
    qtbot.addWidget(form)
    form.reset(hook(3, "ops"))
    assert not form.has_unsaved_edits()
    form.name_edit.setText("ops 2")
    assert form.has_unsaved_edits()
    form.name_edit.setText("ops")
    assert not form.has_unsaved_edits()
    form.reset()
    assert not form.has_unsaved_edits()
    form.url_edit.setText("https://example.com/x")
    assert form.has_unsaved_edits()



def test_clicking_another_hook_during_edit_asks_first(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    editing = open_editing(qtbot, hook_factory, open_window)
    window, first, second = editing.window, editing.first, editing.second

    def other_row() -> None:
        click_row(qtbot, window.hooks_view, window.selection.view_row(second.id))

    other_row()  # Cancel: the edits stay on screen
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Cancel")
    assert window.stack.currentWidget() is window.form_scroll
    assert window.form.name_edit.text() == "one renamed"
    # The list shows the hook being edited again, not the clicked one (or none).
    assert window.selected_hook_id() == first.id
    assert visible_top_level("unsavedChanges") is None

    other_row()  # Save: stored, then the clicked hook is shown
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Save")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page)
    assert service.hook(first.id).name == "one renamed"
    assert window.page.hook is not None
    assert window.page.hook.id == second.id

    start_editing(qtbot, window, first.id, "thrown away")
    other_row()  # Discard: nothing stored
    wait_for_question(qtbot)
    close_dialog_with(qtbot, "Discard")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page)
    assert service.hook(first.id).name == "one renamed"
    assert window.page.hook is not None
    assert window.page.hook.id == second.id


def test_health_shows_in_the_list_and_on_the_page(qtbot: QtBot) -> None:
    from hookadmin.core.store import HookHealth

    hourly = ((0, 0),) * 22 + ((3, 1), (5, 0))
    good = HookHealth(succeeded=8, failed=1, hourly=hourly, last_success_at=time.time() - 300,
                      failing_since=None)
    bad = HookHealth(succeeded=0, failed=4, hourly=((0, 4),) * 24, last_success_at=None,
                     failing_since=time.time() - 720)
    model = HooksModel()
    model.set_data([hook(1), hook(2, "down")], {}, {1: good, 2: bad})
    col = model.HEALTH
    assert model.index(0, col).data() == "88 %"
    assert model.index(1, col).data() == "failing"
    assert "failing since" in model.index(1, col).data(Qt.ItemDataRole.ToolTipRole)
    assert not model.index(0, col).data(Qt.ItemDataRole.DecorationRole).isNull()
    assert model.index(0, col).data(Qt.ItemDataRole.ToolTipRole) \
        == "88 % of 9 attempts succeeded in the last 24 h · last success 5 min ago"
    page = HookPage()
    qtbot.addWidget(page)
    page.show_hook(hook(2, "down"), [])
    page.show_health(model.health_of(2))
    assert page.health_label.text().startswith(
        "0 % of 4 attempts succeeded")
    assert "never succeeded · failing since " in page.health_label.text()
    assert not page.health_spark.pixmap().isNull()


def test_the_window_is_usable_at_its_minimum_size(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    made = hook_factory("https://example.com/hooks/" + "x" * 200, name="n" * 200)
    window = open_window()
    select_hook(qtbot, window, made.id)
    minimum = window.minimumSizeHint()
    assert minimum.width() <= 800
    assert minimum.height() <= 600
    window.resize(minimum)
    qtbot.waitUntil(lambda: window.width() <= 800)
    page = window.page
    right = page.delete_button.mapTo(window, page.delete_button.rect().topRight()).x()
    assert right <= window.width()
    for widget in (page.title, page.url_label):
        assert widget.mapTo(window, widget.rect().topRight()).x() <= window.width()


def test_attempt_details_are_structured(qtbot: QtBot) -> None:
    from hookadmin.core.store import Attempt
    from hookadmin.ui.attempt_view import AttemptView

    def tried(number: int, status: int | None) -> Attempt:
        return Attempt(started_at=NOW - 100 + number, duration_ms=15.0,
                       request_url="https://example.com/hook",
                       request_headers={"X-Hook-Delivery": "d-1", "X-Hook-Signature": "ab12"},
                       status_code=status,
                       response_headers=None if status is None else [("Server", "test")],
                       response_body=None if status is None else b'{"ok":false}',
                       response_truncated=False,
                       error_kind=None if status == 200 else
                       ("connect" if status is None else "http_status"),
                       error_message=None if status else "The connection was refused.",
                       number=number)

    view = AttemptView()
    qtbot.addWidget(view)
    assert view.placeholder.text() == "Select a delivery to see its attempts."
    waiting = delivery(1, "pending", 500, next_at=NOW - 5)
    view.show_delivery(waiting, [tried(1, None), tried(2, 500)], b'{"id": 9}')
    assert "Retrying (500) after 1 attempt · next attempt due now" in view.summary.text()
    assert view.chooser.count() == 2
    assert view.chooser.currentIndex() == 1  # the last attempt
    assert view.chooser.currentText().startswith("Attempt 2 · ")
    assert view.chooser.currentText().endswith(" · HTTP 500 · 15 ms")
    assert view.response_headers.item(0, 0).text() == "Server"
    assert view.response_body.toPlainText() == '{\n  "ok": false\n}'
    assert view.request_line.text() == "POST https://example.com/hook"
    assert view.request_headers.rowCount() == 2
    assert view.request_body.toPlainText() == '{\n  "id": 9\n}'
    view.chooser.setCurrentIndex(0)
    assert view.response_stack.currentWidget() is view.no_response
    assert view.no_response.text() == "No response: The connection was refused."
    assert "UTC" not in view.toPlainText()
    assert "T" not in view.chooser.itemText(0).split(" · ")[1]  # local time, with a date


def test_the_secret_fields_open_at_their_start(qtbot: QtBot) -> None:
    from hookadmin.ui.secret_dialog import SecretDialog

    dialog = SecretDialog("ops", "ab" * 32)
    qtbot.addWidget(dialog)
    assert dialog.whsec_edit.text().startswith("whsec_")
    assert dialog.whsec_edit.cursorPosition() == 0
    assert dialog.secret_edit.cursorPosition() == 0


def test_settings_say_no_backticks_and_show_the_whole_schedule(
        qtbot: QtBot, service_in_memory: HookService) -> None:
    from PySide6.QtWidgets import QLabel

    from hookadmin.ui.dialogs import SettingsDialog

    dialog = SettingsDialog(service_in_memory)
    qtbot.addWidget(dialog)
    assert not [label.text() for label in dialog.findChildren(QLabel) if "`" in label.text()]
    edit = dialog.schedule_edit
    edit.setText("0, 5, 30, 120, 600, 1800, 3600")
    dialog.show()
    qtbot.waitExposed(dialog)
    assert edit.fontMetrics().horizontalAdvance(edit.text()) < edit.width() - 8


def test_activity_starts_with_the_last_hour_and_round_ticks(
        qtbot: QtBot, service_in_memory: HookService) -> None:
    from hookadmin.ui.activity_page import ActivityPage, round_range

    reads: Lane[Repository] = Lane("test-reads", lambda: open_store(service_in_memory.location),
                                   lambda store: store.close())
    page = ActivityPage(reads)
    qtbot.addWidget(page)
    assert page.range_box.currentText() == "Last hour"
    with qtbot.waitSignal(page.refreshed, timeout=10_000):  # read on the lane's thread
        page.refresh()
    reads.close(wait=True)
    axis = page.rate_chart.x_axis
    first, last = axis.min().toSecsSinceEpoch(), axis.max().toSecsSinceEpoch()
    assert axis.min().time().minute() % 10 == 0
    assert axis.min().time().second() == 0
    assert (last - first) % 600 == 0
    assert axis.tickCount() == (last - first) // 600 + 1
    start, end, ticks = round_range(1_000_000.0, 1_003_600.0, 600.0)
    assert start <= 1_000_000.0 < start + 600
    assert end >= 1_003_600.0
    assert ticks == round((end - start) / 600) + 1


def test_status_colours_have_contrast_on_a_dark_palette(qtbot: QtBot) -> None:
    from hookadmin.ui.display import status_brush

    with palette_restored() as (app, light):
        for base in (QColor("#ffffff"), QColor("#1e1e1e")):
            palette = QPalette(light)
            palette.setColor(QPalette.ColorRole.Base, base)
            app.setPalette(palette)
            for status in ("succeeded", "failed", "pending", "inactive"):
                colour = status_brush(status).color()
                assert contrast(colour, base) >= 4.5, (status, base.name(), colour.name())


def test_health_is_read_again_only_when_due(qtbot: QtBot) -> None:
    from hookadmin.core.store import HookHealth

    quiet = HookHealth(succeeded=0, failed=0, hourly=((0, 0),) * 24, last_success_at=None,
                       failing_since=None)
    model = HooksModel()
    assert model.health_due()
    model.set_data([hook(1)], {}, {1: quiet})
    assert not model.health_due()  # read a moment ago
    model.set_data([hook(1), hook(2)], {}, None)
    assert model.health_due()  # a new hook has none yet
    assert model.health_of(1) == quiet  # None kept the last


def test_health_is_read_again_when_it_contradicts_the_last_delivery(qtbot: QtBot) -> None:
    """A window opened before the first deliveries said "No attempts in the last 24 h ·
    never succeeded" (and a dash in the list) for 30 s while the list showed "✓ 200 · 12 s
    ago": health that does not account for the last delivery is read again at once."""
    from hookadmin.core.store import HookHealth

    quiet = HookHealth(succeeded=0, failed=0, hourly=((0, 0),) * 24, last_success_at=None,
                       failing_since=None)
    good = HookHealth(succeeded=1, failed=0, hourly=((0, 0),) * 23 + ((1, 0),),
                      last_success_at=NOW, failing_since=None)
    model = HooksModel()
    model.set_data([hook(1)], {}, {1: quiet})
    assert not model.health_due()
    model.set_data([hook(1)], {1: delivery(1, "succeeded", 200)}, None)
    assert model.health_due()  # a success the health does not count
    model.set_data([hook(1)], {1: delivery(1, "succeeded", 200)}, {1: good})
    assert not model.health_due()
    model.set_data([hook(1)], {1: delivery(2, "pending", 500, next_at=NOW + 60)}, None)
    assert model.health_due()  # a failure the health does not count


def test_a_long_last_delivery_leaves_the_hook_name_its_room(qtbot: QtBot) -> None:
    """A delivery retrying after timeouts ("retrying (timeout) · 27 s ago") made the
    Last delivery column so wide that the hook's name was cut to a few letters: the
    result and its age are two lines, as the name and URL are, and the Hook column
    stays the widest."""
    from hookadmin.ui.hooks_panel import HooksPanel

    panel = HooksPanel()
    qtbot.addWidget(panel)
    panel.resize(548, 400)
    long_name = "Operations monitor for the nightly warehouse loads and every cluster"
    retrying = delivery(1, "pending", code=None, next_at=NOW + 30)
    panel.model.set_data([hook(1, long_name)], {1: retrying})
    panel.show()
    qtbot.waitExposed(panel)
    text = panel.model.index(0, HooksModel.LAST).data()
    result, age = text.splitlines()
    assert result == "retrying (timeout)"
    assert age.endswith(" ago")
    header = panel.view.horizontalHeader()
    widths = [header.sectionSize(col) for col in range(header.count())]
    assert widths[0] == max(widths), widths


def test_the_attempt_details_keep_room_for_headers_and_body(qtbot: QtBot) -> None:
    """At its smallest the attempt view still shows three header rows and four lines
    of body (on the hook page the lower half of a 900 px window squeezed the headers
    table to its header row and the body to one line): the page scrolls instead."""
    from hookadmin.core.store import Attempt
    from hookadmin.ui.attempt_view import AttemptView

    answered = Attempt(started_at=NOW - 50, duration_ms=15.0,
                       request_url="https://example.com/hook",
                       request_headers={"X-Hook-Delivery": "d-1", "X-Hook-Signature": "ab12",
                                        "Content-Type": "application/json"},
                       status_code=500,
                       response_headers=[("Server", "test"), ("Date", "today"),
                                         ("Content-Type", "application/json")],
                       response_body=b'{"ok": false, "error": "down", "retry": true}',
                       response_truncated=False, error_kind="http_status",
                       error_message=None, number=1)
    view = AttemptView()
    qtbot.addWidget(view)
    view.show_delivery(delivery(1, "pending", 500, next_at=NOW + 60), [answered],
                       b'{"id": 9, "a": 1}')
    view.resize(600, 1)  # a top-level widget stops at its layout's minimum
    view.show()
    qtbot.waitExposed(view)
    line = view.response_body.fontMetrics().lineSpacing()
    for tab, table, body in ((0, view.response_headers, view.response_body),
                             (1, view.request_headers, view.request_body)):
        view.tabs.setCurrentIndex(tab)
        qtbot.waitUntil(table.isVisible)
        rows = table.verticalHeader().defaultSectionSize()
        assert table.viewport().height() >= 3 * rows, tab
        assert body.viewport().height() >= 4 * line, tab


def test_escape_leaves_the_edit_for_the_hook_s_page_without_a_stray_question(
        qtbot: QtBot, hook_factory: HookFactory, open_window: Callable[..., MainWindow],
        service: HookService) -> None:
    """Escape throws the edits away on purpose and shows the hook's page. With the hook
    not selected in the list (here: hidden by the list's filter) going back selected it
    again, which asked "Save your changes?" over the page already shown, and Cancel
    there left an empty page with the edits gone."""
    editing = open_editing(qtbot, hook_factory, open_window, names=("one",))
    window, made = editing.window, editing.first
    window.filter_edit.setText("nothing matches this")
    qtbot.waitUntil(lambda: window.selected_hook_id() is None)
    window.form.name_edit.setFocus()
    qtbot.keyClick(window.form.name_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page)
    assert visible_top_level("unsavedChanges") is None
    assert window.page.hook is not None
    assert window.page.hook.name == "one"
    assert window.selected_hook_id() == made.id
    assert service.hook(made.id).name == "one"


def test_the_hook_page_s_coloured_texts_have_contrast_on_a_dark_palette(
        qtbot: QtBot) -> None:
    """"● Active", a deactivation reason, the plain-http warning and the form's errors
    were drawn in the light theme's fixed colours, too dark to read on a dark window
    (under 3:1)."""
    with palette_restored() as (app, light):
        for background in (QColor("#ffffff"), QColor("#2b2b2b")):
            palette = QPalette(light)
            for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Window):
                palette.setColor(role, background)
            app.setPalette(palette)
            page = HookPage()
            qtbot.addWidget(page)
            gone = Hook(id=1, name="ops", url="http://example.com/hook", events=("job",),
                        active=False, insecure_ssl=False,
                        created_at="2026-12-01T00:00:00Z",
                        updated_at="2026-12-01T00:00:00Z",
                        deactivated_reason="The receiver answered 410 Gone.")
            for shown in (hook(1), gone):
                page.show_hook(shown, [])
                page.show()
                qtbot.waitExposed(page)
                page.set_secret_missing(True)
                for label in (page.state_label, page.reason_label, page.warnings,
                              page.secret_notice):
                    if not label.text():
                        continue
                    colour = label.palette().color(label.foregroundRole())
                    assert contrast(colour, background) >= 4.5, (
                        label.objectName(), background.name(), colour.name())
            page.close()
            form = HookForm()  # its error and warning texts, as typing shows them
            qtbot.addWidget(form)
            form.show()
            qtbot.waitExposed(form)
            for label in (form.url_error, form.url_warning):
                colour = label.palette().color(label.foregroundRole())
                assert contrast(colour, background) >= 4.5, (
                    label.objectName(), background.name(), colour.name())
            form.close()


def test_a_delivery_waiting_for_the_keyring_says_so_in_words() -> None:
    # It showed "retrying (secret_unavailable)" in amber in the hooks list and the
    # Deliveries tab: an internal code, where the status bar says "waiting for the
    # keyring".
    from hookadmin.ui.display import delivery_result

    waiting = delivery(1, "pending", code=None, next_at=NOW + 30)
    waiting = replace(waiting, last_error_kind="secret_unavailable")
    assert delivery_result(waiting) == "waiting for the keyring"
    assert delivery_result(replace(waiting, last_error_kind="timeout")) == \
        "retrying (timeout)"
