"""The parts the hook page's recent deliveries and the Deliveries tab share: their
layout (table above, actions and details below), their buttons' state for the selected
delivery, and the curl command that repeats a delivery's request."""

from __future__ import annotations

import shlex

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.core.store import Delivery


def curl_command(url: str, headers: dict[str, str], body: bytes,
                 proxy: tuple[str, str | None] | None = None) -> str:
    """A shell command that repeats a request with curl (POSIX shell quoting); through
    ``proxy`` (its URL and user, :func:`hookadmin.delivery.proxy.shown_proxy`) when
    given, its password as ``***`` to fill in."""
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url)]
    if proxy is not None:
        parts += ["--proxy", shlex.quote(proxy[0])]
        if proxy[1] is not None:
            parts += ["--proxy-user", shlex.quote(f"{proxy[1]}:***")]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts += ["--data-binary", shlex.quote(body.decode("utf-8", "replace"))]
    return " ".join(parts)


def delivery_panel(table: QWidget, buttons: tuple[QWidget, ...], details: QWidget,
                   sizes: tuple[int, int], *, scroll_details: bool = False) -> QSplitter:
    """Deliveries above, the selected one's actions (a row of ``buttons``) and
    ``details`` below, in a vertical splitter of ``sizes`` pixels: the hook page's and
    the Deliveries tab's shared layout. With ``scroll_details`` the lower part scrolls
    when the window is too short for the details (for a view that does not scroll as
    a whole)."""
    actions = QHBoxLayout()
    for button in buttons:
        actions.addWidget(button)
    actions.addStretch(1)
    lower = QWidget()
    lower_layout = QVBoxLayout(lower)
    lower_layout.setContentsMargins(0, 0, 0, 0)
    lower_layout.addLayout(actions)
    lower_layout.addWidget(details, 1)
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(table)
    if scroll_details:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(lower)
        split.addWidget(scroll)
    else:
        split.addWidget(lower)
    split.setSizes(list(sizes))
    return split

def update_delivery_buttons(selected: Delivery | None, redeliver: QPushButton,
                            curl: QPushButton) -> None:
    """Enable Redeliver and Copy as curl for the ``selected`` delivery (both off with
    none). A delivery waiting for its next retry gets "Retry now" instead of
    "Redeliver" (the same action: due again now); a ping is never redelivered."""
    curl.setEnabled(selected is not None)
    waiting = selected is not None and selected.status == "pending"
    redeliver.setText("Retry &now" if waiting else "Re&deliver")
    redeliver.setToolTip("Attempt the selected delivery now instead of waiting for its "
                         "next retry" if waiting else
                         "Send the selected delivery again: new attempts, same delivery id "
                         "and body")
    redeliver.setEnabled(selected is not None and selected.event_type != catalog.PING)


