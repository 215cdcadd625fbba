"""Helpers of the security tests: keyring entries read around hookadmin, locking the
test Secret Service for real, TLS material from a private CA, and output checks."""

from __future__ import annotations

import contextlib
import gc
import io
import re
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import secretstorage
import trustme
from secretstorage.util import DBusAddressWrapper, format_secret, open_session

from hookadmin.cli import main
from hookadmin.core.secrets import SERVICE_NAME

# The password scripts/with-test-keyring.sh gives the throw-away login keyring.
TEST_KEYRING_PASSWORD = b"hookadmin-test-login"
HEX64 = re.compile(r"[0-9a-f]{64}")
SS_PATH = "/org/freedesktop/secrets"
# gnome-keyring's own interface for unlocking with a password, without a prompt.
GNOME_KEYRING_INTERNAL = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"


def keyring_entry(store_id: str, hook_id: int, *, previous: bool = False,
                  options: bool = False) -> str | None:
    """A hook's secret (or the replaced one, or its option secrets' JSON) read straight
    from the keyring, not through hookadmin."""
    user = f"{store_id}/hook/{hook_id}" + ("/options" if options
                                           else "/previous" if previous else "")
    value = keyring.get_password(SERVICE_NAME, user)
    return value if isinstance(value, str) else None


def default_collection_locked() -> bool:
    """Whether the Secret Service's default collection is locked now."""
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        return bool(secretstorage.get_default_collection(conn).is_locked())


def lock_default_collection() -> None:
    """Lock the default collection of the (test) Secret Service for real."""
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.get_default_collection(conn)
        collection.lock()
        assert collection.is_locked()


def unlock_default_collection() -> None:
    """Unlock the default collection with the test keyring's password, through
    gnome-keyring's own D-Bus method (the Secret Service's Unlock would need a prompt,
    which cannot be shown without a display)."""
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        service = DBusAddressWrapper(SS_PATH, "org.freedesktop.Secret.Service", conn)
        (path,) = service.call("ReadAlias", "s", "default")
        session = open_session(conn)
        internal = DBusAddressWrapper(SS_PATH, GNOME_KEYRING_INTERNAL, conn)
        internal.call("UnlockWithMasterPassword", "o(oayays)", path,
                      format_secret(session, TEST_KEYRING_PASSWORD, "text/plain"))
        assert not secretstorage.get_default_collection(conn).is_locked()


@contextlib.contextmanager
def locked_keyring() -> Iterator[None]:
    """The default collection is locked inside the block and unlocked again after.

    keyring's Secret Service backend leaves its D-Bus connection open when it raises
    KeyringLocked (the socket is closed when the exception is freed, with a
    ResourceWarning); inside the block that warning is ignored and the garbage is
    collected before the block ends, so do not keep those exceptions beyond it.
    """
    lock_default_collection()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                yield
            finally:
                gc.collect()
    finally:
        unlock_default_collection()


@dataclass(frozen=True)
class TLSFiles:
    """PEM files from a private CA made by trustme.

    Attributes:
        ca: the CA certificate (what a hook's --ca-bundle names).
        cert, key: a server certificate chain for ``localhost`` and ``127.0.0.1``.
        other_cert, other_key: a certificate by the same CA for ``other.example`` only.
        unrelated_ca: a CA certificate that signed none of these.
    """

    ca: Path
    cert: Path
    key: Path
    other_cert: Path
    other_key: Path
    unrelated_ca: Path


def make_tls_files(folder: Path) -> TLSFiles:
    """Create a private CA and its server certificates in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    files = TLSFiles(ca=folder / "ca.pem", cert=folder / "server.pem",
                     key=folder / "server.key", other_cert=folder / "other.pem",
                     other_key=folder / "other.key", unrelated_ca=folder / "unrelated-ca.pem")
    ca.cert_pem.write_to_path(str(files.ca))
    for leaf, cert_path, key_path in (
            (ca.issue_cert("localhost", "127.0.0.1"), files.cert, files.key),
            (ca.issue_cert("other.example"), files.other_cert, files.other_key)):
        leaf.private_key_pem.write_to_path(str(key_path))
        cert_path.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    trustme.CA().cert_pem.write_to_path(str(files.unrelated_ca))
    return files


def one_line_error(stderr: str) -> str:
    """The single ``hookadmin: ...`` line of a failed command (asserts there is one,
    without a traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("hookadmin: "), stderr
    return lines[0]


def run_main(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run :func:`hookadmin.cli.main` in this process (much faster than a subprocess)
    with its standard output and error captured. Not for ``worker`` (it installs
    signal handlers) nor for commands that read standard input."""
    out, err = io.StringIO(), io.StringIO()
    argv = ([] if home is None else ["--home", str(home)]) + list(args)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse errors
            code = exit_.code if isinstance(exit_.code, int) else 2
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())
