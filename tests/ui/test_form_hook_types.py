"""The hook form's type list and endpoint options, through the window: each type is
created with its secrets in the (in-process) keyring, options are saved, mistakes are
shown under the fields, and editing keeps secrets the form never shows."""

from __future__ import annotations

from pathlib import Path

import trustme
from pytestqt.qtbot import QtBot

from hookadmin.core.hook_types import (
    BASIC_AUTH_PASSWORD,
    HEADER_PREFIX,
    ROUTING_KEY,
    SLACK_URL,
    HookOptions,
    RateLimit,
)
from hookadmin.core.service import HookService
from hookadmin.ui.main_window import MainWindow
from tests.ui.gui import choose, click


def test_the_type_list_starts_with_webhook(qtbot: QtBot, window: MainWindow) -> None:
    click(qtbot, window.new_button)
    types = window.form.type_options.type_list
    assert [types.itemText(i) for i in range(types.count())] == [
        "Webhook", "Slack", "PagerDuty", "E-mail"]
    assert types.currentText() == "Webhook"
    assert types.isEnabled()


def test_a_slack_hook_keeps_its_url_secret(qtbot: QtBot, window: MainWindow,
                                           service: HookService) -> None:
    click(qtbot, window.new_button)
    form = window.form
    choose(qtbot, form.type_options.type_list, "Slack")
    url = "https://hooks.slack.com/services/T1/B2/formTOKEN"
    qtbot.keyClicks(form.url_edit, url)
    click(qtbot, form.submit_button)
    (hook,) = service.hooks()
    assert hook.type == "slack"
    assert hook.url == "https://hooks.slack.com/services/***"
    assert service.option_secrets(hook.id)[SLACK_URL] == url


def test_a_pagerduty_hook_needs_its_routing_key(qtbot: QtBot, window: MainWindow,
                                                service: HookService) -> None:
    click(qtbot, window.new_button)
    form = window.form
    choose(qtbot, form.type_options.type_list, "PagerDuty")
    assert not form.submit_button.isEnabled()
    assert "routing key" in form.type_options.error.text()
    assert sorted(form.events.subscription()) == [  # the four PagerDuty events
        "cluster.available", "cluster.error", "job.completed", "job.failed"]
    qtbot.keyClicks(form.type_options.routing_key, "RK-from-the-form")
    key = form.type_options.routing_key
    assert key.echoMode() == key.EchoMode.Password
    click(qtbot, form.submit_button)
    (hook,) = service.hooks()
    assert hook.type == "pagerduty"
    assert hook.url == "https://events.pagerduty.com/v2/enqueue"
    assert service.option_secrets(hook.id) == {ROUTING_KEY: "RK-from-the-form"}


def test_options_are_saved_and_a_bad_filter_is_shown(qtbot: QtBot, window: MainWindow,
                                                     service: HookService) -> None:
    click(qtbot, window.new_button)
    form = window.form
    options = form.type_options
    qtbot.keyClicks(form.url_edit, "https://ops.example.com/hooks")
    qtbot.keyClicks(options.auth_user, "alice")
    qtbot.keyClicks(options.auth_password, "form-pass")
    options.headers.setPlainText("X-Team: data")
    options.secret_headers.setPlainText("X-Api-Key: key-from-form")
    qtbot.keyClicks(options.rate_edit, "5/s")
    qtbot.keyClicks(options.filter_edit, "status ==")
    assert not form.submit_button.isEnabled()
    assert "at its end" in options.error.text()
    qtbot.keyClicks(options.filter_edit, " 'failed'")
    assert form.submit_button.isEnabled()
    click(qtbot, form.submit_button)
    (hook,) = service.hooks()
    assert hook.options == HookOptions(
        basic_auth_user="alice", headers=(("X-Team", "data"),), secret_headers=("X-Api-Key",),
        filter="status == 'failed'", rate_limit=RateLimit(5, 1.0))
    assert service.option_secrets(hook.id) == {BASIC_AUTH_PASSWORD: "form-pass",
                                               HEADER_PREFIX + "X-Api-Key": "key-from-form"}

    # Editing shows no secret and keeps them when their fields stay empty.
    window.select_hook(hook.id)
    window.page.edit_requested.emit(hook.id)
    assert form.editing is not None
    assert options.auth_password.text() == ""
    assert options.secret_headers.toPlainText() == "X-Api-Key: "
    assert not options.type_list.isEnabled()
    options.rate_edit.clear()
    click(qtbot, form.submit_button)
    edited = service.hook(hook.id)
    assert edited.options.rate_limit is None
    assert service.option_secrets(hook.id) == {BASIC_AUTH_PASSWORD: "form-pass",
                                               HEADER_PREFIX + "X-Api-Key": "key-from-form"}


def test_a_client_certificate_is_checked_and_saved(qtbot: QtBot, window: MainWindow,
                                                   service: HookService,
                                                   tmp_path: Path) -> None:
    leaf = trustme.CA().issue_cert("hookadmin@example.com")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    click(qtbot, window.new_button)
    form = window.form
    options = form.type_options
    qtbot.keyClicks(form.url_edit, "https://partner.example.com/hooks")
    qtbot.keyClicks(options.client_cert, str(cert))
    assert not form.submit_button.isEnabled()
    assert "together" in options.error.text()
    qtbot.keyClicks(options.client_key, str(tmp_path / "missing.key"))
    assert "does not exist" in options.error.text()
    options.client_key.clear()
    qtbot.keyClicks(options.client_key, str(key))
    assert form.submit_button.isEnabled()
    click(qtbot, form.submit_button)
    (hook,) = service.hooks()
    assert (hook.options.client_cert, hook.options.client_key) == (str(cert), str(key))
