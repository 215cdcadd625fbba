"""Export and import of hooks, with secrets only when asked (real keyring)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.service import HookService
from hookadmin.core.transfer import import_hooks, parse_export, parse_secrets
from tests.helpers import run_cli


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
    with HookService(other) as target:
        assert len(target.hooks()) == 2


def test_import_without_secrets_makes_new_ones(service: HookService, tmp_path: Path) -> None:
    _two_hooks(service)
    hooks = parse_export(json.dumps([h.to_json() for h in service.hooks()]).encode())
    with HookService(tmp_path / "b") as target:
        created, skipped = import_hooks(target, hooks)
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
    assert parse_secrets(json.dumps({"3": f"  {good}\n"}).encode()) == {"3": good}
    with pytest.raises(InputError, match="Secret of hook 3"):
        parse_secrets(json.dumps({"3": "ab cd"}).encode())
    with pytest.raises(InputError, match="JSON object"):
        parse_secrets(b"[]")
