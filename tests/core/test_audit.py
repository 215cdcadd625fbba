"""The audit log: every administrative action is recorded with who, when and from where;
the hash chain detects an entry edited or removed behind hookadmin's back, in SQLite
and in PostgreSQL; the store refuses changes; retention prunes without breaking it."""

from __future__ import annotations

import getpass
import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hookadmin.core import audit
from hookadmin.core.service import HookService
from hookadmin.core.store import DB_FILENAME
from hookadmin.core.store.audit_records import GENESIS
from hookadmin.core.store.postgres import PostgresStore
from tests.helpers import run_cli


def _actions(service: HookService) -> list[str]:
    return [e.action for e in service.store.list_audit()]


def test_actions_are_recorded_with_who_when_and_where(service_in_memory: HookService) -> None:
    svc = service_in_memory
    before = time.time()
    hook = svc.create_hook(url="https://example.com/a", events=["job"], name="A")
    svc.edit_hook(hook.id, name="B", url="https://example.com/b")
    svc.edit_hook(hook.id, active=False)
    svc.edit_hook(hook.id, active=True)
    svc.edit_hook(hook.id, name="B")  # no change: nothing recorded
    svc.reveal_secret(hook.id)
    svc.reset_secret(hook.id, overlap=3600)
    svc.expire_previous_secret(hook.id)
    svc.set_retention_days(7)
    svc.set_network_policy("strict")
    svc.delete_hook(hook.id)
    assert _actions(svc) == ["hook.created", "hook.edited", "hook.deactivated",
                             "hook.activated", "secret.revealed", "secret.reset",
                             "secret.previous_expired", "settings.changed",
                             "settings.changed", "hook.deleted"]
    entries = svc.store.list_audit()
    assert {(e.user, e.host, e.origin, e.role) for e in entries} == {
        (getpass.getuser(), socket.gethostname(), "cli", None)}
    assert all(before <= e.at <= time.time() for e in entries)
    assert entries[1].details["changes"] == {
        "name": ["A", "B"], "url": ["https://example.com/a", "https://example.com/b"]}
    assert entries[5].details == {"overlap_seconds": 3600, "given": False}
    assert entries[7].details == {"setting": "retention_days", "changes": [None, 7]}
    assert entries[-1].details["hook"]["name"] == "B"
    assert {e.hook_id for e in entries[:7]} == {hook.id}
    secret_text = svc.secrets.get_optional(hook.id)
    assert secret_text is None  # deleted with the hook; no entry ever held a secret
    assert audit.verify(svc.store).ok
    assert svc.store.list_audit(hook_id=hook.id + 1) == []
    assert [e.seq for e in svc.store.list_audit(since=entries[-1].at)][-1] == entries[-1].seq


def test_the_store_refuses_to_change_or_delete_entries(service_in_memory: HookService) -> None:
    svc = service_in_memory
    svc.create_hook(url="https://example.com/a", events=["job"])
    db = sqlite3.connect(svc.home / DB_FILENAME)
    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        db.execute("UPDATE audit_log SET os_user = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="cannot be deleted"):
        db.execute("DELETE FROM audit_log")
    db.close()


def _tampered_sqlite(home: Path, sql: str) -> None:
    """What someone with write access to the file can do: drop the guards, then edit."""
    db = sqlite3.connect(home / DB_FILENAME)
    db.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + sql)
    db.close()


@pytest.mark.parametrize(("sql", "seq", "says"), [
    ("UPDATE audit_log SET os_user = 'mallory' WHERE seq = 2", 2, "was changed"),
    ("UPDATE audit_log SET details = '{}' WHERE seq = 1", 1, "was changed"),
    ("DELETE FROM audit_log WHERE seq = 2", 2, "is missing"),
    ("DELETE FROM audit_log WHERE seq = 3", 3, "newest entries were removed"),
    ("DELETE FROM audit_log WHERE seq = 1", 1, "is missing"),
])
def test_tampering_in_sqlite_is_detected_by_audit_verify(home: Path, sql: str, seq: int,
                                                         says: str) -> None:
    run = [sys.executable, "-m", "hookadmin", "--home", str(home)]
    for argv in (["settings", "--retention-days", "5"], ["settings", "--retention-days", "6"],
                 ["settings", "--network-policy", "strict"]):
        subprocess.run([*run, *argv], check=True, capture_output=True)
    ok = subprocess.run([*run, "audit", "verify"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "The audit log is intact: 3 entries checked.\n"
    _tampered_sqlite(home, sql)
    bad = subprocess.run([*run, "audit", "verify"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert says in bad.stdout
    assert f"ntry {seq}" in bad.stdout
    assert bad.stdout.startswith("The audit log was tampered with: ")
    assert bad.stderr == ""


def test_a_rewritten_chain_is_detected_unless_the_head_is_forged_too(
        service_in_memory: HookService) -> None:
    svc = service_in_memory
    for days in (3, 4):
        svc.set_retention_days(days)
    _tampered_sqlite(svc.home, "DELETE FROM audit_log WHERE seq = 2")
    report = audit.verify(svc.store)
    assert not report.ok
    assert report.seq == 2
    assert report.checked == 1


def test_retention_prunes_the_oldest_entries_and_keeps_the_chain(
        service_in_memory: HookService) -> None:
    svc = service_in_memory
    now = time.time()
    for n in range(5):
        audit.record(svc.store, svc.actor, "test.old", now=now - 10 * 86400 + n)
    svc.set_audit_retention_days(2)
    assert svc.audit_retention_days() == 2
    assert svc.prune_history(now=now) == 0  # deliveries: none; audit: the five old ones
    entries = svc.store.list_audit()
    assert [e.action for e in entries] == ["settings.changed"]
    anchor, head = svc.store.audit_bounds()
    assert anchor == (5, entries[0].prev_hash)
    assert head == (6, entries[0].hash)
    assert audit.verify(svc.store).ok
    svc.set_audit_retention_days(None)  # keep everything again
    assert svc.audit_retention_days() is None


def test_audit_cli_lists_filters_and_prints_json(home: Path) -> None:
    assert run_cli("audit", home=home).stdout == "No audit entries yet.\n"
    run_cli("settings", "--retention-days", "9", home=home)
    out = run_cli("audit", home=home).stdout
    assert "settings.changed" in out
    assert "retention_days" in out
    assert " cli " in out
    listed = json.loads(run_cli("audit", "--json", "--since", "1h", home=home).stdout)
    assert [e["action"] for e in listed] == ["settings.changed"]
    assert listed[0]["hash"] != GENESIS
    assert listed[0]["prev_hash"] == GENESIS
    assert run_cli("audit", "--hook", "4", home=home).stdout == "No audit entries match.\n"
    bad = run_cli("audit", "--since", "yesterday", home=home)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.init(postgres_url) as s:
        yield s


def _record_three(store: PostgresStore) -> None:
    actor = audit.Actor.current("window")
    hook = store.add_hook(name="", url="https://example.com/h", events=["job"], active=True)
    audit.record(store, actor, "hook.created", hook_id=hook.id, hook={"name": ""})
    audit.record(store, actor, "secret.revealed", hook_id=hook.id)
    audit.record(store, actor, "settings.changed", setting="retention_days",
                 changes=[None, 3])


def test_postgres_records_the_database_role_and_refuses_changes(
        pg_store: PostgresStore, postgres_url: str) -> None:
    _record_three(pg_store)
    entries = pg_store.list_audit()
    with psycopg.connect(postgres_url) as db:
        row = db.execute("SELECT current_user").fetchone()
    assert row is not None
    assert {(e.role, e.origin) for e in entries} == {(row[0], "window")}
    assert audit.verify(pg_store).ok
    for sql in ("UPDATE audit_log SET os_user = 'mallory'", "DELETE FROM audit_log",
                "TRUNCATE audit_log"):
        with psycopg.connect(postgres_url, autocommit=True) as db, \
                pytest.raises(psycopg.errors.RaiseException, match="cannot be changed"):
            db.execute(sql.encode())
    assert len(pg_store.list_audit()) == 3


@pytest.mark.parametrize(("sql", "seq", "says"), [
    ("UPDATE audit_log SET host = 'elsewhere' WHERE seq = 2", 2, "was changed"),
    ("UPDATE audit_log SET at = at - 3600 WHERE seq = 3", 3, "was changed"),
    ("DELETE FROM audit_log WHERE seq = 2", 2, "is missing"),
    ("DELETE FROM audit_log WHERE seq = 3", 3, "newest entries were removed"),
])
def test_tampering_in_postgres_is_detected(pg_store: PostgresStore, postgres_url: str,
                                           sql: str, seq: int, says: str) -> None:
    _record_three(pg_store)
    with psycopg.connect(postgres_url, autocommit=True) as db:  # a superuser's edit
        db.execute(b"ALTER TABLE audit_log DISABLE TRIGGER audit_guard")
        db.execute(sql.encode())
    report = audit.verify(pg_store)
    assert not report.ok
    assert report.seq == seq
    assert report.problem is not None
    assert says in report.problem


def test_postgres_prunes_by_retention_and_keeps_the_chain(pg_store: PostgresStore) -> None:
    actor = audit.Actor.current("cli")
    now = time.time()
    for n in range(3):
        audit.record(pg_store, actor, "test.old", now=now - 30 * 86400 + n)
    audit.record(pg_store, actor, "test.new", now=now)
    pg_store.set_setting(audit.AUDIT_RETENTION_KEY, 7)
    assert audit.prune_audit(pg_store, now=now) == 3
    assert [e.action for e in pg_store.list_audit()] == ["test.new"]
    assert pg_store.audit_bounds()[0][0] == 3
    assert audit.verify(pg_store).ok


def test_two_postgres_writers_keep_one_chain(pg_store: PostgresStore,
                                             postgres_url: str) -> None:
    with PostgresStore(postgres_url) as other:
        actor = audit.Actor.current("cli")
        for n in range(10):
            audit.record(pg_store if n % 2 else other, actor, f"test.{n}")
    assert [e.seq for e in pg_store.list_audit()] == list(range(1, 11))
    assert audit.verify(pg_store).ok


def test_option_changes_are_recorded_without_values(service_in_memory: HookService) -> None:
    from hookadmin.core.hook_types import BASIC_AUTH_PASSWORD, HookOptions

    svc = service_in_memory
    hook = svc.create_hook(url="https://example.com/a", events=["job"],
                           options=HookOptions(headers=(("X-Team", "tea-leaf"),)))
    svc.edit_hook(hook.id, options=HookOptions(headers=(("X-Team", "tea-leaf"),),
                                               basic_auth_user="alice"),
                  option_secrets={BASIC_AUTH_PASSWORD: "pw-very-secret"})
    svc.edit_hook(hook.id, option_secrets={BASIC_AUTH_PASSWORD: "pw-other-secret"})
    created, with_auth, new_password = svc.store.list_audit()
    assert created.details["hook"]["type"] == "web"
    assert created.details["hook"]["options"] == {"headers": ["X-Team"]}
    assert with_auth.details["changes"] == {"options": [
        {"headers": ["X-Team"]}, {"headers": ["X-Team"], "basic_auth_user": "alice"}]}
    assert with_auth.details["option_secrets_changed"] == [BASIC_AUTH_PASSWORD]
    assert new_password.action == "hook.edited"
    assert new_password.details == {"changes": {},
                                    "option_secrets_changed": [BASIC_AUTH_PASSWORD]}
    text = json.dumps([e.details for e in svc.store.list_audit()])
    assert "tea-leaf" not in text
    assert "pw-" not in text
