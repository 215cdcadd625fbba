"""The team key against the real Secret Service and real files."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from hookadmin.core.errors import (
    HookadminError,
    InputError,
    SecretStoreError,
    TeamKeyError,
    TeamKeyMissing,
)
from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.team.key import (
    KEY_BYTES,
    KEY_FILE_ENV,
    TeamKey,
    create_team_key,
    export_team_key,
    import_team_key,
    keyring_entry_name,
    load_team_key,
    parse_team_key,
    write_key_file,
)
from tests.helpers import run_cli
from tests.keyring_bus import forget_keyring_entry


@pytest.fixture
def database_id(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh team database id (so a fresh keyring entry); the entry is removed after
    the test, and HOOKADMIN_TEAM_KEY_FILE is unset during it."""
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    value = str(uuid.uuid4())
    yield value
    forget_keyring_entry(keyring_entry_name(value))


def _key_text(team_key: TeamKey) -> str:
    return team_key.to_text().rsplit(":", 1)[1]


def _assert_no_key(text: str, team_key: TeamKey) -> None:
    assert _key_text(team_key) not in text
    assert team_key.key.hex() not in text


def _other_key(database_id: str) -> TeamKey:
    return TeamKey(database_id, os.urandom(KEY_BYTES))


# -- create and load ----------------------------------------------------------------


def test_create_keeps_a_new_random_key_in_the_keyring(database_id: str) -> None:
    team_key = create_team_key(database_id)
    assert team_key.database_id == database_id
    assert len(team_key.key) == KEY_BYTES
    stored = keyring.get_password(SERVICE_NAME, f"{database_id}/team-key")
    assert stored == team_key.to_text()
    assert stored.startswith(f"hookadmin-team-key:v1:{database_id}:")
    assert load_team_key(database_id) == team_key
    assert _key_text(team_key) not in repr(team_key)


def test_two_databases_get_different_keys(database_id: str) -> None:
    other = str(uuid.uuid4())
    try:
        assert create_team_key(database_id).key != create_team_key(other).key
    finally:
        keyring.delete_password(SERVICE_NAME, keyring_entry_name(other))


def test_create_never_replaces_a_key(database_id: str) -> None:
    first = create_team_key(database_id)
    with pytest.raises(InputError, match=r"already has a team key .* never replaces one"):
        create_team_key(database_id)
    assert load_team_key(database_id) == first


def test_create_refuses_a_database_id_that_is_not_a_uuid() -> None:
    with pytest.raises(InputError, match="is not a team database id"):
        create_team_key("not-a-uuid")
    with pytest.raises(InputError, match="is not a team database id"):
        create_team_key(str(uuid.uuid4()).upper())


def test_without_a_key_load_says_what_to_run(database_id: str) -> None:
    with pytest.raises(TeamKeyMissing) as info:
        load_team_key(database_id)
    message = str(info.value)
    assert info.value.cause == "team_key_missing"
    assert isinstance(info.value, SecretStoreError)  # the engine waits, never sends unsigned
    assert message.count(".") == 1  # one sentence
    assert message.endswith(".")
    assert database_id in message
    assert "cannot sign, reveal or ping" in message
    assert "hookadmin team import-key FILE" in message
    assert KEY_FILE_ENV in message


def test_without_a_keyring_create_and_load_say_so(database_id: str) -> None:
    for call in (lambda: create_team_key(database_id, backend=fail.Keyring()),
                 lambda: load_team_key(database_id, backend=fail.Keyring())):
        with pytest.raises(SecretStoreError, match="No usable OS keyring") as info:
            call()
        assert info.value.cause == "no_backend"


def test_a_malformed_keyring_entry_is_reported(database_id: str) -> None:
    keyring.set_password(SERVICE_NAME, keyring_entry_name(database_id), "garbage")
    with pytest.raises(TeamKeyError, match="is not a team key") as info:
        load_team_key(database_id)
    assert info.value.cause == "team_key_invalid"


# -- the key file named by HOOKADMIN_TEAM_KEY_FILE (headless machines) ---------------


def _env_file(tmp_path: Path, team_key: TeamKey, mode: int = 0o600) -> Path:
    path = tmp_path / "team.key"
    write_key_file(path, team_key)
    path.chmod(mode)
    return path


def test_the_env_file_comes_first_and_needs_no_keyring(database_id: str,
                                                       tmp_path: Path) -> None:
    team_key = _other_key(database_id)
    path = _env_file(tmp_path, team_key, 0o400)
    loaded = load_team_key(database_id, backend=fail.Keyring(),
                           environ={KEY_FILE_ENV: str(path)})
    assert loaded == team_key
    create_team_key(database_id)  # a different key in the keyring: the file wins
    assert load_team_key(database_id, environ={KEY_FILE_ENV: str(path)}) == team_key


def test_the_env_file_is_read_from_the_environment(database_id: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    team_key = _other_key(database_id)
    monkeypatch.setenv(KEY_FILE_ENV, str(_env_file(tmp_path, team_key)))
    assert load_team_key(database_id, backend=fail.Keyring()) == team_key


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o644, 0o660])
def test_an_env_file_others_can_read_or_write_is_refused(database_id: str, tmp_path: Path,
                                                         mode: int) -> None:
    team_key = _other_key(database_id)
    path = _env_file(tmp_path, team_key, mode)
    with pytest.raises(TeamKeyError, match=r"can be read or written by other users") as info:
        load_team_key(database_id, environ={KEY_FILE_ENV: str(path)})
    assert info.value.cause == "team_key_invalid"
    assert f"chmod 600 {path}" in str(info.value)
    assert f"mode {mode:o}" in str(info.value)
    _assert_no_key(str(info.value), team_key)


def test_a_malformed_env_file_is_refused(database_id: str, tmp_path: Path) -> None:
    path = tmp_path / "team.key"
    path.write_text(f"hookadmin-team-key:v1:{database_id}:tooshort\n")
    path.chmod(0o600)
    with pytest.raises(TeamKeyError, match=r"is not a hookadmin team key file \(its key is "
                       r"not 32 bytes in base64url\)"):
        load_team_key(database_id, environ={KEY_FILE_ENV: str(path)})


def test_an_env_file_for_another_database_is_refused(database_id: str,
                                                     tmp_path: Path) -> None:
    team_key = _other_key(str(uuid.uuid4()))
    path = _env_file(tmp_path, team_key)
    with pytest.raises(TeamKeyError, match="belongs to team database") as info:
        load_team_key(database_id, environ={KEY_FILE_ENV: str(path)})
    _assert_no_key(str(info.value), team_key)


def test_a_missing_env_file_is_reported(database_id: str, tmp_path: Path) -> None:
    with pytest.raises(TeamKeyError, match=r"which cannot be read \(No such file"):
        load_team_key(database_id, environ={KEY_FILE_ENV: str(tmp_path / "nowhere")})


# -- export and import ---------------------------------------------------------------


def test_export_writes_a_new_0600_file(database_id: str, tmp_path: Path) -> None:
    team_key = create_team_key(database_id)
    path = tmp_path / "team.key"
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        export_team_key(database_id, path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == team_key.to_text() + "\n"
    assert parse_team_key(path.read_text()) == team_key


def test_export_never_overwrites(database_id: str, tmp_path: Path) -> None:
    create_team_key(database_id)
    path = tmp_path / "team.key"
    path.write_text("keep me")
    with pytest.raises(InputError, match="already exists and hookadmin never overwrites"):
        export_team_key(database_id, path)
    assert path.read_text() == "keep me"


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_export_refuses_a_symlink(database_id: str, tmp_path: Path, dangling: bool) -> None:
    create_team_key(database_id)
    target = tmp_path / "target"
    if not dangling:
        target.write_text("")
    link = tmp_path / "team.key"
    link.symlink_to(target)
    with pytest.raises(InputError, match="is a symbolic link"):
        export_team_key(database_id, link)
    assert target.exists() is not dangling
    if not dangling:
        assert target.read_text() == ""


def test_export_without_a_key_writes_nothing(database_id: str, tmp_path: Path) -> None:
    with pytest.raises(TeamKeyMissing):
        export_team_key(database_id, tmp_path / "team.key")
    assert not (tmp_path / "team.key").exists()


def test_a_full_disk_during_export_leaves_no_file(database_id: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk cannot be made here without privileges, so the write's fsync fails
    the way it would then."""
    create_team_key(database_id)
    path = tmp_path / "team.key"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("hookadmin.core.team.key.os.fsync", full)
    with pytest.raises(HookadminError, match=r"Cannot write .* \(No space left on device\)") \
            as info:
        export_team_key(database_id, path)
    assert not isinstance(info.value, InputError)  # the environment: exit status 1
    assert not path.exists()


def test_import_keeps_the_key_in_the_keyring(database_id: str, tmp_path: Path) -> None:
    team_key = _other_key(database_id)
    path = tmp_path / "team.key"
    write_key_file(path, team_key)
    assert import_team_key(path) == (team_key, True)
    assert load_team_key(database_id) == team_key
    assert import_team_key(path, database_id=database_id) == (team_key, False)  # again


def test_import_refuses_a_key_for_another_database(database_id: str, tmp_path: Path) -> None:
    other = str(uuid.uuid4())
    team_key = _other_key(other)
    path = tmp_path / "team.key"
    write_key_file(path, team_key)
    with pytest.raises(InputError, match=f"holds the team key of team database {other}, not "
                       f"of this one \\({database_id}\\)") as info:
        import_team_key(path, database_id=database_id)
    _assert_no_key(str(info.value), team_key)
    assert keyring.get_password(SERVICE_NAME, keyring_entry_name(other)) is None


def test_import_never_replaces_a_different_key(database_id: str, tmp_path: Path) -> None:
    mine = create_team_key(database_id)
    path = tmp_path / "team.key"
    write_key_file(path, _other_key(database_id))
    with pytest.raises(InputError, match="already has a different team key"):
        import_team_key(path)
    assert load_team_key(database_id) == mine


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "does not start with hookadmin-team-key:"),
    (b"hello\n", "does not start with hookadmin-team-key:"),
    (b"hookadmin-team-key:v2:{id}:{key}\n", "its format v2 is not v1"),
    (b"hookadmin-team-key:{id}:{key}\n", "no format version"),
    (b"hookadmin-team-key:v1:{key}\n", "four fields"),
    (b"hookadmin-team-key:v1:not-a-uuid:{key}\n", "database id is not a UUID"),
    (b"hookadmin-team-key:v1:{id}:{key}AA\n", "not 32 bytes in base64url"),
    (b"hookadmin-team-key:v1:{id}:{key}=\n", "not 32 bytes in base64url"),
    (b"hookadmin-team-key:v1:{id}:{key}\nextra\n", "more than one line"),
    (b"hookadmin-team-key:v1:{id}:{key}\xff\n", "not plain ASCII"),
    (b"x" * 5000, "far longer than a key"),
])
def test_import_refuses_a_malformed_file(database_id: str, tmp_path: Path, content: bytes,
                                         reason: str) -> None:
    team_key = _other_key(database_id)
    data = content.replace(b"{id}", database_id.encode()).replace(
        b"{key}", _key_text(team_key).encode())
    path = tmp_path / "team.key"
    path.write_bytes(data)
    with pytest.raises(InputError, match="is not a hookadmin team key file") as info:
        import_team_key(path)
    assert reason in str(info.value)
    _assert_no_key(str(info.value), team_key)
    assert keyring.get_password(SERVICE_NAME, keyring_entry_name(database_id)) is None


def test_import_of_a_missing_file_a_folder_or_a_pipe(database_id: str,
                                                    tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"Cannot read .* \(No such file"):
        import_team_key(tmp_path / "nowhere")
    with pytest.raises(InputError, match=r"Cannot read .* \(Is a directory"):
        import_team_key(tmp_path)
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="not a regular file"):  # and does not hang
        import_team_key(tmp_path / "pipe")


# -- the command line ----------------------------------------------------------------


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_cli_export_then_import(database_id: str, tmp_path: Path) -> None:
    team_key = create_team_key(database_id)
    path = tmp_path / "team.key"
    done = run_cli("team", "export-key", str(path), "--database-id", database_id)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_team_key(path.read_text()) == team_key
    assert "(mode 0600)" in _one_line(done.stderr)
    _assert_no_key(done.stdout + done.stderr, team_key)

    again = run_cli("team", "export-key", str(path), "--database-id", database_id)
    assert again.returncode == 2
    assert "already exists" in _one_line(again.stderr)

    keyring.delete_password(SERVICE_NAME, keyring_entry_name(database_id))
    imported = run_cli("team", "import-key", str(path), "--database-id", database_id)
    assert imported.returncode == 0, imported.stderr
    assert "Imported the team key" in _one_line(imported.stderr)
    _assert_no_key(imported.stdout + imported.stderr, team_key)
    assert load_team_key(database_id) == team_key


def test_cli_bad_input_is_exit_status_2(database_id: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("hello\n")
    result = run_cli("team", "import-key", str(bad))
    assert result.returncode == 2
    assert _one_line(result.stderr).startswith(f"hookadmin: {bad} is not a hookadmin team key")
    result = run_cli("team", "export-key", str(tmp_path / "k"), "--database-id", "nope")
    assert result.returncode == 2
    assert "is not a team database id" in _one_line(result.stderr)
    result = run_cli("team", "export-key", str(tmp_path / "k"))
    assert result.returncode == 2
    assert "--database-id" in _one_line(result.stderr)
    assert not (tmp_path / "k").exists()


def test_cli_without_a_keyring_is_exit_status_1(database_id: str, tmp_path: Path) -> None:
    path = tmp_path / "team.key"
    write_key_file(path, _other_key(database_id))
    for args in (("import-key", str(path)),
                 ("export-key", str(tmp_path / "out.key"), "--database-id", database_id)):
        result = run_cli("team", *args, env={"DBUS_SESSION_BUS_ADDRESS": None})
        assert result.returncode == 1, result.stderr
        assert "keyring" in _one_line(result.stderr)
    assert not (tmp_path / "out.key").exists()


def test_cli_export_without_a_key_is_exit_status_1(database_id: str, tmp_path: Path) -> None:
    result = run_cli("team", "export-key", str(tmp_path / "k"), "--database-id", database_id)
    assert result.returncode == 1
    assert "has no team key" in _one_line(result.stderr)


def test_the_command_line_imports_keyring_only_for_a_team_command() -> None:
    """The window starts through hookadmin.cli and checks the keyring after its first
    paint; the team commands must not import keyring (or psycopg) before that."""
    code = ("import sys, hookadmin.cli\n"
            "print(sorted(m for m in ('keyring', 'psycopg', 'hookadmin.core.team.key') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"
