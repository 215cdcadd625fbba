"""TLS to a real HTTPS receiver whose certificate comes from a private CA (trustme).

The receiver is tests/receiver.py in its own process, serving HTTPS with a
certificate for ``localhost`` and ``127.0.0.1``. hookadmin refuses it by default,
trusts it when the hook names the CA bundle, skips verification only when asked,
and refuses unusable CA bundle files when the hook is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.service import HookService
from hookadmin.core.signing import sign
from hookadmin.core.store import Attempt
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import body, db_rows, run_until_idle
from tests.receiver import Receiver
from tests.security.support import TLSFiles, make_tls_files, one_line_error, run_main

ONE_TRY = DeliverySettings(retry_schedule=(0,), jitter=0, connect_timeout=5.0,
                           attempt_timeout=10.0, poll_interval=0.02)
UNTRUSTED = ("The receiver's TLS certificate was not accepted (unable to get local issuer "
             "certificate); fix the certificate or trust its CA.")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_receiver(tls: TLSFiles, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[Receiver]:
    """An HTTPS receiver with a certificate for localhost and 127.0.0.1 (module-wide:
    tests compare request counts before and after)."""
    receiver = Receiver(tmp_path_factory.mktemp("https-receiver"),
                        tls=(tls.cert, tls.key)).start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def other_name_receiver(tls: TLSFiles, tmp_path_factory: pytest.TempPathFactory
                        ) -> Iterator[Receiver]:
    """An HTTPS receiver whose certificate (same CA) is for other.example only."""
    receiver = Receiver(tmp_path_factory.mktemp("other-receiver"),
                        tls=(tls.other_cert, tls.other_key)).start()
    yield receiver
    receiver.stop()


def _deliver_one(service: HookService, home: Path, hook_id: int) -> tuple[str, Attempt]:
    """Publish one event, run the engine once; the hook's delivery status and attempt."""
    service.publish("job.failed", body("job.failed"))
    run_until_idle(home, ONE_TRY)
    delivery = service.store.list_deliveries(hook_id=hook_id, limit=1)[0]
    return delivery.status, service.store.list_attempts(delivery.seq)[-1]


def test_receiver_serves_https_with_the_private_ca(https_receiver: Receiver,
                                                   tls: TLSFiles) -> None:
    assert https_receiver.url.startswith("https://127.0.0.1:")
    assert tls.ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_a_certificate_from_an_unknown_ca_is_refused_by_default(
        service: HookService, home: Path, https_receiver: Receiver) -> None:
    before = len(https_receiver.requests())
    hook = service.create_hook(url=https_receiver.url, events=["job"])
    named = service.create_hook(url=https_receiver.url.replace("127.0.0.1", "localhost"),
                                events=["job"])
    status, attempt = _deliver_one(service, home, hook.id)
    assert (status, attempt.error_kind, attempt.status_code) == ("failed", "tls", None)
    assert attempt.error_message == UNTRUSTED
    delivery = service.store.list_deliveries(hook_id=named.id)[0]
    assert delivery.last_error_kind == "tls"
    assert len(https_receiver.requests()) == before  # nothing was sent


def test_the_hooks_ca_bundle_makes_the_certificate_trusted(
        service: HookService, home: Path, https_receiver: Receiver, tls: TLSFiles) -> None:
    before = len(https_receiver.requests())
    hook = service.create_hook(url=https_receiver.url, events=["job"])
    edited = run_main("hooks", "edit", str(hook.id), "--ca-bundle", str(tls.ca), home=home)
    assert edited.returncode == 0, edited.stderr
    assert f"TLS:      also trusts the CAs in {tls.ca.resolve()}" in edited.stdout
    shown = run_main("hooks", "show", str(hook.id), "--json", home=home)
    assert f'"ca_bundle": "{tls.ca.resolve()}"' in shown.stdout
    status, attempt = _deliver_one(service, home, hook.id)
    assert (status, attempt.status_code, attempt.error_kind) == ("succeeded", 200, None)
    (request,) = https_receiver.wait_for_requests(before + 1)[before:]
    assert request.body == body("job.failed")
    assert request.header("X-Hook-Signature") == sign(service.reveal_secret(hook.id),
                                                      request.body)
    # The bundle is added to the system's CAs for this hook only.
    other = service.create_hook(url=https_receiver.url, events=["job"])
    assert _deliver_one(service, home, other.id)[1].error_kind == "tls"
    # Removing the bundle ('') makes the certificate untrusted again.
    assert run_main("hooks", "edit", str(hook.id), "--ca-bundle", "",
                    home=home).returncode == 0
    assert service.hook(hook.id).ca_bundle is None
    assert _deliver_one(service, home, hook.id)[1].error_kind == "tls"


def test_ca_bundle_given_when_the_hook_is_added(service: HookService, home: Path,
                                               https_receiver: Receiver,
                                               tls: TLSFiles) -> None:
    added = run_main("hooks", "add", "--url", https_receiver.url.replace("127.0.0.1",
                                                                         "localhost"),
                     "--event", "job", "--ca-bundle", str(tls.ca), home=home)
    assert added.returncode == 0, added.stderr
    assert _deliver_one(service, home, 1)[0] == "succeeded"


def test_a_bundle_of_another_ca_does_not_help(service: HookService, home: Path,
                                             https_receiver: Receiver,
                                             tls: TLSFiles) -> None:
    hook = service.create_hook(url=https_receiver.url, events=["job"],
                               ca_bundle=str(tls.unrelated_ca))
    status, attempt = _deliver_one(service, home, hook.id)
    assert (status, attempt.error_kind) == ("failed", "tls")
    assert attempt.error_message == UNTRUSTED


def test_the_host_name_is_still_checked_with_a_ca_bundle(
        service: HookService, home: Path, other_name_receiver: Receiver,
        tls: TLSFiles) -> None:
    hook = service.create_hook(url=other_name_receiver.url, events=["job"],
                               ca_bundle=str(tls.ca))
    status, attempt = _deliver_one(service, home, hook.id)
    assert (status, attempt.error_kind) == ("failed", "tls")
    assert attempt.error_message is not None
    assert attempt.error_message.startswith("The receiver's TLS certificate was not accepted")
    assert "127.0.0.1" in attempt.error_message  # "not valid for '127.0.0.1'"
    assert other_name_receiver.requests() == []


def test_insecure_ssl_skips_verification(service: HookService, home: Path,
                                         https_receiver: Receiver) -> None:
    before = len(https_receiver.requests())
    hook = service.create_hook(url=https_receiver.url, events=["job"])
    edited = run_main("hooks", "edit", str(hook.id), "--insecure-ssl", home=home)
    assert edited.returncode == 0
    assert "certificates are NOT verified" in edited.stdout
    assert _deliver_one(service, home, hook.id)[0] == "succeeded"
    assert len(https_receiver.wait_for_requests(before + 1)) == before + 1
    assert run_main("hooks", "edit", str(hook.id), "--verify-ssl", home=home).returncode == 0
    assert _deliver_one(service, home, hook.id)[1].error_kind == "tls"
    added = run_main("hooks", "add", "--url", https_receiver.url, "--insecure-ssl",
                     "--event", "job", home=home)
    assert added.returncode == 0
    new_id = service.hooks()[-1].id
    assert _deliver_one(service, home, new_id)[0] == "succeeded"


def test_ping_names_the_certificate_problem(service: HookService, home: Path,
                                            https_receiver: Receiver, tls: TLSFiles) -> None:
    before = len(https_receiver.requests())
    hook = service.create_hook(url=https_receiver.url, events=["job"])
    result = run_main("ping", str(hook.id), home=home)
    assert result.returncode == 1
    assert result.stderr == f"hookadmin: ping failed: {UNTRUSTED}\n"
    assert len(https_receiver.requests()) == before
    service.edit_hook(hook.id, ca_bundle=str(tls.ca))
    assert run_main("ping", str(hook.id), home=home).returncode == 0
    assert len(https_receiver.wait_for_requests(before + 1)) == before + 1


def _bad_bundles(folder: Path, tls: TLSFiles) -> dict[str, tuple[Path, str]]:
    garbage = folder / "garbage.pem"
    garbage.write_bytes(b"this is not a certificate\n\x00\xff")
    empty = folder / "empty.pem"
    empty.write_bytes(b"")
    truncated = folder / "truncated.pem"
    truncated.write_bytes(tls.ca.read_bytes()[:200])
    return {
        "missing": (folder / "missing.pem", "does not exist"),
        "garbage": (garbage, "holds no usable PEM certificate"),
        "empty": (empty, "holds no usable PEM certificate"),
        "truncated": (truncated, "holds no usable PEM certificate"),
        "a private key": (tls.key, "holds no usable PEM certificate"),
        "a directory": (folder, "holds no usable PEM certificate"),
    }


def test_unusable_ca_bundles_are_refused_when_the_hook_is_saved(
        home: Path, tmp_path: Path, tls: TLSFiles) -> None:
    bad = _bad_bundles(tmp_path, tls)
    for name, (path, fragment) in bad.items():
        result = run_main("hooks", "add", "--url", "https://example.com/h",
                          "--ca-bundle", str(path), home=home)
        assert result.returncode == 2, name
        line = one_line_error(result.stderr)
        assert fragment in line, name
        assert str(path.resolve()) in line
        assert result.stdout == ""
    assert db_rows(home, "SELECT count(*) FROM hooks") == [(0,)]
    assert run_main("hooks", "add", "--url", "https://example.com/h", "--ca-bundle",
                    str(tls.ca), home=home).returncode == 0
    for name, (path, fragment) in bad.items():
        result = run_main("hooks", "edit", "1", "--ca-bundle", str(path), home=home)
        assert result.returncode == 2, name
        assert fragment in one_line_error(result.stderr)
    assert db_rows(home, "SELECT ca_bundle FROM hooks") == [(str(tls.ca.resolve()),)]


def test_a_ca_bundle_removed_after_saving_fails_the_attempt_clearly(
        service: HookService, home: Path, https_receiver: Receiver, tls: TLSFiles,
        tmp_path: Path) -> None:
    before = len(https_receiver.requests())
    bundle = tmp_path / "ca-copy.pem"
    bundle.write_bytes(tls.ca.read_bytes())
    hook = service.create_hook(url=https_receiver.url, events=["job"], ca_bundle=str(bundle))
    bundle.unlink()
    status, attempt = _deliver_one(service, home, hook.id)
    assert (status, attempt.error_kind) == ("failed", "tls")
    assert attempt.error_message is not None
    assert str(bundle) in attempt.error_message
    assert "\n" not in attempt.error_message
    assert len(https_receiver.requests()) == before

