"""Deliveries through a hook's proxy (``--proxy``): the proxy's password comes from the
option secrets, and the network policy is applied to the final destination, since
the connection itself goes to the proxy."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit

import aiohttp

from hookadmin.core.addresses import refusal
from hookadmin.core.hook_types import PROXY_PASSWORD
from hookadmin.core.hooks import Hook
from hookadmin.core.store.records import AttemptRecord
from hookadmin.delivery.http import send
from hookadmin.delivery.policy import DeliverySettings


async def destination_refusal(url: str, *, strict: bool) -> str | None:
    """Why the network policy refuses the destination of ``url`` (any address its host
    resolves to), or None. When the host cannot be resolved here (a proxy often
    resolves names this machine cannot), strict mode refuses, since nothing can be
    checked; workstation mode lets the proxy try (literal addresses are checked by
    :func:`hookadmin.delivery.http.send` in any case)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM)
    except OSError:
        if strict:
            return (f"{host} cannot be resolved on this machine, so strict network mode "
                    "cannot check it; use a host this machine can resolve.")
        return None
    for *_, address in infos:
        reason = refusal(str(address[0]), strict=strict)
        if reason is not None:
            return f"{host} resolves to {address[0]}: {reason}"
    return None


def proxy_parts(hook: Hook, secrets: dict[str, str]) -> tuple[str, dict[str, str] | None]:
    """The hook's proxy URL without user information, and the ``Proxy-Authorization``
    header for its credentials (or None)."""
    assert hook.options.proxy is not None
    parts = urlsplit(hook.options.proxy)
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    if not parts.username:
        return bare, None
    return bare, {"Proxy-Authorization": aiohttp.encode_basic_auth(
        parts.username, secrets.get(PROXY_PASSWORD, ""))}


async def send_via_proxy(session: aiohttp.ClientSession, hook: Hook, url: str,
                         headers: dict[str, str], body: bytes, settings: DeliverySettings,
                         secrets: dict[str, str]) -> AttemptRecord:
    """One attempt through the hook's proxy (see :func:`hookadmin.delivery.http.send`),
    after the destination passed the network policy. Never raises for network errors.

    Args:
        session: from ``make_session(..., proxied=True)``.
    """
    reason = await destination_refusal(url, strict=settings.strict_network)
    if reason is not None:
        return AttemptRecord(
            started_at=time.time(), duration_ms=0.0, request_url=url,
            request_headers=dict(headers), status_code=None, response_headers=None,
            response_body=None, response_truncated=False, error_kind="policy",
            error_message=reason)
    proxy, auth = proxy_parts(hook, secrets)
    if auth is not None and url.startswith("http://"):
        # A plain-HTTP request goes to the proxy as it is (absolute form), so the proxy's
        # credentials ride on it; the caller records the masked headers, not these.
        return await send(session, url, {**headers, **auth}, body, settings, proxy=proxy)
    return await send(session, url, headers, body, settings, proxy=proxy, proxy_headers=auth)
