"""A hook page's health row: the success rate, last success and failing clock in words,
and a sparkline of the last 24 hours' attempts."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel

from hookadmin.core.store import HookHealth
from hookadmin.ui.display import health_summary, sparkline, status_color

SPARK_WIDTH, SPARK_HEIGHT = 120, 24  # pixels


class HookHealthRow:
    """The health row's two labels, laid out in :attr:`layout`."""

    def __init__(self) -> None:
        self._health: HookHealth | None = None
        self.label = QLabel()
        self.label.setObjectName("hookHealth")
        self.label.setWordWrap(True)
        self.spark = QLabel()
        self.spark.setObjectName("hookSparkline")
        self.spark.setToolTip("Attempts per hour over the last 24 hours: succeeded "
                              "below, failed stacked above")
        self.layout = QHBoxLayout()
        self.layout.addWidget(self.spark)
        self.layout.addWidget(self.label, 1)

    def show(self, health: HookHealth | None, now: float | None = None) -> None:
        """Show the hook's success rate, last success, failing clock and hourly
        attempts (None: not known yet); ``now`` in Unix seconds (default: the clock).
        The words are written at every call, so "last success 5 min ago" follows the
        clock; the sparkline of unchanged figures is not drawn again."""
        if health is None:
            self.label.setText("Not known yet.")
            self.spark.clear()
            self._health = None
            return
        text = health_summary(health, now)
        if text != self.label.text():
            self.label.setText(text)
        if health == self._health:
            return  # unchanged on most 2 s refreshes
        self._health = health
        failing = health.failing_since is not None
        self.label.setStyleSheet(f"color: {status_color('failed').name()};" if failing else "")
        self.spark.setPixmap(sparkline(health.hourly, SPARK_WIDTH, SPARK_HEIGHT))
