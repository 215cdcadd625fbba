"""The part of the hook form for hook types and endpoint options: a type list first
(Webhook first), then the fields of the chosen type and the HTTP options.

Secret fields (a PagerDuty routing key, passwords, secret header values) echo as dots
and are never filled in when a hook is edited: left empty, the stored value is kept.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core.errors import InputError
from hookadmin.core.hook_types import (
    BASIC_AUTH_PASSWORD,
    EMAIL,
    HEADER_PREFIX,
    HOOK_TYPES,
    KEY_PASSPHRASE,
    PAGERDUTY,
    PROXY_PASSWORD,
    ROUTING_KEY,
    SLACK,
    SMTP_PASSWORD,
    WEB,
    HookOptions,
    OptionSecrets,
    parse_header,
    parse_proxy_url,
    parse_rate_limit,
    parse_smtp_url,
    validate_address,
    validate_basic_auth_user,
    validate_client_cert,
    validate_filter,
)
from hookadmin.core.hooks import Hook
from hookadmin.ui.display import status_color


def _secret_edit(name: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    edit.setAccessibleName(placeholder)
    return edit


class HookTypeOptions(QWidget):
    """The type list and the fields that depend on it.

    Signals:
        changed(): a value changed (the form validates again).
        type_changed(str): another type was chosen (``web``, ``slack``, …).
    """

    changed = Signal()
    type_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editing: Hook | None = None
        self.type_list = QComboBox()
        self.type_list.setObjectName("hookType")
        self.type_list.setAccessibleName("Hook type")
        for t in HOOK_TYPES:  # Webhook first
            self.type_list.addItem(t.title, t.name)

        self.routing_key = _secret_edit("routingKey", "PagerDuty routing key")
        self.smtp_url = QLineEdit()
        self.smtp_url.setObjectName("smtpUrl")
        self.smtp_url.setPlaceholderText("smtp://user@mail.example.com:587?starttls=1")
        self.smtp_url.setAccessibleName("SMTP server")
        self.smtp_password = _secret_edit("smtpPassword", "SMTP password")
        self.to_edit = QLineEdit()
        self.to_edit.setObjectName("emailTo")
        self.to_edit.setPlaceholderText("ops@example.com, oncall@example.com")
        self.to_edit.setAccessibleName("Send to")

        self.auth_user = QLineEdit()
        self.auth_user.setObjectName("basicAuthUser")
        self.auth_user.setPlaceholderText("optional: basic-auth user")
        self.auth_user.setAccessibleName("Basic-auth user")
        self.auth_password = _secret_edit("basicAuthPassword", "Basic-auth password")
        self.headers = QPlainTextEdit()
        self.headers.setObjectName("headers")
        self.headers.setPlaceholderText("One per line: X-Team: data")
        self.headers.setAccessibleName("Custom headers")
        self.headers.setMaximumHeight(60)
        self.secret_headers = QPlainTextEdit()
        self.secret_headers.setObjectName("secretHeaders")
        self.secret_headers.setPlaceholderText("Secret headers, one per line: X-Api-Key: value")
        self.secret_headers.setAccessibleName("Secret headers")
        self.secret_headers.setMaximumHeight(60)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filter")
        self.filter_edit.setPlaceholderText("optional JMESPath, e.g. status == 'failed'")
        self.filter_edit.setAccessibleName("Filter")
        self.rate_edit = QLineEdit()
        self.rate_edit.setObjectName("rateLimit")
        self.rate_edit.setPlaceholderText("optional: 10/s or 600/m")
        self.rate_edit.setAccessibleName("Rate limit")
        self.proxy_edit = QLineEdit()
        self.proxy_edit.setObjectName("proxy")
        self.proxy_edit.setPlaceholderText("optional: http://user@proxy.example:3128")
        self.proxy_edit.setAccessibleName("Proxy")
        self.proxy_password = _secret_edit("proxyPassword", "Proxy password")
        self.client_cert = QLineEdit()
        self.client_cert.setObjectName("clientCert")
        self.client_cert.setPlaceholderText("optional mTLS: client certificate (PEM file)")
        self.client_cert.setAccessibleName("Client certificate")
        self.client_key = QLineEdit()
        self.client_key.setObjectName("clientKey")
        self.client_key.setPlaceholderText("its private key (PEM file)")
        self.client_key.setAccessibleName("Client key")
        self.key_passphrase = _secret_edit("keyPassphrase", "Key passphrase (if encrypted)")
        self.error = QLabel()
        self.error.setObjectName("optionsError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {status_color('failed').name()};")
        self.error.hide()

        self.pagerduty_box = QGroupBox("PagerDuty")
        pd = QFormLayout(self.pagerduty_box)
        pd.addRow("Routing key", self.routing_key)
        self.email_box = QGroupBox("E-mail")
        em = QFormLayout(self.email_box)
        em.addRow("SMTP server", self.smtp_url)
        em.addRow("SMTP password", self.smtp_password)
        em.addRow("Send to", self.to_edit)
        self.http_box = QGroupBox("Endpoint options")
        http = QFormLayout(self.http_box)
        http.addRow("Basic auth", self.auth_user)
        http.addRow("", self.auth_password)
        http.addRow("Headers", self.headers)
        http.addRow("Secret headers", self.secret_headers)
        http.addRow("Proxy", self.proxy_edit)
        http.addRow("", self.proxy_password)
        http.addRow("Client certificate", self.client_cert)
        http.addRow("", self.client_key)
        http.addRow("", self.key_passphrase)
        self.common_box = QGroupBox("Delivery")
        common = QFormLayout(self.common_box)
        common.addRow("Filter", self.filter_edit)
        common.addRow("Rate limit", self.rate_edit)

        # The form puts this label and the type list in its first row, above the
        # Payload URL; the boxes below follow its Name.
        self.type_label = QLabel("Hook &type")
        self.type_label.setBuddy(self.type_list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (self.pagerduty_box, self.email_box, self.http_box, self.common_box):
            layout.addWidget(box)
        layout.addWidget(self.error)

        self.type_list.currentIndexChanged.connect(self._on_type)
        for edit in (self.routing_key, self.smtp_url, self.smtp_password, self.to_edit,
                     self.auth_user, self.auth_password, self.filter_edit, self.rate_edit,
                     self.proxy_edit, self.proxy_password, self.client_cert, self.client_key,
                     self.key_passphrase):
            edit.textChanged.connect(self.changed)
        self.headers.textChanged.connect(self.changed)
        self.secret_headers.textChanged.connect(self.changed)
        self._on_type()

    @property
    def type_name(self) -> str:
        """The chosen type's name."""
        return str(self.type_list.currentData())

    def reset(self, hook: Hook | None = None) -> None:
        """Empty the fields for a new hook, or show ``hook``'s (never its secrets); a
        hook's type cannot change, so the list is disabled when editing."""
        self.editing = hook
        o = hook.options if hook is not None else HookOptions()
        self.type_list.setCurrentIndex(self.type_list.findData(hook.type if hook else WEB))
        self.type_list.setEnabled(hook is None)
        for edit in (self.routing_key, self.smtp_password, self.auth_password,
                     self.proxy_password, self.key_passphrase):
            edit.clear()
        self.client_cert.setText(o.client_cert or "")
        self.client_key.setText(o.client_key or "")
        self.smtp_url.setText(hook.url if hook is not None and hook.type == EMAIL else "")
        self.to_edit.setText(", ".join(o.to))
        self.auth_user.setText(o.basic_auth_user or "")
        self.headers.setPlainText("\n".join(f"{k}: {v}" for k, v in o.headers))
        self.secret_headers.setPlainText("\n".join(f"{k}: " for k in o.secret_headers))
        self.filter_edit.setText(o.filter or "")
        self.rate_edit.setText(str(o.rate_limit) if o.rate_limit else "")
        self.proxy_edit.setText(o.proxy or "")
        self.error.hide()
        self._on_type()

    def values(self) -> tuple[str, HookOptions, OptionSecrets]:
        """(type, options, option secrets given), checked. An empty secret field of a
        hook being edited is left out, so the stored value is kept.

        Raises:
            InputError: a field is not valid.
        """
        kind = self.type_name
        base = self.editing.options if self.editing is not None else HookOptions()
        secrets: OptionSecrets = {}
        if kind == PAGERDUTY and self.routing_key.text().strip():
            secrets[ROUTING_KEY] = self.routing_key.text().strip()
        elif kind == PAGERDUTY and self.editing is None:
            raise InputError("Enter the PagerDuty routing key (integration key).",
                             field="routing_key")
        if kind == EMAIL:
            parse_smtp_url(self.smtp_url.text())
            if self.smtp_password.text():
                secrets[SMTP_PASSWORD] = self.smtp_password.text()
            to = tuple(validate_address(a) for a in self.to_edit.text().split(",")
                       if a.strip())
            if not to:
                raise InputError("Enter at least one address to send to.", field="to")
        else:
            to = ()
        user = self.auth_user.text().strip() or None
        if user is not None and kind != EMAIL:
            validate_basic_auth_user(user)
            if self.auth_password.text():
                secrets[BASIC_AUTH_PASSWORD] = self.auth_password.text()
            elif base.basic_auth_user is None:
                raise InputError("Enter the basic-auth password too.", field="basic_auth")
        headers = tuple(parse_header(line) for line in self.headers.toPlainText().splitlines()
                        if line.strip()) if kind != EMAIL else ()
        secret_names = []
        for line in self.secret_headers.toPlainText().splitlines() if kind != EMAIL else []:
            if not line.strip():
                continue
            name, _, value = line.partition(":")
            if value.strip():
                name, value = parse_header(line)
                secrets[HEADER_PREFIX + name] = value
            else:
                name = parse_header(f"{name}: x")[0]
            secret_names.append(name)
        proxy = None
        if self.proxy_edit.text().strip() and kind != EMAIL:
            proxy, password = parse_proxy_url(self.proxy_edit.text())
            if password is not None or self.proxy_password.text():
                secrets[PROXY_PASSWORD] = password or self.proxy_password.text()
        cert, key = self.client_cert.text().strip(), self.client_key.text().strip()
        if (cert or key) and kind != EMAIL:
            if not (cert and key):
                raise InputError("Give the client certificate and its key together.",
                                 field="client_cert")
            if self.key_passphrase.text():
                secrets[KEY_PASSPHRASE] = self.key_passphrase.text()
            cert, key = validate_client_cert(cert, key, self.key_passphrase.text() or None) \
                if self.key_passphrase.text() or self.editing is None \
                or (cert, key) != (base.client_cert, base.client_key) else (cert, key)
        expr = self.filter_edit.text().strip()
        rate = self.rate_edit.text().strip()
        options = replace(
            base, basic_auth_user=user if kind != EMAIL else None, headers=headers,
            secret_headers=tuple(secret_names), filter=validate_filter(expr) if expr else None,
            rate_limit=parse_rate_limit(rate) if rate else None, to=to, proxy=proxy,
            client_cert=cert or None if kind != EMAIL else None,
            client_key=key or None if kind != EMAIL else None)
        return kind, options, secrets

    def smtp_text(self) -> str:
        """The SMTP server field (an e-mail hook's URL)."""
        return self.smtp_url.text().strip()

    def check(self) -> bool:
        """Validate the fields, show the first problem; True when there is none."""
        try:
            self.values()
        except InputError as err:
            self.error.setText(str(err))
            self.error.show()
            return False
        self.error.hide()
        return True

    def _on_type(self) -> None:
        kind = self.type_name
        self.pagerduty_box.setVisible(kind == PAGERDUTY)
        self.email_box.setVisible(kind == EMAIL)
        self.http_box.setVisible(kind != EMAIL)
        self.type_changed.emit(kind)
        self.changed.emit()


def uses_url_field(kind: str) -> bool:
    """Whether the form's URL field applies: every type but e-mail (Slack: its
    incoming-webhook URL; PagerDuty: the endpoint, empty for PagerDuty's)."""
    return kind in (WEB, SLACK, PAGERDUTY)
