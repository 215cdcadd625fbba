"""The network policy's address rules, without any network code (so the window can show
the "internal address" badge without importing the HTTP stack).

* link-local and cloud-metadata addresses (``169.254.0.0/16``, ``fe80::/10``,
  ``fd00:ec2::254``) are always refused;
* loopback, private, shared (CGNAT) and unspecified addresses are allowed on a
  workstation (the hook is shown as "internal address") and refused in strict mode.

:mod:`hookadmin.delivery.netpolicy` applies them at connect time.
"""

from __future__ import annotations

import ipaddress

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
