"""The ``hookadmin`` command line (DESIGN.md §6).

Exit status: 0 on success, 2 for bad usage or bad input (one line on stderr), 1 for
any other failure (keyring unavailable, receiver error on ping, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from hookadmin import __version__
from hookadmin.core.dbfaults import store_error
from hookadmin.core.errors import HookadminError, InputError
from hookadmin.core.events import EVENT_TYPES, GROUPS, catalog_json, event_type
from hookadmin.core.hooks import Hook
from hookadmin.core.service import DELIVERY_DEFAULTS, HookService
from hookadmin.core.store import Delivery, iso

if TYPE_CHECKING:
    from hookadmin.delivery.engine import Engine

_T = TypeVar("_T")


MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_PROCESSES = 64
MAX_SIMULATED = 100_000  # clusters or jobs per `simulate` run; its events stay in memory


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
    add.add_argument("--ca-bundle", metavar="FILE",
                     help="PEM file of extra CA certificates to trust for this hook")
    add.add_argument("--insecure-ssl", action="store_true",
                     help="skip TLS certificate verification (not recommended)")
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
    edit.add_argument("--ca-bundle", metavar="FILE",
                      help="PEM file of extra CA certificates ('' removes it)")
    tls = edit.add_mutually_exclusive_group()
    tls.add_argument("--insecure-ssl", dest="insecure_ssl", action="store_true", default=None,
                     help="skip TLS certificate verification (not recommended)")
    tls.add_argument("--verify-ssl", dest="insecure_ssl", action="store_false",
                     help="verify TLS certificates again")
    edit.add_argument("--json", action="store_true")
    delete = hsub.add_parser("delete", help="delete a hook, its history and its secret")
    delete.add_argument("id", type=_hook_id)
    secret = hsub.add_parser("secret", help="print the hook's secret (explicit reveal)")
    secret.add_argument("id", type=_hook_id)
    reset = hsub.add_parser("reset-secret", help="replace the secret and print the new one")
    reset.add_argument("id", type=_hook_id)
    reset.add_argument("--secret-file", metavar="F|-",
                       help="use this secret (64 hex characters; surrounding whitespace is "
                            "ignored) instead of a new random one")
    export = hsub.add_parser("export", help="hooks as JSON (DESIGN.md §4), secrets only if asked")
    export.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    export.add_argument("--secrets", metavar="FILE",
                        help="also write the secrets to FILE (created with mode 0600)")
    imp = hsub.add_parser("import", help="create hooks from an export")
    imp.add_argument("file", metavar="FILE|-")
    imp.add_argument("--secrets", metavar="FILE",
                     help="take the secrets from FILE (else new secrets are made)")

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
    worker.add_argument("--processes", type=_processes, default=1, metavar="N",
                        help="engines to run side by side, each in its own process (default "
                             "1); they share the queue through leases, so more of them use "
                             "more CPU cores")
    # One of N engines started by `worker --processes N` (set on the others it starts).
    worker.add_argument("--share-of", type=_processes, default=None, help=argparse.SUPPRESS)

    dl = sub.add_parser("deliveries", help="the delivery history, newest first")
    dl.add_argument("--hook", type=_hook_id, metavar="ID")
    dl.add_argument("--status", choices=("pending", "succeeded", "failed"))
    dl.add_argument("--limit", type=int, default=50)
    dl.add_argument("--json", action="store_true")

    red = sub.add_parser("redeliver", help="send a delivery again (new attempts, same id)")
    red.add_argument("delivery", nargs="?", metavar="DELIVERY_ID")
    red.add_argument("--hook", type=_hook_id, metavar="ID",
                     help="with --failed-since: every failed delivery of this hook")
    red.add_argument("--failed-since", metavar="TIME",
                     help="ISO-8601 time (2026-11-29T10:00:00Z) or a duration like 2h, 3d")

    st = sub.add_parser("settings", help="show or change settings")
    st.add_argument("--retention-days", type=int, metavar="N",
                    help="days of finished delivery history to keep (default 30)")
    st.add_argument("--network-policy", choices=("workstation", "strict"),
                    help="strict refuses loopback and private addresses too")
    st.add_argument("--retry-schedule", metavar="SECONDS,...",
                    help="delays before each attempt, e.g. 0,5,300,1800,7200,18000,36000,36000")
    st.add_argument("--connect-timeout", type=float, metavar="SECONDS")
    st.add_argument("--attempt-timeout", type=float, metavar="SECONDS")
    st.add_argument("--response-cap", type=int, metavar="BYTES",
                    help="response body bytes kept per attempt")

    ver = sub.add_parser("verify", help="receiver-side check of a delivery's signature")
    ver.add_argument("body", nargs="?", default="-", metavar="BODY_FILE|-")
    ver.add_argument("--secret-file", required=True, metavar="F",
                     help="file holding the hook's secret (or its whsec_ form)")
    ver.add_argument("--signature", metavar="HEX", help="the X-Hook-Signature value")
    ver.add_argument("--webhook-id", metavar="ID", help="Standard Webhooks: webhook-id")
    ver.add_argument("--webhook-timestamp", metavar="SECONDS",
                     help="Standard Webhooks: webhook-timestamp")
    ver.add_argument("--webhook-signature", metavar="SIG",
                     help="Standard Webhooks: webhook-signature (5-minute tolerance)")

    ev = sub.add_parser("events", help="the event catalog")
    ev.add_argument("--json", action="store_true", help="shaped like GET /hook_events")

    sim = sub.add_parser("simulate", help="publish realistic job and cluster lifecycles")
    sim.add_argument("--clusters", type=_count, default=2, metavar="N",
                     help="clusters to simulate (default 2)")
    sim.add_argument("--jobs", type=_count, default=10, metavar="N",
                     help="jobs to simulate (default 10)")
    sim.add_argument("--rate", type=_rate, metavar="EVENTS_PER_S",
                     help="publish this many events per second (default: all at once)")
    sim.add_argument("--seed", type=int, metavar="N",
                     help="the same seed gives the same events")
    sim.add_argument("--print", "--dry-run", dest="print_only", action="store_true",
                     help='print JSON Lines {"type", "resource"} instead of publishing '
                          "(input for `hookadmin publish --batch -`)")
    return p


def _hook_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (a whole number)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (ids start at 1)")
    if value > MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (too large)")
    return value


def _processes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes; give a whole number from 1 to "
            f"{MAX_PROCESSES}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (a whole number, 0 or more)")
    if value > MAX_SIMULATED:
        raise argparse.ArgumentTypeError(
            f"{text!r} is too many; simulate at most {MAX_SIMULATED:,} at a time")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate (events per second, more "
                                         "than 0)")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command in (None, "gui"):
        if sys.platform.startswith("linux") and not any(
                os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
            print("hookadmin: there is no display to open the window on (DISPLAY and "
                  "WAYLAND_DISPLAY are unset); use the command line, e.g. `hookadmin hooks "
                  "list`, or run it in a desktop session.", file=sys.stderr)
            return 1
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
    except sqlite3.Error as err:  # a full disk, a database locked too long: one sentence
        unsaved = "nothing was queued" if args.command in ("publish", "simulate") \
            else "nothing was saved"
        print(f"hookadmin: {store_error(err, unsaved=unsaved)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "events":
        return _events(args)
    if args.command == "verify":
        return _verify(args)
    if args.command == "worker":
        return _worker(args)
    if args.command == "simulate":
        return _simulate(args)
    with HookService(args.home) as service:
        if args.command == "hooks":
            return _hooks(service, args)
        if args.command == "publish":
            return _publish(service, args)
        if args.command == "ping":
            return _ping(service, args)
        if args.command == "deliveries":
            return _deliveries(service, args)
        if args.command == "redeliver":
            return _redeliver(service, args)
        if args.command == "settings":
            return _settings(service, args)
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
                                   name=args.name, active=not args.inactive,
                                   insecure_ssl=args.insecure_ssl, ca_bundle=args.ca_bundle)
        _print_hook(hook, as_json=args.json)
        return 0
    if action == "show":
        _print_hook(service.hook(args.id), as_json=args.json)
        return 0
    if action == "edit":
        hook = service.edit_hook(args.id, url=args.url, events=args.event, name=args.name,
                                 active=args.active, insecure_ssl=args.insecure_ssl,
                                 ca_bundle=args.ca_bundle)
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
        given = None
        if args.secret_file is not None:
            given = _read_input(args.secret_file, "secret").decode("utf-8", "replace")
        print(service.reset_secret(args.id, given))
        return 0
    if action == "export":
        return _export(service, args)
    if action == "import":
        return _import(service, args)
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
    if hook.insecure_ssl:
        print("  TLS:      certificates are NOT verified (insecure_ssl)")
    elif hook.ca_bundle:
        print(f"  TLS:      also trusts the CAs in {hook.ca_bundle}")
    if hook.url.startswith("http://"):
        print("  Warning:  plain http: deliveries travel unencrypted")
    if hook.previous_secret_expires_at and hook.previous_secret_expires_at > time.time():
        print(f"  Rotation: the replaced secret also signs webhook-signature until "
              f"{iso(hook.previous_secret_expires_at)}")
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


ORPHAN_STOP_SECONDS = 10.0
"""How long one of ``worker --processes N``'s other engines may take to stop after the
first has gone."""


def _worker(args: argparse.Namespace) -> int:
    from hookadmin.core.paths import data_home
    from hookadmin.delivery.engine import AttemptOutcome, Engine
    from hookadmin.delivery.policy import DeliverySettings, engine_share

    def report(o: AttemptOutcome) -> None:
        result = str(o.status_code) if o.status_code is not None else o.error_kind
        line = (f"{o.delivery_id} hook {o.hook_id} {o.event_type} attempt {o.attempt_number}: "
                f"{result} in {o.duration_ms or 0:.0f} ms -> {o.status}")
        if o.next_attempt_at is not None:
            line += f" (next attempt {iso(o.next_attempt_at)})"
        print(line, file=sys.stderr, flush=True)

    home = data_home(args.home)
    HookService(home).close()  # opens (and migrates) the database, or fails clearly
    engine = Engine(home, settings=engine_share(DeliverySettings(),
                                                args.share_of or args.processes),
                    on_attempt=report)
    # The other engines: the same command, one process each (-P: never a hookadmin
    # folder in the working directory instead of this one).
    command = [sys.executable, "-P", "-m", "hookadmin", "--home", str(home), "worker",
               "--share-of", str(args.processes),
               *(["--until-idle"] if args.until_idle else [])]
    # Each tells its number of attempts on its standard output when it ends. Their
    # standard input is a pipe this process never writes to: its end (this process
    # ended, even by kill -9) stops them, so no engine outlives the first.
    others = [subprocess.Popen(command, stdin=subprocess.PIPE,  # noqa: S603 - our own
                               stdout=subprocess.PIPE, text=True)
              for _ in range(args.processes - 1)]

    def stop_others() -> None:
        for other in others:
            if other.poll() is None:
                other.send_signal(signal.SIGTERM)

    def on_signal(signum: int, _frame: object) -> None:
        engine.stop()
        stop_others()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if args.share_of is not None:
        _stop_with_first_engine(engine)
    try:
        attempts = engine.run(until_idle=args.until_idle)
    except BaseException:
        stop_others()  # this engine failed (one sentence follows): the others stop too
        for other in others:
            _wait_for_engine(other)
        raise
    if args.share_of is not None:  # one of the others: the first engine sums up
        try:
            print(attempts, flush=True)
        except BrokenPipeError:  # the first engine has gone: nobody to tell
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    counts = [attempts] + [_wait_for_engine(other) for other in others]
    total = sum(counts)
    split = f" by {len(counts)} engines ({', '.join(map(str, counts))})" if others else ""
    print(f"hookadmin worker: {total} attempt{'' if total == 1 else 's'} made{split}.",
          file=sys.stderr)
    for number, other in enumerate(others, start=2):
        if other.returncode < 0 and other.returncode != -signal.SIGTERM:
            print(f"hookadmin worker: engine {number} of {len(counts)} was killed (signal "
                  f"{-other.returncode}); the deliveries it held go out again once their "
                  "leases expire.", file=sys.stderr)
    # An engine ended by the SIGTERM passed on above (before it could catch it) stopped
    # as asked, too.
    ok = all(other.returncode in (0, -signal.SIGTERM) for other in others)
    return 0 if ok else 1


def _wait_for_engine(other: subprocess.Popen[str]) -> int:
    """Wait for one of ``worker --processes N``'s other engines to end (its standard
    input stays open meanwhile, see :func:`_stop_with_first_engine`); returns the
    attempts it reported (0 if it reported none)."""
    assert other.stdout is not None
    assert other.stdin is not None
    out = other.stdout.read()
    other.wait()
    other.stdout.close()
    other.stdin.close()
    return int(out) if out.strip().isdigit() else 0


def _stop_with_first_engine(engine: Engine) -> None:
    """In one of ``worker --processes N``'s other engines: stop cleanly when standard
    input ends, which is when the first engine's process has ended, however it ended.
    A stop that takes longer than :data:`ORPHAN_STOP_SECONDS` ends the process (the
    leases it held then expire by themselves)."""
    fd = sys.stdin.fileno()

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered read would
        # stop the interpreter from shutting down when the engine ends normally.
        with contextlib.suppress(OSError):
            while os.read(fd, 4096):
                pass
        engine.stop()
        if not threading.Event().wait(ORPHAN_STOP_SECONDS):
            os._exit(1)

    threading.Thread(target=watch, name="hookadmin-first-engine", daemon=True).start()


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
    if not 1 <= args.limit <= 100_000:
        raise InputError("--limit must be from 1 to 100000.")
    rows = service.store.list_deliveries(hook_id=args.hook, status=args.status, limit=args.limit)
    if args.json:
        _print_json([d.to_json() for d in rows])
        return 0
    if not rows:
        filtered = args.status is not None or args.hook is not None
        print("No deliveries match." if filtered else "No deliveries yet.")
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


def _export(service: HookService, args: argparse.Namespace) -> int:
    from hookadmin.core.transfer import export_hooks, export_secrets, write_private_file

    hooks = export_hooks(service)
    text = json.dumps(hooks, indent=2, ensure_ascii=False) + "\n"
    if args.secrets is not None:
        if args.secrets == "-" or args.secrets == args.file:
            raise InputError("Give --secrets its own file; secrets are never written with "
                             "the hooks or to standard output.")
        write_private_file(Path(args.secrets), json.dumps(export_secrets(service), indent=2)
                           + "\n")
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

    hooks = parse_export(_read_input(args.file, "hooks"))
    secrets = None if args.secrets is None else parse_secrets(_read_input(args.secrets,
                                                                          "secrets"))
    created, skipped = import_hooks(service, hooks, secrets)
    ids = ", ".join(str(h.id) for h in created) or "none"
    line = f"Imported {len(created)} hooks (ids: {ids})"
    if skipped:
        line += f"; skipped {skipped} that already exist"
    if created and secrets is None:
        line += "; each has a new secret: reveal them with `hookadmin hooks secret ID`"
    print(line + ".")
    return 0


def _redeliver(service: HookService, args: argparse.Namespace) -> int:
    if args.delivery is not None:
        if args.hook is not None or args.failed_since is not None:
            raise InputError("Give either a DELIVERY_ID or --hook ID --failed-since TIME.")
        d = service.store.redeliver(args.delivery)
        print(f"Delivery {d.id} to hook {d.hook_id} is queued again.")
        return 0
    if args.hook is None or args.failed_since is None:
        raise InputError("Give a DELIVERY_ID, or --hook ID with --failed-since TIME to "
                         "redeliver every failed delivery of a hook.")
    count = service.store.redeliver_failed(args.hook, parse_since(args.failed_since))
    print(f"Queued {count} failed deliveries of hook {args.hook} again.")
    return 0


def parse_since(text: str, *, now: float | None = None) -> float:
    """``2h``, ``30m``, ``3d``, ``45s`` (ago) or an ISO-8601 time → Unix seconds.

    Raises:
        InputError: neither form.
    """
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(text) > 1 and text[-1] in units and text[:-1].isdigit():
        return (time.time() if now is None else now) - int(text[:-1]) * units[text[-1]]
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{text!r} is not a time; use ISO-8601 like 2026-11-29T10:00:00Z "
                         "or a duration like 2h or 3d.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _settings(service: HookService, args: argparse.Namespace) -> int:
    if args.retention_days is not None:
        service.set_retention_days(args.retention_days)
    if args.network_policy is not None:
        service.set_network_policy(args.network_policy)
    schedule = None
    if args.retry_schedule is not None:
        try:
            schedule = [float(part) for part in args.retry_schedule.split(",")]
        except ValueError:
            raise InputError("--retry-schedule takes seconds separated by commas, e.g. "
                             "0,5,300,1800.") from None
    service.set_delivery_options(retry_schedule=schedule,
                                 connect_timeout=args.connect_timeout,
                                 attempt_timeout=args.attempt_timeout,
                                 response_cap=args.response_cap)
    options = {**DELIVERY_DEFAULTS, **service.delivery_options()}
    print(f"retention-days: {service.retention_days()}")
    print(f"network-policy: {service.network_policy()}")
    print("retry-schedule: " + ",".join(f"{d:g}" for d in options["retry_schedule"]))
    print(f"connect-timeout: {options['connect_timeout']:g}")
    print(f"attempt-timeout: {options['attempt_timeout']:g}")
    print(f"response-cap: {options['response_cap']}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from hookadmin.core.signing import check_secret, verify_signature, verify_standard

    raw = _read_input(args.secret_file, "secret").decode("utf-8", "replace").strip()
    secret = raw if raw.startswith("whsec_") else check_secret(raw)
    standard = (args.webhook_id, args.webhook_timestamp, args.webhook_signature)
    if args.signature is None and not all(standard):
        raise InputError("Give --signature HEX, or --webhook-id, --webhook-timestamp and "
                         "--webhook-signature together.")
    if any(standard) and not all(standard):
        raise InputError("Give --webhook-id, --webhook-timestamp and --webhook-signature "
                         "together.")
    if args.webhook_timestamp is not None and not args.webhook_timestamp.strip().isdigit():
        raise InputError("--webhook-timestamp must be Unix seconds, e.g. 1795962144.")
    body = _read_input(args.body, "body")
    checks = []
    if args.signature is not None:
        if secret.startswith("whsec_"):
            raise InputError("--signature needs the hex secret, not the whsec_ form.")
        checks.append(("X-Hook-Signature", verify_signature(body, secret, args.signature)))
    if all(standard):
        checks.append(("webhook-signature", verify_standard(
            body, secret, args.webhook_id, args.webhook_timestamp, args.webhook_signature)))
    for name, ok in checks:
        print(f"{name}: {'valid' if ok else 'INVALID'}")
    return 0 if all(ok for _, ok in checks) else 1


SIMULATE_BATCH = 500
"""Events per publish_many transaction when ``hookadmin simulate`` runs without --rate."""


def _simulate(args: argparse.Namespace) -> int:
    from hookadmin.core.simulate import simulate

    events = simulate(args.clusters, args.jobs, args.seed)  # raises on bad counts at once
    if args.rate is not None:
        events = _paced(events, args.rate)
    counts = {"cluster": 0, "job": 0}

    def summary(verb: str) -> str:
        return (f"{verb} {sum(counts.values())} events: {counts['cluster']} cluster, "
                f"{counts['job']} job.")

    try:
        if args.print_only:
            out = sys.stdout.buffer
            for type_id, resource in events:
                line = json.dumps({"type": type_id, "resource": resource},
                                  ensure_ascii=False)
                out.write(line.encode("utf-8") + b"\n")
                if args.rate is not None:
                    out.flush()
                counts[type_id.split(".", 1)[0]] += 1
            out.flush()
            print(summary("Printed"), file=sys.stderr)
            return 0
        with HookService(args.home) as service:
            if args.rate is not None:
                for type_id, resource in events:  # one transaction each: visible at once
                    service.publish(type_id, resource)
                    counts[type_id.split(".", 1)[0]] += 1
            else:
                batch: list[tuple[str, dict[str, Any]]] = []
                for item in events:
                    batch.append(item)
                    if len(batch) == SIMULATE_BATCH:
                        service.publish_many(batch)
                        _count_events(counts, batch)
                        batch = []
                if batch:
                    service.publish_many(batch)
                    _count_events(counts, batch)
    except KeyboardInterrupt:
        print(summary("Interrupted after publishing" if not args.print_only
                      else "Interrupted after printing"), file=sys.stderr)
        return 130
    print(summary("Published"))
    return 0


def _count_events(counts: dict[str, int], batch: Sequence[tuple[str, object]]) -> None:
    for type_id, _ in batch:
        counts[type_id.split(".", 1)[0]] += 1


def _paced(events: Iterator[_T], rate: float) -> Iterator[_T]:
    """Yield ``events`` at ``rate`` per second (on a time.monotonic schedule, so a slow
    consumer catches up instead of drifting)."""
    started = time.monotonic()
    for number, item in enumerate(events):
        delay = started + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield item


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
