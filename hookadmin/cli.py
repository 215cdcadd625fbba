"""The ``hookadmin`` command line (DESIGN.md §6).

Exit status: 0 on success, 2 for bad usage or bad input (one line on stderr), 1 for
any other failure (keyring unavailable, receiver error on ping, ...).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from hookadmin import __version__
from hookadmin.core.errors import HookadminError, InputError
from hookadmin.core.events import EVENT_TYPES, GROUPS, catalog_json, event_type
from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.core.store import Delivery, iso


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line on stderr (DESIGN.md §6); the usage is one `--help` away.
        self.exit(2, f"hookadmin: {message}; see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    p = _Parser(prog="hookadmin", description="Manage and deliver the ETL platform's "
                "service hooks (outgoing webhooks). Without a command, opens the window.")
    p.add_argument("--version", action="version", version=f"hookadmin {__version__}")
    p.add_argument("--home", metavar="DIR",
                   help="data directory (default: $HOOKADMIN_HOME or the user data folder)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("gui", help="open the admin window")

    hooks = sub.add_parser("hooks", help="list, add, show, edit and delete hooks")
    hsub = hooks.add_subparsers(dest="hooks_command", metavar="ACTION", required=True,
                                parser_class=_Parser)
    ls = hsub.add_parser("list", help="list hooks")
    ls.add_argument("--json", action="store_true", help="print JSON (DESIGN.md §4)")
    add = hsub.add_parser("add", help="create a hook with a new secret")
    add.add_argument("--url", required=True)
    add.add_argument("--event", action="append", default=[], metavar="TYPE",
                     help="event type or group id (job, cluster); repeat for more "
                          "(default: job and cluster)")
    add.add_argument("--name", default="")
    add.add_argument("--inactive", action="store_true", help="create it switched off")
    add.add_argument("--json", action="store_true")
    show = hsub.add_parser("show", help="show one hook")
    show.add_argument("id", type=_hook_id)
    show.add_argument("--json", action="store_true")
    edit = hsub.add_parser("edit", help="change a hook")
    edit.add_argument("id", type=_hook_id)
    edit.add_argument("--url")
    edit.add_argument("--event", action="append", metavar="TYPE",
                      help="replaces the event list; repeat for more")
    edit.add_argument("--name")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--active", dest="active", action="store_true", default=None)
    state.add_argument("--inactive", dest="active", action="store_false")
    edit.add_argument("--json", action="store_true")
    delete = hsub.add_parser("delete", help="delete a hook, its history and its secret")
    delete.add_argument("id", type=_hook_id)
    secret = hsub.add_parser("secret", help="print the hook's secret (explicit reveal)")
    secret.add_argument("id", type=_hook_id)
    reset = hsub.add_parser("reset-secret", help="replace the secret and print the new one")
    reset.add_argument("id", type=_hook_id)

    ping = sub.add_parser("ping", help="send a ping now and show the response")
    ping.add_argument("id", type=_hook_id)
    ping.add_argument("--json", action="store_true")

    pub = sub.add_parser("publish", help="put an event on the local queue")
    pub.add_argument("type", nargs="?", metavar="TYPE")
    pub.add_argument("--resource", metavar="FILE|-", help="the resource JSON (- for stdin)")
    pub.add_argument("--batch", metavar="FILE|-",
                     help='JSON Lines, each {"type": TYPE, "resource": {...}}, one transaction')

    worker = sub.add_parser("worker", help="run the delivery engine without a window")
    worker.add_argument("--until-idle", action="store_true",
                        help="exit once nothing is queued or due now")

    dl = sub.add_parser("deliveries", help="the delivery history, newest first")
    dl.add_argument("--hook", type=_hook_id, metavar="ID")
    dl.add_argument("--status", choices=("pending", "succeeded", "failed"))
    dl.add_argument("--limit", type=int, default=50)
    dl.add_argument("--json", action="store_true")

    ev = sub.add_parser("events", help="the event catalog")
    ev.add_argument("--json", action="store_true", help="shaped like GET /hook_events")
    return p


def _hook_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (a whole number)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (ids start at 1)")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command in (None, "gui"):
        from hookadmin.ui.app import main as gui_main

        return gui_main(home=args.home)
    try:
        return _dispatch(args)
    except InputError as err:
        print(f"hookadmin: {err}", file=sys.stderr)
        return 2
    except HookadminError as err:
        print(f"hookadmin: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "events":
        return _events(args)
    if args.command == "worker":
        return _worker(args)
    with HookService(args.home) as service:
        if args.command == "hooks":
            return _hooks(service, args)
        if args.command == "publish":
            return _publish(service, args)
        if args.command == "ping":
            return _ping(service, args)
        if args.command == "deliveries":
            return _deliveries(service, args)
    raise AssertionError(args.command)  # pragma: no cover - argparse limits commands


def _hooks(service: HookService, args: argparse.Namespace) -> int:
    action = args.hooks_command
    if action == "list":
        hooks = service.hooks()
        if args.json:
            _print_json([h.to_json() for h in hooks])
        elif not hooks:
            print("No hooks yet. Create one with: hookadmin hooks add --url URL --event job")
        else:
            _print_hook_table(hooks)
        return 0
    if action == "add":
        hook = service.create_hook(url=args.url, events=args.event or ["job", "cluster"],
                                   name=args.name, active=not args.inactive)
        _print_hook(hook, as_json=args.json)
        return 0
    if action == "show":
        _print_hook(service.hook(args.id), as_json=args.json)
        return 0
    if action == "edit":
        hook = service.edit_hook(args.id, url=args.url, events=args.event, name=args.name,
                                 active=args.active)
        _print_hook(hook, as_json=args.json)
        return 0
    if action == "delete":
        hook = service.hook(args.id)
        service.delete_hook(args.id)
        print(f"Deleted hook {hook.id} ({hook.display_name}) and its delivery history.")
        return 0
    if action == "secret":
        print(service.reveal_secret(args.id))
        return 0
    if action == "reset-secret":
        print(service.reset_secret(args.id))
        return 0
    raise AssertionError(action)  # pragma: no cover


def _print_hook_table(hooks: Sequence[Hook]) -> None:
    rows = [("ID", "ACTIVE", "NAME", "URL", "EVENTS")]
    rows += [(str(h.id), "yes" if h.active else "no", h.name or "-", h.url, ",".join(h.events))
             for h in hooks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])


def _print_hook(hook: Hook, *, as_json: bool) -> None:
    if as_json:
        _print_json(hook.to_json())
        return
    print(f"Hook {hook.id}: {hook.display_name}")
    print(f"  URL:      {hook.url}")
    print(f"  Events:   {', '.join(hook.events)}")
    print(f"  Active:   {'yes' if hook.active else 'no'}")
    if hook.deactivated_reason:
        print(f"  Why off:  {hook.deactivated_reason}")
    print(f"  Created:  {hook.created_at}    Updated: {hook.updated_at}")
    print(f"  Secret:   in the OS keyring; reveal it with `hookadmin hooks secret {hook.id}`")


def _read_input(spec: str, what: str) -> bytes:
    if spec == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(spec).read_bytes()
    except OSError as err:
        raise InputError(f"Cannot read the {what} file {spec!r} ({err.strerror}); check the "
                         "path.") from None


def _publish(service: HookService, args: argparse.Namespace) -> int:
    if args.batch is not None:
        if args.type is not None or args.resource is not None:
            raise InputError("Use either TYPE --resource FILE or --batch FILE, not both.")
        ids = service.publish_batch(_read_input(args.batch, "batch").splitlines())
        print(f"Queued {len(ids)} events.")
        return 0
    if args.type is None:
        raise InputError("Name the event type, e.g. `hookadmin publish job.failed --resource "
                         "job.json`, or give --batch FILE.")
    if args.resource is None:
        raise InputError("Give the resource JSON with --resource FILE (or --resource - to read "
                         "it from standard input).")
    event_type(args.type)
    print(service.publish(args.type, _read_input(args.resource, "resource")))
    return 0


def _worker(args: argparse.Namespace) -> int:
    from hookadmin.core.paths import data_home
    from hookadmin.delivery.engine import AttemptOutcome, Engine

    def report(o: AttemptOutcome) -> None:
        result = str(o.status_code) if o.status_code is not None else o.error_kind
        line = (f"{o.delivery_id} hook {o.hook_id} {o.event_type} attempt {o.attempt_number}: "
                f"{result} in {o.duration_ms or 0:.0f} ms -> {o.status}")
        if o.next_attempt_at is not None:
            line += f" (next attempt {iso(o.next_attempt_at)})"
        print(line, file=sys.stderr, flush=True)

    home = data_home(args.home)
    HookService(home).close()  # opens (and migrates) the database, or fails clearly
    engine = Engine(home, on_attempt=report)

    def on_signal(signum: int, _frame: object) -> None:
        engine.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    attempts = engine.run(until_idle=args.until_idle)
    print(f"hookadmin worker: {attempts} attempts made.", file=sys.stderr)
    return 0


def _ping(service: HookService, args: argparse.Namespace) -> int:
    from hookadmin.delivery.ping import ping

    result = ping(service, args.id)
    a = result.attempt
    if args.json:
        _print_json({
            "delivery_id": result.delivery_id, "status_code": a.status_code,
            "duration_ms": a.duration_ms, "error_kind": a.error_kind,
            "error": a.error_message, "response_headers": a.response_headers,
            "response_body": None if a.response_body is None
            else a.response_body.decode("utf-8", "replace"),
            "response_truncated": a.response_truncated,
            "request": {"url": a.request_url, "headers": a.request_headers,
                        "body": result.body.decode("utf-8")}})
        return 0 if a.succeeded else 1
    if a.status_code is not None:
        print(f"{a.status_code} in {a.duration_ms:.0f} ms ({'ok' if a.succeeded else 'failed'})")
        for k, v in a.response_headers or []:
            print(f"{k}: {v}")
        print()
        print(_pretty(a.response_body or b""))
        if a.response_truncated:
            print("[response body truncated]")
    if a.error_message:
        print(f"hookadmin: ping failed: {a.error_message}", file=sys.stderr)
    return 0 if a.succeeded else 1


def _pretty(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _deliveries(service: HookService, args: argparse.Namespace) -> int:
    if args.hook is not None:
        service.hook(args.hook)
    if args.limit < 1:
        raise InputError("--limit must be at least 1.")
    rows = service.store.list_deliveries(hook_id=args.hook, status=args.status, limit=args.limit)
    if args.json:
        _print_json([d.to_json() for d in rows])
        return 0
    if not rows:
        print("No deliveries yet.")
        return 0
    print(f"{'DELIVERY':36}  {'HOOK':>4}  {'EVENT':18}  {'STATUS':9}  {'TRIES':>5}  "
          f"{'CODE':>4}  {'MS':>6}  CREATED")
    for d in rows:
        print(f"{d.id:36}  {d.hook_id:>4}  {d.event_type:18}  {d.status:9}  {d.attempts:>5}  "
              f"{_code(d):>4}  {_ms(d):>6}  {iso(d.created_at)}")
    return 0


def _code(d: Delivery) -> str:
    if d.last_status_code is not None:
        return str(d.last_status_code)
    return d.last_error_kind or "-"


def _ms(d: Delivery) -> str:
    return "-" if d.last_duration_ms is None else f"{d.last_duration_ms:.0f}"


def _events(args: argparse.Namespace) -> int:
    if args.json:
        _print_json(catalog_json())
        return 0
    for g in GROUPS:
        print(f"{g.id:20} {g.label}")
        for e in EVENT_TYPES:
            if e.group == g.id:
                print(f"  {e.id:18} {e.label}: {e.description}")
    return 0


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
