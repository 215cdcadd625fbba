"""Receiver-side verification: hookadmin.verify_signature, Standard Webhooks with its
5-minute tolerance, and ``hookadmin verify``."""

from __future__ import annotations

import hmac
import time
from pathlib import Path
from typing import Any

import pytest

import hookadmin
from hookadmin.core.signing import (
    sign,
    sign_standard,
    standard_failure,
    standard_webhooks_secret,
    verify_signature,
    verify_standard,
)
from tests.helpers import run_cli
from tests.security.support import one_line_error, run_main

SECRET = "5f" * 32
BODY = '{"id":7,"status":"failed","errors":"Zoë’s job 東京"}'.encode()
GOOD = sign(SECRET, BODY)


def test_a_valid_signature_verifies() -> None:
    assert hookadmin.verify_signature(BODY, SECRET, GOOD) is True
    # Other bytes-like bodies work too (the annotation says bytes, the usual case).
    assert verify_signature(bytearray(BODY), SECRET, GOOD) is True  # type: ignore[arg-type]
    assert verify_signature(memoryview(BODY), SECRET, GOOD) is True  # type: ignore[arg-type]
    assert verify_signature(BODY, SECRET, GOOD.upper()) is True  # hex is case-blind
    assert verify_signature(BODY, f" {SECRET}\n", GOOD) is True  # as read from a file


@pytest.mark.parametrize(("body", "secret", "signature"), [
    (BODY, SECRET, ""),
    (BODY, SECRET, GOOD[:-1]),  # wrong length
    (BODY, SECRET, GOOD + "0"),
    (BODY, SECRET, GOOD[:32]),
    (BODY, SECRET, "sha256=" + GOOD),  # GitHub's prefixed form is not ours
    (BODY, SECRET, f" {GOOD}"),
    (BODY, SECRET, f"{GOOD}\n"),
    (BODY, SECRET, "g" * 64),
    (BODY, SECRET, GOOD[:-1] + "é"),  # non-ASCII
    (BODY, SECRET, "０" * 64),  # full-width digits
    (BODY, SECRET, "\x00" * 64),
    (BODY, SECRET, None),
    (BODY, SECRET, b"abc"),
    (BODY, SECRET, 12345),
    (BODY, SECRET, sign(SECRET, BODY + b" ")),  # a changed body
    (BODY + b"\n", SECRET, GOOD),
    (b"", SECRET, GOOD),
    (BODY, "6f" * 32, GOOD),  # another secret
    (BODY, "", sign("", BODY)),  # an empty secret never verifies anything
    (BODY, "   ", sign("", BODY)),
    (BODY, None, GOOD),
    (BODY, "sécret", GOOD),
    (BODY, 42, GOOD),
    (None, SECRET, sign(SECRET, b"")),  # None is not an empty body
    (BODY.decode(), SECRET, GOOD),  # text instead of the raw bytes
    (12, SECRET, GOOD),
])
def test_bad_input_returns_false_without_raising(body: Any, secret: Any,
                                                 signature: Any) -> None:
    assert verify_signature(body, secret, signature) is False
    assert hookadmin.verify_signature(body, secret, signature) is False


def test_comparison_is_constant_time_on_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    compare = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module signing.py uses
    assert verify_signature(BODY, SECRET, GOOD.upper()) is True
    assert verify_signature(BODY, SECRET, "0" * 64) is False
    assert len(calls) == 2
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


# -- Standard Webhooks ----------------------------------------------------------------

MSG_ID = "5b0c2c9e-4f4e-4c1e-9d6e-0a7f3c8b1d2e"
NOW = 1_800_000_000


def _standard(secret: str = SECRET, stamp: int = NOW) -> tuple[str, str]:
    return str(stamp), sign_standard(secret, MSG_ID, stamp, BODY)


@pytest.mark.parametrize("offset", [0, 1, -1, 299, -299, 300, -300])
def test_standard_signature_within_five_minutes_is_valid(offset: int) -> None:
    stamp, signature = _standard(stamp=NOW + offset)
    assert verify_standard(BODY, SECRET, MSG_ID, stamp, signature, now=NOW) is True
    whsec = standard_webhooks_secret(SECRET)
    assert verify_standard(BODY, whsec, MSG_ID, stamp, signature, now=NOW) is True


@pytest.mark.parametrize("offset", [301, -301, 3600, -86400])
def test_standard_signature_outside_five_minutes_is_invalid(offset: int) -> None:
    stamp, signature = _standard(stamp=NOW + offset)
    assert verify_standard(BODY, SECRET, MSG_ID, stamp, signature, now=NOW) is False


def test_standard_verification_defaults_to_the_current_time() -> None:
    now = int(time.time())
    stamp, signature = _standard(stamp=now)
    assert verify_standard(BODY, SECRET, MSG_ID, stamp, signature) is True
    stale, signature = _standard(stamp=now - 3600)
    assert verify_standard(BODY, SECRET, MSG_ID, stale, signature) is False


def test_any_of_several_signatures_may_match() -> None:
    stamp, mine = _standard()
    _, other = _standard(secret="6f" * 32)
    assert verify_standard(BODY, SECRET, MSG_ID, stamp, f"{other} {mine}", now=NOW)
    assert verify_standard(BODY, SECRET, MSG_ID, stamp, f"v1a,abc {mine}", now=NOW)
    assert not verify_standard(BODY, SECRET, MSG_ID, stamp, other, now=NOW)


@pytest.mark.parametrize(("body", "secret", "msg_id", "stamp", "signature"), [
    (BODY, SECRET, "another-id", str(NOW), _standard()[1]),
    (BODY + b" ", SECRET, MSG_ID, str(NOW), _standard()[1]),
    (BODY, SECRET, MSG_ID, str(NOW + 1), _standard()[1]),  # the stamp is signed too
    (BODY, SECRET, MSG_ID, "not-a-number", _standard()[1]),
    (BODY, SECRET, MSG_ID, "", _standard()[1]),
    (BODY, SECRET, MSG_ID, str(NOW), ""),
    (BODY, SECRET, MSG_ID, str(NOW), "v1,"),
    (BODY, SECRET, MSG_ID, str(NOW), "v1,not base64!"),
    (BODY, SECRET, MSG_ID, str(NOW), _standard()[1].replace("v1,", "v2,")),
    (BODY, SECRET, MSG_ID, str(NOW), _standard()[1][:-4]),
    (BODY, "whsec_", MSG_ID, str(NOW), sign_standard("", MSG_ID, NOW, BODY)),  # empty key
    (BODY, "", MSG_ID, str(NOW), sign_standard("", MSG_ID, NOW, BODY)),
    (BODY, "whsec_%%%", MSG_ID, str(NOW), _standard()[1]),
    (BODY, None, MSG_ID, str(NOW), _standard()[1]),
    (BODY, SECRET, None, str(NOW), _standard()[1]),
    (BODY, SECRET, MSG_ID, None, _standard()[1]),
    (BODY, SECRET, MSG_ID, str(NOW), None),
    (None, SECRET, MSG_ID, str(NOW), _standard()[1]),
    (BODY.decode(), SECRET, MSG_ID, str(NOW), _standard()[1]),
])
def test_bad_standard_input_returns_false_without_raising(
        body: Any, secret: Any, msg_id: Any, stamp: Any, signature: Any) -> None:
    assert verify_standard(body, secret, msg_id, stamp, signature, now=NOW) is False


# -- hookadmin verify -------------------------------------------------------------------

@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(f"  {SECRET}\n")  # as saved by an editor
    whsec_file = tmp_path / "whsec.txt"
    whsec_file.write_text(standard_webhooks_secret(SECRET) + "\n")
    body_file = tmp_path / "body.json"
    body_file.write_bytes(BODY)
    return {"secret": secret_file, "whsec": whsec_file, "body": body_file}


def test_verify_command_exit_status(files: dict[str, Path]) -> None:
    secret, body = str(files["secret"]), str(files["body"])
    valid = run_main("verify", "--secret-file", secret, "--signature", GOOD, body)
    assert (valid.returncode, valid.stdout, valid.stderr) == (0, "X-Hook-Signature: valid\n", "")
    invalid = run_main("verify", "--secret-file", secret, "--signature", "0" * 64, body)
    assert invalid.returncode == 1
    assert invalid.stdout.startswith("X-Hook-Signature: INVALID (signature mismatch")
    stamp = str(int(time.time()))
    standard = sign_standard(SECRET, MSG_ID, int(stamp), BODY)
    for key_file in (files["secret"], files["whsec"]):
        result = run_main("verify", "--secret-file", str(key_file), "--webhook-id", MSG_ID,
                          "--webhook-timestamp", stamp, "--webhook-signature", standard, body)
        assert (result.returncode, result.stdout) == (0, "webhook-signature: valid\n")
    old_stamp = str(int(stamp) - 600)
    stale = run_main("verify", "--secret-file", secret, "--webhook-id", MSG_ID,
                     "--webhook-timestamp", old_stamp, "--webhook-signature",
                     sign_standard(SECRET, MSG_ID, int(old_stamp), BODY), body)
    assert stale.returncode == 1
    assert stale.stdout.startswith("webhook-signature: INVALID (timestamp too old")
    both = run_main("verify", "--secret-file", secret, "--signature", GOOD, "--webhook-id",
                    MSG_ID, "--webhook-timestamp", old_stamp, "--webhook-signature",
                    sign_standard(SECRET, MSG_ID, int(old_stamp), BODY), body)
    assert both.returncode == 1  # every given signature must be valid


def test_verify_reads_the_body_from_standard_input(files: dict[str, Path]) -> None:
    # BODY_FILE defaults to "-"; a real process, so standard input is real too.
    result = run_cli("verify", "--secret-file", str(files["secret"]), "--signature", GOOD,
                     input=BODY)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "X-Hook-Signature: valid\n", "")


@pytest.mark.parametrize(("args", "fragment"), [
    (["--signature", GOOD, "{body}"], "required: --secret-file"),
    (["--secret-file", "{secret}", "{body}"], "Give --signature HEX"),
    (["--secret-file", "{secret}", "--signature", GOOD, "--webhook-id", MSG_ID, "{body}"],
     "together"),
    (["--secret-file", "{missing}", "--signature", GOOD, "{body}"],
     "Cannot read the secret file"),
    (["--secret-file", "{bad}", "--signature", GOOD, "{body}"], "64 lowercase hex"),
    (["--secret-file", "{inner}", "--signature", GOOD, "{body}"], "whitespace inside"),
    (["--secret-file", "{whsec}", "--signature", GOOD, "{body}"], "needs the hex secret"),
    (["--secret-file", "{secret}", "--signature", GOOD, "{missing}"],
     "Cannot read the body file"),
    (["--secret-file", "{secret}", "--signature", "zz", "{body}"], "64 hex characters"),
    (["--secret-file", "{secret}", "--signature", GOOD[:-1], "{body}"], "64 hex characters"),
    (["--secret-file", "{secret}", "--signature", "sha256=" + GOOD, "{body}"],
     "64 hex characters"),
    (["--secret-file", "{secret}", "--signature", GOOD[:-1] + "g", "{body}"],
     "64 hex characters"),
    (["--secret-file", "{badwhsec}", "--webhook-id", MSG_ID, "--webhook-timestamp", "1",
      "--webhook-signature", "v1,AAAA", "{body}"], "whsec_"),
])
def test_verify_usage_errors_exit_2_with_one_line(files: dict[str, Path], tmp_path: Path,
                                                  args: list[str], fragment: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("not-a-secret\n")
    inner = tmp_path / "inner.txt"
    inner.write_text(SECRET[:32] + " " + SECRET[32:] + "\n")
    bad_whsec = tmp_path / "bad-whsec.txt"
    bad_whsec.write_text("whsec_%%%\n")
    names = {**files, "bad": bad, "inner": inner, "missing": tmp_path / "missing.txt",
             "badwhsec": bad_whsec}
    result = run_main("verify", *[a.format(**{k: str(v) for k, v in names.items()})
                                  for a in args])
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert fragment in line
    assert SECRET[:32] not in line  # the secret is never echoed
    assert result.stdout == ""


def _verify_standard(files: dict[str, Path], stamp: int, signature: str,
                     msg_id: str = MSG_ID) -> tuple[int, str]:
    result = run_main("verify", "--secret-file", str(files["secret"]), "--webhook-id", msg_id,
                      "--webhook-timestamp", str(stamp), "--webhook-signature", signature,
                      str(files["body"]))
    assert result.stderr == ""
    return result.returncode, result.stdout


def test_verify_says_why_a_standard_signature_failed(files: dict[str, Path]) -> None:
    now = int(time.time())
    old, new = now - 3600, now + 3600
    code, out = _verify_standard(files, old, sign_standard(SECRET, MSG_ID, old, BODY))
    assert code == 1
    assert out.startswith("webhook-signature: INVALID (timestamp too old: ")
    assert "300 s" in out  # the tolerance
    assert "the signature itself matches" in out
    code, out = _verify_standard(files, new, sign_standard(SECRET, MSG_ID, new, BODY))
    assert code == 1
    assert out.startswith("webhook-signature: INVALID (timestamp too new: ")
    code, out = _verify_standard(files, now, sign_standard("6f" * 32, MSG_ID, now, BODY))
    assert (code, out.startswith("webhook-signature: INVALID (signature mismatch")) == (1, True)
    code, out = _verify_standard(files, now, sign_standard(SECRET, MSG_ID, now, BODY),
                                 msg_id="another-id")
    assert (code, out.startswith("webhook-signature: INVALID (signature mismatch")) == (1, True)
    for malformed in ("garbage", "v1,not base64!", "v2,AAAA", "v1,"):
        code, out = _verify_standard(files, now, malformed)
        assert code == 1
        assert out.startswith("webhook-signature: INVALID (malformed header"), malformed
    assert out.count("\n") == 1


def test_verify_says_why_an_x_hook_signature_failed(files: dict[str, Path]) -> None:
    result = run_main("verify", "--secret-file", str(files["secret"]), "--signature",
                      sign(SECRET, BODY + b"\n"), str(files["body"]))
    assert result.returncode == 1
    assert result.stdout.startswith("X-Hook-Signature: INVALID (signature mismatch: ")
    assert result.stdout.count("\n") == 1


@pytest.mark.parametrize(("stamp", "signature", "reason"), [
    (NOW - 301, None, "timestamp too old"),
    (NOW + 301, None, "timestamp too new"),
    (NOW, "v1,AAAA", "signature mismatch"),
    (NOW, "nonsense", "malformed header"),
    (NOW, None, None),
])
def test_standard_failure_names_the_reason(stamp: int, signature: str | None,
                                           reason: str | None) -> None:
    signature = signature or sign_standard(SECRET, MSG_ID, stamp, BODY)
    found = standard_failure(BODY, SECRET, MSG_ID, str(stamp), signature, now=NOW)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(reason)
    assert verify_standard(BODY, SECRET, MSG_ID, str(stamp), signature, now=NOW) is \
        (reason is None)
