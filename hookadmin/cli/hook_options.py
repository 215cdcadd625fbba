"""The options of ``hooks add`` and ``hooks edit`` for hook types and endpoint options:
``--type``, ``--basic-auth-file``, ``--header``, ``--secret-header``, ``--filter``,
``--rate-limit``, ``--routing-key-file``, ``--to``, ``--smtp``, ``--smtp-password-file``."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from hookadmin.cli.common import read_input
from hookadmin.core.errors import InputError
from hookadmin.core.hook_types import (
    BASIC_AUTH_PASSWORD,
    HEADER_PREFIX,
    HOOK_TYPES,
    KEY_PASSPHRASE,
    PROXY_PASSWORD,
    ROUTING_KEY,
    SMTP_PASSWORD,
    TYPE_NAMES,
    HookOptions,
    OptionSecrets,
    parse_basic_auth,
    parse_header,
    parse_proxy_url,
    parse_rate_limit,
    validate_address,
    validate_filter,
)


def add_arguments(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    """Add the type and endpoint options to ``hooks add`` (``adding``) or ``hooks edit``."""
    if adding:
        parser.add_argument("--type", default="web", choices=TYPE_NAMES,
                            help="the hook type (default web), as GET hooks/types lists "
                                 "them: " + "; ".join(f"{t.name} ({t.title}): "
                                                      f"{t.description}"
                                                      for t in HOOK_TYPES).replace("%", "%%"))
    parser.add_argument("--basic-auth-file", metavar="F",
                        help="file with user:password on one line (the password goes to the "
                             "keyring); '' on edit removes basic auth")
    parser.add_argument("--header", action="append", metavar="'Name: value'",
                        help="an extra request header; repeat for more (on edit: replaces "
                             "them all, --header '' removes them)")
    parser.add_argument("--secret-header", action="append", metavar="'Name: value'",
                        help="an extra header whose value is kept in the keyring and masked")
    parser.add_argument("--filter", metavar="EXPR",
                        help="deliver only events whose resource matches this JMESPath "
                             "expression, e.g. \"status == 'failed'\" ('' on edit removes it)")
    parser.add_argument("--rate-limit", metavar="N/s|N/m",
                        help="at most N requests per second or minute ('' on edit removes it)")
    parser.add_argument("--client-cert", metavar="F",
                        help="mTLS: PEM client certificate (chain) to present; '' on edit "
                             "removes it")
    parser.add_argument("--client-key", metavar="F", help="mTLS: the PEM key of --client-cert")
    parser.add_argument("--client-key-passphrase-file", metavar="F",
                        help="mTLS: file holding the passphrase of an encrypted key (kept in "
                             "the keyring)")
    parser.add_argument("--proxy", metavar="URL",
                        help="send through this http:// or https:// proxy "
                             "(http://user:password@host:port; the password goes to the "
                             "keyring); '' on edit removes it")
    parser.add_argument("--routing-key-file", metavar="F",
                        help="pagerduty: file holding the routing (integration) key")
    parser.add_argument("--to", action="append", metavar="ADDR",
                        help="email: an address to send to; repeat for more")
    parser.add_argument("--smtp", metavar="URL",
                        help="email: the SMTP server, smtp://user@host:587?starttls=1 or "
                             "smtps://user@host:465")
    parser.add_argument("--smtp-password-file", metavar="F",
                        help="email: file holding the SMTP password")


def _one_line(spec: str, what: str) -> str:
    text = read_input(spec, what).decode("utf-8", "replace").strip("\r\n")
    if "\n" in text or not text.strip():
        raise InputError(f"The {what} file must hold the {what} on one line.", field=what)
    return text


def options_from_args(args: argparse.Namespace,
                      current: HookOptions | None = None) -> tuple[HookOptions | None,
                                                                   OptionSecrets]:
    """The options and option secrets the arguments give, over ``current`` (edit).

    Returns:
        (options, or None when no option argument was given; option secrets given).

    Raises:
        InputError: a value is not valid or a file cannot be read (one sentence).
    """
    options = current or HookOptions()
    secrets: OptionSecrets = {}
    changed = False
    if args.basic_auth_file is not None:
        changed = True
        if args.basic_auth_file == "":
            options = replace(options, basic_auth_user=None)
        else:
            user, password = parse_basic_auth(
                read_input(args.basic_auth_file, "basic-auth").decode("utf-8", "replace"))
            options = replace(options, basic_auth_user=user)
            secrets[BASIC_AUTH_PASSWORD] = password
    if args.header is not None:
        changed = True
        options = replace(options, headers=tuple(parse_header(h) for h in args.header if h))
    if args.secret_header is not None:
        changed = True
        pairs = [parse_header(h) for h in args.secret_header if h]
        options = replace(options, secret_headers=tuple(k for k, _ in pairs))
        secrets.update({HEADER_PREFIX + k: v for k, v in pairs})
    if args.filter is not None:
        changed = True
        options = replace(options, filter=validate_filter(args.filter) if args.filter else None)
    if args.rate_limit is not None:
        changed = True
        options = replace(options, rate_limit=parse_rate_limit(args.rate_limit)
                          if args.rate_limit else None)
    if args.to is not None:
        changed = True
        options = replace(options, to=tuple(validate_address(a) for a in args.to))
    if args.client_cert is not None or args.client_key is not None:
        changed = True
        if not args.client_cert and not args.client_key:
            options = replace(options, client_cert=None, client_key=None)
        elif not args.client_cert or not args.client_key:
            raise InputError("Give --client-cert and --client-key together.",
                             field="client_cert")
        else:
            options = replace(options, client_cert=args.client_cert,
                              client_key=args.client_key)
    if args.client_key_passphrase_file is not None:
        changed = True
        secrets[KEY_PASSPHRASE] = _one_line(args.client_key_passphrase_file, "passphrase")
    if args.proxy is not None:
        changed = True
        if args.proxy:
            clean, proxy_password = parse_proxy_url(args.proxy)
            options = replace(options, proxy=clean)
            if proxy_password is not None:
                secrets[PROXY_PASSWORD] = proxy_password
        else:
            options = replace(options, proxy=None)
    if args.routing_key_file is not None:
        secrets[ROUTING_KEY] = _one_line(args.routing_key_file, "routing key").strip()
    if args.smtp_password_file is not None:
        secrets[SMTP_PASSWORD] = _one_line(args.smtp_password_file, "SMTP password")
    return (options if changed else None), secrets


def hook_url(args: Any) -> str | None:
    """The URL argument for the hook's type: ``--smtp`` for e-mail, else ``--url``."""
    smtp: str | None = getattr(args, "smtp", None)
    return smtp if smtp is not None else args.url
