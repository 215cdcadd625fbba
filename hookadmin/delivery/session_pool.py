"""The engine's HTTP client sessions, one per kind of TLS set-up, kept while it runs.

A session holds a connection pool and a TLS context (setting one up takes ~50 ms), so
hooks that verify the same way share one: the key is (verify, CA bundle, client
certificate, through a proxy). When the delivery settings change, the sessions made
under the old ones are retired (closed at the end, requests in flight finish on them)
and new ones are made on demand.
"""

from __future__ import annotations

import aiohttp

from hookadmin.core.hooks import Hook
from hookadmin.delivery.http import ClientCert, make_session
from hookadmin.delivery.policy import DeliverySettings

SessionKey = tuple[bool, str | None, ClientCert | None, bool, str | None]


class SessionPool:
    """aiohttp sessions by TLS set-up.

    Args:
        settings: the delivery settings new sessions are made with (timeouts, network
            policy, proxy from the environment).

    Must be used on the event loop's thread.
    """

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self._sessions: dict[SessionKey, aiohttp.ClientSession] = {}
        self._retired: list[aiohttp.ClientSession] = []

    def get(self, hook: Hook, cert: ClientCert | None = None, *,
            proxied: bool = False, proxy_ca: str | None = None) -> aiohttp.ClientSession:
        """The session for a hook's requests (made on first use); ``proxy_ca`` is the
        CA bundle (a file path) that an ``https://`` proxy's certificate is checked
        against, when the route has one.

        Raises:
            InputError: the hook's CA bundle or client certificate cannot be loaded.
        """
        key = (not hook.insecure_ssl, hook.ca_bundle, cert, proxied, proxy_ca)
        session = self._sessions.get(key)
        if session is None:
            session = self._sessions[key] = make_session(
                self.settings, verify=key[0], ca_bundle=hook.ca_bundle, client_cert=cert,
                proxied=proxied, proxy_ca_bundle=proxy_ca)
        return session

    def renew(self, settings: DeliverySettings) -> None:
        """Use new settings: the current sessions are retired (closed by
        :meth:`close`), later requests get new ones."""
        self.settings = settings
        self._retired += self._sessions.values()
        self._sessions = {}

    async def close(self) -> None:
        """Close every session, retired ones too."""
        sessions = [*self._sessions.values(), *self._retired]
        self._sessions, self._retired = {}, []
        for session in sessions:
            await session.close()
