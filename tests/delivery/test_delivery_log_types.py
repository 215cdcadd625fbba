"""The delivery log shows exactly what each hook type sent: the Slack message, the
PagerDuty event (routing key masked), the e-mail's headers and text; in ``deliveries
show`` (text and ``--json``) and the window's attempt details; stored on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookadmin.core.hook_types import ROUTING_KEY, SMTP_PASSWORD, HookOptions
from hookadmin.core.service import HookService
from hookadmin.core.store import AttemptRecord, Repository, open_store
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.delivery.engine import Engine
from hookadmin.ui.attempt_view import describe_attempts
from tests import receiver as rx
from tests.helpers import FAST, FIXTURES_DIR
from tests.security.support import run_main
from tests.smtp_server import SmtpServer

Make = Callable[..., rx.Receiver]
SLACK_TOKEN = "T0001/B0002/LogSlackTOKEN4711"
ROUTING = "R0UTINGlogKey0123456789abcdef0"
SMTP_SECRET = "smtp-log-Pa55word-91"
FAILED = (FIXTURES_DIR / "job-failed-unicode.json").read_bytes()


def _shown(home: Path, hook_id: int) -> tuple[dict[str, object], str, str]:
    """The hook's one delivery: ``deliveries show --json`` parsed, its text, and the
    window's attempt details."""
    listed = json.loads(run_main("deliveries", "--hook", str(hook_id), "--json",
                                 home=home).stdout)
    (delivery,) = listed
    as_json = run_main("deliveries", "show", delivery["id"], "--json", home=home)
    as_text = run_main("deliveries", "show", delivery["id"], home=home)
    assert as_json.returncode == 0, as_json.stderr
    assert as_text.returncode == 0, as_text.stderr
    with HookService(home) as service:
        d = service.store.get_delivery(delivery["id"])
        window = describe_attempts(d, service.store.list_attempts(d.seq),
                                   service.store.delivery_body(d.id))
    return json.loads(as_json.stdout), as_text.stdout, window


def test_the_slack_message_is_in_the_log_without_the_token(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.ok())
    hook = service.create_hook(url=receiver.url_for(f"/services/{SLACK_TOKEN}"),
                               events=["job"], type="slack")
    service.publish("job.failed", FAILED)
    assert Engine(home, settings=FAST).run(until_idle=True) == 1
    (sent,) = receiver.requests()
    shown, text, window = _shown(home, hook.id)
    (attempt,) = shown["attempts"]  # type: ignore[misc]
    assert json.loads(attempt["request"]["body"]) == json.loads(sent.body)
    for output in (text, window):
        assert "Sent:" in output
        assert "Job 48219 failed on cluster 772 after 3 m 35 s" in output
        assert SLACK_TOKEN not in output
    assert SLACK_TOKEN not in json.dumps(shown)


def test_the_pagerduty_event_is_in_the_log_with_the_routing_key_masked(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.status(202))
    hook = service.create_hook(url=receiver.url_for("/v2/enqueue"), events=["job.failed"],
                               type="pagerduty", option_secrets={ROUTING_KEY: ROUTING})
    service.publish("job.failed", FAILED)
    assert Engine(home, settings=FAST).run(until_idle=True) == 1
    (sent,) = receiver.requests()
    shown, text, window = _shown(home, hook.id)
    (attempt,) = shown["attempts"]  # type: ignore[misc]
    logged = json.loads(attempt["request"]["body"])
    expected = json.loads(sent.body)
    assert expected["routing_key"] == ROUTING
    assert logged == {**expected, "routing_key": "***"}
    for output in (text, window):
        assert '"dedup_key": "job/48219"' in output
        assert ROUTING not in output
    assert ROUTING not in json.dumps(shown)


def test_the_emails_headers_and_text_are_in_the_log(
        service: HookService, home: Path, tmp_path: Path) -> None:
    smtp = SmtpServer(tmp_path, user="mailer", password=SMTP_SECRET)
    try:
        hook = service.create_hook(
            url=f"smtp://mailer@127.0.0.1:{smtp.port}", events=["job"], type="email",
            options=HookOptions(to=("ops@example.com",)),
            option_secrets={SMTP_PASSWORD: SMTP_SECRET})
        service.publish("job.failed", FAILED)
        assert Engine(home, settings=FAST).run(until_idle=True) == 1
        ((_, msg),) = smtp.messages()
    finally:
        smtp.stop()
    shown, text, window = _shown(home, hook.id)
    (attempt,) = shown["attempts"]  # type: ignore[misc]
    plain = msg.get_body(("plain",))
    assert plain is not None
    assert attempt["request"]["body"] == plain.get_content().replace("\r\n", "\n")
    assert attempt["request"]["headers"]["Subject"] == msg["Subject"]
    for output in (text, window):
        assert "Subject: Job 48219 failed on cluster 772 after 3 m 35 s" in output
        assert "https://etl.example.com/acme/jobs/48219" in output
        assert SMTP_SECRET not in output
    assert SMTP_SECRET not in json.dumps(shown)


def test_a_web_hooks_attempt_keeps_no_copy_of_the_body(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.ok())
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", FAILED)
    assert Engine(home, settings=FAST).run(until_idle=True) == 1
    shown, text, _ = _shown(home, hook.id)
    (attempt,) = shown["attempts"]  # type: ignore[misc]
    assert attempt["request"]["body"] is None  # the delivery's body, shown once
    assert "Sent:" not in text


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    if request.param == "sqlite":
        with open_store(tmp_path) as s:
            yield s
    else:
        url = request.getfixturevalue("postgres_url")
        with PostgresStore.init(url) as s:
            yield s


def test_both_stores_keep_what_was_sent(store: Repository) -> None:
    hook = store.add_hook(name="", url="https://hooks.slack.com/services/***",
                          events=["job"], active=True, insecure_ssl=False, ca_bundle=None,
                          type="slack", options=HookOptions())
    sent = '{"text": "Job 1 failed — ünïcode"}'.encode()
    for body in (sent, None):
        store.record_ping(hook.id, f"ping-{body is None}", b"{}", AttemptRecord(
            started_at=1.0, duration_ms=2.0, request_url=hook.url, request_headers={},
            status_code=200, response_headers=[], response_body=b"ok",
            response_truncated=False, error_kind=None, error_message=None,
            request_body=body))
        (delivery,) = [d for d in store.list_deliveries(hook_id=hook.id)
                       if d.id == f"ping-{body is None}"]
        (attempt,) = store.list_attempts(delivery.seq)
        assert attempt.request_body == body
