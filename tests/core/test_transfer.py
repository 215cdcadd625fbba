"""Export and import of hooks, with secrets only when asked (real keyring)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.service import SECRET_OVERLAP_SECONDS, HookService
from hookadmin.core.store import iso
from hookadmin.core.transfer import ExportedSecret, import_hooks, parse_export, parse_secrets
from tests.helpers import run_cli
from tests.security.support import one_line_error


def _two_hooks(service: HookService) -> None:
    service.create_hook(url="https://a.example.com/hooks", events=["job"], name="ops")
    service.create_hook(url="https://b.example.com/x", events=["cluster.error", "job.failed"],
                        name="chat", active=False)


def test_export_is_section_4_json_without_secrets(home: Path, service: HookService) -> None:
    _two_hooks(service)
    secrets = [service.reveal_secret(h.id) for h in service.hooks()]
    result = run_cli("hooks", "export", home=home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [h["settings"]["url"] for h in doc] == ["https://a.example.com/hooks",
                                                   "https://b.example.com/x"]
    assert doc[1] == {**doc[1], "type": "web", "active": False, "name": "chat",
                      "events": ["job.failed", "cluster.error"]}
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_export_secrets_file_is_0600_and_import_restores_them(
        home: Path, service: HookService, tmp_path: Path) -> None:
    _two_hooks(service)
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    secrets_file.write_text("old content that is longer than the new one" * 20)
    secrets_file.chmod(0o644)
    result = run_cli("hooks", "export", str(hooks_file), "--secrets", str(secrets_file),
                     home=home)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    exported = json.loads(secrets_file.read_text())
    assert exported == {str(h.id): service.reveal_secret(h.id) for h in service.hooks()}
    assert not any(s in hooks_file.read_text() for s in exported.values())

    other = tmp_path / "other-home"
    result = run_cli("hooks", "import", str(hooks_file), "--secrets", str(secrets_file),
                     home=other)
    assert result.returncode == 0, result.stderr
    assert "Imported 2 hooks" in result.stdout
    with HookService(other) as target:
        imported = target.hooks()
        assert [(h.url, h.name, h.events, h.active) for h in imported] == \
            [(h.url, h.name, h.events, h.active) for h in service.hooks()]
        by_url = {h.url: target.reveal_secret(h.id) for h in imported}
    assert by_url == {h.url: service.reveal_secret(h.id) for h in service.hooks()}

    again = run_cli("hooks", "import", str(hooks_file), home=other)
    assert again.returncode == 0, again.stderr
    assert "skipped 2 that already exist" in again.stdout
    assert "into this keyring" not in again.stdout
    with HookService(other) as target:
        assert len(target.hooks()) == 2


def test_import_puts_back_the_missing_secret_of_a_hook_that_exists(
        home: Path, service: HookService, tmp_path: Path) -> None:
    """A hook whose secret is not in this keyring (its database came from another
    machine, or the entry was removed) gets it from that machine's secrets export."""
    _two_hooks(service)
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    result = run_cli("hooks", "export", str(hooks_file), "--secrets", str(secrets_file),
                     home=home)
    assert result.returncode == 0, result.stderr
    first, second = service.hooks()
    kept, lost = service.reveal_secret(first.id), service.reveal_secret(second.id)
    service.secrets.delete(second.id)
    service.secrets.set(first.id, "a" * 64)  # changed here since: not replaced

    again = run_cli("hooks", "import", str(hooks_file), "--secrets", str(secrets_file),
                    home=home)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        "Imported 0 hooks (ids: none); skipped 2 that already exist; put the secrets of "
        f"1 of those into this keyring (ids: {second.id}).")
    assert service.reveal_secret(second.id) == lost
    assert service.reveal_secret(first.id) == "a" * 64 != kept
    assert len(service.hooks()) == 2


def test_import_without_secrets_makes_new_ones(service: HookService, tmp_path: Path) -> None:
    _two_hooks(service)
    hooks = parse_export(json.dumps([h.to_json() for h in service.hooks()]).encode())
    with HookService(tmp_path / "b") as target:
        created, skipped, _ = import_hooks(target, hooks)
        assert (len(created), skipped) == (2, 0)
        new = {target.reveal_secret(h.id) for h in created}
    assert len(new) == 2
    assert new.isdisjoint({service.reveal_secret(h.id) for h in service.hooks()})


def test_secrets_never_go_to_stdout(home: Path, service: HookService) -> None:
    _two_hooks(service)
    result = run_cli("hooks", "export", "-", "--secrets", "-", home=home)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "own file" in result.stderr


@pytest.mark.parametrize(("data", "fragment"), [
    (b"[1", "not valid JSON"),
    (b'"x"', "JSON list of hooks"),
    (b"[1]", "Hook 1 is not a JSON object"),
    (b'[{"settings": {}, "events": ["job"]}]', "settings.url"),
    (b'[{"settings": {"url": "ftp://x"}, "events": ["job"]}]', "Hook 1: The URL scheme"),
    (b'[{"settings": {"url": "https://x.com"}, "events": ["job.nope"]}]', "Unknown event"),
    (b'[{"settings": {"url": "https://x.com"}, "events": ["job"], "active": "yes"}]',
     "true or false"),
])
def test_bad_import_is_refused_whole(home: Path, service: HookService, tmp_path: Path,
                                     data: bytes, fragment: str) -> None:
    path = tmp_path / "bad.json"
    good = {"settings": {"url": "https://ok.example.com"}, "events": ["job"]}
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if isinstance(doc, list):  # a good hook first: all or nothing
        data = json.dumps([good, *doc]).encode()
        fragment = fragment.replace("Hook 1", "Hook 2")
    path.write_bytes(data)
    result = run_cli("hooks", "import", str(path), home=home)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1
    assert service.hooks() == []


def test_parse_secrets_checks_each_secret() -> None:
    good = "ab" * 32
    assert parse_secrets(json.dumps({"3": f"  {good}\n"}).encode()) == {
        "3": ExportedSecret(good)}
    with pytest.raises(InputError, match="Secret of hook 3"):
        parse_secrets(json.dumps({"3": "ab cd"}).encode())
    with pytest.raises(InputError, match="JSON object"):
        parse_secrets(b"[]")
    with pytest.raises(InputError, match="Secret of hook 3"):
        parse_secrets(json.dumps({"3": {"secret": good, "previous": "x"}}).encode())
    with pytest.raises(InputError, match="previous_expires_at"):
        parse_secrets(json.dumps({"3": {"secret": good, "previous": good,
                                        "previous_expires_at": "soon"}}).encode())


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_export_refuses_a_symbolic_link_at_the_secrets_path(
        home: Path, service: HookService, tmp_path: Path, dangling: bool) -> None:
    _two_hooks(service)
    target = tmp_path / "elsewhere.txt"
    if not dangling:
        target.write_text("keep me\n")
    link = tmp_path / "secrets.json"
    link.symlink_to(target)
    result = run_cli("hooks", "export", str(tmp_path / "hooks.json"), "--secrets", str(link),
                     home=home)
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "symbolic link" in line
    assert result.stdout == ""
    assert link.is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "keep me\n"
    # Nothing written: no hooks file, no temporary file left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["home", "secrets.json"] + ([] if dangling else ["elsewhere.txt"]))


def test_export_replaces_the_secrets_file_rather_than_writing_through_it(
        home: Path, service: HookService, tmp_path: Path) -> None:
    _two_hooks(service)
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text("old\n")
    secrets_file.chmod(0o644)
    shared = tmp_path / "shared.txt"  # a second name of the same file
    os.link(secrets_file, shared)
    result = run_cli("hooks", "export", str(tmp_path / "hooks.json"), "--secrets",
                     str(secrets_file), home=home)
    assert result.returncode == 0, result.stderr
    assert shared.read_text() == "old\n"  # the secrets never reached the other name
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert json.loads(secrets_file.read_text()) == {
        str(h.id): service.reveal_secret(h.id) for h in service.hooks()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "hooks.json",
                                                          "secrets.json", "shared.txt"]


def test_a_replaced_secret_still_in_its_overlap_travels_with_the_export(
        home: Path, service: HookService, tmp_path: Path) -> None:
    rotated = service.create_hook(url="https://a.example.com/hooks", events=["job"])
    old = service.reveal_secret(rotated.id)
    new = service.reset_secret(rotated.id)
    expiry = service.hook(rotated.id).previous_secret_expires_at
    assert expiry is not None
    expired = service.create_hook(url="https://b.example.com/x", events=["job"])
    service.reset_secret(expired.id, now=time.time() - 2 * SECRET_OVERLAP_SECONDS)
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    result = run_cli("hooks", "export", str(hooks_file), "--secrets", str(secrets_file),
                     home=home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(secrets_file.read_text())
    assert doc == {
        str(rotated.id): {"secret": new, "previous": old, "previous_expires_at": iso(expiry)},
        str(expired.id): service.reveal_secret(expired.id),  # its overlap is over
    }

    other = tmp_path / "other-home"
    result = run_cli("hooks", "import", str(hooks_file), "--secrets", str(secrets_file),
                     home=other)
    assert result.returncode == 0, result.stderr
    with HookService(other) as target:
        by_url = {h.url: h for h in target.hooks()}
        copy = by_url["https://a.example.com/hooks"]
        assert target.reveal_secret(copy.id) == new
        assert target.secrets.get_optional(copy.id, previous=True) == old
        assert copy.previous_secret_expires_at == pytest.approx(expiry, abs=1.0)
        plain = by_url["https://b.example.com/x"]
        assert plain.previous_secret_expires_at is None
        assert target.secrets.get_optional(plain.id, previous=True) is None


def test_an_import_after_the_overlap_leaves_the_replaced_secret_out(
        service: HookService) -> None:
    secret, previous = "ab" * 32, "cd" * 32
    hooks = parse_export(json.dumps([{"id": 4, "settings": {"url": "https://a.example.com/"},
                                      "events": ["job"]}]).encode())
    secrets = parse_secrets(json.dumps({"4": {
        "secret": secret, "previous": previous,
        "previous_expires_at": iso(time.time() - 60)}}).encode())
    (created,), _, _ = import_hooks(service, hooks, secrets)
    assert service.reveal_secret(created.id) == secret
    assert service.hook(created.id).previous_secret_expires_at is None
    assert service.secrets.get_optional(created.id, previous=True) is None
