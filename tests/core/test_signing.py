"""Signatures (DESIGN.md §3), checked against values computed here from the raw bytes
of every file in tests/fixtures with hmac/hashlib/base64 directly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path

import pytest

import hookadmin
from hookadmin.core import signing
from hookadmin.core.errors import InputError
from tests.helpers import FIXTURES_DIR

SECRET = "5f0c3a6b9d2e4f718293a4b5c6d7e8f90112233445566778899aabbccddeeff0"
OTHER_SECRET = "0" * 64
DELIVERY_ID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
TIMESTAMP = 1_795_000_000
ALL_FIXTURES = sorted(p for p in FIXTURES_DIR.iterdir() if p.is_file())


def _hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("ascii"), body, hashlib.sha256).hexdigest()


def test_every_fixture_is_covered() -> None:
    names = {p.name for p in ALL_FIXTURES}
    assert "job-failed-unicode.json" in names
    assert len([n for n in names if n.endswith(".json")]) >= 4


def test_rfc4231_known_answer() -> None:
    # RFC 4231 test case 2: HMAC-SHA256(key="Jefe", data="what do ya want for nothing?").
    assert signing.sign("Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_sign_matches_hmac_over_the_raw_file_bytes(fixture: Path) -> None:
    body = fixture.read_bytes()
    signature = signing.sign(SECRET, body)
    assert signature == _hex_hmac(SECRET, body)
    assert re.fullmatch(r"[0-9a-f]{64}", signature)
    assert signing.sign(OTHER_SECRET, body) != signature


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_standard_webhooks_signature(fixture: Path) -> None:
    body = fixture.read_bytes()
    signed = DELIVERY_ID.encode() + b"." + str(TIMESTAMP).encode() + b"." + body
    digest = hmac.new(SECRET.encode("ascii"), signed, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    assert signing.sign_standard(SECRET, DELIVERY_ID, TIMESTAMP, body) == expected
    # A receiver using a Standard Webhooks library is configured with whsec_<base64 key>.
    whsec = signing.standard_webhooks_secret(SECRET)
    assert whsec.startswith("whsec_")
    key = base64.b64decode(whsec.removeprefix("whsec_"))
    assert key == SECRET.encode("ascii")
    lib_side = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert expected == f"v1,{lib_side}"


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_delivery_headers(fixture: Path) -> None:
    body = fixture.read_bytes()
    headers = signing.delivery_headers(secret=SECRET, event_type="job.failed",
                                       delivery_id=DELIVERY_ID, timestamp=TIMESTAMP, body=body)
    signed = f"{DELIVERY_ID}.{TIMESTAMP}.".encode() + body
    std = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": f"hookadmin/{hookadmin.__version__}",
        "X-Hook-Event": "job.failed",
        "X-Hook-Delivery": DELIVERY_ID,
        "X-Hook-Signature": _hex_hmac(SECRET, body),
        "webhook-id": DELIVERY_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": f"v1,{std}",
    }


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_a_signer_sends_the_same_headers_for_every_delivery_it_signs(fixture: Path) -> None:
    # The engine's signer prepares the key once and signs many deliveries with it: each
    # must carry exactly the headers delivery_headers makes, whatever was signed before.
    body = fixture.read_bytes()
    signer = signing.Signer(SECRET)
    for n, (delivery_id, timestamp, payload) in enumerate([
            (DELIVERY_ID, TIMESTAMP, body), ("0" * 36, 0, b""), (DELIVERY_ID, TIMESTAMP, body),
            ("ffffffff-ffff-4fff-bfff-ffffffffffff", TIMESTAMP + 1, body + b" ")]):
        event_type = "job.failed" if n % 2 else "cluster.error"
        assert signer.headers(event_type=event_type, delivery_id=delivery_id,
                              timestamp=timestamp, body=payload) \
            == signing.delivery_headers(secret=SECRET, event_type=event_type,
                                        delivery_id=delivery_id, timestamp=timestamp,
                                        body=payload)
        # ...and its signatures are those of the one-off functions, computed afresh.
        made = signer.headers(event_type=event_type, delivery_id=delivery_id,
                              timestamp=timestamp, body=payload)
        assert made["X-Hook-Signature"] == _hex_hmac(SECRET, payload) \
            == signing.sign(SECRET, payload)
        assert made["webhook-signature"] == signing.sign_standard(
            SECRET, delivery_id, timestamp, payload)
    headers = signer.headers(event_type="job.failed", delivery_id=DELIVERY_ID,
                             timestamp=TIMESTAMP, body=body)
    assert signing.verify_signature(body, SECRET, headers["X-Hook-Signature"])
    assert signing.verify_standard(body, SECRET, DELIVERY_ID, str(TIMESTAMP),
                                   headers["webhook-signature"], now=TIMESTAMP)
    assert signing.Signer(OTHER_SECRET).headers(
        event_type="job.failed", delivery_id=DELIVERY_ID, timestamp=TIMESTAMP,
        body=body)["X-Hook-Signature"] != headers["X-Hook-Signature"]


def test_a_signer_refuses_a_non_ascii_secret_as_sign_does() -> None:
    with pytest.raises(UnicodeEncodeError):
        signing.sign("é" * 64, b"{}")
    with pytest.raises(UnicodeEncodeError):
        signing.Signer("é" * 64)


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_verify_signature_accepts_the_right_signature(fixture: Path) -> None:
    body = fixture.read_bytes()
    good = _hex_hmac(SECRET, body)
    assert signing.verify_signature(body, SECRET, good) is True
    assert signing.verify_signature(body, SECRET, good.upper()) is True
    assert signing.verify_signature(body, f"  {SECRET}\n", good) is True  # pasted secret
    assert hookadmin.verify_signature(body, SECRET, good) is True  # the public wrapper


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_verify_signature_rejects_a_changed_body_or_other_secret(fixture: Path) -> None:
    body = fixture.read_bytes()
    good = _hex_hmac(SECRET, body)
    assert signing.verify_signature(body, OTHER_SECRET, good) is False
    assert signing.verify_signature(body + b" ", SECRET, good) is False
    assert signing.verify_signature(body.replace(b"\n", b"\r\n"), SECRET, good) is False
    assert hookadmin.verify_signature(body, OTHER_SECRET, good) is False


def test_verify_signature_survives_a_non_utf8_body() -> None:
    body = b"\xff\xfe{not json}\x00"
    assert signing.verify_signature(body, SECRET, _hex_hmac(SECRET, body)) is True


BODY = b'{"id": 1}'
GOOD = _hex_hmac(SECRET, BODY)


@pytest.mark.parametrize("signature", [
    "",
    GOOD[:-1],  # 63 characters
    GOOD + "0",  # 65 characters
    "sha256=" + GOOD,  # a prefix GitHub uses, not ours
    "v1," + GOOD,
    GOOD[:-1] + "g",  # not hex
    " " + GOOD,
    GOOD[:-1] + "é",  # non-ASCII
    "０" * 64,  # full-width digits
    "\x00" * 64,
    "0" * 64,
])
def test_verify_signature_rejects_malformed_values(signature: str) -> None:
    assert signing.verify_signature(BODY, SECRET, signature) is False


def test_verify_signature_rejects_a_non_ascii_secret_without_raising() -> None:
    assert signing.verify_signature(BODY, "sécret", GOOD) is False


def test_new_secret_is_64_lowercase_hex_and_fresh_each_time() -> None:
    secrets = [signing.new_secret() for _ in range(200)]
    for secret in secrets:
        assert re.fullmatch(r"[0-9a-f]{64}", secret)
        assert len(bytes.fromhex(secret)) == 32
    assert len(set(secrets)) == len(secrets)


def test_check_secret_strips_surrounding_whitespace() -> None:
    assert signing.check_secret(f"\t {SECRET} \r\n") == SECRET


@pytest.mark.parametrize(("given", "fragment"), [
    (SECRET[:32] + " " + SECRET[32:], "whitespace inside"),
    (SECRET[:32] + "\n" + SECRET[32:], "whitespace inside"),
    (SECRET.upper(), "64 lowercase hex"),
    (SECRET[:-1], "64 lowercase hex"),
    (SECRET + "0", "64 lowercase hex"),
    ("z" * 64, "64 lowercase hex"),
    ("", "64 lowercase hex"),
])
def test_check_secret_rejects(given: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as info:
        signing.check_secret(given)
    assert info.value.field == "secret"
    assert given.strip() not in str(info.value) or not given.strip()
