"""Ping: a signed test notification sent to one hook at once (DESIGN.md §3).

The ping is recorded in the delivery history as a one-attempt delivery of event type
``ping``; it is never retried.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from hookadmin.core.errors import InputError
from hookadmin.core.hook_types import EMAIL, SMTP_PASSWORD, WEB, read_option_secrets
from hookadmin.core.hooks import Hook
from hookadmin.core.proxy_settings import global_proxy_password
from hookadmin.core.secrets import HookSecrets
from hookadmin.core.service import HookService
from hookadmin.core.signing import delivery_headers
from hookadmin.core.store import AttemptRecord
from hookadmin.delivery.http import make_client, make_session, post
from hookadmin.delivery.policy import DeliverySettings, with_options, with_proxy
from hookadmin.delivery.proxy import (
    choose_route,
    route_ca_bundle,
    send_via_proxy,
    wants_proxy,
)
from hookadmin.delivery.typed import MissingOptionSecret, client_cert, outgoing

ZEN = (
    "Keep it logically awesome.",
    "Design for failure.",
    "Half measures are as bad as nothing at all.",
    "Approachable is better than simple.",
    "Mind your words, they are important.",
    "Speak like a human.",
    "Responsive is better than fast.",
    "Anything added dilutes everything else.",
    "Practicality beats purity.",
    "Favor focus over features.",
)


@dataclass(frozen=True)
class PingResult:
    """A sent ping: its delivery id, the exact body sent and the attempt's outcome."""

    hook_id: int
    delivery_id: str
    body: bytes
    attempt: AttemptRecord


def ping_body(hook: Hook, *, zen: str | None = None) -> bytes:
    """The ping body: ``{"zen", "hook_id", "hook"}`` as compact UTF-8 JSON."""
    payload = {"zen": zen or random.choice(ZEN),  # noqa: S311 - not for security
               "hook_id": hook.id, "hook": hook.to_json()}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def send_ping(hook: Hook, secret: str, settings: DeliverySettings | None = None,
                    *, previous_secret: str | None = None,
                    option_secrets: Mapping[str, str] | None = None,
                    proxy_password: str | None = None) -> PingResult:
    """Sign and POST a ping to ``hook`` now, under the same network policy and TLS
    settings as deliveries. Never raises for network errors.

    A hook of another type sends its own test message (a Slack message, a PagerDuty
    ``resolve`` of a key no incident has, an e-mail) with its option secrets
    (``option_secrets``, see :func:`hookadmin.core.hook_types.read_option_secrets`);
    the result's body and attempt mask every secret. It goes through the proxy a
    delivery would take (:func:`hookadmin.delivery.proxy.choose_route`; the global
    proxy's password is ``proxy_password``).

    Raises:
        InputError: the hook's CA bundle cannot be used, or an option secret it needs
            is missing.
    """
    settings = settings or DeliverySettings()
    body = ping_body(hook)
    delivery_id = str(uuid.uuid4())
    secrets = option_secrets or {}
    if hook.type == EMAIL:
        from hookadmin.delivery.email import send_email

        attempt = await send_email(hook, event_type="ping", delivery_id=delivery_id, body=body,
                                   password=secrets.get(SMTP_PASSWORD), settings=settings)
        return PingResult(hook.id, delivery_id, body, attempt)
    if hook.type == WEB and hook.options.empty and not wants_proxy(hook, settings):
        headers = delivery_headers(secret=secret, event_type="ping", delivery_id=delivery_id,
                                   timestamp=int(time.time()), body=body,
                                   previous_secret=previous_secret)
        async with make_client(settings, verify=not hook.insecure_ssl,
                               ca_bundle=hook.ca_bundle) as client:
            attempt = await post(client, hook.url, headers, body, settings)
        return PingResult(hook.id, delivery_id, body, attempt)
    try:
        request = outgoing(hook, event_type="ping", delivery_id=delivery_id, body=body,
                           secret=secret, previous_secret=previous_secret,
                           option_secrets=secrets, timestamp=int(time.time()), ping=True)
    except MissingOptionSecret as err:
        raise InputError(str(err)) from None
    route = choose_route(hook, request.url, settings, hook_secrets=secrets,
                         global_password=proxy_password)
    if route is not None:  # aiohttp's proxy support, as the engine uses it
        session = make_session(settings, verify=not hook.insecure_ssl,
                               ca_bundle=hook.ca_bundle, client_cert=client_cert(hook, secrets),
                               proxied=True, proxy_ca_bundle=route_ca_bundle(route, settings))
        async with session:
            attempt = await send_via_proxy(session, route, request.url, request.headers,
                                           request.body, settings)
        return PingResult(hook.id, delivery_id, request.shown_body(), request.masked(attempt))
    async with make_client(settings, verify=not hook.insecure_ssl, ca_bundle=hook.ca_bundle,
                           client_cert=client_cert(hook, secrets)) as client:
        attempt = await post(client, request.url, request.headers, request.body, settings)
    return PingResult(hook.id, delivery_id, request.shown_body(), request.masked(attempt))


def previous_secret(secrets: HookSecrets, hook: Hook) -> str | None:
    """The secret a reset replaced, while its 24-hour overlap lasts (else None), so a
    ping is signed like any other delivery.

    Raises:
        SecretStoreError: the keyring cannot be read.
    """
    expiry = hook.previous_secret_expires_at
    if expiry is None or expiry <= time.time():
        return None
    return secrets.get_optional(hook.id, previous=True)


def ping_settings(service: HookService, settings: DeliverySettings | None = None
                  ) -> DeliverySettings:
    """``settings`` (or the defaults) with the data directory's delivery options,
    network policy and proxy setting."""
    settings = with_proxy(with_options(settings or DeliverySettings(),
                                       service.delivery_options()), service.proxy_setting())
    if service.network_policy() == "strict" and not settings.strict_network:
        settings = dataclasses.replace(settings, strict_network=True)
    return settings


def ping(service: HookService, hook_id: int, settings: DeliverySettings | None = None
         ) -> PingResult:
    """Send a ping to a hook and record it in the delivery history (blocking).

    Raises:
        NotFoundError: no such hook.
        SecretStoreError: the secret cannot be read, so nothing is sent.
    """
    hook = service.hook(hook_id)
    secret = service.secrets.get(hook.id)
    option_secrets = None if hook.type == WEB and hook.options.empty \
        else read_option_secrets(service.secrets, hook.id)
    settings = ping_settings(service, settings)
    password = global_proxy_password(service.secrets) \
        if settings.proxy is not None and "@" in settings.proxy else None
    result = asyncio.run(send_ping(hook, secret, settings,
                                   previous_secret=previous_secret(service.secrets, hook),
                                   option_secrets=option_secrets, proxy_password=password))
    service.store.record_ping(hook.id, result.delivery_id, result.body, result.attempt)
    return result

