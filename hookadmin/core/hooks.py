"""The hook model and the rules a hook's URL must follow (DESIGN.md §4)."""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import idna

from hookadmin.core.addresses import refusal
from hookadmin.core.errors import InputError
from hookadmin.core.hook_types import WEB, HookOptions

MAX_URL_LENGTH = 2048
MAX_NAME_LENGTH = 200
# A bracketed host is an IPv6 address (with an optional zone id), then at most a port.
_BRACKETED_HOST = re.compile(r"\[[0-9A-Fa-f:.]+(?:%[0-9A-Za-z._~%-]+)?\](?::[0-9]*)?")


def utc_now_iso() -> str:
    """The current UTC time as ISO-8601 with a ``Z`` suffix, whole seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Hook:
    """One webhook subscription.

    Attributes:
        id: database id (positive int).
        name: a label for people; may be empty.
        url: the http(s) URL deliveries are POSTed to, already validated.
        events: canonical subscription (event type ids and group ids).
        active: inactive hooks receive no deliveries.
        insecure_ssl: skip TLS certificate verification (the platform's setting).
        created_at, updated_at: ISO-8601 UTC strings ending in ``Z``.
        deactivated_reason: why the engine switched the hook off, or ``None``.
        ca_bundle: path of a PEM file of extra CA certificates trusted for this hook.
        previous_secret_expires_at: Unix seconds until which the secret replaced by the
            last reset still signs ``webhook-signature`` too, or ``None``.
        type: ``web``, ``slack``, ``pagerduty`` or ``email`` (see
            :mod:`hookadmin.core.hook_types`). A ``slack`` hook's ``url`` is a masked
            placeholder (the real one is a secret); an ``email`` hook's is its SMTP server.
        options: the hook's endpoint options (headers, basic-auth user, filter, …).
        filtered_out: how many events the hook's filter has left out.
    """

    id: int
    name: str
    url: str
    events: tuple[str, ...]
    active: bool = True
    insecure_ssl: bool = False
    created_at: str = field(default_factory=utc_now_iso)
    updated_at: str = field(default_factory=utc_now_iso)
    deactivated_reason: str | None = None
    ca_bundle: str | None = None
    previous_secret_expires_at: float | None = None
    type: str = WEB
    options: HookOptions = field(default_factory=HookOptions)
    filtered_out: int = 0

    @property
    def display_name(self) -> str:
        """The name, or the URL's host when the hook has no name."""
        return self.name or (urlsplit(self.url).hostname or self.url)

    def to_json(self) -> dict[str, Any]:
        """The §4 representation (never includes the secret)."""
        options = self.options.to_json()
        if self.options.basic_auth_user is not None:
            options["basic_auth"] = True  # like the platform; the password is a secret
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "active": self.active,
            "settings": {"url": self.url, "insecure_ssl": self.insecure_ssl,
                         **({"ca_bundle": self.ca_bundle} if self.ca_bundle else {}),
                         **options},
            "events": list(self.events),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def validate_name(name: str) -> str:
    """Strip and check a hook name.

    Raises:
        InputError: the name is longer than 200 characters or has control characters.
    """
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"The name is too long; keep it to {MAX_NAME_LENGTH} characters.",
                         field="name")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise InputError("The name contains control characters; use plain text.", field="name")
    return name


def validate_url(url: str) -> str:
    """Check a hook URL and return it in canonical form.

    Rules: http or https only; a host is required (in [brackets] only an IPv6 address);
    no user name or password; a port, if given, from 1 to 65535; no spaces, control
    characters or invisible format characters (Unicode Cf); at most 2048 characters.
    Surrounding whitespace is stripped; scheme and host are lower-cased; an
    internationalised host name is stored in its ASCII (punycode) form.

    Returns:
        The canonical URL string.

    Raises:
        InputError: one sentence naming the broken rule and what to do.
    """
    url = url.strip()
    if not url:
        raise InputError("Enter the URL that should receive the webhooks, "
                         "e.g. https://example.com/hooks.", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"The URL is longer than {MAX_URL_LENGTH} characters; use a shorter one.",
                         field="url")
    if any(c.isspace() for c in url):
        raise InputError("The URL contains spaces; remove them or encode them as %20.",
                         field="url")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in url):
        # Cf: invisible format characters (bidi overrides, zero-width joiners, soft
        # hyphens) that make a URL look different from where it points.
        raise InputError("The URL contains control characters or invisible formatting "
                         "characters; remove them.", field="url")
    try:
        parts = urlsplit(url)
    except ValueError as err:
        raise InputError(f"The URL cannot be parsed ({err}); check its brackets and port.",
                         field="url") from err
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if not parts.scheme or "://" not in url:
            raise InputError("The URL must start with https:// or http://.", field="url")
        raise InputError(f"The URL scheme {parts.scheme!r} is not supported; "
                         "use https:// or http://.", field="url")
    if not url[len(parts.scheme):].startswith("://"):
        raise InputError("The URL must start with https:// or http://.", field="url")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InputError("The URL must not contain a user name or password (user:pass@); "
                         "remove them and rely on the signature instead.", field="url")
    host = parts.hostname
    if not host:
        raise InputError("The URL has no host; write it like https://example.com/hooks.",
                         field="url")
    try:
        port = parts.port
    except ValueError:
        raise InputError("The URL's port is not valid; use a number from 1 to 65535.",
                         field="url") from None
    if port is not None and not 1 <= port <= 65535:
        raise InputError("The URL's port is not valid; use a number from 1 to 65535.",
                         field="url")
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.startswith("[") and not _BRACKETED_HOST.fullmatch(hostport):
        # urlsplit accepts [v1.fe] (an IPvFuture literal) and drops text after "]".
        raise InputError("The URL's host in [brackets] must be an IPv6 address like "
                         "[2001:db8::1], optionally followed by :port.", field="url")
    ascii_host = _canonical_host(host)
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None:
        netloc += f":{port}"
    path = parts.path or "/"
    rebuilt = f"{scheme}://{netloc}{path}"
    if parts.query:
        rebuilt += f"?{parts.query}"
    if parts.fragment:
        raise InputError("The URL has a #fragment, which is never sent to the server; remove it.",
                         field="url")
    return rebuilt


def redact_url(url: str) -> str:
    """``url`` fit for logs and error messages: a query string becomes ``?***``, user
    info becomes ``***@`` and a fragment is dropped, since hook URLs often carry a
    token there (``https://x.example/hook?token=abc`` → ``https://x.example/hook?***``).

    Works on relative references too (a ``Location`` header) and never raises; text
    that cannot be parsed loses everything from the first ``?`` or ``#``.
    """
    try:
        parts = urlsplit(url)
        has_netloc = parts.netloc != "" or url.startswith(f"{parts.scheme}://") \
            or url.startswith("//")
    except ValueError:
        cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
        head = url[:cut]
        return re.sub(r"//[^/@]*@", "//***@", head) + ("?***" if "?" in url[cut:cut + 1]
                                                     else "")
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    out = f"{parts.scheme}:" if parts.scheme else ""
    if has_netloc:
        out += f"//{netloc}"
    out += parts.path
    if parts.query:
        out += "?***"
    return out


def _canonical_host(host: str) -> str:
    """Lower-case a host and turn an IDN into punycode; check its labels."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        never = refusal(ip, strict=False)  # link-local or cloud metadata, however spelled
        if never is not None:
            raise InputError(never, field="url")
        return str(ip)
    try:
        socket.inet_aton(host)
    except OSError:
        pass
    else:  # 127.1, 2130706433, 0x7f000001: legacy spellings of an IPv4 address
        raise InputError(f"The host {host!r} is an IPv4 address in a legacy form; write it "
                         "as four decimal numbers like 192.0.2.10.", field="url")
    host = host.rstrip(".").lower()
    if not host:
        raise InputError("The URL has no host; write it like https://example.com/hooks.",
                         field="url")
    try:  # IDNA 2008 with UTS #46 mapping, as browsers do (straße.de stays straße)
        ascii_host = idna.encode(host, uts46=True).decode("ascii") if not host.isascii() \
            else host
    except idna.IDNAError:
        raise InputError(f"The host {host!r} is not a valid domain name; check its spelling.",
                         field="url") from None
    labels = ascii_host.split(".")
    for label in labels:
        if not label or len(label) > 63 or not all(c.isalnum() or c in "-_" for c in label):
            raise InputError(f"The host {host!r} is not a valid domain name; check its spelling.",
                             field="url")
    if labels[-1].isdigit():
        raise InputError(f"The host {host!r} is neither an IP address nor a domain name; "
                         "check its numbers.", field="url")
    return ascii_host


def validate_ca_bundle(path: str) -> str:
    """Check that ``path`` is a readable PEM file of CA certificates; returns its
    absolute path (an empty string means "no bundle" and is returned as is).

    Raises:
        InputError: the file is missing, unreadable or holds no certificate.
    """
    if not path.strip():
        return ""
    resolved = Path(path).expanduser().resolve()
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(resolved))
    except FileNotFoundError:
        raise InputError(f"The CA bundle {resolved} does not exist; give the path of a PEM "
                         "file.", field="ca_bundle") from None
    except (OSError, ssl.SSLError, ValueError):
        raise InputError(f"The CA bundle {resolved} holds no usable PEM certificate; give a "
                         "PEM file of CA certificates.", field="ca_bundle") from None
    return str(resolved)
