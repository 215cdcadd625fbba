"""Hook types and endpoint options through the real engine, against receiver processes
on 127.0.0.1 that stand in for Slack's and PagerDuty's endpoints: the exact documented
shapes, the masked delivery log, pings of every type, rate limits."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

from hookadmin.core.hook_types import (
    BASIC_AUTH_PASSWORD,
    HEADER_PREFIX,
    ROUTING_KEY,
    HookOptions,
    RateLimit,
)
from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from hookadmin.delivery.ping import ping
from tests import receiver as rx
from tests.helpers import FAST, FIXTURES_DIR

Make = Callable[..., rx.Receiver]
SLACK_TOKEN = "T0001/B0002/XyZslackTOKENvalue"
ROUTING = "R0UTINGkey0123456789abcdef012345"
FAILED = (FIXTURES_DIR / "job-failed-unicode.json").read_bytes()
COMPLETED = (FIXTURES_DIR / "job-completed.json").read_bytes()


def _database_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.iterdir() if p.is_file())


def test_slack_hook_posts_a_message_with_a_link_and_a_colour(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.ok())
    url = receiver.url_for(f"/services/{SLACK_TOKEN}")
    hook = service.create_hook(url=url, events=["job"], type="slack")
    assert SLACK_TOKEN not in hook.url
    assert hook.url.endswith("/services/***")
    service.publish("job.failed", FAILED)
    assert Engine(home, settings=FAST).run(until_idle=True) == 1

    (req,) = receiver.requests()
    assert req.path == f"/services/{SLACK_TOKEN}"
    assert req.header("Content-Type") == "application/json"
    message = json.loads(req.body)
    assert set(message) == {"text", "blocks", "attachments"}
    assert message["text"] == "Job 48219 failed on cluster 772 after 3 m 35 s"
    section = message["blocks"][0]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"] == ("<https://etl.example.com/acme/jobs/48219|"
                                       "Job 48219 failed on cluster 772 after 3 m 35 s>")
    assert message["attachments"][0]["color"] == "#e01e5a"

    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    (attempt,) = service.store.list_attempts(delivery.seq)
    assert delivery.status == "succeeded"
    assert SLACK_TOKEN not in attempt.request_url
    assert SLACK_TOKEN.encode() not in _database_bytes(home)
    assert SLACK_TOKEN not in json.dumps(hook.to_json())


def test_pagerduty_hook_triggers_then_resolves_the_same_incident(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.status(202))
    hook = service.create_hook(url=receiver.url_for("/v2/enqueue"), events=["job.failed",
                                                                            "job.completed"],
                               type="pagerduty", option_secrets={ROUTING_KEY: ROUTING})
    service.publish("job.failed", FAILED)
    assert Engine(home, settings=FAST).run(until_idle=True) == 1
    resolved = json.loads(COMPLETED)
    resolved["id"] = 48219
    service.publish("job.completed", json.dumps(resolved))
    assert Engine(home, settings=FAST).run(until_idle=True) == 1

    trigger, resolve = (json.loads(r.body) for r in receiver.requests())
    assert trigger["routing_key"] == ROUTING
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == "job/48219"
    payload = trigger["payload"]
    assert payload["summary"] == "Job 48219 failed on cluster 772 after 3 m 35 s"
    assert payload["source"] == "cluster 772"
    assert payload["severity"] == "error"
    assert payload["timestamp"] == "2026-11-29T07:03:40Z"
    assert payload["custom_details"] == json.loads(FAILED)
    assert trigger["links"] == [{"href": "https://etl.example.com/acme/jobs/48219",
                                 "text": "Job 48219"}]
    assert resolve == {"routing_key": ROUTING, "event_action": "resolve",
                       "dedup_key": "job/48219"}
    assert all(d.status == "succeeded" for d in service.store.list_deliveries(hook_id=hook.id))
    assert ROUTING.encode() not in _database_bytes(home)


def test_basic_auth_and_custom_headers_are_sent_and_masked_in_the_log(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.ok())
    options = HookOptions(basic_auth_user="alice", headers=(("X-Team", "ops"),),
                          secret_headers=("X-Api-Key",))
    hook = service.create_hook(url=receiver.url, events=["job"], options=options,
                               option_secrets={BASIC_AUTH_PASSWORD: "pa55-word-x",
                                               HEADER_PREFIX + "X-Api-Key": "key-abc-123"})
    receiver.set_secrets({"hook": service.reveal_secret(hook.id)})
    service.publish("job.failed", FAILED)
    assert Engine(home, settings=FAST).run(until_idle=True) == 1

    (req,) = receiver.requests()
    assert req.header("Authorization") == "Basic " + base64.b64encode(
        b"alice:pa55-word-x").decode()
    assert req.header("X-Team") == "ops"
    assert req.header("X-Api-Key") == "key-abc-123"
    assert req.verified_by == ("hook",)  # still signed like any web hook
    assert req.body == FAILED
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    (attempt,) = service.store.list_attempts(delivery.seq)
    assert attempt.request_headers["Authorization"] == "Basic ***"
    assert attempt.request_headers["X-Api-Key"] == "***"
    assert attempt.request_headers["X-Team"] == "ops"
    stored = _database_bytes(home)
    assert b"pa55-word-x" not in stored
    assert b"key-abc-123" not in stored
    assert hook.to_json()["settings"]["basic_auth"] is True


def test_rate_limit_spaces_requests_and_drops_none(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver(rx.ok())
    service.create_hook(url=receiver.url, events=["job"],
                        options=HookOptions(rate_limit=RateLimit(4, 1.0)))
    service.publish_many([("job.failed", FAILED)] * 5)
    assert Engine(home, settings=FAST).run(until_idle=True) == 5
    assert len(receiver.requests()) == 5  # none dropped
    # When the engine began each request (its attempts' records). 4 per second: the
    # k-th goes out no sooner than k quarter-seconds after the first (the first takes
    # the free slot at once). Each later one may be late on a loaded machine (its
    # timer fires late), so the gap between two neighbours has no lower bound; one
    # request let past the limit, or two in one slot, makes a later one early.
    times = sorted(attempt.started_at for delivery in service.store.list_deliveries()
                   for attempt in service.store.list_attempts(delivery.seq))
    assert len(times) == 5
    for k, at in enumerate(times):
        assert at - times[0] >= k * 0.25 - 0.05, (k, [t - times[0] for t in times])


def test_ping_works_for_slack_and_pagerduty_without_leaking_secrets(
        service: HookService, make_receiver: Make) -> None:
    receiver = make_receiver(rx.status(202))
    slack = service.create_hook(url=receiver.url_for(f"/services/{SLACK_TOKEN}"),
                                events=["job"], type="slack")
    pager = service.create_hook(url=receiver.url_for("/v2/enqueue"), events=["job.failed"],
                                type="pagerduty", option_secrets={ROUTING_KEY: ROUTING})
    slack_result = ping(service, slack.id, FAST)
    pager_result = ping(service, pager.id, FAST)
    first, second = receiver.requests()
    assert json.loads(first.body)["text"].startswith("Ping from hookadmin")
    assert json.loads(second.body) == {"routing_key": ROUTING, "event_action": "resolve",
                                       "dedup_key": f"hookadmin-ping/{pager.id}"}
    assert slack_result.attempt.succeeded
    assert pager_result.attempt.succeeded
    assert SLACK_TOKEN not in slack_result.attempt.request_url
    assert ROUTING.encode() not in pager_result.body
