"""``hookadmin hooks ...``: list, add, show, edit, delete, reveal and reset secrets,
export and import."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookadmin.cli import hook_options
from hookadmin.cli.common import KEYRING_STATE, Parser, hook_id, print_json, read_input
from hookadmin.core.errors import InputError
from hookadmin.core.formats import default_events as type_default_events
from hookadmin.core.hook_types import SMTP_PASSWORD
from hookadmin.core.hooks import Hook
from hookadmin.core.ordering import blocking_delivery
from hookadmin.core.service import HookService
from hookadmin.core.store import iso

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands


def add_parser(sub: Subcommands) -> None:
    """Add ``hooks`` and its actions to ``sub`` (the top parser's subparsers)."""
    hooks = sub.add_parser("hooks", help="list, add, show, edit and delete hooks")
    hsub = hooks.add_subparsers(dest="hooks_command", metavar="ACTION", required=True,
                                parser_class=Parser)
    ls = hsub.add_parser("list", help="list hooks")
    ls.add_argument("--json", action="store_true",
                    help="print JSON (DESIGN.md §4, plus deactivated_reason and "
                         "deactivated_at for a hook the engine switched off)")
    add = hsub.add_parser("add", help="create a hook with a new secret")
    add.add_argument("--url", help="where deliveries go (for slack: its incoming-webhook URL, "
                                   "kept in the keyring; for pagerduty: the Events API "
                                   "endpoint, by default PagerDuty's)")
    add.add_argument("--event", action="append", default=[], metavar="TYPE",
                     help="event type or group id (job, cluster); repeat for more "
                          "(default: job and cluster)")
    add.add_argument("--name", default="")
    add.add_argument("--inactive", action="store_true", help="create it switched off")
    add.add_argument("--ca-bundle", metavar="FILE",
                     help="PEM file of extra CA certificates to trust for this hook")
    add.add_argument("--insecure-ssl", action="store_true",
                     help="skip TLS certificate verification (not recommended)")
    hook_options.add_arguments(add, adding=True)
    add.add_argument("--json", action="store_true")
    show = hsub.add_parser("show", help="show one hook")
    show.add_argument("id", type=hook_id)
    show.add_argument("--json", action="store_true")
    edit = hsub.add_parser("edit", help="change a hook")
    edit.add_argument("id", type=hook_id)
    edit.add_argument("--url")
    edit.add_argument("--event", action="append", metavar="TYPE",
                      help="replaces the event list; repeat for more")
    edit.add_argument("--name")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--active", dest="active", action="store_true", default=None)
    state.add_argument("--inactive", dest="active", action="store_false")
    edit.add_argument("--ca-bundle", metavar="FILE",
                      help="PEM file of extra CA certificates ('' removes it)")
    tls = edit.add_mutually_exclusive_group()
    tls.add_argument("--insecure-ssl", dest="insecure_ssl", action="store_true", default=None,
                     help="skip TLS certificate verification (not recommended)")
    tls.add_argument("--verify-ssl", dest="insecure_ssl", action="store_false",
                     help="verify TLS certificates again")
    hook_options.add_arguments(edit, adding=False)
    edit.add_argument("--json", action="store_true")
    delete = hsub.add_parser("delete", help="delete a hook, its history and its secret")
    delete.add_argument("id", type=hook_id)
    secret = hsub.add_parser("secret", help="print the hook's secret (explicit reveal)")
    secret.add_argument("id", type=hook_id)
    secret.add_argument("--whsec", action="store_true",
                        help="print its Standard Webhooks form (whsec_...) instead")
    reset = hsub.add_parser("reset-secret", help="replace the secret (a new random one is "
                                                 "printed)")
    reset.add_argument("id", type=hook_id)
    reset.add_argument("--secret-file", metavar="F|-",
                       help="use this secret (64 hex characters; surrounding whitespace is "
                            "ignored) instead of a new random one; it is not printed")
    reset.add_argument("--overlap", type=_overlap, default=None, metavar="DURATION",
                       help="how long the replaced secret still signs webhook-signature: "
                            "0 to 7d, like 0, 12h, 3d (default 24h)")
    order = hsub.add_parser("ordered", help="ordered (FIFO) delivery: one request at a time, "
                                            "a later delivery waits while an earlier one "
                                            "is retried")
    order.add_argument("id", type=hook_id)
    order.add_argument("state", choices=("on", "off"))
    expire = hsub.add_parser("expire-old-secret", help="end a reset's overlap now: the "
                                                       "replaced secret stops signing")
    expire.add_argument("id", type=hook_id)
    export = hsub.add_parser("export", help="hooks as JSON (DESIGN.md §4), secrets only if asked")
    export.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    export.add_argument("--secrets", metavar="FILE",
                        help="also write the secrets to FILE (created with mode 0600; a "
                             "symbolic link there is refused)")
    imp = hsub.add_parser("import", help="create hooks from an export")
    imp.add_argument("file", metavar="FILE|-")
    imp.add_argument("--secrets", metavar="FILE",
                     help="take the secrets from FILE (else new secrets are made)")


def run(service: HookService, args: argparse.Namespace) -> int:
    """Run one ``hooks`` action; returns the exit status.

    Raises:
        HookadminError: what the service layer raises (the caller turns it into a line
            on stderr and exit status 2 or 1).
    """
    action = args.hooks_command
    if action == "list":
        hooks = service.hooks()
        if args.json:
            print_json([hook_json(service, h) for h in hooks])
        elif not hooks:
            print("No hooks yet. Create one with: hookadmin hooks add --url URL --event job")
        else:
            _print_hook_table(hooks)
        return 0
    if action == "add":
        options, option_secrets = hook_options.options_from_args(args)
        if args.type == "email" and args.smtp and SMTP_PASSWORD in option_secrets:
            from hookadmin.delivery.email import check_login

            check_login(args.smtp, option_secrets[SMTP_PASSWORD])  # a wrong one: exit 2
        hook = service.create_hook(url=hook_options.hook_url(args),
                                   events=args.event or default_events(args.type),
                                   name=args.name, active=not args.inactive,
                                   insecure_ssl=args.insecure_ssl, ca_bundle=args.ca_bundle,
                                   type=args.type, options=options,
                                   option_secrets=option_secrets)
        _print_hook(service, hook, as_json=args.json)
        return 0
    if action == "show":
        _print_hook(service, service.hook(args.id), as_json=args.json)
        return 0
    if action == "edit":
        options, option_secrets = hook_options.options_from_args(
            args, service.hook(args.id).options)
        hook = service.edit_hook(args.id, url=hook_options.hook_url(args), events=args.event,
                                 name=args.name, active=args.active,
                                 insecure_ssl=args.insecure_ssl, ca_bundle=args.ca_bundle,
                                 options=options, option_secrets=option_secrets)
        _print_hook(service, hook, as_json=args.json)
        return 0
    if action == "delete":
        hook = service.hook(args.id)
        kept = service.delete_hook(args.id)
        print(f"Deleted hook {hook.id} ({hook.display_name}) and its delivery history.")
        if kept is not None:
            print(f"hookadmin: the hook's secret stays in the OS keyring for now "
                  f"({KEYRING_STATE.get(kept.cause or '', 'the keyring cannot be used')}); "
                  "the next hookadmin command that can use the keyring removes it.",
                  file=sys.stderr)
        return 0
    if action == "secret":
        return _secret(service, args)
    if action == "reset-secret":
        return _reset_secret(service, args)
    if action == "ordered":
        service.set_ordered(args.id, args.state == "on")
        print(f"Hook {args.id} is {'ordered' if args.state == 'on' else 'not ordered'}.")
        return 0
    if action == "expire-old-secret":
        service.expire_previous_secret(args.id)
        print(f"Hook {args.id} signs with its current secret only.")
        return 0
    if action == "export":
        return _export(service, args)
    if action == "import":
        return _import(service, args)
    raise AssertionError(action)  # pragma: no cover


def default_events(type_name: str) -> list[str]:
    """A new hook's events when ``--event`` is not given: both groups, or for a
    PagerDuty hook the events that trigger or resolve an incident."""
    return list(type_default_events(type_name))


def hook_json(service: HookService, hook: Hook) -> dict[str, Any]:
    """The hook's §4 object, plus ``deactivated_reason`` and ``deactivated_at``
    (ISO-8601 UTC) when the engine switched it off (a 410, or failing for too long)."""
    out = hook.to_json()
    if hook.options.filter is not None:
        out["filtered_out"] = hook.filtered_out
    if not hook.active and hook.deactivated_reason:
        out["deactivated_reason"] = hook.deactivated_reason
        out["deactivated_at"] = iso(service.store.deactivated_at(hook.id))
    if hook.id in service.ordered_hooks():
        out["ordered"] = True
        blocked = blocking_delivery(service.store, hook.id)
        out["blocked_by"] = None if blocked is None else blocked.id
    return out


def _secret(service: HookService, args: argparse.Namespace) -> int:
    from hookadmin.core.signing import standard_webhooks_secret

    secret = service.reveal_secret(args.id)
    print(standard_webhooks_secret(secret) if args.whsec else secret)
    return 0


def _overlap(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        value = float(number) * units[unit]
    except ValueError:
        value = -1.0
    if not 0 <= value <= 7 * 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not an overlap; give 0 to 7d, like "
                                         "0, 12h or 3d")
    return value


def _reset_secret(service: HookService, args: argparse.Namespace) -> int:
    overlap = {} if args.overlap is None else {"overlap": args.overlap}
    if args.secret_file is None:
        print(service.reset_secret(args.id, **overlap))  # the only way to learn the new one
        return 0
    given = read_input(args.secret_file, "secret").decode("utf-8", "replace")
    service.reset_secret(args.id, given, **overlap)
    line = f"Hook {args.id} now signs with the secret given"
    expiry = service.hook(args.id).previous_secret_expires_at
    if expiry is not None:
        line += (f"; the replaced one also signs webhook-signature until {iso(expiry)}")
    print(line + ".")
    return 0


def _print_hook_table(hooks: Sequence[Hook]) -> None:
    rows = [("ID", "ACTIVE", "NAME", "URL", "EVENTS")]
    rows += [(str(h.id), "yes" if h.active else "no", h.name or "-", h.url, ",".join(h.events))
             for h in hooks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])


def _print_hook(service: HookService, hook: Hook, *, as_json: bool) -> None:
    if as_json:
        print_json(hook_json(service, hook))
        return
    print(f"Hook {hook.id}: {hook.display_name}")
    print(f"  Type:     {hook.type}")
    print(f"  {'SMTP:' if hook.type == 'email' else 'URL:':<10}{hook.url}")
    for line in option_lines(hook):
        print(f"  {line}")
    print(f"  Events:   {', '.join(hook.events)}")
    print(f"  Active:   {'yes' if hook.active else 'no'}")
    if hook.deactivated_reason:
        print(f"  Why off:  {hook.deactivated_reason}")
        when = service.store.deactivated_at(hook.id)
        if when is not None:
            print(f"  Off at:   {iso(when)}")
    if hook.insecure_ssl:
        print("  TLS:      certificates are NOT verified (insecure_ssl)")
    elif hook.ca_bundle:
        print(f"  TLS:      also trusts the CAs in {hook.ca_bundle}")
    if hook.url.startswith("http://"):
        print("  Warning:  plain http: deliveries travel unencrypted")
    if hook.previous_secret_expires_at and hook.previous_secret_expires_at > time.time():
        print(f"  Rotation: the replaced secret also signs webhook-signature until "
              f"{iso(hook.previous_secret_expires_at)}")
    if hook.id in service.ordered_hooks():
        blocked = blocking_delivery(service.store, hook.id)
        print("  Ordered:  yes, one delivery at a time in publish order"
              + ("" if blocked is None else f"; blocked by {blocked.id} (attempt "
                 f"{blocked.attempts + 1} at {iso(blocked.next_attempt_at)})"))
    print(f"  Created:  {hook.created_at}    Updated: {hook.updated_at}")
    where = "in the team database, sealed with the team key" if service.location.team \
        else "in the OS keyring"
    print(f"  Secret:   {where}; reveal it with `hookadmin hooks secret {hook.id}`")


def option_lines(hook: Hook) -> list[str]:
    """The hook's endpoint options as lines for ``hooks show`` (secrets masked)."""
    o = hook.options
    lines = []
    if o.to:
        lines.append(f"To:       {', '.join(o.to)}")
    if o.basic_auth_user is not None:
        lines.append(f"Auth:     basic, user {o.basic_auth_user}, password in the keyring")
    lines += [f"Header:   {k}: {v}" for k, v in o.headers]
    lines += [f"Header:   {k}: *** (in the keyring)" for k in o.secret_headers]
    if o.filter is not None:
        lines.append(f"Filter:   {o.filter} ({hook.filtered_out} events left out so far)")
    if o.client_cert is not None:
        lines.append(f"mTLS:     presents {o.client_cert} (key {o.client_key})")
    if o.proxy is not None:
        lines.append(f"Proxy:    {o.proxy}")
    if o.rate_limit is not None:
        lines.append(f"Rate:     at most {o.rate_limit}")
    return lines


def _export(service: HookService, args: argparse.Namespace) -> int:
    from hookadmin.core.transfer import (
        export_hooks,
        export_secrets,
        secrets_document,
        write_private_file,
    )

    hooks = export_hooks(service)
    text = json.dumps(hooks, indent=2, ensure_ascii=False) + "\n"
    if args.secrets is not None:
        if args.secrets == "-" or args.secrets == args.file:
            raise InputError("Give --secrets its own file; secrets are never written with "
                             "the hooks or to standard output.")
        write_private_file(Path(args.secrets), json.dumps(
            secrets_document(export_secrets(service)), indent=2) + "\n")
    if args.file == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.file).write_text(text, encoding="utf-8")
        except OSError as err:
            raise InputError(f"Cannot write {args.file} ({err.strerror}); choose another "
                             "path.") from None
    note = f"Exported {len(hooks)} hooks" + (f"; secrets in {args.secrets} (mode 0600)"
                                             if args.secrets else "; no secrets") + "."
    print(note, file=sys.stderr)
    return 0


def _import(service: HookService, args: argparse.Namespace) -> int:
    from hookadmin.core.transfer import import_hooks, parse_export, parse_secrets

    hooks = parse_export(read_input(args.file, "hooks"))
    secrets = None if args.secrets is None else parse_secrets(read_input(args.secrets,
                                                                         "secrets"))
    created, skipped, restored = import_hooks(service, hooks, secrets)
    ids = ", ".join(str(h.id) for h in created) or "none"
    line = f"Imported {len(created)} hooks (ids: {ids})"
    if skipped:
        line += f"; skipped {skipped} that already exist"
    if restored:
        line += (f"; put the secrets of {len(restored)} of those into this keyring (ids: "
                 f"{', '.join(map(str, restored))})")
    if created and secrets is None:
        line += "; each has a new secret: reveal them with `hookadmin hooks secret ID`"
    print(line + ".")
    return 0
