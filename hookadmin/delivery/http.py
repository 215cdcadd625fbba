"""One HTTP attempt: POST the exact body bytes, read a capped response, name the error.

Two clients, one behaviour: the delivery engine sends with aiohttp directly
(:func:`make_session`, :func:`send`), which costs a third of the CPU per request of
httpx over the same aiohttp transport, and the engine's throughput is bound by CPU
(see docs/decisions.md); a ping, one request a person waits for, uses httpx's API
(:func:`make_client`, :func:`post`) over that transport. Both refuse redirects (a 3xx is
a failed attempt with its ``Location`` recorded), cap the response body, apply the
network policy in the resolver and name errors with :func:`classify`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
import certifi
import httpx
from httpx_aiohttp import AiohttpTransport

from hookadmin.core.errors import InputError
from hookadmin.core.hooks import redact_url
from hookadmin.core.store import AttemptRecord
from hookadmin.delivery.netpolicy import PolicyRefused, check_literal, connector_kwargs
from hookadmin.delivery.policy import DeliverySettings

ERROR_SENTENCES = {
    "timeout": "The receiver did not answer in time.",
    "dns": "The host name could not be resolved; check the URL's spelling and your DNS.",
    "connect": "The connection was refused or dropped; check that the receiver is running "
               "and reachable.",
    "tls": "The TLS handshake failed; check the receiver's certificate.",
    "redirect": "The receiver answered with a redirect, which is never followed; use the final "
                "URL.",
    "http_status": "The receiver answered with an error status.",
    "protocol": "The receiver's answer was not valid HTTP.",
    "policy": "The network policy refused the receiver's address, so nothing was sent.",
    "secret_unavailable": "The hook's secret could not be read from the OS keyring, so nothing "
                          "was sent.",
}


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def _detail(exc: BaseException) -> str:
    """An exception's text for a one-sentence message: on one line, at most 200
    characters, every URL in it redacted (aiohttp's errors quote the request URL)."""
    text = getattr(exc, "message", None) if isinstance(exc, aiohttp.ClientResponseError) \
        else None
    text = " ".join(str(text or exc).split()) or type(exc).__name__
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)[:200]


class _RedactURLs(logging.Filter):
    """Redacts the request URL in httpx's "HTTP Request: POST <url>" log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(str(a)) if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_RedactURLs())


ClientCert = tuple[str, str, str | None]
"""An mTLS client certificate: (certificate chain PEM path, key PEM path, the key's
passphrase or None)."""


def tls_context(*, verify: bool = True, ca_bundle: str | None = None,
                client_cert: ClientCert | None = None,
                proxy_ca_bundle: str | None = None) -> ssl.SSLContext:
    """The TLS settings of a hook: the system's trusted CAs (plus ``ca_bundle`` and
    ``proxy_ca_bundle``, PEM files, when given: the hook's, and the global proxy's),
    or no verification at all when ``verify`` is False; with ``client_cert``, the
    certificate hookadmin presents (mTLS).

    Raises:
        InputError: the CA bundle or the client certificate cannot be read or used.
    """
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        _load_client_cert(ctx, client_cert)
        return ctx
    ctx = ssl.create_default_context(cafile=certifi.where())
    _load_client_cert(ctx, client_cert)
    for bundle in (ca_bundle, proxy_ca_bundle):
        if not bundle:
            continue
        try:
            ctx.load_verify_locations(cafile=bundle)
        except (OSError, ssl.SSLError) as err:
            raise InputError(f"The CA bundle {bundle} cannot be used ({err}); give a PEM "
                             "file of CA certificates.", field="ca_bundle") from None
    return ctx


class _SpelledHeaders(httpx.Headers):
    """httpx's headers as they were spelled: httpx hands a transport lower-cased names
    (``webhook-id`` stays, but ``X-Hook-Event`` would become ``x-hook-event``), while the
    engine's aiohttp requests keep DESIGN.md §3's spelling. A receiver must see the
    same names from a ping as from a delivery."""

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(k.decode(self.encoding), v.decode(self.encoding)) for k, v in self.raw]

    def multi_items(self) -> list[tuple[str, str]]:
        return self.items()


class _NameKeepingTransport(AiohttpTransport):
    """The httpx-aiohttp transport, sending header names as the caller spelled them."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers = _SpelledHeaders(request.headers.raw)
        return await super().handle_async_request(request)


def _load_client_cert(ctx: ssl.SSLContext, client_cert: ClientCert | None) -> None:
    if client_cert is None:
        return
    cert, key, passphrase = client_cert
    try:
        ctx.load_cert_chain(cert, key, password=passphrase.encode() if passphrase else b"")
    except (OSError, ssl.SSLError, ValueError):
        raise InputError(f"The client certificate {cert} or its key cannot be used (missing, "
                         "unreadable, or a wrong passphrase); set them again with `hookadmin "
                         "hooks edit`.", field="client_cert") from None


def make_client(settings: DeliverySettings, *, verify: bool = True,
                ca_bundle: str | None = None,
                client_cert: ClientCert | None = None) -> httpx.AsyncClient:
    """An :class:`httpx.AsyncClient` configured for deliveries: no redirects, timeouts
    and connection limits from ``settings``, the network policy checked on every
    resolved address, and the hook's TLS settings (see :func:`tls_context`).

    Raises:
        InputError: the CA bundle cannot be used.
    """
    limits = httpx.Limits(max_connections=settings.max_in_flight,
                          max_keepalive_connections=settings.max_in_flight)
    ctx = tls_context(verify=verify, ca_bundle=ca_bundle, client_cert=client_cert)

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(ssl=ctx, limit=settings.max_in_flight,
                                         **connector_kwargs(strict=settings.strict_network))
        return aiohttp.ClientSession(connector=connector)

    return httpx.AsyncClient(
        transport=_NameKeepingTransport(client=session, limits=limits, trust_env=False),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(settings.attempt_timeout, connect=settings.connect_timeout),
    )


def make_session(settings: DeliverySettings, *, verify: bool = True,
                 ca_bundle: str | None = None, client_cert: ClientCert | None = None,
                 proxied: bool = False,
                 proxy_ca_bundle: str | None = None) -> aiohttp.ClientSession:
    """An :class:`aiohttp.ClientSession` for the engine's deliveries: the same
    connection limits, timeouts, network policy and TLS settings as
    :func:`make_client`; no cookies are kept between deliveries. Must be created (and
    closed) on the event loop that uses it. ``proxied`` sessions go through a proxy
    (whose CA bundle, for the global or environment's proxy, is ``proxy_ca_bundle``).

    Raises:
        InputError: the CA bundle cannot be used.
    """
    ctx = tls_context(verify=verify, ca_bundle=ca_bundle, client_cert=client_cert,
                      proxy_ca_bundle=proxy_ca_bundle)
    # Through a proxy the connection goes to the proxy, which the administrator chose;
    # the policy is applied to the destination instead (delivery/proxy.py).
    connector = aiohttp.TCPConnector(
        ssl=ctx, limit=settings.max_in_flight,
        **({} if proxied else connector_kwargs(strict=settings.strict_network)))
    return aiohttp.ClientSession(
        connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=settings.attempt_timeout,
                                      connect=settings.connect_timeout,
                                      sock_connect=settings.connect_timeout))


async def send(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
               body: bytes, settings: DeliverySettings, *, proxy: str | None = None,
               proxy_headers: dict[str, str] | None = None) -> AttemptRecord:
    """Send one delivery attempt with aiohttp and describe what happened; the engine's
    counterpart of :func:`post`. Never raises for network errors.

    Args:
        session: from :func:`make_session`.
        url: the hook URL.
        headers: the signed headers (:func:`hookadmin.core.signing.delivery_headers`).
        body: the exact bytes to send.
        settings: the timeouts (seconds) and response cap (bytes).
        proxy, proxy_headers: a proxy to send through, and headers for it only (see
            :mod:`hookadmin.delivery.proxy`, which checks the destination against the
            network policy first).

    Returns:
        An :class:`AttemptRecord`; ``error_kind`` is None only for a 2xx response.
    """
    # One coroutine for the whole attempt (no inner exchange as post() has): every
    # resumption of a request passes through each coroutine frame above aiohttp's.
    started = time.time()
    t0 = time.perf_counter()
    refused = _refused(url, headers, settings, started)
    if refused is not None:
        return refused
    response = _Response()
    kind: str | None = None
    message: str | None = None
    try:
        # The session's total timeout covers the whole attempt, body included.
        async with session.post(url, data=body, headers=headers, allow_redirects=False,
                                proxy=proxy, proxy_headers=proxy_headers) as resp:
            response.status = resp.status
            response.headers = list(resp.headers.items())
            if not resp.content.at_eof():  # e.g. a 204 has no body to read
                await response.read(resp.content.iter_any(), settings.response_cap)
    except aiohttp.ClientHttpProxyError as err:  # the proxy refused the tunnel
        response.status = err.status
        response.headers = list((err.headers or {}).items())
    except (TimeoutError, aiohttp.ClientError, OSError) as err:
        kind, message = classify(err, timeout=settings.attempt_timeout, proxy=proxy)
    record = _attempt(url, headers, started, t0, response, kind, message)
    if proxy is not None and record.status_code in (407, 502, 503, 504) \
            and record.error_kind == "http_status":
        return dataclasses.replace(record, error_message=_proxy_status_sentence(
            record.status_code, proxy))
    return record


def _proxy_where(proxy: str) -> tuple[str, int]:
    """The proxy's (host, port) as aiohttp connects to it."""
    parts = urlsplit(proxy)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _proxy_status_sentence(status: int | None, proxy: str) -> str:
    """The sentence of an error status that came from the proxy, or may have."""
    host, port = _proxy_where(proxy)
    if status == 407:
        return (f"The proxy {host}:{port} answered 407 (proxy authentication required); "
                "check the proxy's user and password in the hook's or the global proxy "
                "setting.")
    return (f"The answer was {status}, from the proxy {host}:{port} or from the receiver "
            "behind it; check that the proxy can reach the receiver.")


def _proxy_error(chain: list[BaseException], proxy: str) -> tuple[str, str] | None:
    """(error kind, sentence) when the error in ``chain`` is the connection to the proxy
    (not to the receiver behind it), else None."""
    host, port = _proxy_where(proxy)
    failed = next((exc for exc in chain if isinstance(exc, aiohttp.ClientConnectorError)
                   and (isinstance(exc, aiohttp.ClientProxyConnectionError)
                        or (exc.host, exc.port) == (host, port))), None)
    if failed is None:
        return None
    where = f"{host}:{port}"
    cert = next((exc for exc in chain if isinstance(exc, ssl.SSLCertVerificationError)), None)
    if cert is not None:
        cert_error = getattr(cert, "certificate_error", cert)
        detail = getattr(cert_error, "verify_message", None) or "not trusted"
        return "tls", (f"The proxy {where}'s TLS certificate was not accepted ({detail}); "
                       "trust its CA with the hook's CA bundle (for a hook's own proxy) or "
                       "the proxy CA bundle in Settings (for the global proxy).")
    if any(isinstance(exc, ssl.SSLError | aiohttp.ClientSSLError) for exc in chain):
        return "tls", (f"The TLS handshake with the proxy {where} failed; check that it is "
                       "an https:// proxy, or name it with http://.")
    if any(isinstance(exc, socket.gaierror | aiohttp.ClientConnectorDNSError)
           for exc in chain):
        return "dns", (f"The proxy's host name {host} could not be resolved; check the "
                       "proxy setting.")
    reason = "connection refused" if any(isinstance(exc, ConnectionRefusedError)
                                         for exc in chain) else _detail(failed.os_error)
    return "connect", (f"The proxy {where} could not be reached ({reason}); check that it "
                       "is running and that the proxy setting names it.")


class _Response:
    """What an attempt got back, filled in as it arrives (so a failure while the body
    is read still leaves the status and headers)."""

    __slots__ = ("chunks", "headers", "status", "truncated")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: list[tuple[str, str]] | None = None
        self.chunks: list[bytes] = []
        self.truncated = False

    async def read(self, body: AsyncIterator[bytes], cap: int) -> None:
        """Keep the body's chunks up to ``cap`` bytes, then stop reading (the rest is
        never read, whatever its size; ``truncated`` says so)."""
        size = 0
        async for chunk in body:
            room = cap - size
            if len(chunk) > room:
                self.chunks.append(chunk[:room])
                self.truncated = True
                return
            self.chunks.append(chunk)
            size += len(chunk)


async def _run(url: str, headers: dict[str, str], settings: DeliverySettings,
               exchange: Callable[[_Response], Awaitable[None]],
               errors: tuple[type[BaseException], ...],
               proxy: str | None = None) -> AttemptRecord:
    """One attempt with either client: the network policy's check of a literal address,
    the ``exchange`` (the request and its capped response), its ``errors`` named by
    :func:`classify` (through ``proxy``, when given), and the record."""
    started = time.time()
    t0 = time.perf_counter()
    refused = _refused(url, headers, settings, started)
    if refused is not None:
        return refused
    response = _Response()
    kind: str | None = None
    message: str | None = None
    try:
        await exchange(response)
    except errors as err:
        kind, message = classify(err, timeout=settings.attempt_timeout, proxy=proxy)
    return _attempt(url, headers, started, t0, response, kind, message)


def _refused(url: str, headers: dict[str, str], settings: DeliverySettings,
             started: float) -> AttemptRecord | None:
    """The attempt record of a URL whose literal address the network policy refuses."""
    message = _literal_refusal(url, settings.strict_network)
    if message is None:
        return None
    return AttemptRecord(
        started_at=started, duration_ms=0.0, request_url=url, request_headers=dict(headers),
        status_code=None, response_headers=None, response_body=None,
        response_truncated=False, error_kind="policy", error_message=message)


@functools.lru_cache(maxsize=4096)
def _literal_refusal(url: str, strict: bool) -> str | None:
    """Why the policy refuses the URL's literal address, or None (remembered per URL:
    the engine asks once per delivery)."""
    try:
        check_literal(urlsplit(url).hostname or "", strict=strict)
    except PolicyRefused as err:
        return str(err)
    return None


def _attempt(url: str, headers: dict[str, str], started: float, t0: float,
             response: _Response, kind: str | None, message: str | None) -> AttemptRecord:
    """The record of a finished attempt: a non-2xx answer becomes ``redirect`` (with the
    redacted ``Location``) or ``http_status``."""
    duration_ms = (time.perf_counter() - t0) * 1000.0
    status, resp_headers = response.status, response.headers
    if kind is None and status is not None and not 200 <= status < 300:
        if 300 <= status < 400:
            location = dict((k.lower(), v) for k, v in resp_headers or []).get("location", "")
            kind = "redirect"
            message = (f"The receiver redirected ({status}) to "
                       f"{redact_url(location) or 'nowhere'}; "
                       "redirects are never followed, so set the hook's URL to the final one.")
        else:
            kind = "http_status"
            message = f"The receiver answered {status}."
    return AttemptRecord(
        started_at=started, duration_ms=round(duration_ms, 3), request_url=url,
        request_headers=headers, status_code=status, response_headers=resp_headers,
        response_body=b"".join(response.chunks) if status is not None else None,
        response_truncated=response.truncated, error_kind=kind, error_message=message)


async def post(client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes,
               settings: DeliverySettings) -> AttemptRecord:
    """Send one attempt and describe what happened. Never raises for network errors.

    Args:
        client: from :func:`make_client`.
        url: the hook URL.
        headers: the signed headers (:func:`hookadmin.core.signing.delivery_headers`).
        body: the exact bytes to send.
        settings: the timeouts and response cap.

    Returns:
        An :class:`AttemptRecord`; ``error_kind`` is None only for a 2xx response.
    """
    async def exchange(response: _Response) -> None:
        async with asyncio.timeout(settings.attempt_timeout):
            async with client.stream("POST", url, content=body, headers=headers) as resp:
                response.status = resp.status_code
                response.headers = [(k, v) for k, v in resp.headers.multi_items()]
                await response.read(resp.aiter_bytes(), settings.response_cap)

    return await _run(url, headers, settings, exchange,
                      (TimeoutError, httpx.HTTPError, aiohttp.ClientError))


def classify(err: BaseException, *, timeout: float | None = None,
             proxy: str | None = None) -> tuple[str, str]:
    """Name a network error: (error kind, one sentence for people).

    Looks through the whole exception chain (httpx wraps the transport's errors), so
    the most specific cause wins: the policy, the connection to the proxy (when
    ``proxy`` is given), DNS, TLS, refused or reset connections, then timeouts, then
    what httpx reports.

    Args:
        err: the exception raised by the request.
        timeout: the attempt timeout in seconds, for the sentence.
        proxy: the proxy's URL (without user information) the request went through.
    """
    chain: list[BaseException] = []
    cur: BaseException | None = err
    while cur is not None and cur not in chain:
        chain.append(cur)
        os_error = getattr(cur, "os_error", None)
        if isinstance(os_error, BaseException) and os_error not in chain:
            chain.append(os_error)
        cur = cur.__cause__ or cur.__context__
    # aiohttp wraps the resolver's PolicyRefused in a ClientConnectorDNSError, so look
    # for it in the whole chain before naming anything else.
    refused = next((exc for exc in chain if isinstance(exc, PolicyRefused)), None)
    if refused is not None:
        return "policy", str(refused)
    named = _proxy_error(chain, proxy) if proxy is not None else None
    if named is not None:
        return named
    for exc in chain:
        if isinstance(exc, socket.gaierror | aiohttp.ClientConnectorDNSError):
            return "dns", "The host name could not be resolved; check the URL's spelling."
        if isinstance(exc, ssl.SSLCertVerificationError):
            # aiohttp's ClientConnectorCertificateError is one too, but keeps the
            # ssl error (and its verify_message) in certificate_error.
            cert_error = getattr(exc, "certificate_error", exc)
            detail = getattr(cert_error, "verify_message", None) or "not trusted"
            return "tls", (f"The receiver's TLS certificate was not accepted "
                           f"({detail}); fix the certificate or trust its CA.")
        if isinstance(exc, ssl.SSLError | aiohttp.ClientSSLError):
            reason = getattr(exc, "reason", None) or _detail(exc)
            return "tls", f"The TLS handshake failed ({reason}); check the receiver."
        if isinstance(exc, ConnectionRefusedError):
            return "connect", ("The connection was refused; check that the receiver is running "
                               "and listening on that port.")
        if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError
                      | ConnectionResetError | aiohttp.ClientResponseError):
            return "protocol", ("The receiver closed the connection or answered with invalid "
                                f"HTTP ({_detail(exc)}).")
    if any(isinstance(exc, TimeoutError | httpx.TimeoutException) for exc in chain):
        within = f" within {timeout:g} s" if timeout is not None else " in time"
        return "timeout", f"The receiver did not answer{within}."
    for exc in chain:
        if isinstance(exc, httpx.ConnectError | aiohttp.ClientConnectorError):
            return "connect", f"The connection failed ({_detail(exc)}); check the receiver."
        if isinstance(exc, OSError):
            return "connect", f"The connection failed ({_detail(exc)}); check the receiver."
    if isinstance(err, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "protocol", ("The receiver closed the connection or answered with invalid "
                            f"HTTP ({_detail(err)}).")
    return "protocol", f"The request failed ({type(err).__name__}: {_detail(err)})."
