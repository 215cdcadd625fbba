"""Proxies and TLS: ``http://`` and ``https://`` destinations through ``http://`` and
``https://`` proxies (a real proxy process that tunnels ``CONNECT`` and, as an
``https://`` proxy, speaks TLS with a trustme certificate), the proxy's password from
the keyring on the tunnel too, a wrong one recorded as a 407 attempt, a proxy that is
down recorded in one sentence and retried, and the network policy judging the final
destination of a tunnel."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from tests.forward_proxy import ForwardProxy
from tests.helpers import FAST, body, drain, run_until_idle
from tests.receiver import Receiver
from tests.security.support import TLSFiles, make_tls_files, one_line_error, run_main

PASSWORD = "tunnel-Pa55-3f9a"
ONE_TRY = dataclasses.replace(FAST, retry_schedule=(0,))
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                   "http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable of the machine running the tests leaks in."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def receivers(tmp_path: Path, tls: TLSFiles) -> Iterator[dict[str, Receiver]]:
    """An HTTP and an HTTPS receiver (the private CA's certificate for 127.0.0.1)."""
    made = {"http": Receiver(tmp_path / "plain").start(),
            "https": Receiver(tmp_path / "tls", tls=(tls.cert, tls.key)).start()}
    yield made
    for receiver in made.values():
        receiver.stop()


@pytest.fixture
def proxies(tmp_path: Path, tls: TLSFiles) -> Iterator[dict[str, ForwardProxy]]:
    """An ``http://`` and an ``https://`` proxy, both requiring ``relay:PASSWORD``."""
    made = {"http": ForwardProxy(tmp_path, user="relay", password=PASSWORD),
            "https": ForwardProxy(tmp_path, user="relay", password=PASSWORD,
                                  tls=(tls.cert, tls.key))}
    yield made
    for proxy in made.values():
        proxy.stop()


def _add(home: Path, url: str, *extra: str) -> int:
    result = run_main("hooks", "add", "--url", url, "--event", "job", *extra, "--json",
                      home=home)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    return int(json.loads(result.stdout)["id"])


def _with_user(proxy_url: str, password: str = PASSWORD) -> str:
    return proxy_url.replace("://", f"://relay:{password}@")


def _expected_target(receiver: Receiver) -> str:
    """What the proxy logs for a request to ``receiver``: the absolute URL of a plain
    request, ``host:port`` of the tunnel to an HTTPS receiver."""
    return receiver.url if receiver.url.startswith("http://") \
        else f"127.0.0.1:{receiver.port}"


@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
@pytest.mark.parametrize("destination", ["http", "https"])
def test_each_destination_goes_through_each_kind_of_proxy(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy], destination: str, proxy_scheme: str) -> None:
    receiver, proxy = receivers[destination], proxies[proxy_scheme]
    hook_id = _add(home, receiver.url, "--proxy", _with_user(proxy.url),
                   "--ca-bundle", str(tls.ca))
    event_id = service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    ping = run_main("ping", str(hook_id), home=home)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    (delivery,) = [d for d in service.store.list_deliveries() if d.event_id == event_id]
    assert delivery.status == "succeeded"
    method = "POST" if destination == "http" else "CONNECT"
    assert proxy.requests() == [{"method": method, "target": _expected_target(receiver),
                                 "authorized": True}] * 2
    got = receiver.requests()
    assert len(got) == 2
    assert all(r.header("Proxy-Authorization") is None for r in got)
    assert got[0].body == body("job.failed")
    for attempt in service.store.list_attempts(delivery.seq):
        assert "Proxy-Authorization" not in attempt.request_headers
    shown = [run_main("deliveries", "show", delivery.id, "--json", home=home).stdout,
             run_main("deliveries", "show", delivery.id, home=home).stdout,
             ping.stdout]
    for text in shown:
        assert PASSWORD not in text
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
def test_a_wrong_proxy_password_on_a_tunnel_is_a_recorded_407(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy], proxy_scheme: str) -> None:
    receiver, proxy = receivers["https"], proxies[proxy_scheme]
    _add(home, receiver.url, "--proxy", _with_user(proxy.url, "wrong"),
         "--ca-bundle", str(tls.ca))
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    (attempt, *_) = service.store.list_attempts(delivery.seq)
    assert (attempt.status_code, attempt.error_kind) == (407, "http_status")
    assert "proxy" in (attempt.error_message or "")
    assert "Traceback" not in (attempt.error_message or "")
    assert proxy.requests()[0] == {"method": "CONNECT", "target": _expected_target(receiver),
                                   "authorized": False}
    assert receiver.requests() == []


@pytest.mark.parametrize("destination", ["http", "https"])
def test_a_proxy_that_is_down_is_one_sentence_and_retried(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy], destination: str) -> None:
    proxy = proxies["http"]
    proxy.stop()  # nothing listens on its port any more
    receiver = receivers[destination]
    hook_id = _add(home, receiver.url, "--proxy", _with_user(proxy.url),
                   "--ca-bundle", str(tls.ca))
    ping = run_main("ping", str(hook_id), home=home)
    assert ping.returncode == 1
    assert f"The proxy 127.0.0.1:{proxy.port} could not be reached" in ping.stdout + ping.stderr
    assert "Traceback" not in ping.stdout + ping.stderr
    event_id = service.publish("job.failed", body("job.failed"))
    drain(home, FAST)
    (delivery,) = [d for d in service.store.list_deliveries() if d.event_id == event_id]
    assert delivery.status == "failed"
    attempts = service.store.list_attempts(delivery.seq)
    assert len(attempts) == len(FAST.retry_schedule)  # retried on its schedule
    for attempt in attempts:
        assert attempt.error_kind == "connect"
        message = attempt.error_message or ""
        assert message.startswith(f"The proxy 127.0.0.1:{proxy.port} could not be reached")
        assert len(message.splitlines()) == 1
        assert message.endswith(".")
        assert "Traceback" not in message
        assert PASSWORD not in message
    assert receiver.requests() == []


def test_an_untrusted_https_proxy_is_a_tls_error_naming_the_proxy(
        service: HookService, home: Path, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy]) -> None:
    receiver, proxy = receivers["http"], proxies["https"]
    _add(home, receiver.url, "--proxy", _with_user(proxy.url))  # no --ca-bundle
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    (attempt, *_) = service.store.list_attempts(delivery.seq)
    assert attempt.error_kind == "tls"
    assert (attempt.error_message or "").startswith(
        f"The proxy 127.0.0.1:{proxy.port}'s TLS certificate was not accepted")
    assert proxy.requests() == []
    assert receiver.requests() == []


@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
def test_the_environments_https_proxy_only_when_turned_on(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy], monkeypatch: pytest.MonkeyPatch,
        proxy_scheme: str) -> None:
    receiver, proxy = receivers["https"], proxies[proxy_scheme]
    hook_id = _add(home, receiver.url, "--ca-bundle", str(tls.ca))
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, _with_user(proxy.url))
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert proxy.requests() == []  # off by default: straight to the receiver
    assert len(receiver.requests()) == 1

    assert run_main("settings", "--proxy-from-env", "on", home=home).returncode == 0
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert run_main("ping", str(hook_id), home=home).returncode == 0
    assert proxy.requests() == [{"method": "CONNECT", "target": _expected_target(receiver),
                                 "authorized": True}] * 2
    assert len(receiver.requests()) == 3
    assert all(d.status == "succeeded" for d in service.store.list_deliveries())


@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
def test_strict_policy_refuses_an_internal_destination_behind_a_tunnel(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy], proxy_scheme: str) -> None:
    receiver, proxy = receivers["https"], proxies[proxy_scheme]
    hook_id = _add(home, receiver.url.replace("127.0.0.1", "localhost"),
                   "--proxy", _with_user(proxy.url), "--ca-bundle", str(tls.ca))
    service.set_network_policy("strict")
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    (attempt, *_) = service.store.list_attempts(delivery.seq)
    assert attempt.error_kind == "policy"
    assert "localhost resolves to" in (attempt.error_message or "")
    ping = run_main("ping", str(hook_id), home=home)
    assert ping.returncode != 0
    assert "localhost resolves to" in ping.stdout + ping.stderr
    assert proxy.requests() == []
    assert receiver.requests() == []



@pytest.mark.parametrize("destination", ["http", "https"])
def test_a_metadata_address_behind_a_proxy_is_refused_when_saved(
        home: Path, proxies: dict[str, ForwardProxy], destination: str) -> None:
    proxy = proxies["http"]
    result = run_main("hooks", "add", "--url", f"{destination}://169.254.169.254/hook",
                      "--event", "job", "--proxy", _with_user(proxy.url), home=home)
    assert result.returncode == 2
    assert "cloud metadata" in one_line_error(result.stderr)
    assert PASSWORD not in result.stderr
    assert run_main("hooks", "list", "--json", home=home).stdout.strip() == "[]"
    assert proxy.requests() == []


def test_the_global_https_proxy_is_trusted_with_the_settings_ca_bundle(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy]) -> None:
    receiver, proxy = receivers["http"], proxies["https"]
    hook_id = _add(home, receiver.url)  # no CA bundle of its own
    result = run_main("settings", "--proxy", _with_user(proxy.url), home=home)
    assert result.returncode == 0, result.stderr
    assert "proxy-ca-bundle: none" in result.stdout
    first = service.publish("job.failed", body("job.failed"))
    run_until_idle(home, ONE_TRY)
    (delivery,) = [d for d in service.store.list_deliveries() if d.event_id == first]
    assert delivery.status == "failed"
    (attempt,) = service.store.list_attempts(delivery.seq)
    assert attempt.error_kind == "tls"
    assert (attempt.error_message or "").startswith(f"The proxy 127.0.0.1:{proxy.port}'s")

    result = run_main("settings", "--proxy-ca-bundle", str(tls.ca), home=home)
    assert result.returncode == 0, result.stderr
    assert f"proxy-ca-bundle: {tls.ca.resolve()}" in result.stdout
    second = service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    assert run_main("ping", str(hook_id), home=home).returncode == 0
    (delivery,) = [d for d in service.store.list_deliveries() if d.event_id == second]
    assert delivery.status == "succeeded"
    assert proxy.requests() == [{"method": "POST", "target": receiver.url,
                                 "authorized": True}] * 2
    assert len(receiver.requests()) == 2

    result = run_main("settings", "--proxy-ca-bundle", "", home=home)
    assert "proxy-ca-bundle: none" in result.stdout
    assert service.proxy_setting().ca_bundle is None


def test_a_hooks_own_proxy_does_not_take_the_settings_ca_bundle(
        service: HookService, home: Path, tls: TLSFiles, receivers: dict[str, Receiver],
        proxies: dict[str, ForwardProxy]) -> None:
    receiver, proxy = receivers["http"], proxies["https"]
    _add(home, receiver.url, "--proxy", _with_user(proxy.url))
    service.set_proxy(ca_bundle=str(tls.ca))
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, FAST)
    (delivery,) = service.store.list_deliveries()
    (attempt, *_) = service.store.list_attempts(delivery.seq)
    assert attempt.error_kind == "tls"  # its own --ca-bundle is what trusts it
    assert receiver.requests() == []


def test_an_unusable_proxy_ca_bundle_is_refused_in_one_sentence(
        service: HookService, home: Path, tmp_path: Path) -> None:
    not_pem = tmp_path / "not-a-bundle.txt"
    not_pem.write_text("hello\n")
    for path in (tmp_path / "missing.pem", not_pem):
        result = run_main("settings", "--proxy-ca-bundle", str(path), home=home)
        assert result.returncode == 2
        assert "CA bundle" in one_line_error(result.stderr)
    assert service.proxy_setting().ca_bundle is None
