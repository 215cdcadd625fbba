"""Main's hook types, option secrets and audit log in team mode: `team import-local`
and `hooks export/import` carry types, options and option secrets into the team
database (sealed with the team key), the engine on the team database sends them, and
`team export-key`/`import-key` are audited there, with the database role."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from hookadmin.core.hook_types import BASIC_AUTH_PASSWORD, SLACK, HookOptions, RateLimit
from hookadmin.core.service import HookService
from hookadmin.core.store import DATABASE_ENV, StoreLocation
from tests.helpers import FAST, body, run_cli, run_until_idle
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e

Make = Callable[..., Receiver]
PASSWORD = "pw-Quokka-42"
API_KEY = "key-Wombat-77"
SLACK_TOKEN = "T000/B000/Numbat99"


def _workstation_hooks(home: Path, receiver: Receiver) -> None:
    """A web hook with basic auth, a secret header and a rate limit, and a Slack hook,
    in the workstation's SQLite store with their option secrets in its keyring."""
    with HookService(StoreLocation(home)) as workstation:
        workstation.create_hook(
            url=receiver.url, events=["job"], name="web",
            options=HookOptions(basic_auth_user="etl", secret_headers=("X-Api-Key",),
                                rate_limit=RateLimit(30, 60.0)),
            option_secrets={BASIC_AUTH_PASSWORD: PASSWORD, "header:X-Api-Key": API_KEY})
        workstation.create_hook(url=f"https://hooks.slack.example/services/{SLACK_TOKEN}",
                                events=["job"], name="chat", type=SLACK)


def _sealed(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as db:
        return repr(db.execute("SELECT * FROM hook_secrets").fetchall())


def _check_team_hooks(team: StoreLocation, receiver: Receiver) -> None:
    """The team database has both hooks with their types, options and option secrets,
    and an engine on it sends the web hook's credentials."""
    assert team.url is not None
    with HookService(team) as service:
        web, chat = service.hooks()
        assert (web.type, chat.type) == ("web", SLACK)
        assert web.options.basic_auth_user == "etl"
        assert web.options.rate_limit == RateLimit(30, 60.0)
        assert json.loads(service.secrets.get_optional(web.id, options=True) or "{}") == {
            BASIC_AUTH_PASSWORD: PASSWORD, "header:X-Api-Key": API_KEY}
        assert SLACK_TOKEN in (service.secrets.get_optional(chat.id, options=True) or "")
        service.edit_hook(chat.id, active=False)  # no Slack server here
        service.publish("job.completed", body("job.completed", 9))
    sealed = _sealed(team.url)
    for plain in (PASSWORD, API_KEY, SLACK_TOKEN):
        assert plain not in sealed
    run_until_idle(team, FAST)  # type: ignore[arg-type]
    (request,) = receiver.wait_for_requests(1)
    assert request.header("Authorization") == "Basic " + base64.b64encode(
        f"etl:{PASSWORD}".encode()).decode()
    assert request.header("X-Api-Key") == API_KEY


def test_import_local_carries_types_options_and_option_secrets(
        team: StoreLocation, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    _workstation_hooks(home, receiver)
    assert team.url is not None
    copied = run_cli("--database", team.url, "team", "import-local", home=home)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.startswith("Copied 2 hooks (0 copied before), 4 secrets")
    _check_team_hooks(team, receiver)
    with HookService(team) as service:
        entries = [e for e in service.store.list_audit() if e.action == "hook.imported"]
    assert len(entries) == 2
    assert {e.role for e in entries} == {psycopg.conninfo.conninfo_to_dict(team.url)["user"]}
    assert all(PASSWORD not in json.dumps(e.to_json()) for e in entries)


def test_hooks_export_and_import_carry_option_secrets_into_a_team_database(
        team: StoreLocation, home: Path, tmp_path: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    _workstation_hooks(home, receiver)
    assert team.url is not None
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    exported = run_cli("hooks", "export", str(hooks_file), "--secrets", str(secrets_file),
                       home=home, env={DATABASE_ENV: None})
    assert exported.returncode == 0, exported.stderr
    imported = run_cli("--database", team.url, "hooks", "import", str(hooks_file),
                       "--secrets", str(secrets_file), home=home)
    assert imported.returncode == 0, imported.stderr
    _check_team_hooks(team, receiver)


def test_team_key_export_and_import_are_audited_in_the_team_database(
        team: StoreLocation, home: Path, tmp_path: Path) -> None:
    assert team.url is not None
    key_file = tmp_path / "team.key"
    exported = run_cli("--database", team.url, "team", "export-key", str(key_file),
                       home=home)
    assert exported.returncode == 0, exported.stderr
    imported = run_cli("--database", team.url, "team", "import-key", str(key_file),
                       home=home)
    assert imported.returncode == 0, imported.stderr
    with HookService(team) as service:
        database_id = service.store.store_id
        entries = [e for e in service.store.list_audit() if e.action.startswith("team_key.")]
    assert [e.action for e in entries] == ["team_key.exported", "team_key.imported"]
    for entry in entries:
        assert entry.details["database_id"] == database_id
        assert entry.details["file"] == str(key_file)
        assert entry.role == psycopg.conninfo.conninfo_to_dict(team.url)["user"]
        assert key_file.read_text() not in json.dumps(entry.to_json())
    assert entries[1].details["changed"] is False  # this machine had the key already
    listed = run_cli("--database", team.url, "audit", home=home)
    assert "team_key.exported" in listed.stdout


def test_metrics_read_the_team_database(team: StoreLocation, home: Path,
                                        make_receiver: Make) -> None:
    receiver = make_receiver()
    assert team.url is not None
    with HookService(team) as service:
        service.create_hook(url=receiver.url, events=["job"])
        service.publish("job.completed", body("job.completed", 1))
    run_until_idle(team, FAST)  # type: ignore[arg-type]
    shown = run_cli("metrics", home=home, env={DATABASE_ENV: team.url})
    assert shown.returncode == 0, shown.stderr
    assert 'hookadmin_attempts_total{hook="1",result="success"} 1.0' in shown.stdout
    local = run_cli("metrics", home=home, env={DATABASE_ENV: None})
    assert 'result="success"' not in local.stdout  # the workstation's store is empty
