"""Hook types (DESIGN §10) and the endpoint options a hook may carry.

A hook's *type* says what its deliveries look like: ``web`` (DESIGN §3, signed JSON),
``slack`` (a Slack incoming-webhook message), ``pagerduty`` (PagerDuty Events API v2)
or ``email`` (a message over SMTP). Its :class:`HookOptions` hold every setting beyond
the URL that is not secret; the secret ones (a Slack URL, a routing key, passwords,
secret header values) are kept as :data:`OptionSecrets` where hook secrets live.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from hookadmin.core.errors import InputError, SecretStoreError

if TYPE_CHECKING:
    from hookadmin.core.secrets import HookSecrets

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

# Option secret names (keys of an OptionSecrets mapping).
SLACK_URL = "slack_url"
ROUTING_KEY = "routing_key"
BASIC_AUTH_PASSWORD = "basic_auth_password"  # noqa: S105 - a name, not a password
SMTP_PASSWORD = "smtp_password"  # noqa: S105 - a name, not a password
KEY_PASSPHRASE = "key_passphrase"  # noqa: S105 - a name, not a passphrase
PROXY_PASSWORD = "proxy_password"  # noqa: S105 - a name, not a password
HEADER_PREFIX = "header:"

OptionSecrets = dict[str, str]
"""Option secret name → value: :data:`SLACK_URL`, :data:`ROUTING_KEY`,
:data:`BASIC_AUTH_PASSWORD`, :data:`SMTP_PASSWORD`, and ``header:<Name>`` for each
secret header's value."""

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 header field name
_RESERVED = ("content-type", "user-agent", "authorization", "content-length", "host",
             "transfer-encoding", "connection")
MAX_HEADERS = 20
MAX_HEADER_VALUE = 4096
_RATE = re.compile(r"\s*(\d{1,6})\s*/\s*(s|sec|second|m|min|minute)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` requests per ``per`` seconds (1 or 60) to one hook."""

    count: int
    per: float

    def __str__(self) -> str:
        return f"{self.count}/{'s' if self.per == 1 else 'm'}"

    @property
    def interval(self) -> float:
        """Seconds between two requests when sent evenly."""
        return self.per / self.count


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


def validate_header(name: str, value: str, *, basic_auth: bool = False) -> tuple[str, str]:
    """Check one custom header.

    hookadmin's own headers (``X-Hook-*``, ``webhook-*``, ``Content-Type``,
    ``User-Agent``, ``Authorization`` …) cannot be set this way.

    Returns:
        ``(name, value)`` with surrounding spaces removed.

    Raises:
        InputError: the name is not an HTTP token or is reserved, or the value holds a
            line break or another control character, or is longer than 4096 characters.
    """
    name, value = name.strip(), value.strip()
    if not _TOKEN.fullmatch(name):
        raise InputError(f"The header name {name!r} is not valid; use letters, digits and "
                         "dashes, like X-Api-Key.", field="headers")
    lower = name.lower()
    if lower.startswith(("x-hook-", "webhook-")) or lower in _RESERVED:
        raise InputError(f"The header {name} is set by hookadmin and cannot be replaced; "
                         "choose another name.", field="headers")
    if any(unicodedata.category(c) == "Cc" and c != "\t" for c in value):
        raise InputError(f"The value of the header {name} contains a line break or a control "
                         "character; put it on one line.", field="headers")
    if len(value) > MAX_HEADER_VALUE:
        raise InputError(f"The value of the header {name} is longer than {MAX_HEADER_VALUE} "
                         "characters; shorten it.", field="headers")
    return name, value


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` → a checked ``(name, value)`` (see :func:`validate_header`).

    Raises:
        InputError: there is no colon, or the header is not valid.
    """
    name, colon, value = text.partition(":")
    if not colon:
        raise InputError(f"The header {text.strip()[:40]!r} has no colon; write it as "
                         "'Name: value'.", field="headers")
    return validate_header(name, value)


def check_headers(options: HookOptions) -> None:
    """Check that no header is given twice and that none clashes with basic auth.

    Raises:
        InputError: one sentence naming the header.
    """
    names = [k.lower() for k, _ in options.headers] + [k.lower() for k in options.secret_headers]
    for name in names:
        if names.count(name) > 1:
            raise InputError(f"The header {name} is given twice; keep one.", field="headers")
    if len(names) > MAX_HEADERS:
        raise InputError(f"A hook can have at most {MAX_HEADERS} custom headers.",
                         field="headers")


def validate_basic_auth_user(user: str) -> str:
    """Check a basic-auth user name (no colon, no control characters).

    Raises:
        InputError: it is empty, has a colon or a control character.
    """
    if not user or ":" in user or any(unicodedata.category(c) == "Cc" for c in user):
        raise InputError("The basic-auth user must be non-empty, without a colon or control "
                         "characters.", field="basic_auth")
    return user


def parse_basic_auth(text: str) -> tuple[str, str]:
    """``user:password`` (one line, as in a ``--basic-auth-file``) → (user, password).

    Raises:
        InputError: no colon, several lines, or an empty password.
    """
    line = text.rstrip("\r\n")
    user, colon, password = line.partition(":")
    if not colon or "\n" in line or not password:
        raise InputError("The basic-auth file must hold one line, user:password.",
                         field="basic_auth")
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise InputError("The basic-auth password contains control characters; use plain "
                         "text.", field="basic_auth")
    return validate_basic_auth_user(user), password


def parse_rate_limit(text: str) -> RateLimit:
    """``'10/s'`` or ``'600/m'`` → a :class:`RateLimit` (1 to 100,000 requests).

    Raises:
        InputError: another shape or count.
    """
    match = _RATE.fullmatch(text)
    if match is None or not 1 <= int(match.group(1)) <= 100_000:
        raise InputError(f"The rate limit {text!r} is not valid; write it as N/s or N/m with "
                         "N from 1 to 100000, like 10/s.", field="rate_limit")
    return RateLimit(int(match.group(1)), 1.0 if match.group(2)[0].lower() == "s" else 60.0)


def validate_filter(expression: str) -> str:
    """Check a filter: a JMESPath expression on the resource (``status == 'failed' &&
    contains(`[12, 15]`, package_id)``).

    Raises:
        InputError: it does not parse; the sentence gives the position of the mistake.
    """
    import jmespath
    from jmespath.exceptions import JMESPathError

    expression = expression.strip()
    if not expression:
        raise InputError("The filter is empty; write an expression such as "
                         "status == 'failed', or leave the filter out.", field="filter")
    try:
        jmespath.compile(expression)
    except JMESPathError as err:
        position = getattr(err, "lex_position", None)
        where = "" if not isinstance(position, int) else \
            " at its end (it is incomplete)" if position >= len(expression) else \
            f" at character {position + 1}"
        token = getattr(err, "token_value", None)
        near = f" near {token!r}" if token not in (None, "") else ""
        raise InputError(f"The filter does not parse{where}{near}; check it against the "
                         "JMESPath syntax (strings in 'single quotes', numbers in "
                         "`backticks`).", field="filter") from None
    return expression


def validate_address(address: str) -> str:
    """Check one e-mail address (``name@example.com``).

    Raises:
        InputError: it is not a single address with a local part and a domain.
    """
    text = address.strip()
    try:
        parsed = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        parsed = None
    if parsed is None or not parsed.username or "." not in parsed.domain \
            or any(c.isspace() for c in text):
        raise InputError(f"{text!r} is not an e-mail address; write it like "
                         "ops@example.com.", field="to")
    return text


@dataclass(frozen=True)
class SmtpServer:
    """Where an ``email`` hook sends: host, port, user (or None), STARTTLS or TLS."""

    host: str
    port: int
    user: str | None = None
    starttls: bool = False
    tls: bool = False

    def url(self) -> str:
        """The ``smtp://user@host:port?starttls=1`` form (no password)."""
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.user}@" if self.user else ""
        query = "?starttls=1" if self.starttls else ""
        return f"{scheme}://{user}{self.host}:{self.port}{query}"


def parse_smtp_url(text: str) -> SmtpServer:
    """``smtp://user@host:587?starttls=1`` (or ``smtps://`` for TLS from the start) →
    an :class:`SmtpServer`. The password never goes in the URL.

    Raises:
        InputError: another scheme, no host, a bad port or a password in the URL.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise InputError("The SMTP URL's port is not valid; use a number from 1 to 65535.",
                         field="smtp") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InputError("The SMTP server must be a URL like smtp://user@host:587?starttls=1 "
                         "(or smtps:// for TLS).", field="smtp")
    if parts.password is not None:
        raise InputError("Leave the password out of the SMTP URL; give it with "
                         "--smtp-password-file.", field="smtp")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
    tls = parts.scheme == "smtps"
    return SmtpServer(host=parts.hostname, port=port or (465 if tls else 25),
                      user=parts.username or None, starttls=starttls, tls=tls)


def validate_client_cert(cert: str, key: str, passphrase: str | None) -> tuple[str, str]:
    """Check that ``cert`` and ``key`` are a usable PEM client certificate and key (an
    encrypted key opened with ``passphrase``); returns their absolute paths.

    Raises:
        InputError: a file is missing or unreadable, is not PEM, the key does not match
            the certificate, or the passphrase is wrong or missing.
    """
    import ssl
    from pathlib import Path

    paths = (str(Path(cert).expanduser().resolve()), str(Path(key).expanduser().resolve()))
    for path in paths:
        if not Path(path).is_file():
            raise InputError(f"The file {path} does not exist; give the path of a PEM file.",
                             field="client_cert")
    try:
        ssl.create_default_context().load_cert_chain(
            paths[0], paths[1], password=passphrase.encode() if passphrase else b"")
    except PermissionError:
        raise InputError("The client certificate or key cannot be read (permission denied); "
                         "let this user read both files.", field="client_cert") from None
    except (OSError, ssl.SSLError, ValueError):
        raise InputError("The client certificate and key cannot be used: they must be PEM "
                         "files of one certificate and its key (for an encrypted key, give "
                         "the right passphrase).", field="client_cert") from None
    return paths


def parse_proxy_url(text: str) -> tuple[str, str | None]:
    """``http://user:password@proxy.example:3128`` → (the URL without its password,
    the password or None). ``https://`` proxies are reached over TLS.

    Raises:
        InputError: another scheme, no host, a bad port, or a path.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise InputError("The proxy's port is not valid; use a number from 1 to 65535.",
                         field="proxy") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("The proxy must be a URL like http://proxy.example:3128 (or "
                         "https://).", field="proxy")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError("The proxy URL must not have a path; write it like "
                         "http://proxy.example:3128.", field="proxy")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    user = f"{parts.username}@" if parts.username else ""
    clean = f"{parts.scheme}://{user}{host}" + (f":{port}" if port else "")
    return clean, parts.password


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


def mask(value: str) -> str:
    """A secret as shown in logs and the window: never any of its characters."""
    return "***" if value else ""


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


def read_option_secrets(secrets: HookSecrets, hook_id: int) -> OptionSecrets:
    """A hook's option secrets from the secret store (empty when it has none).

    Raises:
        SecretStoreError: the store cannot be read, or the entry is not a JSON object
            of strings.
    """
    text = secrets.get_optional(hook_id, options=True)
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SecretStoreError(f"The option secrets of hook {hook_id} are damaged; set them "
                               "again with `hookadmin hooks edit`.", cause="damaged")
    return value
