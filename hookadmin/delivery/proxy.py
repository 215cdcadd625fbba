"""Deliveries through a proxy: the hook's own (``--proxy``), else the global one
(Settings), else, only when Settings allow it, the environment's ``HTTPS_PROXY`` /
``HTTP_PROXY`` (``NO_PROXY`` honoured). The HTTP sessions never read the environment
themselves (``trust_env=False``): the proxy is chosen here, so the network policy is
always applied to the final destination, since the connection itself goes to the
proxy. Proxy passwords come from the option secrets (a hook's, or the settings')."""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiohttp

from hookadmin.core.addresses import refusal
from hookadmin.core.hook_types import EMAIL, PROXY_PASSWORD
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


@dataclass(frozen=True)
class ProxyRoute:
    """The proxy one request goes through.

    Attributes:
        url: the proxy's URL without user information.
        auth: the ``Proxy-Authorization`` header for its credentials, or None.
        source: ``hook`` (the hook's own ``--proxy``), ``global`` (Settings) or
            ``environment`` (``HTTPS_PROXY``/``HTTP_PROXY``, when Settings allow it).
    """

    url: str
    auth: dict[str, str] | None
    source: str


def _route(proxy: str, password: str | None, source: str) -> ProxyRoute:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    if not parts.username:
        return ProxyRoute(bare, None, source)
    return ProxyRoute(bare, {"Proxy-Authorization": aiohttp.encode_basic_auth(
        unquote(parts.username), password or "")}, source)


def route_ca_bundle(route: ProxyRoute | None, settings: DeliverySettings) -> str | None:
    """The CA bundle Settings trust the proxy of ``route`` with: the global proxy's
    (``settings --proxy-ca-bundle``) for the global and the environment's proxy, None
    for a hook's own (its ``--ca-bundle`` serves) or no proxy."""
    if route is None or route.source == "hook":
        return None
    return settings.proxy_ca_bundle


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY`` or ``HTTP_PROXY`` by
    its scheme, none when ``NO_PROXY`` covers its host), or None. Read only when the
    administrator turned the setting on."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme)
    # proxy_bypass_environment: NO_PROXY's rules (not in typeshed, in urllib since 3.x)
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not proxy or bypass(parts.hostname or "", proxies):
        return None
    return proxy


def shown_proxy(hook: Hook, url: str, settings: DeliverySettings) -> tuple[str, str | None] | None:
    """The proxy a request of ``hook`` to ``url`` takes, as people may see it: (its URL
    without user information, its user or None), or None for a direct request. Reads
    no secret; the same choice as :func:`choose_route`."""
    route = choose_route(hook, url, settings, hook_secrets={}, global_password=None)
    if route is None:
        return None
    chosen = {"hook": hook.options.proxy, "global": settings.proxy}.get(route.source) \
        or environment_proxy(url) or ""
    user = urlsplit(chosen if "://" in chosen else f"http://{chosen}").username
    return route.url, unquote(user) if user else None


def wants_proxy(hook: Hook, settings: DeliverySettings) -> bool:
    """Whether a request of ``hook`` may go through a proxy (its own, the global one,
    or the environment's): if not, the engine's direct path is taken."""
    return hook.type != EMAIL and (hook.options.proxy is not None or settings.proxy is not None
                                   or settings.proxy_from_env)


def choose_route(hook: Hook, url: str, settings: DeliverySettings, *,
                 hook_secrets: Mapping[str, str],
                 global_password: str | None) -> ProxyRoute | None:
    """The proxy for one request of ``hook`` to ``url``: the hook's own, else the global
    one, else (only when Settings allow it) the environment's; None to connect directly.

    Args:
        hook_secrets: the hook's option secrets (its proxy's password).
        global_password: the global proxy's password, or None.
    """
    if hook.type == EMAIL:
        return None
    if hook.options.proxy is not None:
        return _route(hook.options.proxy, hook_secrets.get(PROXY_PASSWORD), "hook")
    if settings.proxy is not None:
        return _route(settings.proxy, global_password, "global")
    if settings.proxy_from_env:
        proxy = environment_proxy(url)
        if proxy is not None:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            return _route(proxy, unquote(parts.password) if parts.password else None,
                          "environment")
    return None


async def send_via_proxy(session: aiohttp.ClientSession, route: ProxyRoute, url: str,
                         headers: dict[str, str], body: bytes,
                         settings: DeliverySettings) -> AttemptRecord:
    """One attempt through ``route`` (see :func:`hookadmin.delivery.http.send`), after
    the destination passed the network policy. Never raises for network errors. The
    record's headers may hold the proxy's credentials: callers record the masked
    headers (:meth:`hookadmin.delivery.typed.Outgoing.masked`).

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
    if route.auth is not None and url.startswith("http://"):
        # A plain-HTTP request goes to the proxy as it is (absolute form), so the proxy's
        # credentials ride on it; the caller records the masked headers, not these.
        return await send(session, url, {**headers, **route.auth}, body, settings,
                          proxy=route.url)
    return await send(session, url, headers, body, settings, proxy=route.url,
                      proxy_headers=route.auth)
