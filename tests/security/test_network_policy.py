"""The network policy, checked at connect time (hookadmin.delivery.netpolicy).

Unit tests of the address rules, then real deliveries and pings: a receiver on
127.0.0.1 is reachable on a workstation and refused in strict mode, whether the hook
names the IP literal or a host name that resolves to it; metadata addresses are
refused in every mode without a single packet being sent.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from hookadmin.core.signing import new_secret
from hookadmin.delivery.netpolicy import (
    PolicyRefused,
    check_literal,
    host_is_internal,
    refusal,
)
from tests.helpers import FAST, body, run_until_idle
from tests.receiver import Receiver
from tests.security.support import run_main

Make = Callable[..., Receiver]

ALWAYS_REFUSED = [
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack metadata
    "169.254.170.2",  # ECS task metadata
    "169.254.0.1",
    "169.254.255.255",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fe80::1",
    "fe80::a9fe:a9fe",
    "fe80::1%eth0",  # with a zone id
    "FE80::1",
    "::ffff:169.254.169.254",  # IPv4-mapped IPv6 spelling of the metadata address
    "::ffff:a9fe:a9fe",
    "100.100.100.200",  # Alibaba Cloud metadata
    "::ffff:100.100.100.200",
    # IPv6 forms that carry a metadata address: IPv4-compatible, 6to4, NAT64 (the
    # well-known prefix, and the local-use one at the RFC 6052 prefix lengths)
    "::169.254.169.254",
    "::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::169.254.169.254",
    "64:ff9b::6464:64c8",  # 100.100.100.200
    "64:ff9b:1::a9fe:a9fe",  # /96
    "64:ff9b:1:a9fe:a9:fe00::",  # /48
    "64:ff9b:1:ffa9:fe:a9fe::",  # /56
    "64:ff9b:1:ffff:a9:fea9:fe00:0",  # /64
]
INTERNAL = [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (CGNAT)
    "100.127.255.254",
    "100.100.100.201",  # next to Alibaba's metadata address: only shared space
    "fd12:3456::1",  # unique local
    "0.0.0.0",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:192.168.0.1",
    "fec0::1",  # site-local (deprecated, still routed inside some networks)
    "feff::1",
    "::127.0.0.1",  # IPv4-compatible
    "::7f00:1",
    "::10.0.0.1",
    "2002:7f00:1::",  # 6to4
    "2002:c0a8:101::1",  # 192.168.1.1
    "64:ff9b::7f00:1",  # NAT64, well-known prefix
    "64:ff9b::10.1.2.3",
    "64:ff9b::192.168.1.1",
    "64:ff9b:1::7f00:1",  # NAT64, local-use prefix
    "64:ff9b:1::1",
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
          "100.128.0.1", "172.32.0.1", "169.255.0.1",
          "64:ff9b::808:808", "64:ff9b::8.8.8.8", "2002:808:808::1", "2002:5db8:d822::"]


@pytest.mark.parametrize("address", ALWAYS_REFUSED)
@pytest.mark.parametrize("strict", [False, True], ids=["workstation", "strict"])
def test_link_local_and_metadata_addresses_are_always_refused(address: str,
                                                              strict: bool) -> None:
    reason = refusal(address, strict=strict)
    assert reason is not None
    assert "link-local or a cloud metadata service" in reason
    assert "\n" not in reason
    with pytest.raises(PolicyRefused) as info:
        check_literal(f"[{address}]" if ":" in address else address, strict=strict)
    assert str(info.value) == reason


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_allowed_on_a_workstation_and_refused_in_strict_mode(
        address: str) -> None:
    assert refusal(address, strict=False) is None
    check_literal(f"[{address}]" if ":" in address else address, strict=False)
    reason = refusal(address, strict=True)
    assert reason is not None
    assert "internal (loopback or private) and strict network mode is on" in reason
    assert "Settings" in reason  # says what to do


@pytest.mark.parametrize("address", PUBLIC)
@pytest.mark.parametrize("strict", [False, True], ids=["workstation", "strict"])
def test_public_addresses_are_allowed(address: str, strict: bool) -> None:
    assert refusal(address, strict=strict) is None


def test_mapped_addresses_are_judged_by_the_ipv4_address_inside() -> None:
    assert refusal("::ffff:169.254.169.254", strict=False) == refusal("169.254.169.254",
                                                                      strict=False)
    assert refusal("::ffff:127.0.0.1", strict=True) == refusal("127.0.0.1", strict=True)


@pytest.mark.parametrize(("address", "carried"), [
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"), ("2002:a9fe:a9fe::1", "169.254.169.254"),
    ("::a9fe:a9fe", "169.254.169.254"), ("64:ff9b:1:a9fe:a9:fe00::", "169.254.169.254")])
def test_a_refusal_names_the_ipv4_address_an_ipv6_address_carries(address: str,
                                                                 carried: str) -> None:
    reason = refusal(address, strict=False)
    assert reason is not None
    assert address in reason
    assert carried in reason


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:a00:1::", "::7f00:1"])
def test_the_internal_badge_sees_the_ipv4_address_inside(address: str) -> None:
    assert host_is_internal(f"[{address}]")
    assert not host_is_internal("[64:ff9b::808:808]")


def test_host_names_are_left_to_the_resolver() -> None:
    check_literal("localhost", strict=True)  # no DNS here: the resolver checks names
    check_literal("metadata.google.internal", strict=False)


# -- real deliveries ------------------------------------------------------------------

@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every IP address this process opens a TCP connection to from now on."""
    seen: list[str] = []
    real_connect = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            seen.append(str(address[0]))
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return seen


def _only_attempt(service: HookService, hook_id: int) -> tuple[str, Any]:
    (delivery,) = service.store.list_deliveries(hook_id=hook_id)
    attempts = service.store.list_attempts(delivery.seq)
    return delivery.status, attempts[-1]


def test_loopback_receiver_is_delivered_by_default_and_refused_in_strict_mode(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    by_ip = service.create_hook(url=receiver.url, events=["job"])
    by_name = service.create_hook(url=receiver.url.replace("127.0.0.1", "localhost"),
                                  events=["job"])
    service.publish("job.failed", body("job.failed", 1))
    assert run_until_idle(home) == 2
    assert len(receiver.wait_for_requests(2)) == 2
    for hook in (by_ip, by_name):
        assert _only_attempt(service, hook.id)[0] == "succeeded"

    settings = run_main("settings", "--network-policy", "strict", home=home)
    assert settings.returncode == 0
    assert "network-policy: strict" in settings.stdout
    service.store.prune(float("inf"))  # forget the first deliveries
    service.publish("job.failed", body("job.failed", 2))
    assert run_until_idle(home) == 2
    assert len(receiver.requests()) == 2  # nothing more arrived
    status, attempt = _only_attempt(service, by_ip.id)
    assert status == "failed"  # retrying cannot help; redeliver after changing the policy
    assert attempt.error_kind == "policy"
    assert "127.0.0.1 is internal" in attempt.error_message
    assert attempt.status_code is None
    # localhost goes through the resolver, which refuses what the name resolves to.
    status, attempt = _only_attempt(service, by_name.id)
    assert attempt.error_kind == "policy"
    assert attempt.error_message.startswith("localhost resolves to ")
    assert "is internal" in attempt.error_message
    assert len(receiver.requests()) == 2


def test_ping_follows_the_network_policy(service: HookService, home: Path,
                                         make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    named = service.create_hook(url=receiver.url.replace("127.0.0.1", "localhost"),
                                events=["job"])
    assert run_main("ping", str(hook.id), home=home).returncode == 0
    assert len(receiver.wait_for_requests(1)) == 1
    service.set_network_policy("strict")
    result = run_main("ping", str(hook.id), home=home)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("hookadmin: ping failed: The address 127.0.0.1 is internal")
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_main("ping", str(named.id), home=home)
    assert result.returncode == 1
    assert "localhost resolves to " in result.stderr
    assert len(receiver.requests()) == 1  # neither strict ping reached the receiver
    recorded = service.store.list_deliveries(hook_id=hook.id)
    assert [d.last_error_kind for d in recorded] == ["policy", None]  # newest first


METADATA_URLS = ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
                 "http://[fd00:ec2::254]/", "http://[fe80::1]:8080/",
                 "http://[64:ff9b::a9fe:a9fe]/", "http://100.100.100.200/latest/meta-data/",
                 "http://[2002:a9fe:a9fe::]/"]


def test_metadata_addresses_are_refused_on_a_workstation_without_any_traffic(
        service: HookService, home: Path, make_receiver: Make, connects: list[str]) -> None:
    assert service.network_policy() == "workstation"
    control = make_receiver()
    service.create_hook(url=control.url, events=["job"])
    for url in METADATA_URLS:  # refused when entered ...
        with pytest.raises(InputError, match="link-local or a cloud metadata"):
            service.create_hook(url=url, events=["job"])
    # ... and at connect time, for hooks stored before that rule (written straight to
    # the database here): refused, and not retried, since retrying cannot help.
    hooks = []
    for url in METADATA_URLS:
        hook = service.store.add_hook(name="", url=url, events=["job"], active=True)
        service.secrets.set(hook.id, new_secret())
        hooks.append(hook)
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home, FAST) == 1 + len(hooks)
    for hook in hooks:
        status, attempt = _only_attempt(service, hook.id)
        assert (status, attempt.error_kind) == ("failed", "policy"), hook.url
        assert "link-local or a cloud metadata service" in attempt.error_message
        assert attempt.duration_ms == 0.0
    assert connects == ["127.0.0.1"]  # only the control receiver was connected to
    assert len(control.requests()) == 1
    pinged = run_main("ping", str(hooks[0].id), home=home)
    assert pinged.returncode == 1
    assert "The address 169.254.169.254 is link-local" in pinged.stderr
    assert "never connects to" in pinged.stderr
    assert connects == ["127.0.0.1"]
