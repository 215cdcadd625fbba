"""Hooks with ``--proxy``: deliveries and pings go through a real forwarding proxy
process with its password from the keyring, and the network policy judges the final
destination, not the proxy."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from tests.forward_proxy import ForwardProxy
from tests.helpers import FAST, body, run_until_idle
from tests.receiver import Receiver, ok
from tests.security.support import run_main

Make = Callable[..., Receiver]
PASSWORD = "proxy-Pa55"


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[ForwardProxy]:
    made = ForwardProxy(tmp_path, user="relay", password=PASSWORD)
    yield made
    made.stop()


def _add(home: Path, url: str, proxy_url: str) -> int:
    result = run_main("hooks", "add", "--url", url, "--event", "job", "--proxy", proxy_url,
                      "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    return int(json.loads(result.stdout)["id"])


def test_deliveries_and_pings_go_through_the_proxy_with_its_password(
        service: HookService, home: Path, proxy: ForwardProxy, make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    with_password = proxy.url.replace("http://", f"http://relay:{PASSWORD}@")
    hook_id = _add(home, receiver.url, with_password)
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert run_main("ping", str(hook_id), home=home).returncode == 0
    assert [r["target"] for r in proxy.requests()] == [receiver.url, receiver.url]
    assert all(r["authorized"] for r in proxy.requests())
    assert len(receiver.requests()) == 2
    assert all(r.header("Proxy-Authorization") is None for r in receiver.requests())
    for delivery in service.store.list_deliveries():
        for attempt in service.store.list_attempts(delivery.seq):
            assert "Proxy-Authorization" not in attempt.request_headers
    shown = run_main("hooks", "show", str(hook_id), home=home).stdout
    assert f"relay@127.0.0.1:{proxy.url.rsplit(':', 1)[1]}" in shown
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes()


def test_a_wrong_proxy_password_fails_the_attempt(
        service: HookService, home: Path, proxy: ForwardProxy, make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    _add(home, receiver.url, proxy.url.replace("http://", "http://relay:wrong@"))
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    attempts = service.store.list_attempts(delivery.seq)
    assert attempts[0].status_code == 407
    assert receiver.requests() == []


def test_strict_policy_judges_the_destination_not_the_proxy(
        service: HookService, home: Path, proxy: ForwardProxy, make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    _add(home, receiver.url.replace("127.0.0.1", "localhost"),
         proxy.url.replace("http://", f"http://relay:{PASSWORD}@"))
    service.set_network_policy("strict")
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    (attempt, *_) = service.store.list_attempts(delivery.seq)
    assert attempt.error_kind == "policy"
    assert "localhost resolves to" in (attempt.error_message or "")
    assert proxy.requests() == []
    assert receiver.requests() == []


@pytest.mark.parametrize(("proxy_url", "message"), [
    ("socks5://127.0.0.1:1080", "http://proxy.example:3128"),
    ("http://127.0.0.1:3128/path", "must not have a path"),
    ("http://127.0.0.1:99999", "port is not valid"),
])
def test_a_bad_proxy_url_is_refused(home: Path, proxy_url: str, message: str) -> None:
    result = run_main("hooks", "add", "--url", "https://x.example/h", "--proxy", proxy_url,
                      home=home)
    assert result.returncode == 2
    assert message in result.stderr
    assert run_main("hooks", "list", "--json", home=home).stdout.strip() == "[]"
