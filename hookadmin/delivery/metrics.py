"""Prometheus metrics: ``/metrics`` for ``hookadmin worker --metrics-port`` and the
window, and the same figures once for ``hookadmin metrics``.

Everything is read from the store when Prometheus scrapes (a collector of the official
``prometheus-client``), never counted on the engine's path: a scrape reads the queue's
counts and the attempts recorded since the previous scrape, so the figures cover every
engine of the database, not only this process's. Labels stay bounded: the hook id (not
its URL) and a result from a fixed list (:func:`result_of`).

Metric names (``hookadmin_`` prefix): ``attempts_total{hook,result}`` (counter),
``attempt_duration_seconds`` and ``delivery_latency_seconds`` (publish to success;
histograms), ``deliveries{state}`` (pending, retrying, failed), ``outbox_depth``,
``oldest_pending_age_seconds``, ``hooks{state}`` (active, inactive) and ``engine_up``
(gauges).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from hookadmin.core.errors import HookadminError
from hookadmin.core.store import Repository, StoreLocation, open_store
from hookadmin.core.store.metrics_records import AttemptSample, DeliveryGauges

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the attempt duration histogram."""
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                   1800.0, 3600.0, 21600.0, 86400.0)
"""Upper bounds (seconds) of the publish-to-success latency histogram."""
ERROR_RESULTS = frozenset({"timeout", "dns", "connect", "tls", "redirect", "protocol",
                           "blocked", "secret_unavailable", "reset"})
PAGE = 10_000
MAX_PAGES = 50  # attempts read per scrape at most: PAGE * MAX_PAGES (the rest next time)


class MetricsError(HookadminError):
    """The metrics server cannot listen (the port is taken, or not allowed)."""


def result_of(sample: AttemptSample) -> str:
    """The ``result`` label of an attempt: ``success``, ``http_4xx``/``http_5xx``/...,
    one of :data:`ERROR_RESULTS`, or ``other``."""
    if sample.error_kind is None and sample.status_code is not None \
            and 200 <= sample.status_code <= 299:
        return "success"
    if sample.status_code is not None:
        return f"http_{sample.status_code // 100}xx"
    return sample.error_kind if sample.error_kind in ERROR_RESULTS else "other"


@dataclass
class _Histogram:
    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def family(self, name: str, doc: str) -> HistogramMetricFamily:
        cumulative, buckets = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=self.total)


class DeliveryCollector(Collector):
    """A ``prometheus-client`` collector reading one store at each scrape.

    Args:
        store: the store (used only under this collector's lock, from the scraping
            thread).
        engine_up: tells whether this process's engine runs (``engine_up`` gauge); None
            leaves the gauge out (``hookadmin metrics``).
        since: count attempts started at this time or later (Unix seconds); None counts
            those recorded after this collector was made (counters start at zero, as
            Prometheus expects of a new process).
    """

    def __init__(self, store: Repository, *, engine_up: Callable[[], bool] | None = None,
                 since: float | None = None) -> None:
        self.store = store
        self.engine_up = engine_up
        self._lock = threading.Lock()
        self._since = since
        self._after = 0 if since is not None else store.last_attempt_id()
        self.attempts: dict[tuple[int, str], int] = {}
        self.durations = _Histogram(DURATION_BUCKETS)
        self.latencies = _Histogram(LATENCY_BUCKETS)
        self.gauges: DeliveryGauges | None = None
        self.read_at = time.time()

    def refresh(self) -> None:
        """Read the queue's counts and the attempts recorded since the last read."""
        for _ in range(MAX_PAGES):
            page = self.store.attempt_samples(self._after, limit=PAGE, since=self._since)
            for sample in page:
                key = (sample.hook_id, result_of(sample))
                self.attempts[key] = self.attempts.get(key, 0) + 1
                if sample.duration is not None:
                    self.durations.observe(sample.duration)
                if sample.latency is not None:
                    self.latencies.observe(sample.latency)
            if page:
                self._after = page[-1].id
            if len(page) < PAGE:
                break
        self.gauges = self.store.delivery_gauges()
        self.read_at = time.time()

    def collect(self) -> Iterator[Metric]:
        """The metric families, read from the store now."""
        with self._lock:
            try:
                self.refresh()
            except HookadminError:
                self.gauges = None  # the database is unreachable: say so, serve the rest
            yield from self.families()

    def families(self) -> Iterator[Metric]:
        """The metric families as of the last :meth:`refresh`."""
        attempts = CounterMetricFamily("hookadmin_attempts", "HTTP attempts by hook and "
                                       "result.", labels=["hook", "result"])
        for (hook_id, result), count in sorted(self.attempts.items()):
            attempts.add_metric([str(hook_id), result], count)
        yield attempts
        yield self.durations.family("hookadmin_attempt_duration_seconds",
                                    "How long each HTTP attempt took.")
        yield self.latencies.family("hookadmin_delivery_latency_seconds",
                                    "From publishing an event to its delivery's success.")
        up = GaugeMetricFamily("hookadmin_store_up", "1 when the last read of the "
                               "database worked.")
        up.add_metric([], 0 if self.gauges is None else 1)
        yield up
        if self.engine_up is not None:
            yield GaugeMetricFamily("hookadmin_engine_up", "1 while this process's delivery "
                                    "engine runs.", value=1 if self.engine_up() else 0)
        g = self.gauges
        if g is None:
            return
        deliveries = GaugeMetricFamily("hookadmin_deliveries", "Deliveries by state: "
                                       "pending (not tried yet), retrying, failed (kept in "
                                       "the history).", labels=["state"])
        for state, value in (("pending", g.pending), ("retrying", g.retrying),
                             ("failed", g.failed)):
            deliveries.add_metric([state], value)
        yield deliveries
        yield GaugeMetricFamily("hookadmin_outbox_depth", "Events published and not yet "
                                "fanned out.", value=g.outbox)
        age = 0.0 if g.oldest_pending_at is None else max(0.0, self.read_at
                                                            - g.oldest_pending_at)
        yield GaugeMetricFamily("hookadmin_oldest_pending_age_seconds", "Age of the oldest "
                                "event or delivery still waiting (0 when none).", value=age)
        hooks = GaugeMetricFamily("hookadmin_hooks", "Hooks by state.", labels=["state"])
        hooks.add_metric(["active"], g.hooks_active)
        hooks.add_metric(["inactive"], g.hooks_inactive)
        yield hooks

    def to_json(self) -> dict[str, Any]:
        """The figures of the last :meth:`refresh` as one JSON object."""
        g = self.gauges
        return {
            "attempts": [{"hook": h, "result": r, "count": n}
                         for (h, r), n in sorted(self.attempts.items())],
            "attempt_duration_seconds": _histogram_json(self.durations),
            "delivery_latency_seconds": _histogram_json(self.latencies),
            "deliveries": None if g is None else {"pending": g.pending,
                                                  "retrying": g.retrying,
                                                  "failed": g.failed},
            "outbox_depth": None if g is None else g.outbox,
            "oldest_pending_age_seconds": None if g is None else (
                0.0 if g.oldest_pending_at is None
                else round(max(0.0, self.read_at - g.oldest_pending_at), 3)),
            "hooks": None if g is None else {"active": g.hooks_active,
                                             "inactive": g.hooks_inactive},
        }


def _histogram_json(h: _Histogram) -> dict[str, Any]:
    count = sum(h.counts)
    return {"count": count, "sum": round(h.total, 6),
            "buckets": {repr(b): c for b, c in zip(h.bounds, _cumulative(h.counts),
                                                   strict=False)}}


def _cumulative(counts: list[int]) -> list[int]:
    out, total = [], 0
    for c in counts:
        total += c
        out.append(total)
    return out


class MetricsServer:
    """``/metrics`` over HTTP in a daemon thread (``prometheus-client``'s server).

    Args:
        location: the data directory or database URL (a store of its own is opened).
        port: TCP port (0 picks a free one; :attr:`port` tells which).
        address: the address to bind (default 127.0.0.1: this machine only).
        engine_up: tells whether the engine runs.

    Raises:
        MetricsError: the port cannot be listened on.
        StoreError: the store cannot be opened.
    """

    def __init__(self, location: Path | str | StoreLocation, port: int, *,
                 address: str = "127.0.0.1",
                 engine_up: Callable[[], bool] | None = None) -> None:
        self.store = open_store(location)
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = DeliveryCollector(self.store, engine_up=engine_up)
        self.registry.register(self.collector)
        try:
            self._server, self._thread = start_http_server(port, addr=address,
                                                           registry=self.registry)
        except OSError as err:
            self.store.close()
            raise MetricsError(f"Cannot serve metrics on {address}:{port} "
                               f"({err.strerror or err}); choose another --metrics-port or "
                               "stop what uses it.") from None
        self.address = address
        self.port = int(self._server.server_address[1])

    def close(self) -> None:
        """Stop serving and close the store."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.store.close()


def snapshot(store: Repository, *, since: float) -> DeliveryCollector:
    """The figures once: the queue now and the attempts started since ``since`` (Unix
    seconds), for ``hookadmin metrics``."""
    collector = DeliveryCollector(store, since=since)
    collector.refresh()
    return collector
