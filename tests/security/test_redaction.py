"""Hook URLs often carry a credential in their query string (``?token=...``). The
URL is the hook's configuration, but logs, worker output and error messages must
show it without the query string (hookadmin.core.hooks.redact_url)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from hookadmin.core.hooks import redact_url
from hookadmin.core.service import HookService
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body, run_cli, run_until_idle
from tests.receiver import Receiver, raw, status
from tests.security.support import run_main

Make = Callable[..., Receiver]
TOKEN = "SEKRIT-tok3n-0123"
ONE_TRY = DeliverySettings(retry_schedule=(0,), jitter=0, connect_timeout=3.0,
                           attempt_timeout=5.0, poll_interval=0.02)


@pytest.mark.parametrize(("url", "redacted"), [
    ("https://x.example/hook?token=abc", "https://x.example/hook?***"),
    ("https://x.example/hook", "https://x.example/hook"),
    ("https://x.example/", "https://x.example/"),
    ("https://x.example", "https://x.example"),
    ("https://user:pw@x.example/h?t=1", "https://***@x.example/h?***"),
    ("https://user@x.example:8443/h", "https://***@x.example:8443/h"),
    ("http://[::1]:8080/a?b=c", "http://[::1]:8080/a?***"),
    ("https://x.example/cb#access_token=abc", "https://x.example/cb"),
    ("https://x.example/cb?a=1#access_token=abc", "https://x.example/cb?***"),
    ("/relative/path?token=abc", "/relative/path?***"),
    ("//x.example/p?token=abc", "//x.example/p?***"),
    ("https://xn--strae-oqa.de/h?k=v&x=y", "https://xn--strae-oqa.de/h?***"),
    ("", ""),
])
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


@pytest.mark.parametrize("url", ["http://[::1/x?token=abc", "https://a:b@[::1/x?token=abc",
                                 "http://x.example:99999/?token=abc"])
def test_redact_url_never_raises_and_still_drops_the_query(url: str) -> None:
    redacted = redact_url(url)
    assert "token=abc" not in redacted
    assert "a:b@" not in redacted


@pytest.fixture
def leaky_hooks(service: HookService, make_receiver: Make,
                closed_port: int) -> dict[str, int]:
    """Hooks whose URLs carry TOKEN, at receivers that fail in different ways."""
    garbage = make_receiver(raw("NOT HTTP AT ALL\r\n\r\n", "close"))
    bad_header = make_receiver(raw("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "close"))
    redirect = make_receiver(status(302, Location=f"https://elsewhere.example/in?token={TOKEN}"))
    error = make_receiver(status(500))
    urls = {
        "protocol": garbage.url,
        "bad header": bad_header.url,
        "redirect": redirect.url,
        "http_status": error.url,
        "tls": error.url.replace("http://", "https://"),  # TLS to a plain HTTP port
        "connect": f"http://127.0.0.1:{closed_port}/hook",
    }
    return {kind: service.create_hook(url=f"{url}?token={TOKEN}&x=1", events=["job"],
                                      name=kind).id
            for kind, url in urls.items()}


def test_engine_error_messages_and_logs_never_show_the_query_string(
        service: HookService, home: Path, leaky_hooks: dict[str, int],
        caplog: pytest.LogCaptureFixture) -> None:
    service.publish("job.failed", body("job.failed"))
    with caplog.at_level(logging.DEBUG):
        assert run_until_idle(home, ONE_TRY) == len(leaky_hooks)
    kinds = {}
    for name, hook_id in leaky_hooks.items():
        (delivery,) = service.store.list_deliveries(hook_id=hook_id)
        (attempt,) = service.store.list_attempts(delivery.seq)
        kinds[name] = attempt.error_kind
        message = attempt.error_message or ""
        assert message, name
        assert TOKEN not in message, (name, message)
        assert "\n" not in message, (name, message)
    assert kinds == {"protocol": "protocol", "bad header": "protocol", "redirect": "redirect",
                     "http_status": "http_status", "tls": "tls", "connect": "connect"}
    # The engine logs every attempt at DEBUG, with the URL's query redacted.
    assert caplog.text.count(" attempt 1: POST ") == len(leaky_hooks)
    assert TOKEN not in caplog.text
    assert "?***" in caplog.text
    deliveries = run_main("deliveries", "--json", home=home)
    assert TOKEN not in deliveries.stdout + deliveries.stderr


@pytest.mark.slow
def test_worker_output_and_ping_errors_never_show_the_query_string(
        service: HookService, home: Path, leaky_hooks: dict[str, int]) -> None:
    service.publish("job.failed", body("job.failed"))
    worker = run_cli("worker", "--until-idle", home=home, timeout=90)
    assert worker.returncode == 0, worker.stderr
    assert worker.stderr.count(" attempt 1: ") == len(leaky_hooks)
    assert TOKEN not in worker.stdout + worker.stderr
    for name in ("protocol", "bad header", "redirect"):
        pinged = run_main("ping", str(leaky_hooks[name]), home=home)
        assert pinged.returncode == 1
        assert "ping failed" in pinged.stderr
        assert TOKEN not in pinged.stderr, (name, pinged.stderr)
