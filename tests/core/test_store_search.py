"""Finding deliveries (by delivery id, event id, body text, event type or hook name;
by HTTP status class) and counting failed ones before redelivering them, on both store
backends."""

from __future__ import annotations

import time

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.store import Repository
from tests.core.test_store_health import attempt


def test_search_by_id_body_text_and_status_class(store: Repository) -> None:
    store.add_hook(name="", url="https://example.com/a", events=["job"], active=True)
    other = store.add_hook(name="", url="https://example.com/b", events=["job"],
                           active=True).id
    bodies = [b'{"job": "nightly-orders"}', b'{"job": "hourly-\xe6\x9d\xb1\xe4\xba\xac"}',
              b'{"job": "weekly"}']
    event_ids = store.add_events([("job.failed", body) for body in bodies])
    now = time.time()
    store.fan_out(now=now)
    jobs = store.claim_due(now=now, lease_seconds=30, limit=10)
    assert len(jobs) == 6
    codes = {0: 200, 1: 503, 2: 410}
    store.record_attempts([(j, attempt(codes[i // 2] if i < 5 else None, now), None)
                           for i, j in enumerate(sorted(jobs, key=lambda j: j.seq))])
    every = store.list_deliveries(limit=100)

    def ids(**kw: object) -> set[str]:
        return {d.id for d in store.list_deliveries(limit=100, **kw)}  # type: ignore[arg-type]

    one = every[0]
    assert ids(search=one.id) == {one.id}
    assert ids(search=f"  {one.id.upper()} ") == {one.id}
    assert {d.event_id for d in store.list_deliveries(search=event_ids[0])} == {event_ids[0]}
    assert len(ids(search=event_ids[0])) == 2  # the event went to both hooks
    assert len(ids(search="nightly-orders")) == 2
    assert len(ids(search="東京")) == 2  # UTF-8 text in the body
    assert len(ids(search="nightly", hook_id=other)) == 1
    assert ids(search="NIGHTLY") == set()  # case-sensitive, as bytes
    assert ids(search="no such text") == set()
    assert len(ids(status_class="2xx")) == 2
    assert len(ids(status_class="5xx")) == 2
    assert len(ids(status_class="4xx")) == 1
    assert len(ids(status_class="none")) == 1
    assert ids(status_class="3xx") == set()
    assert len(ids(search="weekly", status_class="4xx")) == 1
    page = store.list_deliveries(limit=2, search="job")
    rest = store.list_deliveries(limit=10, search="job", before_seq=page[-1].seq)
    assert [d.seq for d in page + rest] == [d.seq for d in every]
    with pytest.raises(InputError, match="Unknown status class '6xx'"):
        store.list_deliveries(status_class="6xx")


def test_count_failed_says_what_redeliver_failed_queues(store: Repository) -> None:
    hook = store.add_hook(name="", url="https://example.com/a", events=["job"],
                          active=True).id
    other = store.add_hook(name="", url="https://example.com/b", events=["job"],
                           active=True).id
    store.add_events([("job.failed", b"{}"), ("job.failed", b"{}")])
    now = time.time()
    store.fan_out(now=now)
    jobs = store.claim_due(now=now, lease_seconds=30, limit=10)
    store.record_attempts([(j, attempt(500, now), None) for j in jobs])
    since = now - 60
    assert store.count_failed(since=since) == 4
    assert store.count_failed(hook_id=hook, since=since) == 2
    assert store.count_failed(since=time.time() + 60) == 0
    assert store.redeliver_failed(hook, since) == 2
    assert store.count_failed(since=since) == 2
    assert store.count_failed(hook_id=other, since=since) == 2


def test_search_matches_event_type_and_hook_name(store: Repository) -> None:
    nightly = store.add_hook(name="Orders nightly", url="https://example.com/a",
                             events=["job"], active=True).id
    store.add_hook(name="", url="https://example.com/b", events=["job"], active=True)
    store.add_events([("job.failed", b"{}"), ("job.completed", b"{}")])
    store.fan_out(now=time.time())

    def found(text: str) -> set[tuple[int, str]]:
        return {(d.hook_id, d.event_type) for d in store.list_deliveries(search=text)}

    assert len(found("job.failed")) == 2
    assert {t for _, t in found("failed")} == {"job.failed"}
    assert {t for _, t in found("JOB.COMPLETED")} == {"job.completed"}  # any case
    assert {h for h, _ in found("nightly")} == {nightly}
    assert {h for h, _ in found("orders NIGHTLY")} == {nightly}
    assert found("job.started") == set()
