"""Hook types, options and filters in both stores (SQLite and PostgreSQL): what is
saved comes back, and a filter decides at fan-out which events become deliveries."""

from __future__ import annotations

import json

from hookadmin.core.hook_types import HookOptions, RateLimit
from hookadmin.core.store import Repository
from tests.helpers import FIXTURES_DIR

FAILED = json.loads((FIXTURES_DIR / "job-failed-unicode.json").read_bytes())
OPTIONS = HookOptions(basic_auth_user="alice", headers=(("X-Team", "ops"),),
                      secret_headers=("X-Api-Key",), filter="status == 'failed'",
                      rate_limit=RateLimit(10, 60.0))


def _job(status: str, package_id: int = 12) -> tuple[str, bytes]:
    return ("job.failed" if status == "failed" else "job.completed",
            json.dumps({**FAILED, "status": status, "package_id": package_id}).encode())


def test_type_and_options_come_back_as_saved(store: Repository) -> None:
    hook = store.add_hook(name="pd", url="https://events.example.com/v2/enqueue",
                          events=["job.failed"], active=True, type="pagerduty",
                          options=OPTIONS)
    again = store.get_hook(hook.id)
    assert again.type == "pagerduty"
    assert again.options == OPTIONS
    assert again.filtered_out == 0
    plain = store.add_hook(name="", url="https://example.com/h", events=["job"], active=True)
    assert plain.type == "web"
    assert plain.options.empty
    changed = store.update_hook(hook.id, options=HookOptions(to=("ops@example.com",)))
    assert changed.options == HookOptions(to=("ops@example.com",))
    assert [h.type for h in store.list_hooks()] == ["pagerduty", "web"]


def test_a_filter_decides_at_fan_out_and_counts_what_it_left_out(store: Repository) -> None:
    only_failed = store.add_hook(
        name="", url="https://example.com/a", events=["job"], active=True,
        options=HookOptions(filter="status == 'failed' && contains(`[12, 15]`, package_id)"))
    everything = store.add_hook(name="", url="https://example.com/b", events=["job"],
                                active=True)
    store.add_events([_job("failed"), _job("completed"), _job("failed", package_id=99),
                      _job("failed", package_id=15)])
    assert store.fan_out() == 4
    assert len(store.list_deliveries(hook_id=everything.id)) == 4
    kept = store.list_deliveries(hook_id=only_failed.id)
    assert len(kept) == 2
    assert {d.event_type for d in kept} == {"job.failed"}
    assert store.get_hook(only_failed.id).filtered_out == 2
    assert store.get_hook(everything.id).filtered_out == 0
    # A test event aimed at the hook is sent whatever its filter says.
    store.add_events([_job("completed")], target_hook_id=only_failed.id)
    store.fan_out()
    assert len(store.list_deliveries(hook_id=only_failed.id)) == 3
