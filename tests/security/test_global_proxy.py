"""The global proxy (Settings, ``hookadmin settings --proxy``) and the environment's proxy
variables (only with ``--proxy-from-env on``): deliveries and pings of hooks without a
proxy of their own go through a real forwarding proxy process, its password from the
keyring, and the network policy judges the final destination."""

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
PASSWORD = "global-proxy-Pa55-7c1e"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                   "http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable of the machine running the tests leaks in."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[ForwardProxy]:
    made = ForwardProxy(tmp_path, user="relay", password=PASSWORD)
    yield made
    made.stop()


@pytest.fixture
def open_proxy(tmp_path: Path) -> Iterator[ForwardProxy]:
    made = ForwardProxy(tmp_path)
    yield made
    made.stop()


def _add(home: Path, url: str, *extra: str) -> int:
    result = run_main("hooks", "add", "--url", url, "--event", "job", *extra, "--json",
                      home=home)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["id"])


def _no_password_anywhere(home: Path, *outputs: str) -> None:
    for text in outputs:
        assert PASSWORD not in text
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_global_proxy_carries_deliveries_and_pings_of_every_hook(
        service: HookService, home: Path, proxy: ForwardProxy, make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    hook_id = _add(home, receiver.url)
    result = run_main("settings", "--proxy",
                      proxy.url.replace("http://", f"http://relay:{PASSWORD}@"), home=home)
    assert result.returncode == 0, result.stderr
    assert f"proxy: http://relay@127.0.0.1:{proxy.url.rsplit(':', 1)[1]}" in result.stdout
    assert "proxy-from-env: off" in result.stdout
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert run_main("ping", str(hook_id), home=home).returncode == 0
    assert [r["target"] for r in proxy.requests()] == [receiver.url, receiver.url]
    assert all(r["authorized"] for r in proxy.requests())
    assert len(receiver.requests()) == 2
    assert all(r.header("Proxy-Authorization") is None for r in receiver.requests())
    shown = run_main("deliveries", "--json", home=home).stdout
    details = [run_main("deliveries", "show", d["id"], "--json", home=home).stdout
               for d in json.loads(shown)]
    audit = run_main("audit", "--json", home=home).stdout
    _no_password_anywhere(home, shown, *details, audit, result.stdout, result.stderr)
    assert '"proxy"' in audit  # the change is audited, without the password


def test_a_hooks_own_proxy_wins_over_the_global_one(
        service: HookService, home: Path, proxy: ForwardProxy, open_proxy: ForwardProxy,
        make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    _add(home, receiver.url, "--proxy", open_proxy.url)
    service.set_proxy(url=proxy.url.replace("http://", "http://relay@"), password=PASSWORD)
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert [r["target"] for r in open_proxy.requests()] == [receiver.url]
    assert proxy.requests() == []


def test_a_wrong_global_password_fails_and_a_new_one_is_taken_up(
        service: HookService, home: Path, proxy: ForwardProxy, make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    _add(home, receiver.url)
    service.set_proxy(url=proxy.url.replace("http://", "http://relay:wrong@"))
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    assert service.store.list_attempts(delivery.seq)[0].status_code == 407
    assert receiver.requests() == []
    service.set_proxy(password=PASSWORD)  # the same URL, a new password
    event_id = service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (latest,) = [d for d in service.store.list_deliveries() if d.event_id == event_id]
    assert latest.status == "succeeded"
    assert receiver.requests()


def test_removing_the_global_proxy_removes_its_password(
        service: HookService, home: Path, proxy: ForwardProxy) -> None:
    service.set_proxy(url=proxy.url.replace("http://", f"http://relay:{PASSWORD}@"))
    from hookadmin.core.proxy_settings import global_proxy_password

    assert global_proxy_password(service.secrets) == PASSWORD
    result = run_main("settings", "--proxy", "", home=home)
    assert "proxy: none" in result.stdout
    assert global_proxy_password(service.secrets) is None


def test_strict_policy_judges_the_destination_behind_the_global_proxy(
        service: HookService, home: Path, proxy: ForwardProxy, make_receiver: Make) -> None:
    receiver = make_receiver(ok())
    _add(home, receiver.url.replace("127.0.0.1", "localhost"))
    service.set_proxy(url=proxy.url.replace("http://", f"http://relay:{PASSWORD}@"))
    service.set_network_policy("strict")
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    (attempt, *_) = service.store.list_attempts(delivery.seq)
    assert attempt.error_kind == "policy"
    assert "localhost resolves to" in (attempt.error_message or "")
    assert proxy.requests() == []
    assert receiver.requests() == []


def test_the_environments_proxy_is_ignored_unless_turned_on(
        service: HookService, home: Path, open_proxy: ForwardProxy, make_receiver: Make,
        monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = make_receiver(ok())
    hook_id = _add(home, receiver.url)
    monkeypatch.setenv("HTTP_PROXY", open_proxy.url)
    monkeypatch.setenv("http_proxy", open_proxy.url)
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert run_main("ping", str(hook_id), home=home).returncode == 0
    assert open_proxy.requests() == []  # off by default: straight to the receiver
    assert len(receiver.requests()) == 2

    result = run_main("settings", "--proxy-from-env", "on", home=home)
    assert "proxy-from-env: on" in result.stdout
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert run_main("ping", str(hook_id), home=home).returncode == 0
    assert [r["target"] for r in open_proxy.requests()] == [receiver.url, receiver.url]
    assert len(receiver.requests()) == 4

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert len(open_proxy.requests()) == 2  # NO_PROXY covers the receiver
    assert len(receiver.requests()) == 5


def test_a_bad_global_proxy_is_refused_in_one_sentence(home: Path) -> None:
    result = run_main("settings", "--proxy", "socks5://127.0.0.1:1080", home=home)
    assert result.returncode == 2
    assert "http://proxy.example:3128" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_http_client_reads_the_environment_by_itself() -> None:
    """hookadmin picks the environment's proxy itself (delivery/proxy.py), so the policy
    always sees the destination: the clients never look (``trust_env=False``), even with
    the setting on."""
    import asyncio
    import dataclasses

    from hookadmin.delivery.http import make_client, make_session
    from hookadmin.delivery.policy import DeliverySettings

    settings = dataclasses.replace(DeliverySettings(), proxy_from_env=True)

    async def made() -> tuple[bool, bool]:
        session = make_session(settings)
        client = make_client(settings)
        try:
            return session.trust_env, client.trust_env
        finally:
            await session.close()
            await client.aclose()

    assert asyncio.run(made()) == (False, False)
