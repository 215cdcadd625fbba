"""E-mail hooks against a real SMTP server (aiosmtpd) in its own process on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.hook_types import SMTP_PASSWORD, HookOptions
from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.ping import ping
from tests.helpers import FAST, FIXTURES_DIR
from tests.security.support import run_main
from tests.smtp_server import SmtpServer

FAILED = (FIXTURES_DIR / "job-failed-unicode.json").read_bytes()
PASSWORD = "smtp-Pa55word"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path, user="mailer", password=PASSWORD)
    yield server
    server.stop()


def test_each_delivery_is_one_message_with_text_html_and_its_own_message_id(
        service: HookService, home: Path, smtp: SmtpServer) -> None:
    hook = service.create_hook(
        url=f"smtp://mailer@127.0.0.1:{smtp.port}", events=["job"], type="email",
        options=HookOptions(to=("ops@example.com", "oncall@example.com")),
        option_secrets={SMTP_PASSWORD: PASSWORD})
    service.publish_many([("job.failed", FAILED), ("job.failed", FAILED)])
    assert Engine(home, settings=FAST).run(until_idle=True) == 2

    messages = smtp.messages()
    assert len(messages) == 2
    deliveries = {d.id for d in service.store.list_deliveries(hook_id=hook.id)}
    ids = set()
    for record, msg in messages:
        assert record["rcpt_tos"] == ["ops@example.com", "oncall@example.com"]
        assert msg["Subject"] == "Job 48219 failed on cluster 772 after 3 m 35 s"
        assert msg["X-Hook-Event"] == "job.failed"
        assert msg["Message-ID"] == f"<{msg['X-Hook-Delivery']}@hookadmin>"
        ids.add(str(msg["X-Hook-Delivery"]))
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        assert plain is not None
        assert html is not None
        assert "https://etl.example.com/acme/jobs/48219" in plain.get_content()
        assert "<table>" in html.get_content()
    assert ids == deliveries
    for delivery in service.store.list_deliveries(hook_id=hook.id):
        (attempt,) = service.store.list_attempts(delivery.seq)
        assert delivery.status == "succeeded"
        assert attempt.status_code == 250
        assert attempt.request_headers["Message-ID"] == f"<{delivery.id}@hookadmin>"
        assert PASSWORD not in json.dumps(attempt.request_headers)
    assert all(PASSWORD.encode() not in p.read_bytes() for p in home.iterdir() if p.is_file())


def test_ping_sends_a_test_message(service: HookService, smtp: SmtpServer) -> None:
    hook = service.create_hook(
        url=f"smtp://mailer@127.0.0.1:{smtp.port}", events=["job"], type="email",
        options=HookOptions(to=("ops@example.com",)), option_secrets={SMTP_PASSWORD: PASSWORD})
    result = ping(service, hook.id, FAST)
    assert result.attempt.succeeded
    ((_, msg),) = smtp.messages()
    assert str(msg["Subject"]).startswith("Ping from hookadmin")


def test_a_wrong_smtp_password_is_refused_at_save(home: Path, tmp_path: Path,
                                                  smtp: SmtpServer) -> None:
    wrong = tmp_path / "pw"
    wrong.write_text("not-the-password\n")
    result = run_main("hooks", "add", "--type", "email", "--smtp",
                      f"smtp://mailer@127.0.0.1:{smtp.port}", "--to", "ops@example.com",
                      "--smtp-password-file", str(wrong), home=home)
    assert result.returncode == 2
    assert "refused the user mailer" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert run_main("hooks", "list", "--json", home=home).stdout.strip() == "[]"
    right = tmp_path / "right"
    right.write_text(PASSWORD + "\n")
    assert run_main("hooks", "add", "--type", "email", "--smtp",
                    f"smtp://mailer@127.0.0.1:{smtp.port}", "--to", "ops@example.com",
                    "--smtp-password-file", str(right), home=home).returncode == 0


def test_strict_network_policy_applies_to_the_smtp_server(service: HookService,
                                                          smtp: SmtpServer) -> None:
    hook = service.create_hook(
        url=f"smtp://mailer@127.0.0.1:{smtp.port}", events=["job"], type="email",
        options=HookOptions(to=("ops@example.com",)), option_secrets={SMTP_PASSWORD: PASSWORD})
    service.set_network_policy("strict")
    result = ping(service, hook.id, FAST)
    assert result.attempt.error_kind == "policy"
    assert smtp.messages() == []
