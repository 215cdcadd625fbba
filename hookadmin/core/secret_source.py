"""Which secret store goes with which store: the OS keyring beside a SQLite database,
the team database's encrypted ``hook_secrets`` in team mode (DESIGN §5, §9)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hookadmin.core.store.location import StoreLocation

if TYPE_CHECKING:  # keyring and cryptography are imported on first use
    from hookadmin.core.secrets import HookSecrets


def open_hook_secrets(location: StoreLocation, store_id: str,
                      parent_ids: Sequence[str] = (), *, prompt: bool = True) -> HookSecrets:
    """The hook secrets of the store at ``location``.

    Args:
        location: where the store is.
        store_id: the store's id (the keyring namespace, or the team database id that
            the team key and every sealed secret are bound to).
        parent_ids: SQLite only: the ids of the databases this one was copied from.
        prompt: SQLite only: whether a locked keyring is asked to unlock (the desktop
            may ask for the password); the engine passes False.

    Returns:
        For SQLite, the OS keyring (:class:`~hookadmin.core.secrets.SecretStore`); for a
        team database, an :class:`~hookadmin.core.team.secrets.EncryptedSecretStore` on
        its ``hook_secrets`` table, whose reads and writes raise
        :class:`~hookadmin.core.errors.TeamKeyMissing` on a machine without the team
        key. Nothing is connected or read until first use.
    """
    if location.url is None:
        from hookadmin.core.secrets import SecretStore

        return SecretStore(store_id, parent_ids=list(parent_ids), prompt=prompt)
    from hookadmin.core.team.secrets import team_secrets

    return team_secrets(location.url, store_id)
