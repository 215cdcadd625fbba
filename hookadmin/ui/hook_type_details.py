"""The hook page's account of a hook's type and endpoint options: the type, and every
option that is not secret (e-mail recipients and SMTP server, PagerDuty endpoint,
basic-auth user, header names with secret values masked, filter, rate limit, proxy
host, mTLS certificate subject and expiry). Secret values never reach this widget."""

from __future__ import annotations

import datetime
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from hookadmin.core.errors import InputError
from hookadmin.core.hook_types import EMAIL, HOOK_TYPES, PAGERDUTY, SLACK, parse_smtp_url
from hookadmin.core.hooks import Hook

MASK = "•" * 8


def type_details(hook: Hook) -> list[tuple[str, str]]:
    """The rows the widget shows for ``hook``: (label, text), secrets masked."""
    kind = next((t for t in HOOK_TYPES if t.name == hook.type), None)
    rows = [("Type", f"{kind.title} ({kind.description})" if kind else hook.type)]
    o = hook.options
    if hook.type == EMAIL:
        try:
            server = parse_smtp_url(hook.url)
        except InputError:
            rows.append(("SMTP server", hook.url))
        else:
            how = "TLS" if server.tls else "STARTTLS" if server.starttls else "no TLS"
            user = f", user {server.user} (password {MASK})" if server.user else ""
            rows.append(("SMTP server", f"{server.host}:{server.port}, {how}{user}"))
        rows.append(("Recipients", ", ".join(o.to)))
    elif hook.type == PAGERDUTY:
        rows.append(("Endpoint", f"{hook.url} (routing key {MASK})"))
    elif hook.type == SLACK:
        rows.append(("Slack URL", f"{hook.url} (kept in the keyring)"))
    if o.basic_auth_user is not None:
        rows.append(("Basic auth", f"user {o.basic_auth_user}, password {MASK}"))
    headers = [f"{k}: {v}" for k, v in o.headers] + [f"{k}: {MASK}" for k in o.secret_headers]
    if headers:
        rows.append(("Headers", "\n".join(headers)))
    if o.filter is not None:
        rows.append(("Filter", o.filter))
    if o.rate_limit is not None:
        per = "second" if o.rate_limit.per == 1 else "minute"
        rows.append(("Rate limit", f"at most {o.rate_limit.count} per {per}"))
    if o.proxy is not None:
        parts = urlsplit(o.proxy)
        port = f":{parts.port}" if parts.port else ""
        user = f", user {parts.username}" if parts.username else ""
        rows.append(("Proxy", f"{parts.scheme}://{parts.hostname}{port}{user}"))
    if o.client_cert is not None:
        rows.append(("Client certificate", certificate_summary(o.client_cert)))
    return rows


def certificate_summary(path: str) -> str:
    """``subject, expires YYYY-MM-DD`` of the first certificate in a PEM file (``expired``
    when it has), or a sentence saying it cannot be read."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "not PEM"
        return f"{path} cannot be read ({reason}); set it again with Edit."
    until = cert.not_valid_after_utc
    state = "expired" if until < datetime.datetime.now(datetime.UTC) else "expires"
    return f"{cert.subject.rfc4514_string()}, {state} {until:%Y-%m-%d} ({path})"


class HookTypeDetails:
    """:func:`type_details`' rows, kept in the hook page's own form right after the row
    of ``after`` (so their labels and values line up with the page's other rows) and
    refreshed by :meth:`show_hook`.

    Args:
        form: the page's form layout.
        after: a field widget of ``form``; the type rows follow its row.
    """

    def __init__(self, form: QFormLayout, after: QWidget) -> None:
        self._form = form
        self._after = after
        self._rows: list[tuple[QLabel, QLabel]] = []

    def show_hook(self, hook: Hook) -> None:
        """Show ``hook``'s type and non-secret options."""
        for _label, value in self._rows:
            self._form.removeRow(value)  # deletes both widgets
        self._rows = []
        # PySide6 returns getWidgetPosition's (row, role) as a tuple; its stubs say object.
        position: tuple[int, QFormLayout.ItemRole] = \
            self._form.getWidgetPosition(self._after)  # type: ignore[assignment]
        row = position[0]
        for label_text, text in type_details(hook):
            label = QLabel(label_text)
            value = QLabel(text)
            value.setObjectName("typeDetail" + label_text.replace(" ", ""))
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row += 1
            self._form.insertRow(row, label, value)
            self._rows.append((label, value))

    def text(self) -> str:
        """Every row as ``label: text`` lines (for tests and screen readers)."""
        return "\n".join(f"{label}: {text}" for label, text in self.rows())

    def rows(self) -> list[tuple[str, str]]:
        """The rows shown, as ``(label, text)``."""
        return [(label.text(), value.text()) for label, value in self._rows]
