"""E-mail hooks: one plain-text + HTML message per delivery over SMTP (``smtplib`` in a
worker thread, so the event loop goes on sending).

Every attempt of a delivery carries the same ``Message-ID`` (``<delivery id>@hookadmin``),
so a retry that arrives twice is one message in threaded mail clients. The attempt
record shows the SMTP server (no password), the headers of the message, and the
server's reply code as the status (250 is success).
"""

from __future__ import annotations

import asyncio
import html
import json
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate

from hookadmin import __version__
from hookadmin.core.addresses import PolicyRefused, refusal
from hookadmin.core.errors import InputError
from hookadmin.core.formats import summary
from hookadmin.core.hook_types import SmtpServer, parse_smtp_url
from hookadmin.core.hooks import Hook
from hookadmin.core.store.records import AttemptRecord
from hookadmin.delivery.policy import DeliverySettings


def message_id(delivery_id: str) -> str:
    """The ``Message-ID`` of a delivery's message, the same on every attempt."""
    return f"<{delivery_id}@hookadmin>"


def build_message(hook: Hook, *, event_type: str, delivery_id: str, body: bytes,
                  sender: str) -> EmailMessage:
    """The message for one delivery: the event's summary as the subject, the resource
    as text and as an HTML table, ``X-Hook-Event`` and ``X-Hook-Delivery`` headers."""
    try:
        resource = json.loads(body)
    except ValueError:
        resource = {}
    if not isinstance(resource, dict):
        resource = {}
    line = summary(event_type, resource) if event_type != "ping" \
        else f"Ping from hookadmin: hook {hook.id} can send e-mail"
    msg = EmailMessage()
    msg["Subject"] = line
    msg["From"] = sender
    msg["To"] = ", ".join(hook.options.to)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(delivery_id)
    msg["X-Hook-Event"] = event_type
    msg["X-Hook-Delivery"] = delivery_id
    msg["User-Agent"] = f"hookadmin/{__version__}"
    link = resource.get("html_url")
    text = line + (f"\n\n{link}" if isinstance(link, str) else "") + "\n\n" + json.dumps(
        resource, indent=2, ensure_ascii=False) + "\n"
    msg.set_content(text)
    rows = "".join(f"<tr><th align='left'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
                   for k, v in resource.items())
    title = html.escape(line)
    heading = f"<a href='{html.escape(link)}'>{title}</a>" if isinstance(link, str) else title
    msg.add_alternative(f"<html><body><p>{heading}</p><table>{rows}</table></body></html>",
                        subtype="html")
    return msg


def _sender(server: SmtpServer) -> str:
    if server.user and "@" in server.user:
        return server.user
    return f"hookadmin@{socket.getfqdn() or 'localhost'}"


def _check_policy(server: SmtpServer, strict: bool) -> None:
    """Refuse an SMTP host any of whose addresses the network policy refuses (as the
    resolver of HTTP deliveries does).

    Raises:
        PolicyRefused: with the sentence of the broken rule.
        socket.gaierror: the host cannot be resolved.
    """
    for *_, address in socket.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM):
        reason = refusal(str(address[0]), strict=strict)
        if reason is not None:
            raise PolicyRefused(f"{server.host} resolves to {address[0]}: {reason}",
                                str(address[0]))


def _connect(server: SmtpServer, password: str | None, timeout: float, *,
             strict: bool = False) -> smtplib.SMTP:
    _check_policy(server, strict)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.tls:
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    try:
        if server.starttls:
            client.starttls(context=context)
        if server.user:
            _login(client, server.user, password or "")
    except BaseException:
        client.close()
        raise
    return client


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN, as advertised), so a wrong password
    is refused once, not once per mechanism as ``smtplib``'s own ``login`` tries them.

    Raises:
        smtplib.SMTPAuthenticationError: the server refused the user or password.
    """
    client.ehlo_or_helo_if_needed()
    advertised = client.esmtp_features.get("auth", "").upper().split()
    client.user, client.password = user, password
    for mechanism, method in (("PLAIN", client.auth_plain), ("LOGIN", client.auth_login)):
        if mechanism in advertised:
            client.auth(mechanism, method)
            return
    client.login(user, password)


def send_email_now(hook: Hook, *, event_type: str, delivery_id: str, body: bytes,
                   password: str | None, timeout: float,
                   strict: bool = False) -> AttemptRecord:
    """Send one delivery's message and describe it (blocking). Never raises for SMTP or
    network errors: they become the record's ``error_kind`` (``auth``, ``smtp``,
    ``connect``, ``timeout``, ``tls``, ``dns``)."""
    server = parse_smtp_url(hook.url)
    msg = build_message(hook, event_type=event_type, delivery_id=delivery_id, body=body,
                        sender=_sender(server))
    shown = {k: str(v) for k, v in msg.items()}
    started = time.time()
    t0 = time.perf_counter()
    status: int | None = None
    kind: str | None = None
    message: str | None = None
    reply = b""
    try:
        with _connect(server, password, timeout, strict=strict) as client:
            refused = client.send_message(msg)
            status, raw = client.noop()
            reply = raw if isinstance(raw, bytes) else b""
            if refused:
                kind = "smtp"
                message = f"The SMTP server refused {', '.join(sorted(refused))}."
            else:
                status = 250
    except PolicyRefused as err:
        kind, message = "policy", str(err)
    except smtplib.SMTPAuthenticationError:
        kind, message = "auth", ("The SMTP server refused the user name or password; set the "
                                 "password again with --smtp-password-file.")
    except smtplib.SMTPRecipientsRefused as err:
        kind, message = "smtp", ("The SMTP server refused every recipient ("
                                 f"{', '.join(sorted(err.recipients))}).")
    except smtplib.SMTPResponseException as err:
        status = err.smtp_code
        kind, message = "smtp", f"The SMTP server answered {err.smtp_code}."
    except ssl.SSLError as err:
        kind, message = "tls", f"The TLS handshake with the SMTP server failed ({err.reason})."
    except socket.gaierror:
        kind, message = "dns", f"The SMTP host {server.host} cannot be resolved."
    except TimeoutError:
        kind, message = "timeout", f"The SMTP server did not answer within {timeout:g} s."
    except (smtplib.SMTPException, OSError) as err:
        kind, message = "connect", (f"Cannot talk to the SMTP server {server.host}:"
                                    f"{server.port} ({type(err).__name__}).")
    if kind is not None and status is not None and 200 <= status < 300:
        status = None
    return AttemptRecord(
        started_at=started, duration_ms=round((time.perf_counter() - t0) * 1000.0, 3),
        request_url=hook.url, request_headers=shown, status_code=status,
        response_headers=None, response_body=reply or None, response_truncated=False,
        error_kind=kind, error_message=message, request_body=_text(msg))


def _text(msg: EmailMessage) -> bytes | None:
    """The message's plain-text part as sent (UTF-8), for the delivery log."""
    part = msg.get_body(preferencelist=("plain",))
    if not isinstance(part, EmailMessage):
        return None
    return str(part.get_content()).encode("utf-8")


async def send_email(hook: Hook, *, event_type: str, delivery_id: str, body: bytes,
                     password: str | None, settings: DeliverySettings) -> AttemptRecord:
    """:func:`send_email_now` in a worker thread, within the attempt timeout."""
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: send_email_now(hook, event_type=event_type, delivery_id=delivery_id,
                                     body=body, password=password,
                                     timeout=settings.attempt_timeout,
                                     strict=settings.strict_network))


def check_login(smtp_url: str, password: str | None, *, timeout: float = 10.0) -> None:
    """Log in to the SMTP server once, to refuse a wrong password when a hook is saved.

    Raises:
        InputError: the server refused the user name or password, or cannot be reached.
    """
    server = parse_smtp_url(smtp_url)
    if not server.user:
        return
    try:
        with _connect(server, password, timeout):
            pass
    except smtplib.SMTPAuthenticationError:
        raise InputError(f"The SMTP server {server.host} refused the user {server.user} with "
                         "this password; check the password file.", field="smtp") from None
    except (smtplib.SMTPException, OSError) as err:
        raise InputError(f"Cannot log in to the SMTP server {server.host}:{server.port} "
                         f"({type(err).__name__}); check the host, port and TLS setting.",
                         field="smtp") from None
