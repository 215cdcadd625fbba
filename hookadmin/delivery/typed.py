"""The HTTP request of a hook that is not a plain ``web`` hook without options: a Slack
message, a PagerDuty event, or a web delivery with basic auth and custom headers; and
the record of it with every secret masked.

The engine and pings call :func:`outgoing`; a plain web hook never comes here, so its
hot path stays as it was.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from hookadmin import __version__
from hookadmin.core.formats import pagerduty_event, pagerduty_ping, slack_message, slack_ping
from hookadmin.core.hook_types import (
    BASIC_AUTH_PASSWORD,
    HEADER_PREFIX,
    KEY_PASSPHRASE,
    PAGERDUTY,
    ROUTING_KEY,
    SLACK,
    SLACK_URL,
    HookOptions,
)
from hookadmin.core.hooks import Hook
from hookadmin.core.signing import delivery_headers
from hookadmin.core.store.records import AttemptRecord
from hookadmin.delivery.http import ClientCert

MASK = "***"


@dataclass(frozen=True)
class Outgoing:
    """One request to send, and how it is shown.

    Attributes:
        url: where it goes (for Slack, the secret incoming-webhook URL).
        headers: the headers sent.
        body: the bytes sent.
        shown_url: the URL the delivery log shows.
        shown_headers: the headers the log shows (secret values as ``***``).
        hidden: secret values to scrub from error messages and recorded bodies.
        own_body: the body is not the delivery's (a Slack message, a PagerDuty event),
            so the attempt's record keeps it (masked).
    """

    url: str
    headers: dict[str, str]
    body: bytes
    shown_url: str
    shown_headers: dict[str, str]
    hidden: tuple[str, ...]
    own_body: bool = False

    def shown_body(self) -> bytes:
        """The body as the log keeps it (a routing key masked)."""
        body = self.body
        for value in self.hidden:
            body = body.replace(value.encode("utf-8"), MASK.encode("ascii"))
        return body

    def masked(self, attempt: AttemptRecord) -> AttemptRecord:
        """``attempt`` as recorded: the shown URL and headers, the body sent when it is
        not the delivery's (secrets masked), secrets scrubbed from the error message."""
        message = attempt.error_message
        if message is not None:
            message = _scrub(message, (self.url, *self.hidden), self.shown_url)
        return dataclasses.replace(attempt, request_url=self.shown_url,
                                   request_headers=dict(self.shown_headers),
                                   error_message=message,
                                   request_body=self.shown_body() if self.own_body else None)


def client_cert(hook: Hook, secrets: Mapping[str, str]) -> ClientCert | None:
    """The hook's mTLS client certificate with its key's passphrase, or None."""
    o = hook.options
    if o.client_cert is None or o.client_key is None:
        return None
    return (o.client_cert, o.client_key, secrets.get(KEY_PASSPHRASE))


class MissingOptionSecret(LookupError):
    """A secret the hook's type or options need is not in the secret store."""


def outgoing(hook: Hook, *, event_type: str, delivery_id: str, body: bytes, secret: str,
             previous_secret: str | None, option_secrets: Mapping[str, str],
             timestamp: int, ping: bool = False) -> Outgoing:
    """Build the request for one attempt of a delivery (or a ping, with ``ping``; its
    ``body`` is then the ping body of a web hook).

    Raises:
        MissingOptionSecret: a needed option secret is missing (the sentence says
            which and what to do).
        ValueError: a PagerDuty hook got an event that neither triggers nor resolves.
    """
    hidden: list[str] = []
    if hook.type == SLACK:
        url = _need(option_secrets, SLACK_URL, hook.id, "Slack URL")
        hidden.append(url)
        sent = slack_ping(hook.id) if ping else slack_message(event_type, body)
        headers = _plain_headers(event_type, delivery_id)
    elif hook.type == PAGERDUTY:
        url = hook.url
        key = _need(option_secrets, ROUTING_KEY, hook.id, "routing key")
        hidden.append(key)
        made = pagerduty_ping(hook.id, key) if ping else pagerduty_event(event_type, body, key)
        if made is None:
            raise ValueError(f"A PagerDuty hook cannot send {event_type} events.")
        sent = made
        headers = _plain_headers(event_type, delivery_id)
    else:
        url, sent = hook.url, body
        headers = delivery_headers(secret=secret, event_type=event_type,
                                   delivery_id=delivery_id, timestamp=timestamp, body=body,
                                   previous_secret=previous_secret)
    shown = dict(headers)
    _add_options(hook.options, hook.id, option_secrets, headers, shown, hidden)
    return Outgoing(url=url, headers=headers, body=sent, shown_url=hook.url,
                    shown_headers=shown, hidden=tuple(hidden), own_body=sent is not body)


def _add_options(options: HookOptions, hook_id: int, secrets: Mapping[str, str],
                 headers: dict[str, str], shown: dict[str, str], hidden: list[str]) -> None:
    """Custom headers, secret headers and basic auth, into ``headers`` (and masked
    into ``shown``)."""
    for name, value in options.headers:
        headers[name] = shown[name] = value
    for name in options.secret_headers:
        value = _need(secrets, HEADER_PREFIX + name, hook_id, f"value of the header {name}")
        headers[name] = value
        shown[name] = MASK
        hidden.append(value)
    if options.basic_auth_user is not None:
        password = _need(secrets, BASIC_AUTH_PASSWORD, hook_id, "basic-auth password")
        token = base64.b64encode(f"{options.basic_auth_user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        shown["Authorization"] = f"Basic {MASK}"
        hidden += [password, token]


def _plain_headers(event_type: str, delivery_id: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": f"hookadmin/{__version__}",
            "X-Hook-Event": event_type, "X-Hook-Delivery": delivery_id}


def _need(secrets: Mapping[str, str], name: str, hook_id: int, what: str) -> str:
    value = secrets.get(name)
    if not value:
        raise MissingOptionSecret(f"The {what} of hook {hook_id} is not in the secret store; "
                                  f"set it again with `hookadmin hooks edit {hook_id}`.")
    return value


def _scrub(text: str, secrets: tuple[str, ...], replacement: str) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, replacement if value.startswith("http") else MASK)
    return text
