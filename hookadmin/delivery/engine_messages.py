"""What the window's engine process tells the window: a typed, versioned envelope.

The child (:mod:`hookadmin.delivery.worker_process`) writes one JSON object per line on
its stdout, ``{"v": 1, "kind": KIND, ...}``, and the window reads each line back into
one of the frozen dataclasses below with :func:`decode`:

* ``attempt``: :class:`AttemptMessage`, the fields of
  :class:`~hookadmin.delivery.engine.AttemptOutcome` (``duration_ms`` in milliseconds,
  ``next_attempt_at`` in Unix seconds, absent values ``null``).
* ``keyring``: :class:`KeyringMessage`, ``problem`` is the sentence saying why the OS
  keyring cannot be used (deliveries that need a secret wait), or ``null`` once it
  answers again.
* ``failed``: :class:`FailureMessage`, the child's last word before it exits 1: one
  sentence saying what went wrong.

A line of another version, of an unknown kind, or with a field missing or of the wrong
type is rejected with :class:`MessageError` (one sentence); nothing is guessed.

The window writes to the child's stdin in the same envelope (besides the plain line
``stop``), read back with :func:`decode_command`:

* ``keyring_answered``: :class:`KeyringAnswered`, ``ok`` is true when the window's own
  keyring call succeeded (deliveries that wait for the keyring go out at once) and
  false when it found the keyring unusable (the engine watches it and says when it can
  be used again).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from hookadmin.delivery.engine import AttemptOutcome

VERSION = 1
"""The envelope's version; a line with another ``v`` is rejected."""

_NONE = type(None)
ATTEMPT_FIELDS: dict[str, tuple[type, ...]] = {
    "delivery_id": (str,),
    "hook_id": (int,),
    "event_type": (str,),
    "attempt_number": (int,),
    "status": (str,),
    "status_code": (int, _NONE),
    "error_kind": (str, _NONE),
    "duration_ms": (float, int, _NONE),
    "next_attempt_at": (float, int, _NONE),
}
"""The JSON types each field of an ``attempt`` message may have."""


@dataclass(frozen=True)
class AttemptMessage:
    """An attempt the engine recorded."""

    outcome: AttemptOutcome


@dataclass(frozen=True)
class KeyringMessage:
    """The OS keyring stopped being usable (``problem``: one sentence) or answers
    again (``problem`` None)."""

    problem: str | None


@dataclass(frozen=True)
class FailureMessage:
    """The engine stopped on an error (``sentence``: one sentence); the process exits
    1 right after."""

    sentence: str


EngineMessage: TypeAlias = AttemptMessage | KeyringMessage | FailureMessage


@dataclass(frozen=True)
class KeyringAnswered:
    """Window → engine: the window's own keyring call succeeded (``ok``) or found the
    keyring unusable."""

    ok: bool


def encode_command(command: KeyringAnswered) -> str:
    """A window → engine ``command`` as one line of JSON (without its newline)."""
    return json.dumps({"v": VERSION, "kind": "keyring_answered", "ok": command.ok},
                      separators=(",", ":"))


def decode_command(line: bytes | str) -> KeyringAnswered:
    """The window → engine command one stdin line holds.

    Raises:
        MessageError: not a JSON object of :data:`VERSION` and a known kind with its
            fields.
    """
    try:
        data = json.loads(line)
    except ValueError:
        raise MessageError("the window wrote a line that is not JSON") from None
    if not isinstance(data, dict) or data.pop("v", None) != VERSION:
        raise MessageError(f"the window wrote a line that is not a message of version "
                           f"{VERSION}")
    kind = data.pop("kind", None)
    if kind != "keyring_answered":
        raise MessageError(f"the window wrote a message of unknown kind {kind!r}")
    ok = data.get("ok")
    if set(data) != {"ok"} or not isinstance(ok, bool):
        raise MessageError("the window wrote a keyring_answered message without a true "
                           "or false ok")
    return KeyringAnswered(ok)


class MessageError(ValueError):
    """A line that is not a message of this envelope; ``str()`` is one sentence."""


def encode(message: EngineMessage) -> str:
    """``message`` as one line of JSON (without its newline)."""
    body: dict[str, object]
    match message:
        case AttemptMessage(outcome=outcome):
            body = {"kind": "attempt", **asdict(outcome)}
        case KeyringMessage(problem=problem):
            body = {"kind": "keyring", "problem": problem}
        case FailureMessage(sentence=sentence):
            body = {"kind": "failed", "sentence": sentence}
    return json.dumps({"v": VERSION, **body}, separators=(",", ":"))


def decode(line: bytes | str) -> EngineMessage:
    """The message one line (without or with its newline) holds.

    Raises:
        MessageError: not a JSON object, another version than :data:`VERSION`, an
            unknown kind, or a field missing, unknown or of the wrong type.
    """
    try:
        data = json.loads(line)
    except ValueError:
        raise MessageError("the delivery engine wrote a line that is not JSON") from None
    if not isinstance(data, dict):
        raise MessageError("the delivery engine wrote a line that is not a JSON object")
    version = data.pop("v", None)
    if version != VERSION:
        raise MessageError(f"the delivery engine speaks message version {version!r}, "
                           f"this window version {VERSION}; run the window and the engine "
                           "from the same hookadmin installation")
    kind = data.pop("kind", None)
    if kind == "attempt":
        return AttemptMessage(_outcome(data))
    if kind == "keyring":
        problem = _fields(kind, data, {"problem": (str, _NONE)})["problem"]
        return KeyringMessage(problem if isinstance(problem, str) else None)
    if kind == "failed":
        sentence = _fields(kind, data, {"sentence": (str,)})["sentence"]
        return FailureMessage(str(sentence))
    raise MessageError(f"the delivery engine wrote a message of unknown kind {kind!r}")


def _outcome(data: dict[str, object]) -> AttemptOutcome:
    # Imported here: the engine module brings the HTTP stack (about a second), which the
    # window imports in the background after its first paint.
    from hookadmin.delivery.engine import AttemptOutcome

    values = _fields("attempt", data, ATTEMPT_FIELDS)
    for name in ("duration_ms", "next_attempt_at"):
        value = values[name]
        if isinstance(value, int):
            values[name] = float(value)
    return AttemptOutcome(**values)  # type: ignore[arg-type]  # checked by _fields


def _fields(kind: str, data: dict[str, object],
            types: dict[str, tuple[type, ...]]) -> dict[str, object]:
    """``data`` checked against ``types`` (bool is never taken for int)."""
    missing = sorted(set(types) - set(data))
    unknown = sorted(set(data) - set(types))
    if missing or unknown:
        raise MessageError(f"the delivery engine wrote a message ({kind}) with fields "
                           f"missing ({', '.join(missing) or 'none'}) or unknown "
                           f"({', '.join(unknown) or 'none'})")
    for name, allowed in types.items():
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, allowed):
            raise MessageError(f"the delivery engine wrote a message ({kind}) whose "
                               f"{name} is {json.dumps(value)}")
    return data

