"""mTLS: a hook presents a client certificate to a real HTTPS receiver (its own
process) that requires one signed by a private CA (trustme)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from hookadmin.core.service import HookService
from tests.helpers import body, run_until_idle
from tests.receiver import Receiver
from tests.security.support import one_line_error, run_main
from tests.security.test_tls import ONE_TRY

PASSPHRASE = "client-key-Passphrase-7"


@dataclass(frozen=True)
class MtlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    encrypted_key: Path
    stranger_cert: Path
    stranger_key: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> MtlsFiles:
    folder = tmp_path_factory.mktemp("mtls")
    ca, other_ca = trustme.CA(), trustme.CA()
    out = MtlsFiles(*(folder / n for n in ("ca.pem", "server.pem", "server.key",
                                            "client.pem", "client.key", "client-enc.key",
                                            "stranger.pem", "stranger.key")))
    ca.cert_pem.write_to_path(str(out.ca))
    for issuer, names, cert, key in (
            (ca, ("localhost", "127.0.0.1"), out.server_cert, out.server_key),
            (ca, ("etl-hooks@example.com",), out.client_cert, out.client_key),
            (other_ca, ("stranger@example.com",), out.stranger_cert, out.stranger_key)):
        leaf = issuer.issue_cert(*names)
        leaf.private_key_pem.write_to_path(str(key))
        cert.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    private = serialization.load_pem_private_key(out.client_key.read_bytes(), password=None)
    out.encrypted_key.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    return out


@pytest.fixture(scope="module")
def receiver(files: MtlsFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    made = Receiver(tmp_path_factory.mktemp("mtls-receiver"),
                    tls=(files.server_cert, files.server_key), client_ca=files.ca).start()
    yield made
    made.stop()


def _add(home: Path, receiver: Receiver, files: MtlsFiles, *extra: str) -> int:
    result = run_main("hooks", "add", "--url", receiver.url, "--event", "job",
                      "--ca-bundle", str(files.ca), *extra, "--json", home=home)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["id"])


def _deliver(service: HookService, home: Path, hook_id: int) -> tuple[str, str | None]:
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, ONE_TRY)
    delivery = service.store.list_deliveries(hook_id=hook_id, limit=1)[0]
    (attempt,) = service.store.list_attempts(delivery.seq)
    return delivery.status, attempt.error_kind


def test_a_hook_with_the_client_certificate_is_let_in(
        service: HookService, home: Path, receiver: Receiver, files: MtlsFiles) -> None:
    before = len(receiver.requests())
    hook_id = _add(home, receiver, files, "--client-cert", str(files.client_cert),
                   "--client-key", str(files.client_key))
    assert _deliver(service, home, hook_id) == ("succeeded", None)
    assert len(receiver.requests()) == before + 1
    assert run_main("ping", str(hook_id), home=home).returncode == 0


def test_an_encrypted_key_opens_with_its_passphrase_from_the_keyring(
        service: HookService, home: Path, tmp_path: Path, receiver: Receiver,
        files: MtlsFiles) -> None:
    passphrase = tmp_path / "pass"
    passphrase.write_text(PASSPHRASE + "\n")
    hook_id = _add(home, receiver, files, "--client-cert", str(files.client_cert),
                   "--client-key", str(files.encrypted_key),
                   "--client-key-passphrase-file", str(passphrase))
    assert _deliver(service, home, hook_id) == ("succeeded", None)
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSPHRASE.encode() not in path.read_bytes()


def test_without_a_certificate_or_with_a_strangers_the_receiver_refuses(
        service: HookService, home: Path, receiver: Receiver, files: MtlsFiles) -> None:
    before = len(receiver.requests())
    bare = _add(home, receiver, files)
    stranger = _add(home, receiver, files, "--client-cert", str(files.stranger_cert),
                    "--client-key", str(files.stranger_key))
    assert _deliver(service, home, bare)[0] == "failed"
    assert _deliver(service, home, stranger)[0] == "failed"
    assert len(receiver.requests()) == before


@pytest.mark.parametrize(("which", "message"), [
    ("missing", "does not exist"),
    ("not-pem", "cannot be used"),
    ("wrong-pass", "cannot be used"),
    ("no-pass", "cannot be used"),
    ("key-only", "together"),
])
def test_an_unusable_certificate_or_key_is_refused_at_save(
        home: Path, tmp_path: Path, files: MtlsFiles, which: str, message: str) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    args = {
        "missing": ["--client-cert", str(tmp_path / "nope.pem"), "--client-key",
                    str(files.client_key)],
        "not-pem": ["--client-cert", str(files.client_cert), "--client-key", str(junk)],
        "wrong-pass": ["--client-cert", str(files.client_cert), "--client-key",
                       str(files.encrypted_key), "--client-key-passphrase-file", str(wrong)],
        "no-pass": ["--client-cert", str(files.client_cert), "--client-key",
                    str(files.encrypted_key)],
        "key-only": ["--client-key", str(files.client_key)],
    }[which]
    result = run_main("hooks", "add", "--url", "https://127.0.0.1:9/h", *args, home=home)
    assert result.returncode == 2
    assert message in one_line_error(result.stderr)
    assert run_main("hooks", "list", "--json", home=home).stdout.strip() == "[]"
