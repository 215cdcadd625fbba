"""How the window writes times, delivery results, subscriptions and hook health, and
the status colours it draws them in (the light or the dark set, as the palette is): one
way for the tables, the pages and the dialogs alike."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPainter, QPalette, QPixmap

from hookadmin.core import events as catalog
from hookadmin.core.store import Delivery, HookHealth

GREEN, RED, AMBER, GREY = (QColor("#2e7d32"), QColor("#c62828"), QColor("#a15c00"),
                          QColor("#616161"))
# On a dark palette the light theme's colours are too dark to read (contrast < 3:1):
# the same hues, lighter.
DARK_COLOURS = {"succeeded": QColor("#81c784"), "failed": QColor("#ef9a9a"),
                "pending": QColor("#ffcc80"), "inactive": QColor("#bdbdbd")}
LIGHT_COLOURS = {"succeeded": GREEN, "failed": RED, "pending": AMBER, "inactive": GREY}


def events_summary(events: tuple[str, ...]) -> str:
    """"All Job Notifications, Cluster Error" style summary of a subscription."""
    labels = {g.id: g.label for g in catalog.GROUPS}
    return ", ".join(labels[item] if item in labels else catalog.event_type(item).label
                     for item in events)


def ago(ts: float, now: float | None = None) -> str:
    """"12 s ago", "5 min ago", "3 h ago", or a date."""
    delta = (time.time() if now is None else now) - ts
    if delta < 60:
        return f"{max(0, int(delta))} s ago"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def minute_ago(ts: float, now: float | None = None) -> str:
    """:func:`ago` of a time kept to the minute (``ts``: the minute's start, Unix
    seconds): "under a minute ago" within that minute's 60 s, never seconds it does not
    know."""
    delta = (time.time() if now is None else now) - ts
    return "under a minute ago" if delta < 60 else ago(ts, now)


def delivery_result(d: Delivery) -> str:
    """A short result text: "✓ 200", "retrying (500)", "✗ timeout", "queued",
    "queued again" for a succeeded delivery sent again (Redeliver), or "waiting for the
    keyring" for a delivery whose secret could not be read yet."""
    if d.attempts == 0:
        return "queued"
    code = str(d.last_status_code) if d.last_status_code is not None else d.last_error_kind or "?"
    if d.status == "succeeded":
        return f"✓ {code}"
    if d.status == "pending":
        if d.last_status_code is None and d.last_error_kind == "secret_unavailable":
            return "waiting for the keyring"  # not the receiver's failure
        if d.last_error_kind is None and d.last_status_code is not None \
                and 200 <= d.last_status_code < 300:
            return "queued again"  # a success sent again (Redeliver), not a retry
        return f"retrying ({code})"
    return f"✗ {code}"


def local_time(ts: float) -> str:
    """Unix seconds → "2026-12-04 18:20:33" in the local time zone: the one way the
    window writes an exact time (tables, details and tooltips alike)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def is_dark() -> bool:
    """True when the application's palette is a dark one (light text on dark)."""
    palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def status_color(status: str) -> QColor:
    """The colour of a status (``succeeded``, ``failed``, ``pending``, ``inactive``;
    anything else is amber) with enough contrast on the current palette."""
    colours = DARK_COLOURS if is_dark() else LIGHT_COLOURS
    return colours.get(status, colours["pending"])


_BRUSHES: dict[tuple[str, bool], QBrush] = {}


def status_brush(status: str) -> QBrush:
    """Green for succeeded, red for failed, grey for inactive, amber for pending, in
    the light or dark variant of the current palette (one brush per status and
    variant, made once: a table asks for one per painted cell)."""
    key = (status, is_dark())
    brush = _BRUSHES.get(key)
    if brush is None:
        brush = _BRUSHES[key] = QBrush(status_color(status))
    return brush


def sparkline(hourly: tuple[tuple[int, int], ...], width: int, height: int) -> QPixmap:
    """A bar per hour of ``(succeeded, failed)`` attempts, ``width`` by ``height``
    pixels, transparent: the successful part of each bar in the succeeded colour, the
    failed part stacked on it in the failed colour; an hour without attempts is a
    baseline dot. Bars share one scale (the busiest hour fills the height)."""
    ratio = QGuiApplication.primaryScreen().devicePixelRatio() \
        if QGuiApplication.primaryScreen() else 1.0
    pixmap = QPixmap(int(width * ratio), int(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    if not hourly:
        return pixmap
    top = max((ok + bad for ok, bad in hourly), default=0) or 1
    slot = width / len(hourly)
    bar = max(1.0, slot - 1.0)
    painter = QPainter(pixmap)
    ok_colour, bad_colour = status_color("succeeded"), status_color("failed")
    quiet = status_color("inactive")
    for i, (ok, bad) in enumerate(hourly):
        x = i * slot
        if ok + bad == 0:
            painter.fillRect(QRectF(x, height - 1.0, bar, 1.0), quiet)
            continue
        ok_h = max(1.0, (height - 1) * ok / top) if ok else 0.0
        bad_h = max(1.0, (height - 1) * bad / top) if bad else 0.0
        painter.fillRect(QRectF(x, height - ok_h, bar, ok_h), ok_colour)
        painter.fillRect(QRectF(x, height - ok_h - bad_h, bar, bad_h), bad_colour)
    painter.end()
    return pixmap


def health_text(health: HookHealth | None, now: float | None = None) -> str:
    """The short health of the hooks list: "98 %" (succeeded, rounded down), "failing",
    or an en dash without attempts in the window."""
    if health is None:
        return ""
    if health.failing_since is not None:
        return "failing"  # since when: in the tooltip and on the hook page
    total = health.succeeded + health.failed
    # Rounded down: 99.6 % must not read as a spotless 100 %.
    return "–" if not total else f"{health.succeeded * 100 // total} %"


def health_summary(health: HookHealth, now: float | None = None) -> str:
    """One line for people: "98 % of 120 attempts succeeded in 24 h · last success
    5 min ago" (and "· failing since …" when it is)."""
    hours = len(health.hourly)
    total = health.succeeded + health.failed
    parts = [f"No attempts in the last {hours} h" if not total else
             f"{health.succeeded * 100 // total} % of {total:,} "
             f"attempt{'s' if total != 1 else ''} succeeded in the last {hours} h"]
    parts.append("never succeeded" if health.last_success_at is None else
                 f"last success {minute_ago(health.last_success_at, now)}")
    if health.failing_since is not None:
        parts.append(f"failing since {local_time(health.failing_since)}")
    return " · ".join(parts)
