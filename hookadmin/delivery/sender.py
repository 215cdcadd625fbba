"""One attempt of one delivery: its secret, its signed headers, the POST, its record.

:meth:`Sender.attempt` never raises for the receiver's doing or a secret that cannot
be read: every outcome is an :class:`Ended` attempt, classified by
:func:`hookadmin.delivery.http.send` (status code, or an ``error_kind``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

import aiohttp

from hookadmin.core.errors import InputError, SecretStoreError
from hookadmin.core.hook_types import EMAIL, SMTP_PASSWORD, WEB
from hookadmin.core.hooks import Hook, redact_url
from hookadmin.core.signing import Signer, delivery_headers
from hookadmin.core.store import AttemptRecord, DeliveryJob
from hookadmin.delivery.bookkeeping_wire import Finished, FinishedWire
from hookadmin.delivery.http import ERROR_SENTENCES, send
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.proxy import (
    choose_route,
    route_ca_bundle,
    send_via_proxy,
    wants_proxy,
)
from hookadmin.delivery.secret_cache import SecretCache
from hookadmin.delivery.session_pool import SessionPool
from hookadmin.delivery.typed import MissingOptionSecret, client_cert, outgoing


@dataclass(frozen=True, slots=True)
class Ended:
    """An attempt that ended and is waiting to be recorded."""

    job: DeliveryJob
    hook: Hook
    attempt: AttemptRecord

    def to_wire(self) -> FinishedWire:
        """The attempt as the bookkeeper takes it."""
        return Finished.to_wire(self.job, self.attempt)


@dataclass(frozen=True, slots=True)
class _Direct:
    """What every plain delivery (a ``web`` hook without options or proxy) of one hook
    needs, the same for each: the hook object and settings it was worked out for, the
    signer of the hook's secret and its HTTP session."""

    hook: Hook
    settings: DeliverySettings
    signer: Signer
    session: aiohttp.ClientSession


def _no_request(hook: Hook, error_kind: str, message: str,
                headers: dict[str, str] | None = None) -> AttemptRecord:
    """The record of an attempt that ended before its request was sent."""
    return AttemptRecord(
        started_at=time.time(), duration_ms=None, request_url=hook.url,
        request_headers=headers or {}, status_code=None, response_headers=None,
        response_body=None, response_truncated=False, error_kind=error_kind,
        error_message=message)


class Sender:
    """Makes attempts: signs with the hook's secret, POSTs, classifies the outcome.

    Args:
        secrets: the run's secret cache.
        sessions: the run's HTTP sessions.
        settings: timeouts, caps and network policy (assign :attr:`settings` anew when
            they change).
    """

    def __init__(self, secrets: SecretCache, sessions: SessionPool,
                 settings: DeliverySettings) -> None:
        self.secrets = secrets
        self.sessions = sessions
        self.settings = settings
        self._pace: dict[int, float] = {}  # hook id -> next free time (rate limits)
        self._loop = asyncio.get_running_loop()
        # hook id -> what its plain deliveries need, worked out once per hook object
        # and settings (a re-read hook or new settings are new objects).
        self._direct: dict[int, _Direct] = {}

    async def attempt(self, job: DeliveryJob, hook: Hook) -> Ended:
        """Make one attempt of ``job`` to ``hook``.

        Raises:
            asyncio.CancelledError: the run is stopping (nothing was recorded).
        """
        direct = self._direct.get(hook.id)
        if direct is not None and direct.hook is hook and direct.settings is self.settings:
            headers = direct.signer.headers(event_type=job.event_type, delivery_id=job.id,
                                            timestamp=int(time.time()), body=job.body)
            return Ended(job, hook, await send(direct.session, hook.url, headers, job.body,
                                               self.settings))
        return await self._attempt(job, hook)

    def forget_except(self, hooks: Iterable[Hook]) -> None:
        """Drop what was worked out for hooks that are no longer among ``hooks``."""
        keep = {id(h) for h in hooks}
        self._direct = {k: d for k, d in self._direct.items() if id(d.hook) in keep}

    async def _attempt(self, job: DeliveryJob, hook: Hook) -> Ended:
        """:meth:`attempt` for a hook whose plain path is not worked out yet, or that
        has none (another type, options, a proxy, a replaced secret still valid)."""
        if hook.type != WEB or not hook.options.empty or wants_proxy(hook, self.settings):
            return await self._attempt_typed(job, hook)
        try:
            secret = self.secrets.cached(hook) or await self.secrets.get(hook)
            previous = None
            expires = hook.previous_secret_expires_at
            if expires is not None and expires > time.time():
                previous = await self.secrets.get(hook, previous=True)
        except SecretStoreError as err:
            self.secrets.failed(err)
            return Ended(job, hook, _no_request(
                hook, "secret_unavailable", f"{ERROR_SENTENCES['secret_unavailable']} {err}"))
        headers = delivery_headers(secret=secret, event_type=job.event_type,
                                   delivery_id=job.id, timestamp=int(time.time()),
                                   body=job.body, previous_secret=previous)
        try:
            session = self.sessions.get(hook)
        except InputError as err:
            return Ended(job, hook, _no_request(hook, "tls", str(err), headers))
        if previous is None and (expires is None or expires <= time.time()):
            # Nothing here changes until the hook is re-read or the settings change.
            self._direct[hook.id] = _Direct(hook, self.settings, Signer(secret), session)
        return Ended(job, hook, await send(session, hook.url, headers, job.body,
                                           self.settings))

    async def _attempt_typed(self, job: DeliveryJob, hook: Hook) -> Ended:
        """A delivery to a hook of another type than ``web``, or with options: its
        request is built by :func:`hookadmin.delivery.typed.outgoing`, it waits for
        the hook's rate limit, and its record masks every secret."""
        if hook.type == EMAIL:
            from hookadmin.delivery.email import send_email

            try:
                options = await self.secrets.options(hook)
            except SecretStoreError as err:
                return self._secret_missing(job, hook, err)
            await self._wait_for_rate(hook)
            return Ended(job, hook, await send_email(
                hook, event_type=job.event_type, delivery_id=job.id, body=job.body,
                password=options.get(SMTP_PASSWORD), settings=self.settings))
        try:
            secret = self.secrets.cached(hook) or await self.secrets.get(hook)
            previous = None
            if hook.previous_secret_expires_at is not None \
                    and hook.previous_secret_expires_at > time.time():
                previous = await self.secrets.get(hook, previous=True)
            request = outgoing(hook, event_type=job.event_type, delivery_id=job.id,
                               body=job.body, secret=secret, previous_secret=previous,
                               option_secrets=await self.secrets.options(hook),
                               timestamp=int(time.time()))
        except (SecretStoreError, MissingOptionSecret) as err:
            return self._secret_missing(job, hook, err)
        await self._wait_for_rate(hook)
        options = self.secrets.cached_options(hook)
        try:
            route = choose_route(hook, request.url, self.settings, hook_secrets=options,
                                 global_password=await self.secrets.proxy_password(
                                     self.settings))
        except SecretStoreError as err:
            return self._secret_missing(job, hook, err)
        try:
            session = self.sessions.get(hook, client_cert(hook, options),
                                        proxied=route is not None,
                                        proxy_ca=route_ca_bundle(route, self.settings))
        except InputError as err:
            return Ended(job, hook, request.masked(_no_request(hook, "tls", str(err))))
        if route is not None:
            attempt = await send_via_proxy(session, route, request.url, request.headers,
                                           request.body, self.settings)
        else:
            attempt = await send(session, request.url, request.headers, request.body,
                                 self.settings)
        return Ended(job, hook, request.masked(attempt))

    def _secret_missing(self, job: DeliveryJob, hook: Hook,
                        err: SecretStoreError | MissingOptionSecret) -> Ended:
        """The attempt of a delivery whose secrets cannot be read; a store that cannot
        be used is told as :meth:`attempt` tells it."""
        if isinstance(err, SecretStoreError):
            self.secrets.failed(err)
        return Ended(job, hook, _no_request(
            hook, "secret_unavailable", f"{ERROR_SENTENCES['secret_unavailable']} {err}"))

    async def _wait_for_rate(self, hook: Hook) -> None:
        """Wait for the hook's next free slot under its rate limit (none is dropped:
        each delivery takes the next slot, ``per`` / ``count`` seconds apart)."""
        limit = hook.options.rate_limit
        if limit is None:
            return
        now = self._loop.time()
        slot = max(now, self._pace.get(hook.id, now))
        self._pace[hook.id] = slot + limit.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def internal_error(job: DeliveryJob, hook: Hook, error: BaseException) -> Ended:
    """A bug or an unexpected failure, not the receiver's doing, as an attempt (it is
    retried on the schedule, never at once, which would spin)."""
    detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return Ended(job, hook, AttemptRecord(
        started_at=time.time(), duration_ms=None, request_url=redact_url(hook.url),
        request_headers={}, status_code=None, response_headers=None, response_body=None,
        response_truncated=False, error_kind="internal",
        error_message=f"hookadmin could not send this delivery ({detail}); it will be "
                      "retried."))
