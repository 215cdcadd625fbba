"""Hook secrets of a team database, kept in the database encrypted with the team key.

:class:`EncryptedSecretStore` offers the interface of the keyring's
:class:`~hookadmin.core.secrets.SecretStore` (:class:`~hookadmin.core.secrets.HookSecrets`),
so the engine, the service and secret rotation work unchanged with either. Each entry
(``hook/<hook id>``, and ``hook/<hook id>/previous`` for the secret a reset replaced) is
sealed with AES-256-GCM: a fresh 12-byte nonce per write, and the database id and the
entry name as associated data, so a ciphertext copied to another hook or another
database does not decrypt. Only nonces and ciphertexts reach the database
(:class:`SecretBlobs`; :class:`hookadmin.core.store.postgres.secret_blobs.PostgresSecretBlobs`
keeps them in ``hook_secrets``).

Without the team key every read and write raises
:class:`~hookadmin.core.errors.TeamKeyMissing` (deleting needs no key); a key that does
not open a stored secret raises :class:`~hookadmin.core.errors.TeamKeyMismatch`. No
message ever contains a secret or a key.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hookadmin.core.errors import TeamKeyError, TeamKeyMismatch
from hookadmin.core.secrets import HookSecrets, entry_suffix, present_or_missing
from hookadmin.core.team.key import KEY_BYTES, load_team_key

NONCE_BYTES = 12
AAD_FORMAT = "hookadmin-secret:v1:{database_id}:{name}"


MISSING = ("The secret of hook {hook_id} is not in the team database (it may have been "
           "deleted there); reset it with `hookadmin hooks reset-secret {hook_id}`.")
MISMATCH = ("The team key on this machine does not open the secret of hook {hook_id} (it is "
            "another team database's key, or the stored secret was altered); import this "
            "team's key with `hookadmin team import-key FILE`.")


class SecretBlobs(Protocol):
    """Where sealed secrets are kept: entry name → (nonce, ciphertext). Never sees a
    secret or a key.

    Every method raises :class:`~hookadmin.core.errors.SecretStoreError` when the
    storage cannot be reached.
    """

    def put(self, name: str, nonce: bytes, ciphertext: bytes) -> None:
        """Store (or replace) the entry ``name``."""

    def get_many(self, names: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
        """The entries among ``names`` that exist: name → (nonce, ciphertext)."""

    def delete(self, name: str) -> None:
        """Remove the entry ``name``; a missing one is not an error."""

    def close(self) -> None:
        """Release the storage's connection, if it holds one."""


class EncryptedSecretStore:
    """Hook secrets sealed with the team key in a team database.

    Args:
        database_id: the team database's id (the UUID in its meta table); part of the
            associated data of every entry.
        blobs: where the sealed entries are kept.
        key_source: returns the 32-byte team key, or raises
            :class:`~hookadmin.core.errors.TeamKeyMissing` (or another
            :class:`~hookadmin.core.errors.SecretStoreError`); called when a key is first
            needed, and again after a failure. Defaults to
            :func:`hookadmin.core.team.key.load_team_key` for ``database_id``.
    """

    def __init__(self, database_id: str, blobs: SecretBlobs, *,
                 key_source: Callable[[], bytes] | None = None) -> None:
        self._database_id = database_id
        self._blobs = blobs
        self._key_source = key_source or (lambda: load_team_key(database_id).key)
        self._aead: AESGCM | None = None
        self._lock = threading.Lock()

    def _cipher(self) -> AESGCM:
        """The AES-256-GCM cipher of the team key, loading the key on first use.

        Raises:
            TeamKeyMissing, TeamKeyError, SecretStoreError: see ``key_source``.
        """
        with self._lock:
            if self._aead is None:
                key = self._key_source()
                if len(key) != KEY_BYTES:
                    raise TeamKeyError(f"The team key is not {KEY_BYTES} bytes long; import "
                                       "the team's key again with `hookadmin team "
                                       "import-key FILE`.", cause="team_key_invalid")
                self._aead = AESGCM(key)
            return self._aead

    def _aad(self, name: str) -> bytes:
        return AAD_FORMAT.format(database_id=self._database_id, name=name).encode("utf-8")

    def check(self) -> None:
        """Make sure this machine has the team key, without reading any secret.

        Raises:
            TeamKeyMissing: it has not (the sentence says what to run).
            TeamKeyError, SecretStoreError: the key file or the keyring cannot be used.
        """
        self._cipher()

    def get(self, hook_id: int) -> str:
        """The secret of ``hook_id``.

        Raises:
            TeamKeyMissing, TeamKeyMismatch: no team key here, or one that does not open
                the secret.
            SecretStoreError: the database cannot be read, or holds no secret for this
                hook (``cause == "missing"``).
        """
        return present_or_missing(self.get_optional(hook_id), MISSING, hook_id)

    def get_optional(self, hook_id: int, *, previous: bool = False,
                     options: bool = False) -> str | None:
        """The secret of ``hook_id`` (or the one it replaced, with ``previous``; or its
        option secrets as JSON, with ``options``), or ``None`` when there is none.

        Raises:
            TeamKeyMissing, TeamKeyMismatch, SecretStoreError: as :meth:`get`.
        """
        cipher = self._cipher()
        name = entry_name(hook_id, previous=previous, options=options)
        found = self._blobs.get_many([name]).get(name)
        return None if found is None else self._open(cipher, hook_id, name, *found)

    def get_many(self, hook_ids: Sequence[int], *,
                 on_found: Callable[[int, str], None] | None = None) -> dict[int, str]:
        """The secrets of many hooks in one database read: hook id → secret, hooks
        without one left out. ``on_found(hook_id, secret)``, if given, is called for each
        one once all are read (one read serves them all).

        Raises:
            TeamKeyMissing, TeamKeyMismatch, SecretStoreError: as :meth:`get`.
        """
        cipher = self._cipher()
        names = {entry_name(h): h for h in hook_ids}
        if not names:
            return {}
        found = self._blobs.get_many(list(names))
        opened = {names[name]: self._open(cipher, names[name], name, nonce, sealed)
                  for name, (nonce, sealed) in found.items() if name in names}
        if on_found is not None:
            for hook_id, secret in opened.items():
                on_found(hook_id, secret)
        return opened

    def set(self, hook_id: int, secret: str, *, previous: bool = False,
            options: bool = False) -> None:
        """Seal and store (or replace) the secret of ``hook_id`` (or the replaced one, or
        its option secrets), with a fresh nonce.

        Raises:
            TeamKeyMissing, TeamKeyError: no usable team key here; nothing is written.
            SecretStoreError: the database refused the write.
        """
        cipher = self._cipher()
        name = entry_name(hook_id, previous=previous, options=options)
        nonce = os.urandom(NONCE_BYTES)
        self._blobs.put(name, nonce, cipher.encrypt(nonce, secret.encode("utf-8"),
                                                    self._aad(name)))

    def delete(self, hook_id: int, *, previous: bool = False, options: bool = False) -> None:
        """Remove the secret of ``hook_id`` (or the replaced one, or its option secrets);
        a missing entry is not an error, and no team key is needed.

        Raises:
            SecretStoreError: the database cannot be written.
        """
        self._blobs.delete(entry_name(hook_id, previous=previous, options=options))

    def name_of(self, hook_id: int, *, previous: bool = False, options: bool = False) -> str:
        """The entry name of a hook's secret (or the replaced one, or its option secrets;
        never the secret), as :meth:`delete_name` takes it."""
        return entry_name(hook_id, previous=previous, options=options)

    def delete_name(self, name: str) -> None:
        """Remove the entry with this name; a missing entry is not an error.

        Raises:
            SecretStoreError: the database cannot be written.
        """
        self._blobs.delete(name)

    def close(self) -> None:
        """Close the blobs' database connection, if they hold one."""
        self._blobs.close()

    def _open(self, cipher: AESGCM, hook_id: int, name: str, nonce: bytes,
              sealed: bytes) -> str:
        try:
            return cipher.decrypt(nonce, sealed, self._aad(name)).decode("utf-8")
        except (InvalidTag, ValueError, UnicodeDecodeError):
            raise TeamKeyMismatch(MISMATCH.format(hook_id=hook_id)) from None


def entry_name(hook_id: int, *, previous: bool = False, options: bool = False) -> str:
    """The name of a hook's entry in ``hook_secrets``: ``hook/<id>``,
    ``hook/<id>/previous`` for the secret a reset replaced, or ``hook/<id>/options`` for
    its option secrets (see :func:`hookadmin.core.secrets.entry_suffix`)."""
    return entry_suffix(hook_id, previous=previous, options=options)


def copy_secrets(source: HookSecrets, target: HookSecrets, hook_ids: Sequence[int], *,
                 previous_ids: Sequence[int] = ()) -> int:
    """Copy hook secrets from one store to another (the keyring of a workstation into a
    team database, for ``hookadmin team import-local``). Each is read from ``source``
    before anything is written, so a failed read copies nothing.

    Args:
        hook_ids: the hooks whose secrets are copied; a hook without one is skipped.
        previous_ids: the hooks whose replaced secret (still in its overlap) is copied
            too.

    Returns:
        How many secrets were written.

    Raises:
        SecretStoreError: a store cannot be used (on a write failure, the secrets
            written before it stay).
    """
    current = source.get_many(hook_ids)
    replaced = {h: s for h in previous_ids
                if (s := source.get_optional(h, previous=True)) is not None}
    for hook_id, secret in current.items():
        target.set(hook_id, secret)
    for hook_id, secret in replaced.items():
        target.set(hook_id, secret, previous=True)
    return len(current) + len(replaced)


def team_secrets(url: str, database_id: str) -> EncryptedSecretStore:
    """The hook secrets of the team database at ``url`` (a ``postgresql://`` URL) whose
    id is ``database_id``, sealed with this machine's team key for it.

    Nothing is connected until the first read or write, which raises
    :class:`~hookadmin.core.errors.SecretStoreError` (never with the URL's password)
    when the database cannot be reached.
    """
    from hookadmin.core.store.postgres.secret_blobs import PostgresSecretBlobs

    return EncryptedSecretStore(database_id, PostgresSecretBlobs(url))
