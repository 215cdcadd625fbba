"""Which addresses deliveries and pings may connect to, checked at connect time.

The check runs after DNS, on every address a host name resolves to, so a name that
points at a forbidden address is refused however it is spelled (IPv4-mapped IPv6,
decimal or hex IPv4 forms are resolved to their real address first):

* link-local and cloud-metadata addresses (``169.254.0.0/16``, ``fe80::/10``,
  ``fd00:ec2::254``) are always refused;
* loopback, private, shared (CGNAT) and unspecified addresses are allowed on a
  workstation (the hook is shown as "internal address") and refused in strict mode.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)


class PolicyRefused(OSError):
    """A connection to an address the network policy forbids was not attempted.

    Attributes:
        address: the refused address (text).
    """

    def __init__(self, message: str, address: str) -> None:
        super().__init__(message)
        self.address = address


def _normalize(address: str | IPAddress) -> IPAddress:
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str)
                              else address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_internal(address: str | IPAddress) -> bool:
    """True for loopback, private, shared (100.64/10), unique-local and unspecified
    addresses: reachable only from inside a network."""
    ip = _normalize(address)
    return ip.is_loopback or ip.is_private or ip.is_unspecified or \
        ip in ipaddress.ip_network("100.64.0.0/10")


def refusal(address: str | IPAddress, *, strict: bool) -> str | None:
    """Why the policy refuses ``address`` (one sentence), or None when it is allowed.

    Args:
        address: an IPv4 or IPv6 address.
        strict: refuse internal addresses too (the Settings' strict mode).
    """
    ip = _normalize(address)
    if any(ip in net for net in ALWAYS_REFUSED if net.version == ip.version):
        return (f"The address {ip} is link-local or a cloud metadata service, which hookadmin "
                "never connects to; use the receiver's public address.")
    if strict and is_internal(ip):
        return (f"The address {ip} is internal (loopback or private) and strict network mode "
                "is on; turn strict mode off in Settings or use a public address.")
    return None


def host_is_internal(host: str) -> bool:
    """True when a URL host is obviously internal without DNS: ``localhost`` or an
    internal IP literal. Used for the "internal address" badge."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return is_internal(host)
    except ValueError:
        return False


def check_literal(host: str, *, strict: bool) -> None:
    """Apply the policy to a URL host that is an IP literal (DNS is not asked for
    those, so the resolver never sees them). Host names pass here.

    Raises:
        PolicyRefused: the literal address is refused.
    """
    try:
        ip = _normalize(host.strip("[]"))
    except ValueError:
        return
    reason = refusal(ip, strict=strict)
    if reason is not None:
        raise PolicyRefused(reason, str(ip))


class PolicyResolver(AbstractResolver):
    """An aiohttp resolver that resolves with the system resolver, then refuses the
    host when any of its addresses breaks the policy.

    Args:
        strict: refuse internal addresses too.
    """

    def __init__(self, *, strict: bool) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self.strict = strict

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            reason = refusal(result["host"], strict=self.strict)
            if reason is not None:
                raise PolicyRefused(f"{host} resolves to {result['host']}: {reason}",
                                    result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


def connector_kwargs(*, strict: bool) -> dict[str, Any]:
    """Keyword arguments for :class:`aiohttp.TCPConnector` that enforce the policy."""
    return {"resolver": PolicyResolver(strict=strict)}
