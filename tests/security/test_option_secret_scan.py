"""The secret scan, for option secrets: a hook of every type with a distinctive value in
each of its option secrets (the Slack URL's token, a routing key, a basic-auth password,
a secret header value, an SMTP password, a hook's (``https://``) and the global proxy's
passwords, a client key's passphrase), run through the command line: none of them is in any output
(``--json`` included), the worker's log, the audit log, the delivery log and its error
messages, an export without ``--secrets``, or any file of the data directory."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from tests.forward_proxy import ForwardProxy
from tests.helpers import body, run_cli
from tests.receiver import Receiver, ok, status
from tests.security.support import TLSFiles, make_tls_files, run_main
from tests.smtp_server import SmtpServer

Make = Callable[..., Receiver]
SLACK_TOKEN = "T0SCAN/B0SCAN/slackSCANtoken00001"
ROUTING = "routingSCANkey0000000000000001"
BASIC = "basicSCANpass0001"
HEADER = "headerSCANvalue0001"
SMTP = "smtpSCANpass0001"
HOOK_PROXY = "hookproxySCANpass0001"
GLOBAL_PROXY = "globalproxySCANpass0001"
PASSPHRASE = "keySCANpassphrase0001"
SECRETS = (SLACK_TOKEN, ROUTING, BASIC, HEADER, SMTP, HOOK_PROXY, GLOBAL_PROXY, PASSPHRASE)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                   "no_proxy")


def forms(secret: str) -> list[bytes]:
    """Every spelling of an option secret worth looking for: as it is, in base64 (a
    basic-auth or proxy token carries ``user:password`` so), URL-quoted."""
    raw = secret.encode()
    out = [raw, base64.b64encode(raw).rstrip(b"="), secret.replace("/", "%2F").encode()]
    for user in ("alice", "relay", "gate"):
        out.append(base64.b64encode(f"{user}:{secret}".encode()).rstrip(b"="))
    return out


def leaks(data: bytes, secrets: Iterable[str] = SECRETS) -> list[str]:
    """Which option secrets appear in ``data``."""
    return [s for s in secrets if any(f in data for f in forms(s))]


def test_the_scan_finds_an_option_secret_when_there_is_one() -> None:
    token = base64.b64encode(f"alice:{BASIC}".encode())
    assert leaks(b"Authorization: Basic " + token) == [BASIC]
    assert leaks(f"https://hooks.slack.com/services/{SLACK_TOKEN}".encode()) == [SLACK_TOKEN]
    assert leaks(b"nothing") == []


@pytest.fixture
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls_files(tmp_path / "tls")


@pytest.fixture
def proxies(tmp_path: Path, tls: TLSFiles) -> Iterator[tuple[ForwardProxy, ForwardProxy]]:
    """The web hook's own ``https://`` proxy, and the global ``http://`` one."""
    own = ForwardProxy(tmp_path, user="relay", password=HOOK_PROXY, tls=(tls.cert, tls.key))
    shared = ForwardProxy(tmp_path, user="gate", password=GLOBAL_PROXY)
    yield own, shared
    own.stop()
    shared.stop()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path, user="mailer", password=SMTP)
    yield server
    server.stop()


def _client_files(folder: Path) -> tuple[Path, Path]:
    leaf = trustme.CA().issue_cert("etl-hooks@example.com")
    cert, key = folder / "client.pem", folder / "client-enc.key"
    cert.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    private = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    key.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    return cert, key


@pytest.mark.slow
def test_no_option_secret_leaks_after_a_full_cli_run(
        home: Path, tmp_path: Path, make_receiver: Make, smtp: SmtpServer, tls: TLSFiles,
        proxies: tuple[ForwardProxy, ForwardProxy], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    own_proxy, shared_proxy = proxies
    receiver = make_receiver(ok())
    failing = make_receiver(status(500))
    runs: list[tuple[tuple[str, ...], subprocess.CompletedProcess[str]]] = []

    def cli(*args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = run_cli(*args, home=home, timeout=90) if args[0] == "worker" \
            else run_main(*args, home=home)
        if expect is not None:
            assert result.returncode == expect, (args, result.stderr)
        runs.append((args, result))
        return result

    def secret_file(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text + "\n")
        return str(path)

    cert, key = _client_files(tmp_path)
    cli("settings", "--proxy", shared_proxy.url.replace("http://", f"http://gate:{GLOBAL_PROXY}@"))
    cli("hooks", "add", "--type", "slack", "--event", "job",
        "--url", receiver.url_for(f"/services/{SLACK_TOKEN}"))
    cli("hooks", "add", "--type", "slack", "--event", "job",  # a dead port: error messages
        "--url", f"http://127.0.0.1:9/services/{SLACK_TOKEN}")
    cli("hooks", "add", "--type", "pagerduty", "--url", failing.url_for("/v2/enqueue"),
        "--routing-key-file", secret_file("routing.txt", ROUTING))
    cli("hooks", "add", "--url", receiver.url, "--event", "job",
        "--basic-auth-file", secret_file("auth.txt", f"alice:{BASIC}"),
        "--secret-header", f"X-Api-Key: {HEADER}", "--header", "X-Team: data",
        "--proxy", own_proxy.url.replace("https://", f"https://relay:{HOOK_PROXY}@"),
        "--ca-bundle", str(tls.ca),
        "--client-cert", str(cert), "--client-key", str(key),
        "--client-key-passphrase-file", secret_file("pass.txt", PASSPHRASE))
    cli("hooks", "add", "--type", "email", "--event", "job", "--to", "ops@example.com",
        "--smtp", f"smtp://mailer@127.0.0.1:{smtp.port}",
        "--smtp-password-file", secret_file("smtp.txt", SMTP))
    for hook_id in ("1", "2", "3", "4", "5"):
        cli("ping", hook_id, expect=None)
        cli("ping", hook_id, "--json", expect=None)
    resource = tmp_path / "job.json"
    resource.write_bytes(body("job.failed"))
    cli("publish", "job.failed", "--resource", str(resource))
    worker = cli("worker", "--until-idle", expect=None)
    cli("hooks", "edit", "4", "--secret-header", f"X-Api-Key: {HEADER}")
    export = tmp_path / "export.json"
    cli("hooks", "export", str(export))
    cli("hooks", "export")
    cli("hooks", "list", "--json")
    cli("hooks", "list")
    for hook_id in ("1", "2", "3", "4", "5"):
        cli("hooks", "show", hook_id)
        cli("hooks", "show", hook_id, "--json")
    cli("settings")
    cli("audit")
    cli("audit", "--json")
    listed = json.loads(cli("deliveries", "--json").stdout)
    for delivery in listed:
        cli("deliveries", "show", delivery["id"])
        cli("deliveries", "show", delivery["id"], "--json")

    # The run did what it should: every hook was tried, through its proxy.
    assert len(listed) >= 10
    assert receiver.requests()
    assert any(r["authorized"] for r in own_proxy.requests())
    assert any(r["authorized"] for r in shared_proxy.requests())
    assert smtp.messages()
    errors = [a["error"] for d in listed for a in json.loads(
        run_main("deliveries", "show", d["id"], "--json", home=home).stdout)["attempts"]
        if a["error"]]
    assert errors  # the dead port and the 500s: error messages were written

    for args, result in runs:
        assert leaks((result.stdout + result.stderr).encode()) == [], args
    assert leaks(worker.stderr.encode()) == []
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files
    for path in [*files, export]:
        assert leaks(path.read_bytes()) == [], path
