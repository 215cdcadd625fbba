"""Prometheus metrics: ``hookadmin worker --metrics-port`` scraped over real HTTP while
it delivers to a real receiver, parsed with prometheus-client's own parser;
``hookadmin metrics``; a taken port; and the same figures from PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hookadmin.core.service import HookService
from hookadmin.core.store import AttemptRecord
from hookadmin.core.store.postgres import PostgresStore
from hookadmin.delivery.metrics import DeliveryCollector, result_of, snapshot
from tests.helpers import resource, run_cli, wait_until
from tests.receiver import Receiver, status

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode("utf-8")
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture
def worker(home: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                 "worker", "--metrics-port", "0", *extra],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the first line names the URL
        found = re.search(r"metrics on (http://\S+/metrics)", line)
        assert found, line
        return proc, found.group(1)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()


def test_a_scrape_counts_attempts_latency_and_the_queue(
        service: HookService, make_receiver: Callable[..., Receiver],
        worker: Callable[..., tuple[subprocess.Popen[str], str]]) -> None:
    good = make_receiver()
    bad = make_receiver(status(500))
    ok_hook = service.create_hook(url=good.url, events=["job.failed"])
    bad_hook = service.create_hook(url=bad.url, events=["job.failed"])
    service.set_delivery_options(retry_schedule=[0.0, 3600.0])
    proc, url = worker()
    assert url.startswith("http://127.0.0.1:")
    before = _scrape(url)
    assert before[("hookadmin_engine_up", ())] == 1
    assert before[("hookadmin_store_up", ())] == 1
    for n in range(5):
        service.publish("job.failed", resource("job.failed", id=n))
    good.wait_for_requests(5)
    bad.wait_for_requests(5)

    def scraped() -> Samples | None:
        got = _scrape(url)
        done = got.get(("hookadmin_attempts_total", (("hook", str(bad_hook.id)),
                                                      ("result", "http_5xx"))))
        return got if done == 5 else None

    wait_until(scraped, "the scrape to count ten attempts")
    got = scraped()
    assert got is not None
    assert got[("hookadmin_attempts_total", (("hook", str(ok_hook.id)),
                                             ("result", "success")))] == 5
    assert got[("hookadmin_attempt_duration_seconds_count", ())] == 10
    assert got[("hookadmin_delivery_latency_seconds_count", ())] == 5
    assert 0 < got[("hookadmin_delivery_latency_seconds_sum", ())] < 60
    assert got[("hookadmin_delivery_latency_seconds_bucket", (("le", "+Inf"),))] == 5
    assert got[("hookadmin_deliveries", (("state", "retrying"),))] == 5
    assert got[("hookadmin_deliveries", (("state", "pending"),))] == 0
    assert got[("hookadmin_outbox_depth", ())] == 0
    assert got[("hookadmin_oldest_pending_age_seconds", ())] > 0
    assert got[("hookadmin_hooks", (("state", "active"),))] == 2
    labels = {dict(k[1]).get("hook") for k in got if k[0] == "hookadmin_attempts_total"}
    assert labels == {str(ok_hook.id), str(bad_hook.id)}  # ids, never URLs

    once = json.loads(run_cli("metrics", "--json", home=service.home).stdout)
    assert {(a["hook"], a["result"], a["count"]) for a in once["attempts"]} == {
        (ok_hook.id, "success", 5), (bad_hook.id, "http_5xx", 5)}
    assert once["deliveries"] == {"pending": 0, "retrying": 5, "failed": 0}
    text = run_cli("metrics", home=service.home).stdout
    parsed = {s.name: s.value for f in text_string_to_metric_families(text)
              for s in f.samples if not s.labels}
    assert parsed["hookadmin_delivery_latency_seconds_count"] == 5
    assert "hookadmin_engine_up" not in parsed  # the CLI runs no engine
    proc.terminate()
    assert proc.wait(timeout=10) == 0


def test_a_taken_port_is_one_sentence_and_exit_status_1(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("worker", "--until-idle", "--metrics-port", str(port), home=home)
    assert result.returncode == 1
    assert result.stderr.startswith(f"hookadmin: Cannot serve metrics on 127.0.0.1:{port} (")
    assert result.stderr.count("\n") == 1
    bad = run_cli("worker", "--metrics-port", "70000", home=home)
    assert bad.returncode == 2
    assert "not a TCP port" in bad.stderr


def test_results_are_a_bounded_set() -> None:
    from hookadmin.core.store.metrics_records import AttemptSample

    def result(code: int | None, kind: str | None) -> str:
        return result_of(AttemptSample(1, 1, code, kind, 0.1, None))

    assert result(204, None) == "success"
    assert result(404, "http_status") == "http_4xx"
    assert result(None, "timeout") == "timeout"
    assert result(None, "something new") == "other"


def test_postgres_gives_the_same_figures(postgres_url: str) -> None:
    with PostgresStore.init(postgres_url) as store:
        hook = store.add_hook(name="", url="https://example.com/h", events=["job"],
                              active=True)
        store.add_hook(name="", url="https://example.com/off", events=["job"], active=False)
        collector = DeliveryCollector(store, engine_up=lambda: True)
        store.add_events([("job.failed", b"{}"), ("job.failed", b"{}"), ("job.failed", b"{}")])
        store.fan_out()
        jobs = store.claim_due(now=time.time(), lease_seconds=30, limit=10)
        assert len(jobs) == 3

        def attempt(code: int | None, kind: str | None) -> AttemptRecord:
            return AttemptRecord(time.time(), 20.0, "https://example.com/h", {}, code, None,
                                 None, False, kind, None)

        store.record_attempts([(jobs[0], attempt(200, None), None),
                               (jobs[1], attempt(None, "timeout"), time.time() + 60),
                               (jobs[2], attempt(503, "http_status"), None)])
        families = {f.name: f for f in collector.collect()}
        counts = {tuple(s.labels.values()): s.value for s in families["hookadmin_attempts"].samples
                  if s.name == "hookadmin_attempts_total"}
        assert counts == {(str(hook.id), "success"): 1, (str(hook.id), "timeout"): 1,
                          (str(hook.id), "http_5xx"): 1}
        states = {s.labels["state"]: s.value for s in families["hookadmin_deliveries"].samples}
        assert states == {"pending": 0, "retrying": 1, "failed": 1}
        hooks = {s.labels["state"]: s.value for s in families["hookadmin_hooks"].samples}
        assert hooks == {"active": 1, "inactive": 1}
        once = snapshot(store, since=time.time() - 3600).to_json()
        assert once["delivery_latency_seconds"]["count"] == 1
        assert once["attempt_duration_seconds"]["sum"] == pytest.approx(0.06)


def test_the_dashboard_and_alert_rules_name_metrics_that_exist(
        service_in_memory: HookService) -> None:
    collector = DeliveryCollector(service_in_memory.store, engine_up=lambda: True)
    families = list(collector.collect())
    served = {s.name for family in families for s in family.samples}
    served |= {f.name + "_total" for f in families if f.type == "counter"}
    docs = Path(__file__).resolve().parents[2] / "docs" / "monitoring"
    dashboard = (docs / "grafana-dashboard.json").read_text()
    json.loads(dashboard)
    named = set(re.findall(r"hookadmin_[a-z_]+", dashboard
                           + (docs / "prometheus-alerts.yml").read_text()))
    assert named
    assert named <= served, named - served
