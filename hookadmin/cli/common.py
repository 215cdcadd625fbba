"""What every command group of the command line shares: the parser class that keeps
errors to one line and the type of its subcommands, argument types, reading input
files, printing JSON, and tidying the keyring before a command."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from hookadmin.core.errors import HookadminError, InputError

if TYPE_CHECKING:
    from hookadmin.core.service import HookService

_N = TypeVar("_N")

MAX_ID = 2**63 - 1  # SQLite's largest integer


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        # One line on stderr (DESIGN.md §6); the usage is one `--help` away.
        self.exit(2, f"hookadmin: {message}; see `{self.prog} --help`.\n")

    @overload
    def parse_known_args(self, args: Iterable[str] | None = None,
                         namespace: None = None) -> tuple[argparse.Namespace, list[str]]: ...

    @overload
    def parse_known_args(self, args: Iterable[str] | None,
                         namespace: _N) -> tuple[_N, list[str]]: ...

    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...

    def parse_known_args(self, args: Iterable[str] | None = None,
                         namespace: object = None) -> tuple[object, list[str]]:
        """Parse what this parser knows; a subcommand's parser (its ``prog`` names the
        subcommand) rejects what is left itself, so the usage error points at its own
        ``--help`` rather than the top parser's.

        Raises:
            SystemExit: status 2 for unknown arguments of a subcommand.
        """
        parsed, rest = super().parse_known_args(args, namespace)
        if rest and " " in self.prog:
            self.error(f"unrecognized arguments: {' '.join(rest)}")
        return parsed, rest


if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction[Parser]
    """The top parser's subcommands, to which each command group adds its parsers."""


def hook_id(text: str) -> int:
    """Argument type of a hook id: a whole number from 1 to SQLite's largest integer.

    Raises:
        argparse.ArgumentTypeError: anything else (argparse turns it into exit 2).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (a whole number)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (ids start at 1)")
    if value > MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not a hook id (too large)")
    return value


def delivery_id(text: str) -> str:
    """Argument type of a delivery id: a UUID, returned in its lower-case form.

    Raises:
        argparse.ArgumentTypeError: not a UUID (argparse turns it into exit 2).
    """
    if len(text) <= 64:
        try:
            return str(uuid.UUID(text.strip()))
        except ValueError:
            pass
    shown = text if len(text) <= 40 and text.isprintable() else text[:40].encode(
        "unicode_escape").decode("ascii") + ("..." if len(text) > 40 else "")
    raise argparse.ArgumentTypeError(
        f"{shown!r} is not a delivery id (a UUID like 5b0c2c9e-4f4e-4c1e-9d6e-0a7f3c8b1d2e, "
        "as `hookadmin deliveries` lists them)")


def read_input(spec: str, what: str) -> bytes:
    """The bytes of file ``spec``, or of standard input when it is ``-``.

    Args:
        spec: a path or ``-``.
        what: what the file holds, for the error message (``resource``, ``secret``...).

    Raises:
        InputError: the file cannot be read (one sentence with the reason).
    """
    if spec == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(spec).read_bytes()
    except OSError as err:
        raise InputError(f"Cannot read the {what} file {spec!r} ({err.strerror}); check the "
                         "path.") from None


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON (non-ASCII kept as is)."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def pretty(body: bytes) -> str:
    """A response or request body as text: indented when it is JSON, else as decoded
    (invalid UTF-8 replaced)."""
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


# Why the OS keyring could not be used, by SecretStoreError.cause, for messages.
KEYRING_STATE = {"no_backend": "no OS keyring was found", "locked": "the keyring is locked",
                 "unavailable": "the keyring did not answer"}


def remove_orphaned_secrets(service: HookService) -> None:
    """Remove the keyring entries of hooks deleted while the keyring was unavailable,
    and say so; when it still is, they wait for a later run (silently: the command
    itself says what is wrong with the keyring if it needs it)."""
    waiting = len(service.orphaned_secrets())
    if not waiting:
        return
    try:
        service.remove_orphaned_secrets()
    except HookadminError:
        return
    print(f"hookadmin: removed from the OS keyring the secrets of deleted hooks that it "
          f"could not remove when they were deleted ({waiting} entries).", file=sys.stderr)
