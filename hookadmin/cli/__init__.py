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
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hookadmin import __version__
from hookadmin.cli import audit, deliveries, hooks, metrics, verify
from hookadmin.cli.common import MAX_ID
from hookadmin.cli.common import Parser as _Parser
from hookadmin.cli.common import hook_id as _hook_id
from hookadmin.cli.common import pretty as _pretty
from hookadmin.cli.common import print_json as _print_json
from hookadmin.cli.common import read_input as _read_input
from hookadmin.cli.deliveries import parse_since
from hookadmin.cli.team import add_team_parser, run_team
from hookadmin.core.errors import HookadminError, InputError, StoreError, StoreFault
from hookadmin.core.events import EVENT_TYPES, GROUPS, catalog_json, event_type
from hookadmin.core.service import DELIVERY_DEFAULTS, HookService
from hookadmin.core.store import StoreLocation, iso, resolve_location

if TYPE_CHECKING:
    from hookadmin.delivery.engine import Engine

__all__ = ["MAX_ID", "build_parser", "main", "parse_since"]

_T = TypeVar("_T")


MAX_PROCESSES = 64
MAX_SIMULATED = 100_000  # clusters or jobs per `simulate` run; its events stay in memory


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    p = _Parser(prog="hookadmin", description="Manage and deliver the ETL platform's "
                "service hooks (outgoing webhooks). Without a command, opens the window.")
    p.add_argument("--version", action="version", version=f"hookadmin {__version__}")
    p.add_argument("--home", metavar="DIR",
                   help="data directory (default: $HOOKADMIN_HOME or the user data folder)")
    p.add_argument("--database", metavar="URL",
                   help="a team's PostgreSQL database, postgresql://USER@HOST:PORT/DBNAME "
                        "(default: $HOOKADMIN_DATABASE, else SQLite in the data directory)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("gui", help="open the admin window")
    hooks.add_parser(sub)

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
    worker.add_argument("--event-loop", choices=("asyncio", "uvloop"), default=None,
                        help="the engine's event loop (default: $HOOKADMIN_EVENT_LOOP, else "
                             "asyncio); uvloop needs pip install 'hookadmin[uvloop]'")
    # One of N engines started by `worker --processes N` (set on the others it starts).
    worker.add_argument("--share-of", type=_processes, default=None, help=argparse.SUPPRESS)
    metrics.add_worker_options(worker)
    metrics.add_parser(sub)

    deliveries.add_parsers(sub)

    st = sub.add_parser("settings", help="show or change settings")
    st.add_argument("--retention-days", type=int, metavar="N",
                    help="days of finished delivery history to keep (default 30)")
    st.add_argument("--audit-retention-days", type=int, metavar="N",
                    help="days of audit log to keep (default 0: keep every entry)")
    st.add_argument("--failing-alert-minutes", type=float, metavar="N",
                    help="minutes a hook fails with no success before hook.failing is sent "
                         "(default 15)")
    st.add_argument("--network-policy", choices=("workstation", "strict"),
                    help="strict refuses loopback and private addresses too")
    st.add_argument("--retry-schedule", metavar="SECONDS,...",
                    help="delays before each attempt, e.g. 0,5,300,1800,7200,18000,36000,36000")
    st.add_argument("--connect-timeout", type=float, metavar="SECONDS")
    st.add_argument("--attempt-timeout", type=float, metavar="SECONDS")
    st.add_argument("--response-cap", type=int, metavar="BYTES",
                    help="response body bytes kept per attempt")
    st.add_argument("--proxy", metavar="URL",
                    help="the proxy of every HTTP hook without its own: "
                         "http://user:password@proxy.example:3128 (the password goes to the "
                         "keyring); '' for none")
    st.add_argument("--proxy-ca-bundle", metavar="F",
                    help="a PEM file of CA certificates the global or environment's proxy "
                         "is trusted with (an https:// proxy with a private CA); '' for none")
    st.add_argument("--proxy-from-env", choices=("on", "off"),
                    help="honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY for hooks without a proxy "
                         "(default off)")

    verify.add_parser(sub)
    audit.add_parser(sub)

    ev = sub.add_parser("events", help="the event catalog")
    ev.add_argument("--json", action="store_true", help="shaped like GET /hook_events")
    ev.add_argument("--types", action="store_true",
                    help="list the hook types instead (with --json: like GET hooks/types)")

    add_team_parser(sub)

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

        return gui_main(home=args.home, database=args.database, argv=())
    try:
        return _dispatch(args)
    except InputError as err:
        print(f"hookadmin: {err}", file=sys.stderr)
        return 2
    except StoreError as err:  # a full disk, a lock held too long, a server down: one line
        print(f"hookadmin: {_store_sentence(err, args.command)}", file=sys.stderr)
        return 1
    except HookadminError as err:
        print(f"hookadmin: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _store_sentence(err: StoreError, command: str) -> str:
    """The one sentence for a database that failed ``command``: a fault of the machine
    under it (a full disk, a lock another process held too long; see
    :class:`~hookadmin.core.errors.StoreFault`) names what the command left undone; any
    other :class:`StoreError` (a PostgreSQL server that cannot be reached, a newer
    database) says what it says."""
    if isinstance(err, StoreFault) and command in ("publish", "simulate"):
        return str(err.saying("nothing was queued"))
    return str(err)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "events":
        return _events(args)
    if args.command == "verify":
        return verify.run(args)
    if args.command == "simulate":
        return _simulate(args)
    location = resolve_location(args.home, args.database)
    if args.command == "worker":
        return _worker(args, location)
    if args.command == "team":
        return run_team(args, location)
    with HookService(location) as service:
        _remove_orphaned_secrets(service)
        if args.command == "hooks":
            return hooks.run(service, args)
        if args.command == "publish":
            return _publish(service, args)
        if args.command == "ping":
            return _ping(service, args)
        if args.command == "deliveries":
            return deliveries.run_deliveries(service, args)
        if args.command == "redeliver":
            return deliveries.run_redeliver(service, args)
        if args.command == "settings":
            return _settings(service, args)
        if args.command == "audit":
            return audit.run(service, args)
        if args.command == "metrics":
            return metrics.run(service, args)
    raise AssertionError(args.command)  # pragma: no cover - argparse limits commands


def _remove_orphaned_secrets(service: HookService) -> None:
    """Remove the keyring entries of hooks deleted while the keyring was unavailable,
    and say so; when it still is, they wait for a later run (silently: the command
    itself says what is wrong with the keyring if it needs it)."""
    waiting = len(service.orphaned_secrets())
    if not waiting:
        return
    try:
        service.remove_orphaned_secrets()
    except HookadminError:
        return
    print(f"hookadmin: removed from the OS keyring the secrets of deleted hooks that it "
          f"could not remove when they were deleted ({waiting} entries).", file=sys.stderr)


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


def _worker(args: argparse.Namespace, location: StoreLocation) -> int:
    from hookadmin.delivery.engine import AttemptOutcome, Engine
    from hookadmin.delivery.event_loop import EventLoop
    from hookadmin.delivery.policy import DeliverySettings, engine_share

    keyring_down = False

    def on_keyring(problem: str | None) -> None:
        nonlocal keyring_down
        keyring_down = problem is not None
        if problem is None:
            print("hookadmin worker: the OS keyring can be used again; waiting deliveries "
                  "go out now.", file=sys.stderr, flush=True)
        else:
            print(f"hookadmin worker: deliveries wait, and are never sent unsigned, until "
                  f"the OS keyring can be used: {problem}", file=sys.stderr, flush=True)

    def report(o: AttemptOutcome) -> None:
        if keyring_down and o.error_kind == "secret_unavailable":
            return  # said once by on_keyring
        result = str(o.status_code) if o.status_code is not None else o.error_kind
        line = (f"{o.delivery_id} hook {o.hook_id} {o.event_type} attempt {o.attempt_number}: "
                f"{result} in {o.duration_ms or 0:.0f} ms -> {o.status}")
        if o.next_attempt_at is not None:
            line += f" (next attempt {iso(o.next_attempt_at)})"
        print(line, file=sys.stderr, flush=True)

    with HookService(location) as service:  # opens (and migrates) the database, or fails
        _remove_orphaned_secrets(service)
    running = [True]
    server = metrics.start_for_worker(location, args, lambda: running[0])
    engine = Engine(location, settings=engine_share(DeliverySettings(),
                                                args.share_of or args.processes),
                    on_attempt=report, on_keyring=on_keyring,
                    event_loop=EventLoop.parse(args.event_loop) if args.event_loop else None)
    # The other engines: the same command, one process each (-P: never a hookadmin
    # folder in the working directory instead of this one). A team database's URL goes
    # in their environment, never on a command line (it may hold a password).
    command = [sys.executable, "-P", "-m", "hookadmin", "--home", str(location.home),
               "worker",
               "--share-of", str(args.processes),
               *(["--event-loop", args.event_loop] if args.event_loop else []),
               *(["--until-idle"] if args.until_idle else [])]
    # Each tells its number of attempts on its standard output when it ends. Their
    # standard input is a pipe this process never writes to: its end (this process
    # ended, even by kill -9) stops them, so no engine outlives the first.
    others = [subprocess.Popen(command, stdin=subprocess.PIPE,  # noqa: S603 - our own
                               stdout=subprocess.PIPE, text=True, env=location.environ())
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
    finally:
        running[0] = False
        if server is not None:
            server.close()
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


def _settings(service: HookService, args: argparse.Namespace) -> int:
    if args.retention_days is not None:
        service.set_retention_days(args.retention_days)
    if args.failing_alert_minutes is not None:
        service.set_failing_alert_after(args.failing_alert_minutes * 60)
    if args.audit_retention_days is not None:
        service.set_audit_retention_days(args.audit_retention_days or None)
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
    if args.proxy is not None or args.proxy_from_env is not None \
            or args.proxy_ca_bundle is not None:
        service.set_proxy(url=args.proxy, from_environment=None if args.proxy_from_env is None
                          else args.proxy_from_env == "on", ca_bundle=args.proxy_ca_bundle)
    options = {**DELIVERY_DEFAULTS, **service.delivery_options()}
    proxy = service.proxy_setting()
    print(f"retention-days: {service.retention_days()}")
    print(f"audit-retention-days: {service.audit_retention_days() or 0}")
    print(f"failing-alert-minutes: {service.failing_alert_after() / 60:g}")
    print(f"network-policy: {service.network_policy()}")
    print("retry-schedule: " + ",".join(f"{d:g}" for d in options["retry_schedule"]))
    print(f"connect-timeout: {options['connect_timeout']:g}")
    print(f"attempt-timeout: {options['attempt_timeout']:g}")
    print(f"response-cap: {options['response_cap']}")
    print(f"proxy: {proxy.url or 'none'}")
    print(f"proxy-from-env: {'on' if proxy.from_environment else 'off'}")
    print(f"proxy-ca-bundle: {proxy.ca_bundle or 'none'}")
    return 0


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
        with HookService(resolve_location(args.home, args.database)) as service:
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
    from hookadmin.core.hook_types import HOOK_TYPES, types_json

    if args.types:
        if args.json:
            _print_json(types_json())
        else:
            for t in HOOK_TYPES:
                print(f"{t.name:10} {t.title}: {t.description}")
        return 0
    if args.json:
        _print_json(catalog_json())
        return 0
    for g in GROUPS:
        print(f"{g.id:20} {g.label}")
        for e in EVENT_TYPES:
            if e.group == g.id:
                print(f"  {e.id:18} {e.label}: {e.description}")
    print("Hook types (hooks add --type): "
          + ", ".join(t.name for t in HOOK_TYPES) + "; `hookadmin events --types` describes them.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
