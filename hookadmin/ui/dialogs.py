"""Small dialogs of the window: send a test event, reset a secret, settings."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hookadmin.core import events as catalog
from hookadmin.core.errors import HookadminError, InputError, SecretStoreError
from hookadmin.core.hooks import Hook
from hookadmin.core.service import DELIVERY_DEFAULTS, HookService
from hookadmin.ui.sizing import fit_dialog

ERROR_STYLE = "color: #c62828;"


class TestEventDialog(QDialog):
    """Send any event type to one hook, with a realistic sample resource that can be
    edited before sending. The event goes to this hook only, whatever it subscribes to.

    Signals:
        sent(str): the event's UUID, once it is on the outbox.
    """

    sent = Signal(str)

    def __init__(self, service: HookService, hook: Hook, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testEventDialog")
        self.setWindowTitle(f"Send test event to {hook.display_name}")
        self._service, self._hook = service, hook
        self.type_box = QComboBox()
        self.type_box.setObjectName("eventType")
        self.type_box.setAccessibleName("Event type")
        for event in catalog.PUBLISHABLE_TYPES:
            self.type_box.addItem(f"{event.label} ({event.id})", event.id)
        self.resource_edit = QPlainTextEdit()
        self.resource_edit.setObjectName("resource")
        self.resource_edit.setAccessibleName("Resource JSON")
        self.resource_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.error_label = QLabel()
        self.error_label.setObjectName("testEventError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        note = QLabel("The event is delivered to this hook only, signed like any other, and "
                      "shows up in its deliveries.")
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send_button = self.buttons.addButton("Send",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("sendTestEvent")
        self.buttons.rejected.connect(self.reject)
        self.send_button.clicked.connect(self._on_send)
        form = QFormLayout()
        form.addRow("Event &type", self.type_box)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(QLabel("Resource (the request body)"))
        layout.addWidget(self.resource_edit, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        fit_dialog(self, 640, 560)
        self.type_box.currentIndexChanged.connect(self._on_type_changed)
        self._on_type_changed()

    def event_type(self) -> str:
        """The chosen event type id."""
        return str(self.type_box.currentData())

    @Slot()
    def _on_type_changed(self) -> None:
        from hookadmin.core.simulate import sample_resource  # its data only when used

        resource = sample_resource(self.event_type())
        self.resource_edit.setPlainText(json.dumps(resource, indent=2, ensure_ascii=False))
        self.error_label.hide()

    @Slot()
    def _on_send(self) -> None:
        try:
            event_id = self._service.send_test_event(self._hook.id, self.event_type(),
                                                     self.resource_edit.toPlainText())
        except HookadminError as err:
            self.error_label.setText(str(err))
            self.error_label.show()
            return
        self.sent.emit(event_id)
        self.accept()


class SettingsDialog(QDialog):
    """Settings shared by the window and ``hookadmin worker`` (kept in the database):
    history retention and the network policy."""

    def __init__(self, service: HookService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._service = service
        self.retention = QSpinBox()
        self.retention.setObjectName("retentionDays")
        self.retention.setAccessibleName("Keep delivery history for, in days")
        self.retention.setRange(1, 3650)
        self.retention.setSuffix(" days")
        self.retention.setValue(service.retention_days())
        self.strict = QCheckBox("Strict network mode: refuse loopback and private addresses")
        self.strict.setObjectName("strictNetwork")
        self.strict.setChecked(service.network_policy() == "strict")
        policy_note = QLabel("Link-local and cloud-metadata addresses (169.254.0.0/16, "
                             "fe80::/10, fd00:ec2::254, 100.100.100.200, and IPv6 forms that "
                             "carry them) are always refused. The change applies "
                             "to new requests within a few seconds, in the window and in "
                             "“hookadmin worker” alike.")
        policy_note.setWordWrap(True)
        policy_note.setEnabled(False)
        options = {**DELIVERY_DEFAULTS, **service.delivery_options()}
        self.schedule_edit = QLineEdit(", ".join(f"{d:g}" for d in options["retry_schedule"]))
        self.schedule_edit.setObjectName("retrySchedule")
        # Wide enough for a usual schedule ("0, 5, 30, 120, 600, 1800, 3600"), not clipped.
        self.schedule_edit.setMinimumWidth(
            self.schedule_edit.fontMetrics().horizontalAdvance("0, 5, 30, 120, 600, 1800, 3600")
            + 24)
        self.schedule_edit.setAccessibleName("Retry schedule, seconds")
        self.schedule_edit.setToolTip("Seconds to wait before each attempt; after the last "
                                      "one fails the delivery is failed. Each delay gets "
                                      "±20 % jitter.")
        self.connect_timeout = QDoubleSpinBox()
        self.connect_timeout.setObjectName("connectTimeout")
        self.connect_timeout.setAccessibleName("Connect timeout, seconds")
        self.connect_timeout.setRange(0.1, 300)
        self.connect_timeout.setSuffix(" s")
        self.connect_timeout.setValue(options["connect_timeout"])
        self.attempt_timeout = QDoubleSpinBox()
        self.attempt_timeout.setObjectName("attemptTimeout")
        self.attempt_timeout.setAccessibleName("Attempt timeout, seconds")
        self.attempt_timeout.setRange(0.1, 300)
        self.attempt_timeout.setSuffix(" s")
        self.attempt_timeout.setValue(options["attempt_timeout"])
        self.response_cap = QSpinBox()
        self.response_cap.setObjectName("responseCap")
        self.response_cap.setAccessibleName("Response body kept, KiB")
        self.response_cap.setRange(1, 16 * 1024)
        self.response_cap.setSuffix(" KiB")
        self.response_cap.setValue(int(options["response_cap"]) // 1024)
        self.metrics_port = QSpinBox()
        self.metrics_port.setObjectName("metricsPort")
        self.metrics_port.setAccessibleName("Prometheus metrics port, 0 for off")
        self.metrics_port.setRange(0, 65535)
        self.metrics_port.setSpecialValueText("Off")
        self.metrics_port.setToolTip("Serve http://127.0.0.1:PORT/metrics (Prometheus) while "
                                     "the window delivers; taken up when the engine next "
                                     "starts.")
        self.metrics_port.setValue(service.metrics_port() or 0)
        proxy = service.proxy_setting()
        self.proxy_edit = QLineEdit(proxy.url or "")
        self.proxy_edit.setObjectName("globalProxy")
        self.proxy_edit.setAccessibleName("Proxy of every HTTP hook without its own")
        self.proxy_edit.setPlaceholderText("none, or http://user@proxy.example:3128")
        self.proxy_password = QLineEdit()
        self.proxy_password.setObjectName("globalProxyPassword")
        self.proxy_password.setAccessibleName("Proxy password")
        self.proxy_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.proxy_password.setPlaceholderText("password (kept in the keyring; empty: keep)")
        self.proxy_ca = QLineEdit(proxy.ca_bundle or "")
        self.proxy_ca.setObjectName("globalProxyCaBundle")
        self.proxy_ca.setAccessibleName("CA bundle the proxy is trusted with")
        self.proxy_ca.setPlaceholderText("CA bundle of an https:// proxy (PEM file), if "
                                         "its CA is private")
        self.proxy_env = QCheckBox("Use HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the "
                                   "environment for hooks without a proxy")
        self.proxy_env.setObjectName("proxyFromEnvironment")
        self.proxy_env.setChecked(proxy.from_environment)
        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Keep delivery history for", self.retention)
        form.addRow("Retry &schedule (seconds)", self.schedule_edit)
        form.addRow("&Connect timeout", self.connect_timeout)
        form.addRow("&Attempt timeout", self.attempt_timeout)
        form.addRow("&Response body kept", self.response_cap)
        form.addRow("&Metrics port", self.metrics_port)
        form.addRow("&Proxy", self.proxy_edit)
        form.addRow("", self.proxy_password)
        form.addRow("", self.proxy_ca)
        form.addRow("", self.proxy_env)
        theme = QLabel("The window follows the system's light or dark theme.")
        theme.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.strict)
        layout.addWidget(policy_note)
        layout.addWidget(theme)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        fit_dialog(self, self.sizeHint().width(), self.sizeHint().height())

    @Slot()
    def _on_save(self) -> None:
        try:
            try:
                schedule = [float(p) for p in self.schedule_edit.text().replace(" ", "")
                            .split(",") if p]
            except ValueError:
                raise InputError("The retry schedule takes seconds separated by commas, "
                                 "e.g. 0, 5, 300.", field="retry_schedule") from None
            self._service.set_delivery_options(
                retry_schedule=schedule, connect_timeout=self.connect_timeout.value(),
                attempt_timeout=self.attempt_timeout.value(),
                response_cap=self.response_cap.value() * 1024)
            self._service.set_retention_days(self.retention.value())
            self._service.set_metrics_port(self.metrics_port.value() or None)
            self._service.set_network_policy("strict" if self.strict.isChecked()
                                             else "workstation")
            self._service.set_proxy(url=self.proxy_edit.text().strip(),
                                    password=self.proxy_password.text() or None,
                                    from_environment=self.proxy_env.isChecked(),
                                    ca_bundle=self.proxy_ca.text().strip())
        except (InputError, SecretStoreError) as err:
            self.error_label.setText(str(err))
            self.error_label.show()
            return
        self.accept()


def verify_snippets(hook: Hook) -> dict[str, str]:
    """Short receiver-side snippets checking ``X-Hook-Signature`` for ``hook``, by
    language (Python, Node.js, Go, Shell). Each reads the secret from ``HOOK_SECRET``."""
    where = f"hook {hook.id} ({hook.url})"
    reveal = f"hookadmin hooks secret {hook.id}"
    return {
        "Python": f'''# Verify deliveries of {where}.
import hashlib
import hmac
import os

SECRET = os.environ["HOOK_SECRET"]  # {reveal}


def verify(raw_body: bytes, signature: str) -> bool:
    """raw_body: the request body exactly as received; signature: X-Hook-Signature."""
    expected = hmac.new(SECRET.encode("ascii"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)

# Flask: verify(request.get_data(), request.headers.get("X-Hook-Signature", ""))
''',
        "Node.js": f'''// Verify deliveries of {where}.
const crypto = require("crypto");
const SECRET = process.env.HOOK_SECRET; // {reveal}

// rawBody: a Buffer of the request body exactly as received; signature: X-Hook-Signature.
function verify(rawBody, signature) {{
  const expected = Buffer.from(
    crypto.createHmac("sha256", SECRET).update(rawBody).digest("hex"));
  const given = Buffer.from(String(signature || ""));
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}}

module.exports = {{ verify }};
// Express: app.post(path, express.raw({{ type: "application/json" }}), (req, res) =>
//   verify(req.body, req.get("X-Hook-Signature")) ? res.sendStatus(204) : res.sendStatus(401));
''',
        "Go": f'''// Verify deliveries of {where}.
package hook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
)

// Verify reports whether signature (X-Hook-Signature) matches body, the request body
// exactly as received. The secret comes from HOOK_SECRET ({reveal}).
func Verify(body []byte, signature string) bool {{
	mac := hmac.New(sha256.New, []byte(os.Getenv("HOOK_SECRET")))
	mac.Write(body)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}}
''',
        "Shell": f'''# Verify a delivery of {where}.
# body.json: the request body exactly as received; SIG: its X-Hook-Signature header;
# HOOK_SECRET: {reveal}
expected=$(openssl dgst -sha256 -hmac "$HOOK_SECRET" -r < body.json | cut -d' ' -f1)
if [ "$expected" = "$SIG" ]; then echo valid; else echo INVALID; fi
''',
    }


class VerifyDialog(QDialog):
    """"Verify on your side": receiver snippets for one hook, with Copy."""

    def __init__(self, hook: Hook, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verifyDialog")
        self.setWindowTitle(f"Verify deliveries of {hook.display_name} on your side")
        intro = QLabel("Every delivery carries X-Hook-Signature: the HMAC-SHA256 of the raw "
                       "request body under the hook's secret, as 64 lowercase hex characters. "
                       "Compute it over the body bytes exactly as received (before any JSON "
                       "parsing) and compare in constant time.")
        intro.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("snippetTabs")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.views: dict[str, QPlainTextEdit] = {}
        for language, code in verify_snippets(hook).items():
            view = QPlainTextEdit(code)
            view.setReadOnly(True)
            view.setFont(mono)
            view.setObjectName(f"snippet{language.replace('.', '')}")
            view.setAccessibleName(f"{language} snippet")
            self.views[language] = view
            self.tabs.addTab(view, language)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("copySnippet")
        self.copy_button.clicked.connect(self._on_copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        fit_dialog(self, 760, 520)

    @Slot()
    def _on_copy(self) -> None:
        view = self.tabs.currentWidget()
        if isinstance(view, QPlainTextEdit):
            QGuiApplication.clipboard().setText(view.toPlainText())
