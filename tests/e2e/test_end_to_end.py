"""End to end, the way an administrator and the platform use hookadmin.

Hooks are created and their secrets read through the CLI; every fixture body in
tests/fixtures is published through the CLI; ``hookadmin worker --until-idle``
delivers them to a receiver running in its own process on 127.0.0.1, which
recomputes each HMAC over the raw bytes it received. Every expected delivery must
arrive exactly once, byte-identical, correctly signed and labelled, and
``hookadmin deliveries --json`` must show them all succeeded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from hookadmin.core.events import EVENT_TYPE_IDS, subscribes_to
from tests.helpers import run_cli
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e  # the whole program, in separate processes

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"

# label → (receiver path, --event values)
HOOKS = {
    "jobs": ("/hooks/jobs", ["job"]),
    "clusters": ("/hooks/clusters", ["cluster"]),
    "failures": ("/hooks/failures", ["job.failed", "cluster.error"]),
}


def _event_type(fixture: Path) -> str:
    """``job-failed-unicode.json`` → ``job.failed``."""
    group, kind = fixture.stem.split("-")[:2]
    type_id = f"{group}.{kind}"
    assert type_id in EVENT_TYPE_IDS, f"cannot tell the event type of {fixture.name}"
    return type_id


def _cli_ok(*args: str, home: Path) -> str:
    result = run_cli(*args, home=home)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


@pytest.mark.slow
def test_every_fixture_reaches_every_subscribed_hook_once(home: Path,
                                                          receiver: Receiver) -> None:
    fixtures = sorted(FIXTURES.glob("*.json"))
    assert len(fixtures) >= 4, f"fixtures missing in {FIXTURES.resolve()}"
    assert "job-failed-unicode.json" in {f.name for f in fixtures}
    bodies = {f.name: f.read_bytes() for f in fixtures}
    assert len(set(bodies.values())) == len(bodies)  # tell deliveries apart by body

    # 1. Hooks through the CLI, secrets through the explicit reveal.
    hook_ids: dict[str, int] = {}
    events_of: dict[str, list[str]] = {}
    for label, (path, events) in HOOKS.items():
        args = ["hooks", "add", "--url", receiver.url_for(path), "--name", label, "--json"]
        for event in events:
            args += ["--event", event]
        hook = json.loads(_cli_ok(*args, home=home))
        hook_ids[label] = hook["id"]
        events_of[label] = hook["events"]
        secret = _cli_ok("hooks", "secret", str(hook["id"]), home=home).strip()
        assert re.fullmatch(r"[0-9a-f]{64}", secret)
        receiver.set_secrets({label: secret})
    label_of_id = {v: k for k, v in hook_ids.items()}

    # 2. Every fixture published through the CLI.
    event_ids = {}
    for fixture in fixtures:
        out = _cli_ok("publish", _event_type(fixture), "--resource", str(fixture), home=home)
        event_ids[fixture.name] = out.strip()
    assert len(set(event_ids.values())) == len(fixtures)

    # 3. The headless worker delivers everything and exits.
    worker = run_cli("worker", "--until-idle", home=home, timeout=90)
    assert worker.returncode == 0, worker.stderr
    assert "Traceback" not in worker.stderr

    # 4. What the receiver got.
    expected = Counter(
        (label, fixture.name)
        for fixture in fixtures for label in HOOKS
        if subscribes_to(events_of[label], _event_type(fixture)))
    assert len(expected) == 6  # 2 job + 2 cluster + job.failed + cluster.error
    requests = receiver.requests()
    by_body = {body: name for name, body in bodies.items()}
    path_to_label = {path: label for label, (path, _) in HOOKS.items()}
    got: Counter[tuple[str, str]] = Counter()
    for req in requests:
        label = path_to_label[req.path]
        name = by_body.get(req.body)
        assert name is not None, f"a body that is no fixture arrived at {req.path}"
        got[label, name] += 1
        assert req.method == "POST"
        assert req.body == (FIXTURES / name).read_bytes()  # byte-identical
        assert req.verified_by == (label,), f"{name} to {label}: bad X-Hook-Signature"
        assert req.standard_verified_by == (label,)
        assert req.header("X-Hook-Event") == _event_type(FIXTURES / name)
        assert req.header("Content-Type") == "application/json"
        assert req.header("webhook-id") == req.header("X-Hook-Delivery")
    assert got == expected  # each expected delivery exactly once, nothing else
    delivery_ids = [req.header("X-Hook-Delivery") for req in requests]
    assert len(set(delivery_ids)) == len(requests)

    # 5. The delivery history agrees.
    history = json.loads(_cli_ok("deliveries", "--json", home=home))
    assert len(history) == len(requests)
    assert {d["id"] for d in history} == set(delivery_ids)
    for d in history:
        assert (d["status"], d["attempts"], d["status_code"], d["error_kind"]) \
            == ("succeeded", 1, 200, None), d
        name = next(n for n, e in event_ids.items() if e == d["event_id"])
        assert d["event"] == _event_type(FIXTURES / name)
        assert (label_of_id[d["hook_id"]], name) in expected
    assert json.loads(_cli_ok("deliveries", "--status", "pending", "--json", home=home)) == []
    assert json.loads(_cli_ok("deliveries", "--status", "failed", "--json", home=home)) == []
