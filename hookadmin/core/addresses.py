"""The network policy's address rules, without any network code (so the window can show
the "internal address" badge without importing the HTTP stack, and a URL is judged
the same way when it is entered).

* link-local and cloud-metadata addresses (``169.254.0.0/16``, ``fe80::/10``,
  ``fd00:ec2::254``, Alibaba Cloud's ``100.100.100.200``) are always refused;
* loopback, private, shared (CGNAT), unique-local, site-local (``fec0::/10``) and
  unspecified addresses are allowed on a workstation (the hook is shown as "internal
  address") and refused in strict mode.

An IPv6 address that carries an IPv4 address is judged by that IPv4 address too, so
no spelling slips past: IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
``::a.b.c.d``, 6to4 ``2002:AABB:CCDD::/48`` and NAT64 (the well-known prefix
``64:ff9b::/96``, and the local-use ``64:ff9b:1::/48`` at each RFC 6052 prefix
length it can be used with; the local-use prefix is internal itself, as RFC 8215
intends).

:mod:`hookadmin.delivery.netpolicy` applies them at connect time,
:func:`hookadmin.core.hooks.validate_url` when a URL is entered.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
)
# Internal beyond what ipaddress calls loopback, private or unspecified.
_ALSO_INTERNAL = (
    ipaddress.ip_network("100.64.0.0/10"),  # shared address space (CGNAT)
    ipaddress.ip_network("fec0::/10"),  # site-local (deprecated, still routed in places)
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# RFC 6052 §2.2: for each prefix length, the byte positions of the IPv4 address and
# where the suffix (zero) starts. Byte 8 (bits 64-71) is always zero.
_RFC6052_LAYOUTS = (((6, 7, 9, 10), 11),  # /48
                    ((7, 9, 10, 11), 12),  # /56
                    ((9, 10, 11, 12), 13),  # /64
                    ((12, 13, 14, 15), 16))  # /96


class PolicyRefused(OSError):
    """A connection to an address the network policy forbids was not attempted.

    Attributes:
        address: the refused address (text).
    """

    def __init__(self, message: str, address: str) -> None:
        super().__init__(message)
        self.address = address


def _normalize(address: str | IPAddress) -> IPAddress:
    """Parse ``address`` (a zone id is dropped); an IPv4-mapped IPv6 address becomes
    the IPv4 address it is.

    Raises:
        ValueError: not an IP address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str)
                              else address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def carried_ipv4(address: str | IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible (not
    ``::`` and ``::1``), 6to4 and NAT64 forms. Usually one; for the local-use NAT64
    prefix, one per RFC 6052 prefix length the address is well-formed for. Empty for
    an IPv4 address or any other IPv6 address.

    Raises:
        ValueError: not an IP address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str)
                              else address)
    if isinstance(ip, ipaddress.IPv4Address):
        return ()
    return tuple(dict.fromkeys(_carried(ip)))


def _carried(ip: ipaddress.IPv6Address) -> Iterator[ipaddress.IPv4Address]:
    packed = ip.packed
    if ip.ipv4_mapped is not None:
        yield ip.ipv4_mapped
    elif ip in _IPV4_COMPATIBLE and int(ip) > 1:
        yield ipaddress.IPv4Address(packed[12:])
    elif ip.sixtofour is not None:
        yield ip.sixtofour
    elif ip in _NAT64_WELL_KNOWN:
        yield ipaddress.IPv4Address(packed[12:])
    elif ip in _NAT64_LOCAL and packed[8] == 0:
        for positions, suffix in _RFC6052_LAYOUTS:
            if not any(packed[suffix:]):
                yield ipaddress.IPv4Address(bytes(packed[i] for i in positions))


def _internal_itself(ip: IPAddress) -> bool:
    return ip.is_loopback or ip.is_private or ip.is_unspecified or any(
        ip in net for net in _ALSO_INTERNAL if net.version == ip.version)


def _always_refused_itself(ip: IPAddress) -> bool:
    return any(ip in net for net in ALWAYS_REFUSED if net.version == ip.version)


def is_internal(address: str | IPAddress) -> bool:
    """True for loopback, private, shared (100.64/10), unique-local, site-local and
    unspecified addresses, and IPv6 forms that carry one: reachable only from inside a
    network.

    Raises:
        ValueError: not an IP address.
    """
    ip = _normalize(address)
    return _internal_itself(ip) or any(_internal_itself(v4) for v4 in carried_ipv4(ip))


def refusal(address: str | IPAddress, *, strict: bool) -> str | None:
    """Why the policy refuses ``address`` (one sentence), or None when it is allowed.

    Args:
        address: an IPv4 or IPv6 address.
        strict: refuse internal addresses too (the Settings' strict mode).

    Raises:
        ValueError: not an IP address.
    """
    ip = _normalize(address)
    carried = carried_ipv4(ip)
    for subject in (ip, *carried):
        if _always_refused_itself(subject):
            return (f"The address {_spelled(ip, subject)} is link-local or a cloud metadata "
                    "service, which hookadmin never connects to; use the receiver's public "
                    "address.")
    if strict:
        for subject in (ip, *carried):
            if _internal_itself(subject):
                return (f"The address {_spelled(ip, subject)} is internal (loopback or "
                        "private) and strict network mode is on; turn strict mode off in "
                        "Settings or use a public address.")
    return None


def _spelled(ip: IPAddress, subject: IPAddress) -> str:
    return str(ip) if subject == ip else f"{ip} (which carries {subject})"


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
