"""The service layer the window and the CLI share: hooks with their secrets,
publishing to the outbox, and the delivery history.

:class:`HookService` is one object composed of mixins: the hooks and their secrets are
here; publishing is in :mod:`hookadmin.core.publishing`, the store settings in
:mod:`hookadmin.core.settings`, the global proxy in :mod:`hookadmin.core.proxy_settings`
and the operator actions in :mod:`hookadmin.core.operations`. Event input checks are in
:mod:`hookadmin.core.event_input`; its names and the settings' are re-exported here."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookadmin.core import audit
from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError, SecretStoreError
from hookadmin.core.formats import allowed_events
from hookadmin.core.hook_types import (
    WEB,
    HookOptions,
    OptionSecrets,
    check_config,
    read_option_secrets,
)
from hookadmin.core.hooks import Hook, validate_ca_bundle, validate_name, validate_url
from hookadmin.core.proxy_settings import ProxySettings
from hookadmin.core.signing import check_secret, new_secret
from hookadmin.core.store import (
    Repository,
    StoreLocation,
    as_location,
    open_store,
)

if TYPE_CHECKING:  # the keyring package is imported on first use: the window opens sooner
    from hookadmin.core.secrets import HookSecrets

from hookadmin.core.event_input import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    UTF8_BOM,
    parse_strict_json,
    prepare_event,
)
from hookadmin.core.publishing import Publishing
from hookadmin.core.settings import (
    DEFAULT_RETENTION_DAYS,
    DELIVERY_DEFAULTS,
    DELIVERY_KEY,
    NETWORK_POLICIES,
    NETWORK_POLICY_KEY,
    RETENTION_KEY,
    ServiceSettings,
    delivery_options,
    network_policy,
    prune_history,
    retention_days,
)

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "DELIVERY_DEFAULTS",
    "DELIVERY_KEY",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_SECRET_OVERLAP_SECONDS",
    "NETWORK_POLICIES",
    "NETWORK_POLICY_KEY",
    "ORPHANED_SECRETS_KEY",
    "RETENTION_KEY",
    "SECRET_OVERLAP_SECONDS",
    "UTF8_BOM",
    "HookService",
    "delivery_options",
    "network_policy",
    "parse_strict_json",
    "prepare_event",
    "prune_history",
    "retention_days",
]

SECRET_OVERLAP_SECONDS = 24 * 3600.0
# Keyring names (never secrets) of deleted hooks whose entries could not be removed then.
ORPHANED_SECRETS_KEY = "orphaned_secrets"
MAX_SECRET_OVERLAP_SECONDS = 7 * 86400.0


class HookService(ServiceSettings, Publishing, ProxySettings):
    """Hooks, secrets and the outbox of one store: SQLite in a data directory, or a
    team's PostgreSQL database.

    Args:
        home: a :class:`StoreLocation`, or a data directory (see
            :func:`hookadmin.core.paths.data_home`; ``$HOOKADMIN_DATABASE`` then selects
            a team database, as ``--database`` does).
        secrets: the secret store; defaults to the OS keyring namespaced by the
            database's store id, or in team mode the team database's secrets sealed
            with this machine's team key.
        origin: where actions come from, for the audit log: ``cli`` or ``window``.

    Raises:
        InputError: ``$HOOKADMIN_DATABASE`` is not a PostgreSQL URL.
        StoreUnavailable: the team database cannot be reached.
        StoreError: the database cannot be opened, or is not hookadmin's.
    """

    def __init__(self, home: StoreLocation | str | os.PathLike[str] | None = None, *,
                 secrets: HookSecrets | None = None, origin: str = "cli") -> None:
        self.location: StoreLocation = as_location(home)
        self.home: Path = self.location.home
        self.actor = audit.Actor.current(origin)
        self.store: Repository = open_store(self.location)
        self._secrets = secrets
        self._secrets_lock = threading.Lock()

    @property
    def secrets(self) -> HookSecrets:
        """The secret store (created, and :mod:`keyring` imported, on first use, from
        any thread)."""
        with self._secrets_lock:
            if self._secrets is None:
                from hookadmin.core.secret_source import open_hook_secrets

                self._secrets = open_hook_secrets(self.location, self.store.store_id,
                                                  self.store.parent_store_ids)
            return self._secrets

    def close(self) -> None:
        """Close the database connection and the keyring connection."""
        if self._secrets is not None:
            self._secrets.close()
        self.store.close()

    def __enter__(self) -> HookService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks ----------------------------------------------------------------------------

    def create_hook(self, *, url: str | None, events: Iterable[str], name: str = "",
                    active: bool = True, insecure_ssl: bool = False,
                    ca_bundle: str | None = None, type: str = WEB,
                    options: HookOptions | None = None,
                    option_secrets: OptionSecrets | None = None) -> Hook:
        """Validate and create a hook, with a new secret in the OS keyring.

        The hook row and the secret are created together: if the keyring refuses the
        secret, no hook is left behind. ``type``, ``options`` and ``option_secrets``
        (a Slack URL is given as ``url``) are checked by
        :func:`hookadmin.core.hook_types.check_config`; the option secrets go where the
        secret goes.

        Raises:
            InputError: a field is invalid (``field`` names it).
            SecretStoreError: the keyring cannot be used.
        """
        config = check_config(type, url, options or HookOptions(), option_secrets or {},
                              url_check=validate_url)
        name = validate_name(name)
        subscription = _check_type_events(type, catalog.normalize_subscription(events))
        bundle = validate_ca_bundle(ca_bundle) if ca_bundle else None
        _check_tls_choice(insecure_ssl, bundle)
        self.secrets.check()
        with self.store.transaction():
            hook = self.store.add_hook(name=name, url=config.url, events=subscription,
                                       active=active, insecure_ssl=insecure_ssl,
                                       ca_bundle=bundle, type=type, options=config.options)
            self.audit("hook.created", hook_id=hook.id, hook=audit.hook_snapshot(hook))
            self.secrets.set(hook.id, new_secret())
            if config.secrets:
                self.secrets.set(hook.id, json.dumps(config.secrets), options=True)
        return hook

    def option_secrets(self, hook_id: int) -> OptionSecrets:
        """The hook's option secrets (an explicit reveal: for an export with
        ``--secrets`` and for sending); empty when it has none.

        Raises:
            NotFoundError: no such hook. SecretStoreError: the store cannot be read.
        """
        self.store.get_hook(hook_id)
        return read_option_secrets(self.secrets, hook_id)

    def edit_hook(self, hook_id: int, *, url: str | None = None,
                  events: Iterable[str] | None = None, name: str | None = None,
                  active: bool | None = None, insecure_ssl: bool | None = None,
                  ca_bundle: str | None = None, options: HookOptions | None = None,
                  option_secrets: OptionSecrets | None = None) -> Hook:
        """Change a hook's fields; ``None`` leaves a field as it is (an empty
        ``ca_bundle`` removes the hook's CA bundle). A hook's type never changes.
        ``option_secrets`` given are merged over the stored ones; those the options no
        longer need are removed.

        Raises:
            InputError: a field is invalid. NotFoundError: no such hook.
            SecretStoreError: option secrets cannot be read or written (nothing changed).
        """
        current = self.store.get_hook(hook_id)
        _check_tls_choice(current.insecure_ssl if insecure_ssl is None else insecure_ssl,
                          current.ca_bundle if ca_bundle is None else ca_bundle)
        secrets_changed: list[str] = []
        if url is not None or options is not None or option_secrets:
            stored = read_option_secrets(self.secrets, hook_id)
            config = check_config(
                current.type,
                url if url is not None else (None if current.type == "slack" else current.url),
                current.options if options is None else options,
                {**stored, **(option_secrets or {})}, url_check=validate_url)
            if config.secrets != stored:
                # Which option secrets changed, by name (never a value), for the audit log.
                secrets_changed = sorted(k for k in {*stored, *config.secrets}
                                         if stored.get(k) != config.secrets.get(k))
                if config.secrets:
                    self.secrets.set(hook_id, json.dumps(config.secrets), options=True)
                else:
                    self.secrets.delete(hook_id, options=True)
            url = config.url if config.url != current.url else None
            # New option secrets change the hook's updated_at too, so engines read them.
            options = config.options if config.options != current.options \
                or config.secrets != stored else None
        with self.store.transaction():
            hook = self.store.update_hook(
                hook_id, options=options,
                url=url,
                name=None if name is None else validate_name(name),
                events=None if events is None else _check_type_events(
                    current.type, catalog.normalize_subscription(events)),
                active=active, insecure_ssl=insecure_ssl,
                ca_bundle=None if ca_bundle is None else validate_ca_bundle(ca_bundle))
            changed = audit.changes(current, hook)
            if set(changed) == {"active"} and not secrets_changed:
                self.audit("hook.activated" if hook.active else "hook.deactivated",
                           hook_id=hook_id)
            elif changed or secrets_changed:
                details: dict[str, Any] = {"changes": changed}
                if secrets_changed:
                    details["option_secrets_changed"] = secrets_changed
                self.audit("hook.edited", hook_id=hook_id, **details)
        return hook

    def delete_hook(self, hook_id: int) -> SecretStoreError | None:
        """Delete a hook, its delivery history and its secrets (the signing secret, the one
        a reset replaced, and its option secrets if it can have any).

        When the keyring cannot be used now, the hook is deleted anyway and the names of
        its keyring entries are remembered in the database (never the secrets):
        :meth:`remove_orphaned_secrets` removes them once the keyring works again.

        Returns:
            None when the secret was removed too, else why it stays in the keyring for
            now.

        Raises:
            NotFoundError: no such hook.
        """
        with self.store.transaction():
            hook = self.store.get_hook(hook_id)
            self.store.delete_hook(hook_id)
            self.audit("hook.deleted", hook_id=hook_id, hook=audit.hook_snapshot(hook))
        secrets = self.secrets
        names = [secrets.name_of(hook_id), secrets.name_of(hook_id, previous=True)]
        if hook.type != WEB or not hook.options.empty:  # only such hooks have option secrets
            names.append(secrets.name_of(hook_id, options=True))
        try:
            for name in names:
                secrets.delete_name(name)
        except SecretStoreError as err:
            with self.store.transaction():
                orphans = self.store.get_setting(ORPHANED_SECRETS_KEY) or []
                self.store.set_setting(ORPHANED_SECRETS_KEY,
                                       orphans + [n for n in names if n not in orphans])
            return err
        return None

    def orphaned_secrets(self) -> list[str]:
        """Keyring names of deleted hooks' secrets still waiting to be removed."""
        names = self.store.get_setting(ORPHANED_SECRETS_KEY)
        return [str(n) for n in names] if isinstance(names, list) else []

    def remove_orphaned_secrets(self) -> int:
        """Remove the keyring entries that :meth:`delete_hook` could not remove.

        Returns:
            How many names were settled (removed, or found gone already); 0 when there
            were none.

        Raises:
            SecretStoreError: the keyring still cannot be used (the names are kept).
        """
        names = self.orphaned_secrets()
        done: list[str] = []
        try:
            for name in names:
                self.secrets.delete_name(name)
                done.append(name)
        finally:
            if done:
                with self.store.transaction():
                    left = [n for n in self.orphaned_secrets() if n not in done]
                    self.store.set_setting(ORPHANED_SECRETS_KEY, left)
        return len(done)

    def hook(self, hook_id: int) -> Hook:
        """One hook. Raises NotFoundError."""
        return self.store.get_hook(hook_id)

    def hooks(self) -> list[Hook]:
        """All hooks, by id."""
        return self.store.list_hooks()

    def reveal_secret(self, hook_id: int) -> str:
        """The hook's secret (an explicit reveal).

        Raises:
            NotFoundError: no such hook. SecretStoreError: keyring unusable or no entry.
        """
        self.store.get_hook(hook_id)
        value = self.secrets.get(hook_id)
        self.audit("secret.revealed", hook_id=hook_id)
        return value

    def reset_secret(self, hook_id: int, secret: str | None = None, *,
                     now: float | None = None,
                     overlap: float = SECRET_OVERLAP_SECONDS) -> str:
        """Replace the hook's secret with a new random one (or ``secret``, checked).

        For ``overlap`` seconds (0 to 7 days, default 24 hours) the replaced secret
        still signs ``webhook-signature`` beside the new one, so receivers can switch
        without losing deliveries; ``X-Hook-Signature`` uses the new secret at once.
        An overlap of 0 drops the replaced secret at once.

        Returns:
            The new secret.

        Raises:
            NotFoundError, InputError (also for an overlap out of range),
            SecretStoreError (nothing changed then).
        """
        if isinstance(overlap, bool) or not 0 <= overlap <= MAX_SECRET_OVERLAP_SECONDS:
            raise InputError("The overlap of the old secret must be from 0 to 7 days.",
                             field="overlap")
        self.store.get_hook(hook_id)
        value = new_secret() if secret is None else check_secret(secret)
        old = self.secrets.get_optional(hook_id)
        if old is not None and overlap > 0:
            self.secrets.set(hook_id, old, previous=True)
        self.secrets.set(hook_id, value)
        now = time.time() if now is None else now
        with self.store.transaction():
            if old is not None and overlap > 0:
                self.store.update_hook(hook_id, previous_secret_expires_at=now + overlap)
            else:
                self.store.update_hook(hook_id, clear_previous_secret=True)
            self.audit("secret.reset", hook_id=hook_id, overlap_seconds=overlap,
                       given=secret is not None)
        if old is not None and overlap <= 0:
            with contextlib.suppress(SecretStoreError):
                self.secrets.delete(hook_id, previous=True)
        return value


def _check_type_events(type_name: str, subscription: list[str]) -> list[str]:
    """The subscription, if a hook of this type can deliver every event of it.

    Raises:
        InputError: a PagerDuty hook subscribed to an event that neither triggers nor
            resolves an incident.
    """
    allowed = allowed_events(type_name)
    if allowed is not None:
        extra = [e.id for e in catalog.EVENT_TYPES
                 if catalog.subscribes_to(subscription, e.id) and e.id not in allowed]
        if extra:
            raise InputError(f"A {type_name} hook takes only {', '.join(allowed)}; remove "
                             f"{', '.join(extra)}.", field="events")
    return subscription


def _check_tls_choice(insecure_ssl: bool, ca_bundle: str | None) -> None:
    if insecure_ssl and ca_bundle:
        raise InputError("Choose either a CA bundle or skipping certificate verification, not "
                         "both: with verification skipped the bundle would be ignored.",
                         field="ca_bundle")
