"""A hook page's recent deliveries: the table (newest first), Redeliver and Copy as
curl for the selected one, and its attempts below."""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QObject,
    Qt,
    Signal,
    SignalInstance,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.store import Attempt, Delivery
from hookadmin.ui.attempt_view import AttemptView
from hookadmin.ui.delivery_panel import delivery_panel, update_delivery_buttons
from hookadmin.ui.models import DeliveriesModel

# Starting widths (pixels) of Event, Result, Attempts, Duration and When; the delivery's
# id takes the rest, or is hidden when the table is narrower than these and ID_ROOM.
WIDTHS = (150, 120, 70, 80, 90)
ID_ROOM = 60  # pixels: the id column at least, else it is hidden
MIN_EVENT = 70  # pixels: the Event column is never made narrower than this


class RecentDeliveries(QObject):
    """The recent deliveries of the hook a page shows; :attr:`panel` is the widget.

    Signals:
        delivery_selected(str): a delivery was selected (its id): its attempts are
            to be read.
        redeliver_requested(str), copy_curl_requested(str): the buttons, for the
            selected delivery's id.
    """

    delivery_selected = Signal(str)
    redeliver_requested = Signal(str)
    copy_curl_requested = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = DeliveriesModel(self)
        self.view = QTableView()
        self.view.setObjectName("deliveries")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        self.view.setAlternatingRowColors(True)
        hh = self.view.horizontalHeader()
        # Fixed starting widths, not ResizeToContents: that measured all 200 rows (some
        # 8,000 data() calls) on every refresh and stalled the window while delivering.
        for col, width in enumerate(WIDTHS):
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        self.view.viewport().installEventFilter(self)
        self.view.setAccessibleName("Recent deliveries")
        # Three rows at least; in a short window the attempts need the rest.
        self.view.setMinimumHeight(self.view.horizontalHeader().sizeHint().height()
                                   + 3 * self.view.verticalHeader().defaultSectionSize()
                                   + 2 * self.view.frameWidth())
        self.attempts_view = AttemptView()
        self.attempts_view.setObjectName("attempts")
        self.attempts_view.setAccessibleName("Delivery attempts")
        self.empty = QLabel("No deliveries yet. Ping the hook or send a test "
                            "event to see one here.")
        self.empty.setObjectName("hookDeliveriesEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.empty.hide()
        self.redeliver_button = QPushButton("Re&deliver")
        self.redeliver_button.setObjectName("redeliver")
        self.redeliver_button.setToolTip("Send the selected delivery again: new attempts, "
                                         "same delivery id and body")
        self.curl_button = QPushButton("Copy as c&url")
        self.curl_button.setObjectName("copyCurl")
        self.curl_button.setToolTip("Copy a curl command that repeats the selected delivery's "
                                    "last request, signature included")
        for button in (self.redeliver_button, self.curl_button):
            button.setEnabled(False)
        table = QWidget()
        table_layout = QVBoxLayout(table)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.empty)
        table_layout.addWidget(self.view, 1)
        # The attempts scroll on their own in a short window (the page's lower part).
        self.panel = delivery_panel(table, (self.redeliver_button, self.curl_button),
                                    self.attempts_view, (160, 400), scroll_details=True)

        self.redeliver_button.clicked.connect(
            lambda: self._selected_emit(self.redeliver_requested))
        self.curl_button.clicked.connect(lambda: self._selected_emit(self.copy_curl_requested))
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)


    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Fits the columns when the table's viewport changes width."""
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return False

    def fit_columns(self) -> None:
        """In a narrow table (a small window) the delivery's id column is hidden, and
        the Event column narrowed (down to :data:`MIN_EVENT` pixels), so that "When" is
        in sight without a sideways scrollbar; in a wide one the id shows again. The
        other columns keep the widths the user gave them."""
        hh = self.view.horizontalHeader()
        width = self.view.viewport().width()
        last = len(WIDTHS)
        others = sum(hh.sectionSize(c) for c in range(1, last))
        id_shown = width >= WIDTHS[0] + others + ID_ROOM
        hh.setSectionHidden(last, not id_shown)
        if not id_shown:
            hh.resizeSection(0, max(MIN_EVENT, min(WIDTHS[0], width - others)))
        elif hh.sectionSize(0) < WIDTHS[0]:  # room again: as wide as at the start
            hh.resizeSection(0, WIDTHS[0])
    def show_rows(self, deliveries: list[Delivery], *, same_hook: bool) -> None:
        """Show ``deliveries`` (newest first). With ``same_hook`` (a refresh of the hook
        already shown) the selected delivery stays selected and its attempts follow;
        else the attempts are cleared."""
        selected = self.selected_delivery_id() if same_hook else None
        self.model.set_rows(deliveries)
        self.empty.setVisible(not deliveries)  # the table stays: it takes focus
        if selected is not None:
            for row in range(self.model.rowCount()):
                if self.model.delivery_at(row).id == selected:
                    if self.selected_delivery_id() == selected:  # updated in place: no
                        self._on_selection_changed()  # signal, but buttons and attempts follow
                    else:
                        self.view.selectRow(row)
                    break
        elif not same_hook:
            self.attempts_view.clear()
        self.update_actions()

    def selected_delivery_id(self) -> str | None:
        """The id of the selected delivery, if any."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.delivery_at(rows[0].row()).id if rows else None

    def show_delivery(self, delivery: Delivery, attempts: list[Attempt], body: bytes) -> None:
        """Show the selected delivery's attempts (unchanged data leaves the view as it
        is: the 2 s refresh must not scroll it or switch its tab)."""
        self.attempts_view.show_delivery(delivery, attempts, body)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, *_: object) -> None:
        delivery_id = self.update_actions()
        if delivery_id is not None:
            self.delivery_selected.emit(delivery_id)

    def update_actions(self) -> str | None:
        """Enable the delivery buttons for the selection (a model reset drops it without
        a signal); returns the selected delivery's id."""
        rows = self.view.selectionModel().selectedRows()
        selected = self.model.delivery_at(rows[0].row()) if rows else None
        update_delivery_buttons(selected, self.redeliver_button, self.curl_button)
        return None if selected is None else selected.id

    def _selected_emit(self, signal: SignalInstance) -> None:
        delivery_id = self.selected_delivery_id()
        if delivery_id is not None:
            signal.emit(delivery_id)
