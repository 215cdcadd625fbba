"""The hook page shows a hook's type and its non-secret options (never a secret value),
and the Settings dialog sets the global proxy with its password in the keyring."""

from __future__ import annotations

import base64
import datetime
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from hookadmin.core.hook_types import (
    BASIC_AUTH_PASSWORD,
    HEADER_PREFIX,
    KEY_PASSPHRASE,
    PROXY_PASSWORD,
    ROUTING_KEY,
    SMTP_PASSWORD,
    HookOptions,
    RateLimit,
)
from hookadmin.core.proxy_settings import global_proxy_password
from hookadmin.core.service import HookService
from hookadmin.delivery.ping import ping
from hookadmin.ui.dialogs import SettingsDialog
from hookadmin.ui.main_window import MainWindow
from tests.forward_proxy import ForwardProxy
from tests.receiver import Receiver, ok
from tests.ui.conftest import PING_SETTINGS
from tests.ui.gui import find, select_hook

SECRETS = ("slack-TOKEN-zz91", "routing-KEY-zz92", "basic-PW-zz93", "header-VALUE-zz94",
           "proxy-PW-zz95", "smtp-PW-zz96", "key-PASSPHRASE-zz97")


def _encrypted_client_key(folder: Path, passphrase: str) -> tuple[Path, Path]:
    """A client certificate and its key, encrypted with ``passphrase`` (PEM files)."""
    leaf = trustme.CA().issue_cert("hookadmin-client.example")
    cert, key = folder / "client.pem", folder / "client-enc.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    private = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    key.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode())))
    return cert, key


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """Not about the keyring itself: secrets in an in-process keyring."""
    return service_in_memory


def _page_text(qtbot: QtBot, window: MainWindow, hook_id: int) -> str:
    select_hook(qtbot, window, hook_id)
    return window.page.type_details.text()


def test_the_hook_page_shows_each_types_details_and_no_secret(
        qtbot: QtBot, service: HookService, tmp_path: Path,
        open_window: Callable[..., MainWindow]) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("hookadmin-client.example")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    slack = service.create_hook(url=f"https://hooks.slack.com/services/{SECRETS[0]}",
                                events=["job"], type="slack")
    pagerduty = service.create_hook(url=None, events=["job.failed"], type="pagerduty",
                                    option_secrets={ROUTING_KEY: SECRETS[1]})
    web = service.create_hook(
        url="https://ops.example.com/hooks", events=["job"],
        options=HookOptions(basic_auth_user="alice", headers=(("X-Team", "data"),),
                            secret_headers=("X-Api-Key",), filter="status == 'failed'",
                            rate_limit=RateLimit(10, 1.0), client_cert=str(cert),
                            client_key=str(key),
                            proxy="http://relay@proxy.example:3128"),
        option_secrets={BASIC_AUTH_PASSWORD: SECRETS[2],
                        HEADER_PREFIX + "X-Api-Key": SECRETS[3],
                        PROXY_PASSWORD: SECRETS[4]})
    email = service.create_hook(url="smtp://127.0.0.1:2525?starttls=1", events=["job"],
                                type="email",
                                options=HookOptions(to=("ops@example.com", "b@example.com")),
                                option_secrets={SMTP_PASSWORD: SECRETS[5]})
    window = open_window()

    shown = _page_text(qtbot, window, slack.id)
    assert "Type: Slack" in shown
    assert "https://hooks.slack.com/services/***" in shown
    shown = _page_text(qtbot, window, pagerduty.id)
    assert "Type: PagerDuty" in shown
    assert "Endpoint: https://events.pagerduty.com/v2/enqueue" in shown
    shown = _page_text(qtbot, window, web.id)
    assert "Type: Webhook" in shown
    assert "Basic auth: user alice" in shown
    assert "X-Team: data" in shown
    assert "X-Api-Key: ••••••••" in shown
    assert "Filter: status == 'failed'" in shown
    assert "Rate limit: at most 10 per second" in shown
    assert "Proxy: http://proxy.example:3128, user relay" in shown
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    assert (f"Client certificate: {parsed.subject.rfc4514_string()}, expires "
            f"{parsed.not_valid_after_utc:%Y-%m-%d}") in shown
    assert "hookadmin-client.example" in parsed.subject.rfc4514_string() \
        or parsed.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
    shown_web = shown
    shown = _page_text(qtbot, window, email.id)
    assert "Type: E-mail" in shown
    assert "SMTP server: 127.0.0.1:2525, STARTTLS" in shown
    assert "Recipients: ops@example.com, b@example.com" in shown
    # Back to the web hook: nothing of the e-mail hook is left over.
    assert _page_text(qtbot, window, web.id) == shown_web
    for hook_id in (slack.id, pagerduty.id, web.id, email.id):
        text = _page_text(qtbot, window, hook_id)
        for secret in SECRETS:
            assert secret not in text


def test_the_settings_dialog_sets_the_global_proxy_and_the_environment_switch(
        qtbot: QtBot, service: HookService, tmp_path: Path) -> None:
    ca_file = tmp_path / "proxy-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    dialog = SettingsDialog(service)
    qtbot.addWidget(dialog)
    url, password = find(dialog, QLineEdit, "globalProxy"), \
        find(dialog, QLineEdit, "globalProxyPassword")
    env = find(dialog, QCheckBox, "proxyFromEnvironment")
    ca = find(dialog, QLineEdit, "globalProxyCaBundle")
    assert isinstance(url, QLineEdit)
    assert isinstance(password, QLineEdit)
    assert isinstance(env, QCheckBox)
    assert isinstance(ca, QLineEdit)
    assert not env.isChecked()  # the environment is ignored by default
    assert password.echoMode() == QLineEdit.EchoMode.Password
    url.setText("https://relay@proxy.example:8443")
    password.setText(SECRETS[4])
    env.setChecked(True)
    ca.setText(str(ca_file))
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save is not None
    save.click()
    setting = service.proxy_setting()
    assert setting.url == "https://relay@proxy.example:8443"
    assert setting.from_environment
    assert setting.ca_bundle == str(ca_file.resolve())
    assert global_proxy_password(service.secrets) == SECRETS[4]
    assert SECRETS[4] not in str(service.store.get_setting("proxy"))

    again = SettingsDialog(service)
    qtbot.addWidget(again)
    url2 = find(again, QLineEdit, "globalProxy")
    password2 = find(again, QLineEdit, "globalProxyPassword")
    assert isinstance(url2, QLineEdit)
    assert isinstance(password2, QLineEdit)
    assert url2.text() == "https://relay@proxy.example:8443"
    assert password2.text() == ""  # never shown; left empty, the stored one is kept
    ca2 = find(again, QLineEdit, "globalProxyCaBundle")
    assert isinstance(ca2, QLineEdit)
    assert ca2.text() == str(ca_file.resolve())
    url2.setText("socks5://proxy.example:1080")
    buttons2 = again.findChild(QDialogButtonBox)
    assert buttons2 is not None
    save2 = buttons2.button(QDialogButtonBox.StandardButton.Save)
    assert save2 is not None
    save2.click()
    error = find(again, QLabel, "settingsError")
    assert isinstance(error, QLabel)
    assert "http://proxy.example:3128" in error.text()  # refused in one sentence
    assert service.proxy_setting().url == "https://relay@proxy.example:8443"
    url2.setText("https://relay@proxy.example:8443")
    ca2.setText(str(tmp_path / "missing.pem"))
    save2.click()
    assert "CA bundle" in error.text()
    assert service.proxy_setting().ca_bundle == str(ca_file.resolve())


def test_copy_as_curl_masks_every_option_secret(
        qtbot: QtBot, service: HookService, make_receiver: Callable[..., Receiver],
        open_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    receiver = make_receiver(ok())
    proxy = ForwardProxy(tmp_path, user="relay", password=SECRETS[4])
    cert, key = _encrypted_client_key(tmp_path, SECRETS[6])
    slack = service.create_hook(url=receiver.url_for(f"/services/{SECRETS[0]}"),
                                events=["job"], type="slack")
    pagerduty = service.create_hook(url=receiver.url_for("/v2/enqueue"),
                                    events=["job.failed"], type="pagerduty",
                                    option_secrets={ROUTING_KEY: SECRETS[1]})
    web = service.create_hook(
        url=receiver.url, events=["job"],
        options=HookOptions(basic_auth_user="alice", secret_headers=("X-Api-Key",)),
        option_secrets={BASIC_AUTH_PASSWORD: SECRETS[2],
                        HEADER_PREFIX + "X-Api-Key": SECRETS[3]})
    proxied = service.create_hook(
        url=receiver.url, events=["job"],
        options=HookOptions(proxy=proxy.url.replace("http://", "http://relay@"),
                            client_cert=str(cert), client_key=str(key)),
        option_secrets={PROXY_PASSWORD: SECRETS[4], KEY_PASSPHRASE: SECRETS[6]})
    window = open_window()
    copied = []
    try:
        for hook in (slack, pagerduty, web, proxied):
            result = ping(service, hook.id, PING_SETTINGS)
            assert result.attempt.succeeded, result.attempt.error_message
            window.delivery_actions.copy_as_curl(result.delivery_id)
            text = QGuiApplication.clipboard().text()
            assert text.startswith("curl ")
            copied.append(text)
        assert [r["authorized"] for r in proxy.requests()] == [True]
    finally:
        proxy.stop()
    assert len(receiver.requests()) == 4
    assert "routing_key" in copied[1]  # the PagerDuty event itself, its key masked
    assert "Basic ***" in copied[2]
    assert "--proxy" not in copied[2]
    assert f"--proxy {proxy.url} --proxy-user 'relay:***'" in copied[3]
    for text in copied:
        for secret in SECRETS:
            assert secret not in text
            for user in ("alice", "relay"):
                assert base64.b64encode(f"{user}:{secret}".encode()).decode() not in text


def test_copy_as_curl_of_a_proxied_hook_goes_through_its_proxy(
        qtbot: QtBot, service: HookService, make_receiver: Callable[..., Receiver],
        open_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    curl = shutil.which("curl")
    assert curl is not None, "curl must be installed to check the copied command"
    receiver = make_receiver(ok())
    proxy = ForwardProxy(tmp_path, user="relay", password=SECRETS[4])
    try:
        hook = service.create_hook(
            url=receiver.url, events=["job"],
            options=HookOptions(proxy=proxy.url.replace("http://", "http://relay@")),
            option_secrets={PROXY_PASSWORD: SECRETS[4]})
        result = ping(service, hook.id, PING_SETTINGS)
        assert result.attempt.succeeded, result.attempt.error_message
        window = open_window()
        window.delivery_actions.copy_as_curl(result.delivery_id)
        command = QGuiApplication.clipboard().text()
        assert SECRETS[4] not in command
        # The person copying it fills in the proxy's password.
        filled = command.replace("'relay:***'", shlex.quote(f"relay:{SECRETS[4]}"))
        done = subprocess.run(["sh", "-c", filled], capture_output=True, timeout=30,
                              check=False, env={"PATH": os.environ["PATH"]})
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
        assert proxy.requests() == [{"method": "POST", "target": receiver.url,
                                     "authorized": True}] * 2
    finally:
        proxy.stop()
    first, again = receiver.wait_for_requests(2)
    assert again.body == first.body
    assert again.header("X-Hook-Signature") == first.header("X-Hook-Signature")


def test_the_type_rows_line_up_with_the_hook_page_s_other_rows(
        qtbot: QtBot, service: HookService, open_window: Callable[..., MainWindow]) -> None:
    """"Type" and its value sit in the page's label and value columns, under "Payload
    URL" and its value, not in a narrower form of their own."""
    hook = service.create_hook(url="https://ops.example.com/hooks", events=["job"])
    window = open_window()
    select_hook(qtbot, window, hook.id)
    page = window.page

    def left(widget: QLabel) -> int:
        return widget.mapTo(page, widget.rect().topLeft()).x()

    value = page.findChild(QLabel, "typeDetailType")
    assert value is not None
    assert value.isVisible()
    assert left(value) == left(page.url_label)
    labels = [w for w in page.findChildren(QLabel) if w.text() in ("Type", "Payload URL")
              and w.isVisible()]
    assert len(labels) == 2
    assert left(labels[0]) == left(labels[1])
