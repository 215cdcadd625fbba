"""Which addresses deliveries and pings may connect to, checked at connect time.

The check runs after DNS, on every address a host name resolves to, so a name that
points at a forbidden address is refused however it is spelled (IPv4-mapped IPv6,
decimal or hex IPv4 forms are resolved to their real address first). The rules
themselves are in :mod:`hookadmin.core.addresses`.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from hookadmin.core.addresses import (  # re-exported: the rules live there
    ALWAYS_REFUSED,
    IPAddress,
    PolicyRefused,
    check_literal,
    host_is_internal,
    is_internal,
    refusal,
)

__all__ = ["ALWAYS_REFUSED", "IPAddress", "PolicyRefused", "PolicyResolver", "check_literal",
           "connector_kwargs", "host_is_internal", "is_internal", "refusal"]


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
