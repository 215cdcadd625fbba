"""Interoperability with independent implementations, over real deliveries.

The third-party ``standardwebhooks`` library verifies ``webhook-signature`` with the
``whsec_`` secret, and the ``openssl`` command line reproduces ``X-Hook-Signature``
and the Standard Webhooks signature from the body bytes the receiver got.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hookadmin.core.service import HookService
from hookadmin.core.signing import standard_webhooks_secret
from tests.helpers import FIXTURES_DIR, run_until_idle
from tests.receiver import ReceivedRequest, Receiver

Make = Callable[..., Receiver]
UNICODE_JOB = FIXTURES_DIR / "job-failed-unicode.json"


def _openssl() -> str:
    path = shutil.which("openssl")
    assert path is not None, "the openssl command line is required (install openssl)"
    return path


def _openssl_hmac(key: str, data_file: Path, *, binary: bool = False) -> bytes:
    proc = subprocess.run([_openssl(), "dgst", "-sha256", "-hmac", key,
                           *(["-binary"] if binary else []), str(data_file)],
                          capture_output=True, check=True, timeout=30)
    if binary:
        return proc.stdout
    # OpenSSL 3 prints "HMAC-SHA2-256(FILE)= HEX", older versions "HMAC-SHA256(FILE)= HEX"
    return proc.stdout.decode("ascii").rsplit("=", 1)[1].strip().encode("ascii")


def _headers(request: ReceivedRequest) -> dict[str, str]:
    return {k: v for k, v in request.headers}


@pytest.fixture
def delivered(service: HookService, home: Path, make_receiver: Make
              ) -> tuple[HookService, int, ReceivedRequest]:
    """A real delivery of the Unicode job fixture, as the receiver recorded it."""
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    service.publish("job.failed", UNICODE_JOB.read_bytes())
    assert run_until_idle(home) == 1
    (request,) = receiver.wait_for_requests(1)
    assert request.body == UNICODE_JOB.read_bytes()  # the exact bytes
    assert not request.body.isascii()
    return service, hook.id, request


def test_standardwebhooks_library_verifies_a_real_delivery(
        delivered: tuple[HookService, int, ReceivedRequest]) -> None:
    service, hook_id, request = delivered
    whsec = standard_webhooks_secret(service.reveal_secret(hook_id))
    assert whsec.startswith("whsec_")
    parsed = Webhook(whsec).verify(request.body, _headers(request))
    assert parsed["status"] == "failed"
    with pytest.raises(WebhookVerificationError):
        Webhook(standard_webhooks_secret("6f" * 32)).verify(request.body, _headers(request))
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec).verify(request.body + b" ", _headers(request))


def test_standardwebhooks_library_accepts_old_and_new_secret_during_rotation(
        service: HookService, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"])
    old = service.reveal_secret(hook.id)
    new = service.reset_secret(hook.id)
    service.publish("job.failed", UNICODE_JOB.read_bytes())
    assert run_until_idle(home) == 1
    (request,) = receiver.wait_for_requests(1)
    for secret in (new, old):  # receivers on either secret accept the delivery
        Webhook(standard_webhooks_secret(secret)).verify(request.body, _headers(request))


def test_openssl_reproduces_both_signatures(
        delivered: tuple[HookService, int, ReceivedRequest], tmp_path: Path) -> None:
    service, hook_id, request = delivered
    secret = service.reveal_secret(hook_id)
    body_file = tmp_path / "body.bin"
    body_file.write_bytes(request.body)
    assert _openssl_hmac(secret, body_file).decode() == request.header("X-Hook-Signature")

    signed = tmp_path / "signed.bin"
    signed.write_bytes(f"{request.header('webhook-id')}.{request.header('webhook-timestamp')}."
                       .encode() + request.body)
    digest = _openssl_hmac(secret, signed, binary=True)
    assert request.header("webhook-signature") == "v1," + base64.b64encode(digest).decode()
