"""Hook secrets in the real OS keyring (the test Secret Service)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from hookadmin.core.errors import InputError, NotFoundError, SecretStoreError
from hookadmin.core.secrets import SERVICE_NAME, SecretStore
from hookadmin.core.service import HookService
from tests.helpers import body, db_rows, run_cli

HEX64 = re.compile(r"[0-9a-f]{64}")


def _keyring_entry(service: HookService, hook_id: int) -> str | None:
    """Read the entry straight from the keyring, not through hookadmin."""
    return keyring.get_password(SERVICE_NAME, f"{service.store.store_id}/hook/{hook_id}")


def test_create_hook_stores_a_secret_in_the_keyring(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    secret = service.reveal_secret(hook.id)
    assert HEX64.fullmatch(secret)
    assert _keyring_entry(service, hook.id) == secret
    other = service.create_hook(url="https://example.com/h2", events=["job"])
    assert service.reveal_secret(other.id) != secret


def test_secret_is_never_written_to_the_data_directory(service: HookService,
                                                       home: Path) -> None:
    hooks = [service.create_hook(url=f"https://example.com/{i}", events=["job"])
             for i in range(3)]
    service.publish("job.failed", body("job.failed"))
    secrets = [service.reveal_secret(h.id) for h in hooks]
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, path
            assert bytes.fromhex(secret) not in data, path


def test_two_data_directories_never_see_each_others_secrets(tmp_path: Path) -> None:
    with HookService(tmp_path / "a") as a, HookService(tmp_path / "b") as b:
        assert a.store.store_id != b.store.store_id
        hook_a = a.create_hook(url="https://a.example/h", events=["job"])
        hook_b = b.create_hook(url="https://b.example/h", events=["job"])
        assert hook_a.id == hook_b.id == 1  # same hook id, different keyring entries
        secret_a, secret_b = a.reveal_secret(1), b.reveal_secret(1)
        assert secret_a != secret_b
        new_b = b.reset_secret(1)
        assert a.reveal_secret(1) == secret_a
        b.delete_hook(1)
        assert a.reveal_secret(1) == secret_a
        assert _keyring_entry(b, 1) is None
        assert new_b != secret_a


def test_reset_secret_replaces_it(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    old = service.reveal_secret(hook.id)
    new = service.reset_secret(hook.id)
    assert HEX64.fullmatch(new)
    assert new != old
    assert service.reveal_secret(hook.id) == new
    assert _keyring_entry(service, hook.id) == new


def test_reset_secret_to_a_given_value(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    chosen = "ab" * 32
    assert service.reset_secret(hook.id, f"  {chosen}\n") == chosen
    assert service.reveal_secret(hook.id) == chosen
    with pytest.raises(InputError, match="64 lowercase hex"):
        service.reset_secret(hook.id, "not-a-secret")
    assert service.reveal_secret(hook.id) == chosen  # unchanged by the refused reset


def test_delete_hook_removes_its_secret(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    assert _keyring_entry(service, hook.id) is not None
    service.delete_hook(hook.id)
    assert _keyring_entry(service, hook.id) is None
    with pytest.raises(NotFoundError):
        service.reveal_secret(hook.id)
    with pytest.raises(NotFoundError):
        service.reset_secret(hook.id)


def test_a_secret_deleted_outside_hookadmin_is_reported_missing(service: HookService) -> None:
    hook = service.create_hook(url="https://example.com/h", events=["job"])
    keyring.delete_password(SERVICE_NAME, f"{service.store.store_id}/hook/{hook.id}")
    with pytest.raises(SecretStoreError, match="reset-secret") as info:
        service.reveal_secret(hook.id)
    assert info.value.cause == "missing"
    new = service.reset_secret(hook.id)  # the way out the message names
    assert service.reveal_secret(hook.id) == new


def test_no_keyring_backend_creates_no_hook(home: Path) -> None:
    with HookService(home) as svc:
        store_id = svc.store.store_id
    with HookService(home, secrets=SecretStore(store_id, backend=fail.Keyring())) as svc:
        with pytest.raises(SecretStoreError, match="keyring") as info:
            svc.create_hook(url="https://example.com/h", events=["job"])
        assert info.value.cause == "no_backend"
        assert svc.hooks() == []


@pytest.mark.parametrize("bus", [None, "unix:path=/nonexistent/hookadmin-test-bus"],
                         ids=["unset", "nowhere"])
def test_cli_without_a_secret_service_fails_cleanly(home: Path, bus: str | None) -> None:
    result = run_cli("hooks", "add", "--url", "https://example.com/h", "--event", "job",
                     home=home, env={"DBUS_SESSION_BUS_ADDRESS": bus})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hookadmin: ")
    assert "keyring" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert db_rows(home, "SELECT count(*) FROM hooks") == [(0,)]
    listed = run_cli("hooks", "list", "--json", home=home)
    assert (listed.returncode, listed.stdout.strip()) == (0, "[]")


def test_a_copied_data_directory_never_changes_the_originals_secrets(
        tmp_path: Path) -> None:
    """A backup or test copy of a data directory reads the original's secrets but
    writes and deletes only its own (it gets its own keyring namespace)."""
    original_home = tmp_path / "original"
    with HookService(original_home) as original:
        hook = original.create_hook(url="https://a.example.com/h", events=["job"])
        first = original.reveal_secret(hook.id)
    copy_home = tmp_path / "copy"
    shutil.copytree(original_home, copy_home)
    with HookService(copy_home) as copy, HookService(original_home) as original:
        assert copy.store.store_id != original.store.store_id
        assert copy.reveal_secret(hook.id) == first  # read through to the original
        renewed = copy.reset_secret(hook.id)
        assert copy.reveal_secret(hook.id) == renewed
        assert original.reveal_secret(hook.id) == first
        copy.delete_hook(hook.id)
        assert original.reveal_secret(hook.id) == first
    # Opened again, each keeps its identity; a moved directory keeps its id too.
    with HookService(original_home) as original:
        kept = original.store.store_id
    moved_home = tmp_path / "moved"
    shutil.move(original_home, moved_home)
    with HookService(moved_home) as moved:
        assert moved.store.store_id == kept
        assert moved.reveal_secret(hook.id) == first


def test_get_many_reads_many_secrets_at_once(service: HookService) -> None:
    hooks = [service.create_hook(url=f"https://example.com/{i}", events=["job"])
             for i in range(12)]
    expected = {h.id: service.reveal_secret(h.id) for h in hooks}
    gone = hooks[3].id
    keyring.delete_password(SERVICE_NAME, f"{service.store.store_id}/hook/{gone}")
    del expected[gone]
    ids = [h.id for h in hooks] + [999]  # 999: no such hook
    assert service.secrets.get_many(ids) == expected
    assert service.secrets.get_many([]) == {}
    # Another data directory's entries are never returned.
    with HookService(service.store.path.parent.parent / "other") as other:
        assert other.secrets.get_many(ids) == {}


def test_get_many_in_a_copied_data_directory_reads_the_originals(tmp_path: Path) -> None:
    original_home = tmp_path / "original"
    with HookService(original_home) as original:
        a = original.create_hook(url="https://a.example.com/h", events=["job"])
        b = original.create_hook(url="https://b.example.com/h", events=["job"])
        secrets = {a.id: original.reveal_secret(a.id), b.id: original.reveal_secret(b.id)}
    shutil.copytree(original_home, tmp_path / "copy")
    with HookService(tmp_path / "copy") as copy:
        renewed = copy.reset_secret(b.id)  # the copy's own entry now
        assert copy.secrets.get_many([a.id, b.id]) == {a.id: secrets[a.id], b.id: renewed}
