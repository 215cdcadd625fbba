"""Option checks: each endpoint option of a hook, checked (or parsed) on its own.

Custom headers, basic auth, the rate limit, the filter, e-mail addresses, the SMTP
server, the client certificate and the proxy; each check raises
:class:`~hookadmin.core.errors.InputError` with one sentence saying what to fix.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from hookadmin.core.errors import InputError

if TYPE_CHECKING:
    from hookadmin.core.hook_types import HookOptions

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
