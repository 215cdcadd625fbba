"""``hookadmin metrics [--json]`` (the figures once, from the database) and the
``--metrics-port``/``--metrics-address`` options of ``hookadmin worker``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hookadmin.cli.common import print_json
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands

    # the worker imports the server only when asked for
    from hookadmin.delivery.metrics import MetricsServer


def add_parser(sub: Subcommands) -> None:
    """Add ``metrics`` to ``sub`` (the top parser's subparsers)."""
    met = sub.add_parser("metrics", help="the Prometheus figures once, from the database "
                                         "(queue counts, and attempts of the last hour)")
    met.add_argument("--since", default="1h", metavar="TIME",
                     help="count attempts since this time: ISO-8601 or a duration like 1h, "
                          "3d (default 1h)")
    met.add_argument("--json", action="store_true")


def add_worker_options(worker: argparse.ArgumentParser) -> None:
    """Add ``--metrics-port`` and ``--metrics-address`` to the worker's parser."""
    worker.add_argument("--metrics-port", type=_port, metavar="N",
                        help="serve Prometheus metrics on http://ADDRESS:N/metrics")
    worker.add_argument("--metrics-address", default="127.0.0.1", metavar="ADDRESS",
                        help="the address the metrics listen on (default 127.0.0.1, this "
                             "machine only; 0.0.0.0 for every interface)")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port; give a number from "
                                         "1 to 65535 (0: any free port)")
    return int(text)


def start_for_worker(location: StoreLocation, args: argparse.Namespace,
                     engine_up: Callable[[], bool]) -> MetricsServer | None:
    """Start the worker's metrics server when ``--metrics-port`` was given (only the
    first engine of ``--processes N`` serves).

    Raises:
        MetricsError: the port cannot be listened on (exit status 1).
    """
    if args.metrics_port is None or args.share_of is not None:
        return None
    from hookadmin.delivery.metrics import MetricsServer

    server = MetricsServer(location, args.metrics_port, address=args.metrics_address,
                           engine_up=engine_up)
    print(f"hookadmin worker: metrics on http://{_host(server.address)}:{server.port}"
          "/metrics", file=sys.stderr, flush=True)
    return server


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def run(service: HookService, args: argparse.Namespace) -> int:
    """``hookadmin metrics``: the Prometheus text format, or JSON; returns 0.

    Raises:
        InputError: a bad --since (exit status 2).
    """
    from prometheus_client import CollectorRegistry, generate_latest

    from hookadmin.cli.deliveries import parse_since
    from hookadmin.delivery.metrics import snapshot

    collector = snapshot(service.store, since=parse_since(args.since))
    if args.json:
        print_json(collector.to_json())
        return 0

    class _Once:
        def collect(self) -> Any:
            return collector.families()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Once())
    sys.stdout.write(generate_latest(registry).decode("utf-8"))
    return 0
