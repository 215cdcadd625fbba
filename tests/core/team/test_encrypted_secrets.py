"""Hook secrets sealed with the team key in a real PostgreSQL database.

Each test has a new database (``postgres_url``) with the ``hook_secrets`` table, a new
team database id and its team key in the test Secret Service. A second "machine" is a
subprocess with a Secret Service of its own (its own ``dbus-run-session`` and
``scripts/with-test-keyring.sh``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import psycopg
import pytest

from hookadmin.core.errors import SecretStoreError, TeamKeyMismatch, TeamKeyMissing
from hookadmin.core.secrets import SERVICE_NAME, HookSecrets, SecretStore
from hookadmin.core.service import HookService
from hookadmin.core.signing import new_secret
from hookadmin.core.store.postgres.secret_blobs import HOOK_SECRETS_DDL, PostgresSecretBlobs
from hookadmin.core.team.key import (
    KEY_BYTES,
    KEY_FILE_ENV,
    TeamKey,
    create_team_key,
    export_team_key,
    keyring_entry_name,
)
from hookadmin.core.team.secrets import EncryptedSecretStore, copy_secrets
from hookadmin.delivery.engine import Engine
from tests.helpers import FAST, REPO_ROOT, body, db_rows
from tests.keyring_bus import forget_keyring_entry
from tests.receiver import Receiver

Make = Callable[..., Receiver]


@pytest.fixture
def team_url(postgres_url: str) -> str:
    """A new database with the ``hook_secrets`` table."""
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(HOOK_SECRETS_DDL)
    return postgres_url


@pytest.fixture
def team_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[TeamKey]:
    """A new team database id and its key in this machine's keyring (removed after)."""
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    made = create_team_key(str(uuid.uuid4()))
    yield made
    forget_keyring_entry(keyring_entry_name(made.database_id), must_exist=True)


@pytest.fixture
def blobs(team_url: str) -> Iterator[PostgresSecretBlobs]:
    made = PostgresSecretBlobs(team_url)
    yield made
    made.close()


@pytest.fixture
def store(team_key: TeamKey, blobs: PostgresSecretBlobs) -> EncryptedSecretStore:
    """The store as team mode makes it: the key is loaded from the keyring."""
    return EncryptedSecretStore(team_key.database_id, blobs)


def _rows(url: str) -> list[tuple[str, bytes, bytes]]:
    with psycopg.connect(url) as db:
        return [(str(n), bytes(a), bytes(b)) for n, a, b in
                db.execute("SELECT name, nonce, ciphertext FROM hook_secrets ORDER BY name")]


def _one_sentence(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text
    assert text.endswith(".")
    return text


def test_secrets_round_trip(store: EncryptedSecretStore) -> None:
    store.check()
    first, second, old = new_secret(), new_secret(), new_secret()
    store.set(1, first)
    store.set(2, second)
    store.set(1, old, previous=True)
    assert store.get(1) == first
    assert store.get_optional(1, previous=True) == old
    assert store.get_optional(2, previous=True) is None
    assert store.get_optional(3) is None
    assert store.get_many([1, 2, 3]) == {1: first, 2: second}
    assert store.get_many([]) == {}
    with pytest.raises(SecretStoreError, match="reset-secret 3") as info:
        store.get(3)
    assert info.value.cause == "missing"
    store.delete(1, previous=True)
    store.delete(1, previous=True)  # a missing one is not an error
    assert store.get_optional(1, previous=True) is None
    assert store.get(1) == first
    store.delete(2)
    assert store.get_many([1, 2]) == {1: first}


def test_the_database_holds_no_secret(store: EncryptedSecretStore, team_url: str,
                                      team_key: TeamKey) -> None:
    secrets = {hook_id: new_secret() for hook_id in range(1, 6)}
    for hook_id, secret in secrets.items():
        store.set(hook_id, secret)
        store.set(hook_id, new_secret(), previous=True)
    with psycopg.connect(team_url) as db:
        dump_rows = db.execute("SELECT * FROM hook_secrets").fetchall()
    assert len(dump_rows) == 10
    text = repr(dump_rows).encode()
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    dump = subprocess.run([pg_dump, "--data-only", "--inserts", team_url], check=True,
                          capture_output=True, timeout=60).stdout
    assert b"INSERT INTO public.hook_secrets" in dump
    raw = b"".join(nonce + sealed for _, nonce, sealed in _rows(team_url))
    for secret in [*secrets.values(), *(store.get_optional(h, previous=True)
                                        for h in secrets)]:
        assert secret is not None
        for form in (secret.encode(), bytes.fromhex(secret), secret.upper().encode()):
            assert form not in text
            assert form not in dump
            assert form not in raw
    for form in (team_key.key, team_key.key.hex().encode(), team_key.to_text().encode()):
        assert form not in dump


def test_each_write_has_a_fresh_nonce(store: EncryptedSecretStore, team_url: str) -> None:
    secret = new_secret()
    store.set(1, secret)
    (_, nonce1, sealed1), = _rows(team_url)
    store.set(1, secret)
    (_, nonce2, sealed2), = _rows(team_url)
    assert len(nonce1) == len(nonce2) == 12
    assert nonce1 != nonce2
    assert sealed1 != sealed2
    assert len(sealed1) == len(secret) + 16  # AES-GCM: the text and a 16-byte tag


@pytest.mark.parametrize(("source", "target", "previous"), [
    ("hook/1", "hook/2", False),
    ("hook/1", "hook/2/previous", True),
    ("hook/1/previous", "hook/1", False),
])
def test_a_ciphertext_moved_to_another_entry_does_not_open(
        store: EncryptedSecretStore, team_url: str, source: str, target: str,
        previous: bool) -> None:
    secret = new_secret()
    store.set(1, secret)
    store.set(1, new_secret(), previous=True)
    with psycopg.connect(team_url) as db:
        db.execute("INSERT INTO hook_secrets (name, nonce, ciphertext) SELECT %s, nonce, "
                   "ciphertext FROM hook_secrets WHERE name = %s ON CONFLICT (name) DO UPDATE "
                   "SET nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext",
                   (target, source))
    hook_id = int(target.split("/")[1])
    with pytest.raises(TeamKeyMismatch) as info:
        store.get_optional(hook_id, previous=previous)
    message = _one_sentence(info.value)
    assert info.value.cause == "team_key_mismatch"
    assert f"hook {hook_id}" in message
    assert "hookadmin team import-key FILE" in message
    assert secret not in message


def test_a_ciphertext_copied_to_another_database_does_not_open(
        store: EncryptedSecretStore, blobs: PostgresSecretBlobs, team_key: TeamKey) -> None:
    store.set(1, new_secret())
    other = EncryptedSecretStore(str(uuid.uuid4()), blobs, key_source=lambda: team_key.key)
    with pytest.raises(TeamKeyMismatch):
        other.get(1)  # the same key and bytes, but another database id


def test_a_wrong_key_is_reported_in_one_sentence(store: EncryptedSecretStore,
                                                 blobs: PostgresSecretBlobs,
                                                 team_key: TeamKey) -> None:
    secret = new_secret()
    store.set(7, secret)
    wrong_key = os.urandom(KEY_BYTES)
    wrong = EncryptedSecretStore(team_key.database_id, blobs, key_source=lambda: wrong_key)
    wrong.check()  # having a key is all check() can tell
    for read in (lambda: wrong.get(7), lambda: wrong.get_many([7]),
                 lambda: wrong.get_optional(7)):
        with pytest.raises(TeamKeyMismatch) as info:
            read()
        message = _one_sentence(info.value)
        for leak in (secret, team_key.key.hex(), wrong_key.hex()):
            assert leak not in message


def test_a_tampered_ciphertext_does_not_open(store: EncryptedSecretStore,
                                             team_url: str) -> None:
    store.set(1, new_secret())
    with psycopg.connect(team_url) as db:
        db.execute("UPDATE hook_secrets SET ciphertext = set_byte(ciphertext, 0, "
                   "get_byte(ciphertext, 0) # 1)")
    with pytest.raises(TeamKeyMismatch):
        store.get(1)


def test_without_the_key_every_read_and_write_says_so(store: EncryptedSecretStore,
                                                      blobs: PostgresSecretBlobs,
                                                      team_key: TeamKey) -> None:
    store.set(1, new_secret())
    keyless = EncryptedSecretStore(str(uuid.uuid4()), blobs)  # no key for this id here
    calls: list[Callable[[], object]] = [
        keyless.check, lambda: keyless.get(1), lambda: keyless.get_optional(1),
        lambda: keyless.get_optional(1, previous=True), lambda: keyless.get_many([1]),
        lambda: keyless.set(2, new_secret())]
    for call in calls:
        with pytest.raises(TeamKeyMissing) as info:
            call()
        message = _one_sentence(info.value)
        assert "cannot sign, reveal or ping" in message
        assert "hookadmin team import-key FILE" in message
    assert list(blobs.get_many(["hook/1", "hook/2"])) == ["hook/1"]  # set wrote nothing
    keyless.delete(1)  # deleting needs no key
    assert blobs.get_many(["hook/1"]) == {}


def test_a_key_imported_later_is_picked_up(blobs: PostgresSecretBlobs, tmp_path: Path,
                                           team_key: TeamKey, store: EncryptedSecretStore,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    secret = new_secret()
    store.set(1, secret)
    path = tmp_path / "team.key"
    export_team_key(team_key.database_id, path)
    keyring.delete_password(SERVICE_NAME, keyring_entry_name(team_key.database_id))
    later = EncryptedSecretStore(team_key.database_id, blobs)
    with pytest.raises(TeamKeyMissing):
        later.get(1)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    assert later.get(1) == secret  # a failed load is not remembered
    monkeypatch.delenv(KEY_FILE_ENV)
    keyring.set_password(SERVICE_NAME, keyring_entry_name(team_key.database_id),
                         team_key.to_text())  # for the fixture's clean-up


def test_an_unreachable_database_is_one_sentence(team_key: TeamKey) -> None:
    url = "postgresql://hookadmin:s3cr3t-pw@127.0.0.1:1/nowhere"
    blobs = PostgresSecretBlobs(url, connect_timeout=2)
    down = EncryptedSecretStore(team_key.database_id, blobs)
    for call in (lambda: down.get(1), lambda: down.set(1, new_secret()),
                 lambda: down.delete(1)):
        with pytest.raises(SecretStoreError, match=r"^The team database did not answer") as info:
            call()
        assert info.value.cause == "unavailable"
        assert "s3cr3t-pw" not in _one_sentence(info.value)


def test_a_database_without_the_table_is_one_sentence(postgres_url: str,
                                                      team_key: TeamKey) -> None:
    blobs = PostgresSecretBlobs(postgres_url)
    try:
        with pytest.raises(SecretStoreError, match="refused a hook secret's read") as info:
            EncryptedSecretStore(team_key.database_id, blobs).get(1)
        assert info.value.cause == "failed"
        _one_sentence(info.value)
    finally:
        blobs.close()


def test_a_dropped_connection_is_opened_again(store: EncryptedSecretStore,
                                              blobs: PostgresSecretBlobs,
                                              team_url: str) -> None:
    secret = new_secret()
    store.set(1, secret)
    with psycopg.connect(team_url, autocommit=True) as admin:
        (killed,) = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone() \
            or (0,)
    assert killed == 1
    assert store.get(1) == secret


def test_copy_from_the_keyring_into_the_team_database(store: EncryptedSecretStore,
                                                      home: Path) -> None:
    with HookService(home) as local:
        hooks = [local.create_hook(url=f"https://example.com/{i}", events=["job"])
                 for i in range(3)]
        local.reset_secret(hooks[0].id)
        keyring_store = SecretStore(local.store.store_id)
        copied = copy_secrets(keyring_store, store, [h.id for h in hooks],
                              previous_ids=[hooks[0].id, hooks[1].id])
        assert copied == 4  # three secrets and the one a reset replaced
        for hook in hooks:
            assert store.get(hook.id) == local.reveal_secret(hook.id)
        assert store.get_optional(hooks[0].id, previous=True) == \
            keyring_store.get_optional(hooks[0].id, previous=True)
        assert store.get_optional(hooks[1].id, previous=True) is None


# -- hookadmin unchanged on top of it ---------------------------------------------------


def test_the_service_keeps_secrets_in_the_team_database(home: Path, team_url: str,
                                                        store: EncryptedSecretStore) -> None:
    as_protocol: HookSecrets = store
    with HookService(home, secrets=as_protocol) as service:
        hook = service.create_hook(url="https://example.com/h", events=["job"])
        secret = service.reveal_secret(hook.id)
        assert keyring.get_password(SERVICE_NAME,
                                    f"{service.store.store_id}/hook/{hook.id}") is None
        assert [n for n, _, _ in _rows(team_url)] == [f"hook/{hook.id}"]
        new = service.reset_secret(hook.id)
        assert new != secret
        assert store.get(hook.id) == new
        assert store.get_optional(hook.id, previous=True) == secret  # the 24 h overlap
        service.delete_hook(hook.id)
        assert _rows(team_url) == []


def test_the_engine_signs_with_the_team_databases_secret(home: Path, team_url: str,
                                                         store: EncryptedSecretStore,
                                                         make_receiver: Make) -> None:
    receiver = make_receiver()
    with HookService(home, secrets=store) as service:
        hook = service.create_hook(url=receiver.url, events=["job"])
        old = service.reveal_secret(hook.id)
        new = service.reset_secret(hook.id)
        receiver.set_secrets({"new": new, "old": old})
        service.publish("job.failed", body("job.failed"))
    assert Engine(home, settings=FAST, secrets=store).run(until_idle=True) == 1
    (request,) = receiver.wait_for_requests(1)
    assert request.verified_by == ("new",)
    assert request.standard_verified_by == ("new", "old")


def test_without_the_key_the_engine_waits_and_sends_nothing(home: Path, team_url: str,
                                                            store: EncryptedSecretStore,
                                                            blobs: PostgresSecretBlobs,
                                                            make_receiver: Make) -> None:
    receiver = make_receiver()
    with HookService(home, secrets=store) as service:
        service.create_hook(url=receiver.url, events=["job"])
        service.publish("job.failed", body("job.failed"))
        keyless = EncryptedSecretStore(str(uuid.uuid4()), blobs)
        assert Engine(home, settings=FAST, secrets=keyless).run(until_idle=True) == 1
    assert receiver.requests() == []
    ((status, kind, message),) = db_rows(
        home, "SELECT d.status, a.error_kind, a.error_message FROM deliveries d "
              "JOIN attempts a ON a.delivery_seq = d.seq")
    assert status == "pending"  # waits for the key, never sent unsigned
    assert kind == "secret_unavailable"
    assert isinstance(message, str)
    assert "has no team key" in message


# -- a second machine -----------------------------------------------------------------

SECOND_MACHINE = r"""
import json, sys
from pathlib import Path
from hookadmin.core.errors import TeamKeyMissing
from hookadmin.core.team.key import import_team_key
from hookadmin.core.store.postgres.secret_blobs import PostgresSecretBlobs
from hookadmin.core.team.secrets import EncryptedSecretStore

url, database_id, key_file = sys.argv[1:4]
store = EncryptedSecretStore(database_id, PostgresSecretBlobs(url))
out = {}
try:
    store.get(1)
except TeamKeyMissing as err:
    out["before"] = str(err)
import_team_key(Path(key_file), database_id=database_id)
out["after"] = store.get(1)
print(json.dumps(out))
"""


def test_a_second_machine_without_the_key_gets_one_sentence_until_it_imports_it(
        store: EncryptedSecretStore, team_url: str, team_key: TeamKey,
        tmp_path: Path) -> None:
    secret = new_secret()
    store.set(1, secret)
    key_file = tmp_path / "team.key"
    export_team_key(team_key.database_id, key_file)
    env = {k: v for k, v in os.environ.items() if k not in (KEY_FILE_ENV,
                                                             "DBUS_SESSION_BUS_ADDRESS")}
    result = subprocess.run(
        ["dbus-run-session", "--", str(REPO_ROOT / "scripts" / "with-test-keyring.sh"),
         sys.executable, "-c", SECOND_MACHINE, team_url, team_key.database_id,
         str(key_file)],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    before = out["before"]
    assert before.startswith(f"This machine has no team key for team database "
                             f"{team_key.database_id}, so it can list hooks and history but "
                             "cannot sign, reveal or ping;")
    assert before.count(".") == 1
    assert secret not in before
    assert out["after"] == secret


def test_the_second_machine_really_has_its_own_keyring(team_key: TeamKey) -> None:
    """The check above means something only if the subprocess cannot see this
    keyring's entries."""
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    code = ("import keyring, sys; print(keyring.get_password('hookadmin', sys.argv[1]))")
    result = subprocess.run(
        ["dbus-run-session", "--", str(REPO_ROOT / "scripts" / "with-test-keyring.sh"),
         sys.executable, "-c", code, keyring_entry_name(team_key.database_id)],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "None"
