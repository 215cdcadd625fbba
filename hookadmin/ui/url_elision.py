"""Eliding a hook's URL to a width so that its host stays in sight: an administrator
tells hooks apart by where they go, so the path gives way first (its start and end
kept, "…" in its middle), then the scheme, and the host's start is the last to go."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

ELLIPSIS = "\u2026"


def elide_url(url: str, metrics: QFontMetrics, width: int) -> str:
    """``url`` as it fits in ``width`` pixels drawn with ``metrics``: whole if it fits;
    else ``scheme://host[:port]`` and the path elided in its middle; else the same
    without the scheme; else the host followed by "…"; else the host (with its port)
    elided at its end. Text that is not a URL with a host is elided in its middle.
    Never raises."""
    if metrics.horizontalAdvance(url) <= width:
        return url
    middle = Qt.TextElideMode.ElideMiddle
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]  # never a user or password
    except ValueError:
        host = ""
    if not host:
        return metrics.elidedText(url, middle, width)
    rest = url.split(parts.netloc, 1)[1]  # the path, query (a fragment is never stored)
    shortest = metrics.horizontalAdvance("/" + ELLIPSIS)
    for origin in (f"{parts.scheme}://{host}", host):
        room = width - metrics.horizontalAdvance(origin)
        path = metrics.elidedText(rest, middle, room) if room >= shortest else ""
        if path:
            return origin + path
    if metrics.horizontalAdvance(host + ELLIPSIS) <= width:
        return host + ELLIPSIS  # never the host alone, as if that were the whole URL
    return metrics.elidedText(host + rest, Qt.TextElideMode.ElideRight, width)
