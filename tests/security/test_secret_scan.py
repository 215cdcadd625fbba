"""After a full run through the command line, no secret (current or replaced) is in
any file of the data directory, in any output but the explicit reveals, in the
worker's log output, or on the wire."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from tests.helpers import body, run_cli
from tests.receiver import Receiver, status
from tests.security.support import HEX64, run_main

Make = Callable[..., Receiver]
REVEALS = {("hooks", "secret"), ("hooks", "reset-secret")}


def secret_forms(secret: str) -> list[bytes]:
    """Every spelling of a secret worth looking for in bytes."""
    raw = bytes.fromhex(secret)
    ascii_ = secret.encode("ascii")
    return [ascii_, secret.upper().encode("ascii"), raw, base64.b64encode(ascii_),
            base64.b64encode(raw), base64.b64encode(ascii_).rstrip(b"="), secret[:32].encode()]


def leaks(data: bytes, secrets: Iterable[str]) -> list[str]:
    """Which secrets appear in ``data`` in any of their forms."""
    return [s for s in secrets if any(form in data for form in secret_forms(s))]


def test_the_scan_finds_a_secret_when_there_is_one(tmp_path: Path) -> None:
    secret = "a1" * 32
    assert leaks(b"x" + bytes.fromhex(secret) + b"y", [secret]) == [secret]
    assert leaks(b"key=whsec_" + base64.b64encode(secret.encode()), [secret]) == [secret]
    assert leaks(secret.upper().encode(), [secret]) == [secret]
    assert leaks(b"nothing here", [secret]) == []


@pytest.mark.slow
def test_no_secret_leaks_anywhere_after_a_full_cli_run(home: Path, tmp_path: Path,
                                                       make_receiver: Make) -> None:
    ok = make_receiver()
    failing = make_receiver(status(500))
    runs: list[tuple[tuple[str, ...], subprocess.CompletedProcess[str]]] = []

    def cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        # The worker runs as its own process (its whole stderr is captured, logging's
        # included); the other commands run in-process, which is much faster.
        result = run_cli(*args, home=home, timeout=90) if args[0] == "worker" \
            else run_main(*args, home=home)
        assert result.returncode == expect, (args, result.stderr)
        runs.append((args, result))
        return result

    resource = tmp_path / "job.json"
    resource.write_bytes(body("job.failed"))
    cli("hooks", "add", "--url", ok.url, "--event", "job", "--name", "ok")
    cli("hooks", "add", "--url", failing.url + "?token=t0k", "--event", "job")
    first = cli("hooks", "secret", "1").stdout.strip()
    other = cli("hooks", "secret", "2").stdout.strip()
    cli("ping", "1")
    cli("ping", "1", "--json")
    cli("ping", "2", expect=1)
    cli("publish", "job.failed", "--resource", str(resource))
    worker_1 = cli("worker", "--until-idle")
    new = cli("hooks", "reset-secret", "1").stdout.strip()
    cli("publish", "job.failed", "--resource", str(resource))
    worker_2 = cli("worker", "--until-idle")
    export = tmp_path / "export.json"
    cli("hooks", "export", str(export))
    cli("hooks", "export")
    cli("hooks", "list", "--json")
    cli("hooks", "show", "1")
    cli("hooks", "show", "2", "--json")
    cli("deliveries", "--json")
    secrets = [first, other, new]
    assert all(HEX64.fullmatch(s) for s in secrets)
    assert len(set(secrets)) == 3

    # The run did what it should: deliveries with both secrets, and a failing one.
    assert "hook 1 job.failed attempt 1: 200" in worker_1.stderr
    assert "hook 2 job.failed attempt 1: 500" in worker_1.stderr
    assert "hook 1 job.failed attempt 1: 200" in worker_2.stderr
    assert len(ok.requests()) == 4  # two pings and two deliveries
    assert len(str(ok.requests()[-1].header("webhook-signature")).split()) == 2  # rotation

    # Outputs: only the explicit reveals show a secret, and only their own.
    for args, result in runs:
        output = (result.stdout + result.stderr).encode()
        if args[:2] in REVEALS:
            assert result.stdout.strip() in secrets
            assert leaks(output, [s for s in secrets if s != result.stdout.strip()]) == []
        else:
            assert leaks(output, secrets) == [], args
    assert leaks((worker_1.stderr + worker_2.stderr).encode(), secrets) == []

    # Files: every file of the data directory, read as bytes (database, -wal, -shm...).
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" or p.name.endswith(".sqlite3") or "db" in p.name
               for p in files), files
    for path in [*files, export]:
        assert leaks(path.read_bytes(), secrets) == [], path
    # The wire: receivers get signatures, never a secret.
    for receiver in (ok, failing):
        for request in receiver.requests():
            wire = request.body + "".join(f"{k}: {v}\n" for k, v in request.headers).encode()
            assert leaks(wire, secrets) == []
