"""The envelope of the engine process's messages: what is written reads back as the
same frozen dataclass, and a line of another version, kind or shape is rejected with
one sentence."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hookadmin.delivery.engine import AttemptOutcome
from hookadmin.delivery.engine_messages import (
    ATTEMPT_FIELDS,
    VERSION,
    AttemptMessage,
    EngineMessage,
    FailureMessage,
    KeyringAnswered,
    KeyringMessage,
    MessageError,
    decode,
    decode_command,
    encode,
    encode_command,
)

OUTCOME = AttemptOutcome(delivery_id="d-1", hook_id=4, event_type="job.failed",
                         attempt_number=2, status="pending", status_code=503,
                         error_kind=None, duration_ms=12.5, next_attempt_at=1_800_000_000.0)


def test_the_attempt_fields_are_the_outcomes() -> None:
    assert set(ATTEMPT_FIELDS) == {f.name for f in dataclasses.fields(AttemptOutcome)}


@pytest.mark.parametrize("message", [
    AttemptMessage(OUTCOME),
    AttemptMessage(dataclasses.replace(OUTCOME, status_code=None, error_kind="timeout",
                                       duration_ms=None, next_attempt_at=None)),
    KeyringMessage("The OS keyring is locked."),
    KeyringMessage(None),
    FailureMessage("The delivery engine stopped: disk full."),
])
def test_a_message_reads_back_as_itself(message: EngineMessage) -> None:
    line = encode(message)
    assert "\n" not in line
    assert json.loads(line)["v"] == VERSION
    assert decode(line) == message
    assert decode(line.encode() + b"\n") == message


def test_whole_seconds_and_milliseconds_read_as_floats() -> None:
    body = {"v": 1, "kind": "attempt", **dataclasses.asdict(OUTCOME),
            "duration_ms": 12, "next_attempt_at": 1_800_000_000}
    message = decode(json.dumps(body))
    assert isinstance(message, AttemptMessage)
    assert message.outcome.duration_ms == 12.0
    assert isinstance(message.outcome.duration_ms, float)


def _attempt(**changes: object) -> str:
    return json.dumps({"v": 1, "kind": "attempt", **dataclasses.asdict(OUTCOME), **changes})


@pytest.mark.parametrize(("line", "sentence"), [
    ('{"v": 2, "kind": "failed", "sentence": "x"}',
     "the delivery engine speaks message version 2, this window version 1; run the window "
     "and the engine from the same hookadmin installation"),
    ('{"kind": "failed", "sentence": "x"}',
     "the delivery engine speaks message version None, this window version 1; run the "
     "window and the engine from the same hookadmin installation"),
    ("not json", "the delivery engine wrote a line that is not JSON"),
    ("[1, 2]", "the delivery engine wrote a line that is not a JSON object"),
    ('{"v": 1, "kind": "progress"}',
     "the delivery engine wrote a message of unknown kind 'progress'"),
    ('{"v": 1, "kind": "failed"}',
     "the delivery engine wrote a message (failed) with fields missing (sentence) or "
     "unknown (none)"),
    (_attempt(extra=1),
     "the delivery engine wrote a message (attempt) with fields missing (none) or unknown "
     "(extra)"),
    (_attempt(hook_id="4"), 'the delivery engine wrote a message (attempt) whose hook_id is "4"'),
    (_attempt(hook_id=True), "the delivery engine wrote a message (attempt) whose hook_id is true"),
    (_attempt(status_code=2.5),
     "the delivery engine wrote a message (attempt) whose status_code is 2.5"),
    ('{"v": 1, "kind": "keyring", "problem": 3}',
     "the delivery engine wrote a message (keyring) whose problem is 3"),
])
def test_a_line_that_is_not_a_message_is_rejected_with_one_sentence(
        line: str, sentence: str) -> None:
    with pytest.raises(MessageError) as caught:
        decode(line)
    assert str(caught.value) == sentence


@pytest.mark.parametrize("ok", [True, False])
def test_the_windows_keyring_answer_reads_back_as_itself(ok: bool) -> None:
    line = encode_command(KeyringAnswered(ok))
    assert json.loads(line) == {"v": VERSION, "kind": "keyring_answered", "ok": ok}
    assert decode_command(line.encode() + b"\n") == KeyringAnswered(ok)


@pytest.mark.parametrize(("line", "said"), [
    (b"go", "the window wrote a line that is not JSON"),
    (b'{"v": 2, "kind": "keyring_answered", "ok": true}', "not a message of version 1"),
    (b'{"v": 1, "kind": "unlock"}', "unknown kind 'unlock'"),
    (b'{"v": 1, "kind": "keyring_answered", "ok": 1}', "without a true or false ok"),
    (b'{"v": 1, "kind": "keyring_answered", "ok": true, "x": 1}',
     "without a true or false ok"),
])
def test_a_window_line_that_is_not_a_message_is_rejected(line: bytes, said: str) -> None:
    with pytest.raises(MessageError, match=said):
        decode_command(line)
