"""Activity at a glance: deliveries per minute (succeeded vs failed) and mean latency
over the last hour or 24 hours, for every hook or one. The attempts are read on the
window's reads lane (:class:`~hookadmin.ui.tab_queries.ActivityQuery`); the GUI thread
only gives the charts their points."""

from __future__ import annotations

import time

from PySide6.QtCharts import (
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
    QXYSeries,
)
from PySide6.QtCore import QDateTime, QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from hookadmin.core.errors import HookadminError
from hookadmin.core.hooks import Hook
from hookadmin.core.store import Repository
from hookadmin.ui.background import Lane
from hookadmin.ui.display import is_dark, status_color
from hookadmin.ui.tab_queries import ActivityPoints, ActivityQuery, Points

WINDOW_SECONDS = 24 * 3600.0


# The last hour first: fresh data over 24 hours is a spike squeezed at the right edge.
RANGES = (("Last hour", 3600.0), ("Last 24 hours", 24 * 3600.0))
# Tick spacing (seconds) per range: ticks land on round times (every 10 min, 3 h).
TICK_SECONDS = {3600.0: 600.0, 24 * 3600.0: 3 * 3600.0}


def round_range(start: float, end: float, step: float) -> tuple[float, float, int]:
    """Widen ``start`` to ``end`` (Unix seconds) to whole steps of ``step`` seconds
    of local time; returns (start, end, tick count), so each tick falls on a round
    time."""
    offset = time.localtime(start).tm_gmtoff
    first = ((start + offset) // step) * step - offset
    last = -((-(end + offset)) // step) * step - offset
    return first, last, round((last - first) / step) + 1


def _series(name: str, color: str, *, markers: bool = False) -> QXYSeries:
    series: QXYSeries = QScatterSeries() if markers else QLineSeries()
    if isinstance(series, QScatterSeries):
        series.setMarkerSize(7.0)
        series.setColor(QColor(color))
        series.setBorderColor(QColor(color))
    series.setName(name)
    series.setPen(QPen(QColor(color), 2))
    return series


class _Chart:
    """One chart, built once; :meth:`show` replaces its points and ranges in place
    (building a new chart on every refresh cost about 100 ms of the GUI thread)."""

    def __init__(self, view: QChartView, title: str, series: list[QXYSeries],
                 y_title: str) -> None:
        self.series = series
        self.chart = QChart()
        if is_dark():  # follow the system's dark palette: light text on a dark chart
            self.chart.setTheme(QChart.ChartTheme.ChartThemeDark)
        self.chart.setTitle(title)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.x_axis = QDateTimeAxis()
        self.x_axis.setFormat("HH:mm")
        self.y_axis = QValueAxis()
        self.y_axis.setTitleText(y_title)
        self.y_axis.setLabelFormat("%d")
        self.chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        for s in series:
            self.chart.addSeries(s)
            s.attachAxis(self.x_axis)
            s.attachAxis(self.y_axis)
        view.setChart(self.chart)

    def show(self, points: list[Points], start: float, end: float,
             ticks: int = 7) -> None:
        """Give each series its ``(unix seconds, value)`` points and fit the axes: the
        x axis from ``start`` to ``end`` with ``ticks`` ticks, the y axis from 0 to a
        round number above the top."""
        top = 1.0
        for series, values in zip(self.series, points, strict=True):
            series.replace([QPointF(t * 1000.0, v) for t, v in values])
            top = max(top, max((v for _, v in values), default=0.0))
        self.x_axis.setRange(QDateTime.fromSecsSinceEpoch(int(start)),
                             QDateTime.fromSecsSinceEpoch(int(end)))
        self.x_axis.setTickCount(ticks)
        self.y_axis.setRange(0, top * 1.1)
        self.y_axis.applyNiceNumbers()  # ticks at 0, 5, 10 … rather than 0, 3.67, 7.33 …


class ActivityPage(QWidget):
    """Two charts over the last hour or 24 h, refreshed by :meth:`refresh`.

    Args:
        reads: the window's reads lane, where the attempts are read.
        parent: the Qt parent.

    Signals:
        refreshed(): the charts show what the last :meth:`refresh` read.
        read_failed(str): a read failed (one sentence); the charts stay as they were.
    """

    refreshed = Signal()
    read_failed = Signal(str)

    def __init__(self, reads: Lane[Repository], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reads = reads
        self._asked = 0  # the latest refresh asked for; older ones are dropped
        self.hook_box = QComboBox()
        self._hook_choices: list[tuple[int, str]] | None = None
        self.hook_box.setObjectName("activityHook")
        # Sized for about 18 characters, not for the longest hook name: a long name
        # must not widen the window past the screen.
        self.hook_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.hook_box.setMinimumContentsLength(18)
        self.hook_box.setAccessibleName("Hook")
        self.hook_box.addItem("All hooks", None)
        self.range_box = QComboBox()
        self.range_box.setObjectName("activityRange")
        self.range_box.setAccessibleName("Time range")
        for label, seconds in RANGES:
            self.range_box.addItem(label, seconds)
        self.summary = QLabel()
        self.summary.setObjectName("activitySummary")
        self.rate_view = QChartView()
        self.rate_view.setObjectName("rateChart")
        self.rate_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.latency_view = QChartView()
        self.latency_view.setObjectName("latencyChart")
        self.latency_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.rate_chart = _Chart(self.rate_view, "Attempts per minute",
                                 [_series("Succeeded", status_color("succeeded").name()),
                                  _series("Failed", status_color("failed").name())],
                                 "attempts")
        self.latency_chart = _Chart(self.latency_view, "Mean duration per minute",
                                    [_series("Duration", "#58a6ff" if is_dark() else "#1f6feb",
                                             markers=True)], "ms")
        top = QHBoxLayout()
        top.addWidget(self.range_box)
        top.addWidget(QLabel("for"))
        top.addWidget(self.hook_box)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.rate_view, 3)
        layout.addWidget(self.latency_view, 2)
        self.hook_box.currentIndexChanged.connect(self.refresh)
        self.range_box.currentIndexChanged.connect(self.refresh)
        self.totals = (0, 0)

    def set_hooks(self, hooks: list[Hook]) -> None:
        """Update the hook choices, keeping the current one when it still exists."""
        choices = [(h.id, f"{h.id}: {h.display_name}") for h in hooks]
        if choices == self._hook_choices:
            return  # the same on most 2 s refreshes: refilling the box costs a relayout
        self._hook_choices = choices
        chosen = self.hook_box.currentData()
        self.hook_box.blockSignals(True)
        self.hook_box.clear()
        self.hook_box.addItem("All hooks", None)
        for hook_id, label in choices:
            self.hook_box.addItem(label, hook_id)
        self.hook_box.setCurrentIndex(max(0, self.hook_box.findData(chosen)))
        self.hook_box.blockSignals(False)

    @Slot()
    def refresh(self) -> None:
        """Read the chosen range's attempts on the reads lane; the charts are redrawn
        in place when they come back (``refreshed``), unless a newer refresh was asked
        for meanwhile (its points replace them)."""
        end = time.time()
        span = float(self.range_box.currentData() or WINDOW_SECONDS)
        start = end - span
        self._asked += 1
        asked = self._asked
        query = ActivityQuery(start, end, self.hook_box.currentData())

        def show(points: ActivityPoints) -> None:
            if asked == self._asked:
                self._show(points, span)

        def failed(err: HookadminError) -> None:
            self.read_failed.emit(str(err))

        self._reads.submit(query.run, show, failed)

    def _show(self, points: ActivityPoints, span: float) -> None:
        """Give the charts a read's points."""
        axis_start, axis_end, ticks = round_range(points.start, points.end,
                                                  TICK_SECONDS.get(span, 600.0))
        self.totals = points.totals
        self.summary.setText(f"{self.totals[0]} attempts succeeded, {self.totals[1]} failed")
        self.rate_chart.show([points.succeeded, points.failed], axis_start, axis_end, ticks)
        self.latency_chart.show([points.latency], axis_start, axis_end, ticks)
        self.refreshed.emit()
