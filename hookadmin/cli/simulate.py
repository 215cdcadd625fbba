"""``hookadmin simulate``: publish realistic job and cluster lifecycles (see
:mod:`hookadmin.core.simulate`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hookadmin.core.paths import check_data_home
from hookadmin.core.service import HookService
from hookadmin.core.store import resolve_location

if TYPE_CHECKING:
    from hookadmin.cli.common import Subcommands

_T = TypeVar("_T")

MAX_SIMULATED = 100_000  # clusters or jobs per `simulate` run; its events stay in memory


def add_parser(sub: Subcommands) -> None:
    """Add ``simulate`` to ``sub`` (the top parser's subcommands)."""
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


SIMULATE_BATCH = 500
"""Events per publish_many transaction when ``hookadmin simulate`` runs without --rate."""


def run(args: argparse.Namespace) -> int:
    """Publish (or, with ``args.print_only``, print as JSON Lines) the events of
    ``args.clusters`` clusters' and ``args.jobs`` jobs' lifecycles, all at once or at
    ``args.rate`` events per second; prints how many.

    Returns:
        0, or 130 when interrupted (what was published stays published).

    Raises:
        InputError: bad counts (nothing published).
        StoreError: the store cannot be used.
    """
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
        location = resolve_location(args.home, args.database)
        check_data_home(location.home)  # a team database's too
        with HookService(location) as service:
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
