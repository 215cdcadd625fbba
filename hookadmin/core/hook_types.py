"""Hook types (DESIGN §10) and the endpoint options a hook may carry.

A hook's *type* says what its deliveries look like: ``web`` (DESIGN §3, signed JSON),
``slack`` (a Slack incoming-webhook message), ``pagerduty`` (PagerDuty Events API v2)
or ``email`` (a message over SMTP). Its :class:`HookOptions` hold every setting beyond
the URL that is not secret; the secret ones (a Slack URL, a routing key, passwords,
secret header values) are kept as :data:`OptionSecrets` where hook secrets live.

This module is the type catalog and the per-type rules (:func:`check_config`); each
option's own check is in :mod:`hookadmin.core.option_checks`, the option secrets' names
and storage in :mod:`hookadmin.core.option_secrets` (both re-exported here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hookadmin.core.errors import InputError
from hookadmin.core.option_checks import (
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    RateLimit,
    SmtpServer,
    check_headers,
    parse_basic_auth,
    parse_header,
    parse_proxy_url,
    parse_rate_limit,
    parse_smtp_url,
    validate_address,
    validate_basic_auth_user,
    validate_client_cert,
    validate_filter,
    validate_header,
)
from hookadmin.core.option_secrets import (
    BASIC_AUTH_PASSWORD,
    HEADER_PREFIX,
    KEY_PASSPHRASE,
    PROXY_PASSWORD,
    ROUTING_KEY,
    SLACK_URL,
    SMTP_PASSWORD,
    OptionSecrets,
    mask,
    read_option_secrets,
)

__all__ = [
    "BASIC_AUTH_PASSWORD",
    "EMAIL",
    "HEADER_PREFIX",
    "HOOK_TYPES",
    "KEY_PASSPHRASE",
    "MAX_HEADERS",
    "MAX_HEADER_VALUE",
    "PAGERDUTY",
    "PAGERDUTY_ENDPOINT",
    "PROXY_PASSWORD",
    "ROUTING_KEY",
    "SLACK",
    "SLACK_PLACEHOLDER_PATH",
    "SLACK_URL",
    "SMTP_PASSWORD",
    "TYPE_NAMES",
    "WEB",
    "HookConfig",
    "HookOptions",
    "HookType",
    "OptionSecrets",
    "RateLimit",
    "SmtpServer",
    "check_config",
    "check_headers",
    "hook_type",
    "mask",
    "optional_secret_names",
    "parse_basic_auth",
    "parse_header",
    "parse_proxy_url",
    "parse_rate_limit",
    "parse_smtp_url",
    "read_option_secrets",
    "secret_names",
    "slack_placeholder",
    "types_json",
    "validate_address",
    "validate_basic_auth_user",
    "validate_client_cert",
    "validate_filter",
    "validate_header",
]

WEB, SLACK, PAGERDUTY, EMAIL = "web", "slack", "pagerduty", "email"


@dataclass(frozen=True)
class HookType:
    """One hook type: ``name`` (stored), ``title`` (shown), what it delivers."""

    name: str
    title: str
    description: str


HOOK_TYPES: tuple[HookType, ...] = (
    HookType(WEB, "Webhook", "a signed JSON POST of the resource to your URL"),
    HookType(SLACK, "Slack", "a message to a Slack incoming-webhook URL"),
    HookType(PAGERDUTY, "PagerDuty",
             "PagerDuty Events API v2: failures trigger an incident, recoveries resolve it"),
    HookType(EMAIL, "E-mail", "a plain-text and HTML message per event over SMTP"),
)
TYPE_NAMES: tuple[str, ...] = tuple(t.name for t in HOOK_TYPES)
PAGERDUTY_ENDPOINT = "https://events.pagerduty.com/v2/enqueue"
SLACK_PLACEHOLDER_PATH = "/services/***"

@dataclass(frozen=True)
class HookOptions:
    """Every non-secret setting of a hook beyond its URL and TLS choice.

    Attributes:
        basic_auth_user: the user of HTTP basic auth (its password is an option
            secret), or None.
        headers: extra request headers ``(name, value)``, in order.
        secret_headers: names of extra headers whose values are option secrets.
        filter: a JMESPath expression on the resource; only events for which it is
            truthy are delivered. None delivers every subscribed event.
        rate_limit: at most this many requests per second or minute, or None.
        to: e-mail recipients (``email`` hooks; the SMTP server is the hook's URL).
        client_cert, client_key: absolute paths of the PEM client certificate (chain)
            and its private key for mTLS; an encrypted key's passphrase is an option
            secret (:data:`KEY_PASSPHRASE`).
        proxy: the ``http://`` or ``https://`` proxy requests go through (its user
            name included, its password an option secret, :data:`PROXY_PASSWORD`).
    """

    basic_auth_user: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    secret_headers: tuple[str, ...] = ()
    filter: str | None = None
    rate_limit: RateLimit | None = None
    to: tuple[str, ...] = ()
    client_cert: str | None = None
    client_key: str | None = None
    proxy: str | None = None

    @property
    def empty(self) -> bool:
        """True when the hook has no option at all (the engine's fast path)."""
        return not (self.basic_auth_user is not None or self.headers or self.secret_headers
                    or self.filter is not None or self.rate_limit is not None or self.to
                    or self.client_cert is not None or self.proxy is not None)

    def to_json(self) -> dict[str, Any]:
        """The options as stored (and exported): only those that are set."""
        out: dict[str, Any] = {}
        if self.basic_auth_user is not None:
            out["basic_auth_user"] = self.basic_auth_user
        if self.headers:
            out["headers"] = [[k, v] for k, v in self.headers]
        if self.secret_headers:
            out["secret_headers"] = list(self.secret_headers)
        if self.filter is not None:
            out["filter"] = self.filter
        if self.rate_limit is not None:
            out["rate_limit"] = str(self.rate_limit)
        if self.to:
            out["to"] = list(self.to)
        if self.client_cert is not None:
            out["client_cert"] = self.client_cert
            out["client_key"] = self.client_key
        if self.proxy is not None:
            out["proxy"] = self.proxy
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> HookOptions:
        """Options from :meth:`to_json`'s shape, checked (an import's file may have
        been edited by hand).

        Raises:
            InputError: a value is not valid.
        """
        if not data:
            return _EMPTY
        if not isinstance(data, Mapping):
            raise InputError("The hook's options must be a JSON object.", field="options")
        headers = data.get("headers") or []
        if not isinstance(headers, list) or not all(
                isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)
                for h in headers):
            raise InputError('Headers must be a list of ["Name", "value"] pairs.',
                             field="headers")
        secret_headers = data.get("secret_headers") or []
        to = data.get("to") or []
        if not isinstance(secret_headers, list) or not isinstance(to, list):
            raise InputError("secret_headers and to must be lists of strings.",
                             field="options")
        cert, key = data.get("client_cert"), data.get("client_key")
        if (cert is None) != (key is None) or not all(
                isinstance(x, str | None) for x in (cert, key)):
            raise InputError("A client certificate needs its key: give both paths.",
                             field="client_cert")
        user = data.get("basic_auth_user")
        rate = data.get("rate_limit")
        expr = data.get("filter")
        return cls(
            basic_auth_user=None if user is None else validate_basic_auth_user(str(user)),
            headers=tuple((validate_header(k, v, basic_auth=user is not None))
                          for k, v in headers),
            secret_headers=tuple(validate_header(str(k), "", basic_auth=user is not None)[0]
                                 for k in secret_headers),
            filter=None if expr is None else validate_filter(str(expr)),
            rate_limit=None if rate is None else parse_rate_limit(str(rate)),
            to=tuple(validate_address(str(a)) for a in to),
            client_cert=cert, client_key=key,
            proxy=None if data.get("proxy") is None else parse_proxy_url(str(data["proxy"]))[0])


_EMPTY = HookOptions()


def hook_type(name: str) -> str:
    """Check a hook type name.

    Raises:
        InputError: not one of :data:`TYPE_NAMES`.
    """
    if name not in TYPE_NAMES:
        raise InputError(f"The hook type {name!r} is not known; use one of: "
                         f"{', '.join(TYPE_NAMES)}.", field="type")
    return name


def types_json() -> list[dict[str, str]]:
    """The hook types, shaped like the platform's ``GET hooks/types``."""
    return [{"name": t.name, "title": t.title, "description": t.description}
            for t in HOOK_TYPES]


def secret_names(hook_type_name: str, options: HookOptions) -> list[str]:
    """The option secrets a hook of this type with these options needs."""
    names = []
    if hook_type_name == SLACK:
        names.append(SLACK_URL)
    if hook_type_name == PAGERDUTY:
        names.append(ROUTING_KEY)
    if options.basic_auth_user is not None:
        names.append(BASIC_AUTH_PASSWORD)
    names += [HEADER_PREFIX + h for h in options.secret_headers]
    return names


def optional_secret_names(type_name: str) -> tuple[str, ...]:
    """Option secrets a hook may have without needing them: an SMTP password (e-mail),
    an encrypted client key's passphrase."""
    return (SMTP_PASSWORD, KEY_PASSPHRASE) if type_name == EMAIL \
        else (KEY_PASSPHRASE, PROXY_PASSWORD)


@dataclass(frozen=True)
class HookConfig:
    """A hook's type-specific settings after checking: what goes in the ``url`` column
    (for a ``slack`` hook a masked placeholder), its options, and its option secrets."""

    url: str
    options: HookOptions
    secrets: OptionSecrets


def slack_placeholder(url: str) -> str:
    """The stored, shown form of a Slack URL: its host, never its token path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{SLACK_PLACEHOLDER_PATH}"


def check_config(type_name: str, url: str | None, options: HookOptions,
                 secrets: Mapping[str, str], *, url_check: Any) -> HookConfig:
    """Check a hook's type, URL, options and option secrets together.

    Args:
        type_name: one of :data:`TYPE_NAMES`.
        url: the URL given (a Slack incoming-webhook URL, a PagerDuty endpoint or None
            for the default, an ``smtp://`` URL), or None to keep ``secrets[SLACK_URL]``.
        url_check: the HTTP(S) URL rule (``hookadmin.core.hooks.validate_url``).
        secrets: the option secrets given (all of them).

    Raises:
        InputError: one sentence naming what is missing or wrong.
    """
    hook_type(type_name)
    check_headers(options)
    out = dict(secrets)
    for name in options.secret_headers:
        if HEADER_PREFIX + name not in out:
            raise InputError(f"Give a value for the secret header {name}.", field="headers")
        validate_header(name, out[HEADER_PREFIX + name])
    if options.basic_auth_user is not None and not out.get(BASIC_AUTH_PASSWORD):
        raise InputError("Basic auth needs a password; give user:password.",
                         field="basic_auth")
    if type_name == EMAIL:
        if not url:
            raise InputError("An e-mail hook needs an SMTP server, like "
                             "smtp://user@host:587?starttls=1.", field="smtp")
        if not options.to:
            raise InputError("An e-mail hook needs at least one address to send to.",
                             field="to")
        server = parse_smtp_url(url)
        if server.user and not out.get(SMTP_PASSWORD):
            raise InputError(f"The SMTP user {server.user} needs a password; give it with "
                             "--smtp-password-file.", field="smtp")
        stored = server.url()
    elif type_name == SLACK:
        real = url_check(url) if url else out.get(SLACK_URL)
        if not real:
            raise InputError("A Slack hook needs its incoming-webhook URL, like "
                             "https://hooks.slack.com/services/T000/B000/XXXX.", field="url")
        out[SLACK_URL] = real
        stored = slack_placeholder(real)
    elif type_name == PAGERDUTY:
        stored = url_check(url or PAGERDUTY_ENDPOINT)
        if not out.get(ROUTING_KEY, "").strip():
            raise InputError("A PagerDuty hook needs its routing key (integration key); "
                             "give it with --routing-key-file.", field="routing_key")
        out[ROUTING_KEY] = out[ROUTING_KEY].strip()
    else:
        if not url:
            raise InputError("Give the URL that should receive the webhooks (--url), "
                             "e.g. https://example.com/hooks.", field="url")
        stored = url_check(url)
    if type_name == EMAIL and (options.basic_auth_user or options.headers
                               or options.secret_headers or options.client_cert):
        raise InputError("Basic auth, custom headers and client certificates apply to HTTP "
                         "hooks, not e-mail.", field="headers")
    if options.client_cert is not None and options.client_key is not None:
        cert, key = validate_client_cert(options.client_cert, options.client_key,
                                         out.get(KEY_PASSPHRASE))
        options = dataclasses.replace(options, client_cert=cert, client_key=key)
    needed = set(secret_names(type_name, options))
    needed |= {n for n in optional_secret_names(type_name) if out.get(n)}
    if options.client_cert is None:
        needed.discard(KEY_PASSPHRASE)
    if options.proxy is None:
        needed.discard(PROXY_PASSWORD)
    elif type_name == EMAIL:
        raise InputError("A proxy applies to HTTP hooks, not e-mail.", field="proxy")
    return HookConfig(url=stored, options=options,
                      secrets={k: v for k, v in out.items() if k in needed})
