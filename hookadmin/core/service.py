"""The service layer the window and the CLI share: hooks with their secrets,
publishing to the outbox, and the delivery history."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
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
from hookadmin.core.resources import validate_resource
from hookadmin.core.signing import check_secret, new_secret
from hookadmin.core.store import (
    Repository,
    SettingsRepository,
    StoreLocation,
    as_location,
    open_store,
)

if TYPE_CHECKING:  # the keyring package is imported on first use: the window opens sooner
    from hookadmin.core.secrets import HookSecrets

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 200
DEFAULT_RETENTION_DAYS = 30
RETENTION_KEY = "retention_days"
NETWORK_POLICY_KEY = "network_policy"
NETWORK_POLICIES = ("workstation", "strict")
SECRET_OVERLAP_SECONDS = 24 * 3600.0
# Keyring names (never secrets) of deleted hooks whose entries could not be removed then.
ORPHANED_SECRETS_KEY = "orphaned_secrets"
MAX_SECRET_OVERLAP_SECONDS = 7 * 86400.0
DELIVERY_KEY = "delivery"
# The defaults of the delivery settings a user can change (seconds, bytes); the engine's
# DeliverySettings carries the same numbers.
DELIVERY_DEFAULTS: dict[str, Any] = {
    "retry_schedule": [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
    "connect_timeout": 5.0,
    "attempt_timeout": 15.0,
    "response_cap": 65536,
}


class HookService(ProxySettings):
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

    def delivery_options(self) -> dict[str, Any]:
        """The delivery settings changed from their defaults: some of
        ``retry_schedule`` (list of seconds), ``connect_timeout``, ``attempt_timeout``
        (seconds) and ``response_cap`` (bytes)."""
        return delivery_options(self.store)

    def set_delivery_options(self, *, retry_schedule: list[float] | None = None,
                             connect_timeout: float | None = None,
                             attempt_timeout: float | None = None,
                             response_cap: int | None = None) -> None:
        """Change delivery settings (``None`` leaves one as it is).

        Raises:
            InputError: a value is out of range: the schedule must have 1 to 20 delays of
                0 to 7 days each; timeouts 0.1 to 300 s (the attempt's at least the
                connect timeout); the response cap 1 KiB to 16 MiB.
        """
        current = {**DELIVERY_DEFAULTS, **self.delivery_options()}
        if retry_schedule is not None:
            if not 1 <= len(retry_schedule) <= 20 or not all(
                    isinstance(d, int | float) and not isinstance(d, bool)
                    and 0 <= d <= 7 * 86400 for d in retry_schedule):
                raise InputError("The retry schedule needs 1 to 20 delays, each from 0 "
                                 "seconds to 7 days.", field="retry_schedule")
            current["retry_schedule"] = [float(d) for d in retry_schedule]
        for key, value in (("connect_timeout", connect_timeout),
                           ("attempt_timeout", attempt_timeout)):
            if value is not None:
                if not 0.1 <= value <= 300:
                    raise InputError("Timeouts must be from 0.1 to 300 seconds.", field=key)
                current[key] = float(value)
        if current["attempt_timeout"] < current["connect_timeout"]:
            raise InputError("The attempt timeout must be at least the connect timeout.",
                             field="attempt_timeout")
        if response_cap is not None:
            if not 1024 <= response_cap <= 16 * 1024 * 1024:
                raise InputError("The response cap must be from 1 KiB to 16 MiB.",
                                 field="response_cap")
            current["response_cap"] = int(response_cap)
        self._set_setting(DELIVERY_KEY, {k: v for k, v in current.items()
                                         if v != DELIVERY_DEFAULTS[k]})

    def network_policy(self) -> str:
        """``workstation`` (internal addresses allowed, the default) or ``strict``."""
        return network_policy(self.store)

    def set_network_policy(self, policy: str) -> None:
        """Set the network policy: ``workstation`` or ``strict``.

        Raises:
            InputError: another value.
        """
        if policy not in NETWORK_POLICIES:
            raise InputError(f"The network policy must be one of: {', '.join(NETWORK_POLICIES)}.",
                             field="network_policy")
        self._set_setting(NETWORK_POLICY_KEY, policy)

    # -- settings -------------------------------------------------------------------------

    def retention_days(self) -> int:
        """How many days of finished delivery history are kept (default 30)."""
        return retention_days(self.store)

    def set_retention_days(self, days: int) -> None:
        """Keep ``days`` days of finished delivery history (1 to 3650).

        Raises:
            InputError: out of range.
        """
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise InputError("Retention must be a whole number of days from 1 to 3650.",
                             field="retention_days")
        self._set_setting(RETENTION_KEY, days)

    def prune_history(self, *, now: float | None = None) -> int:
        """Delete finished deliveries older than the retention setting. Returns how many."""
        return prune_history(self.store, now=now)

    # -- publishing -----------------------------------------------------------------------

    def send_test_event(self, hook_id: int, event_type: str,
                        resource: bytes | str | dict[str, Any]) -> str:
        """Queue one event for one hook only, whatever the hook subscribes to.

        Returns:
            The event UUID.

        Raises:
            NotFoundError: no such hook. InputError: invalid event.
        """
        self.store.get_hook(hook_id)
        return self.store.add_events([prepare_event(event_type, resource)],
                                     target_hook_id=hook_id)[0]

    def publish(self, event_type: str, resource: bytes | str | dict[str, Any]) -> str:
        """Put one event on the outbox; it is durable when this returns.

        Args:
            event_type: one of the ten catalog types.
            resource: the resource JSON: bytes or text are stored exactly as given
                (after checking they are one JSON object, UTF-8, at most 1 MiB); a dict
                is serialised once as compact UTF-8 JSON.

        Returns:
            The event UUID.

        Raises:
            InputError: unknown type, invalid JSON, not an object, or too large.
        """
        return self.publish_many([(event_type, resource)])[0]

    def publish_many(self, items: Sequence[tuple[str, bytes | str | dict[str, Any]]]) -> list[str]:
        """Put many events on the outbox in one transaction (all or nothing).

        Raises:
            InputError: an item is invalid; its 1-based position is named when there
                are several. Nothing is queued then.
        """
        prepared = []
        for position, (event_type, resource) in enumerate(items, start=1):
            try:
                prepared.append(prepare_event(event_type, resource))
            except InputError as err:
                if len(items) == 1:
                    raise
                raise InputError(f"Event {position}: {err}", field=err.field) from None
        return self.store.add_events(prepared)

    def publish_batch(self, lines: Iterable[bytes]) -> list[str]:
        """Publish JSON Lines, each ``{"type": TYPE, "resource": {...}}``, in one
        transaction. Blank lines are skipped, and so is a UTF-8 byte order mark before
        the first line.

        Raises:
            InputError: a line is invalid (its line number is named); nothing is queued.
        """
        items: list[tuple[str, bytes]] = []
        for number, raw in enumerate(lines, start=1):
            if number == 1:
                raw = raw.removeprefix(UTF8_BOM)  # a byte order mark is not part of it
            if not raw.strip():
                continue
            obj = parse_strict_json(raw, what=f"Line {number}")
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) \
                    or not isinstance(obj.get("resource"), dict):
                raise InputError(f'Line {number} must be an object like {{"type": "job.failed",'
                                 ' "resource": {...}}.')
            try:
                items.append(prepare_event(obj["type"], obj["resource"]))
            except InputError as err:
                raise InputError(f"Line {number}: {err}", field=err.field) from None
        if not items:
            raise InputError("The batch has no events; give one JSON object per line.")
        return self.store.add_events(items)


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


def delivery_options(store: SettingsRepository) -> dict[str, Any]:
    """A store's delivery settings that differ from the defaults (see
    :meth:`HookService.set_delivery_options`)."""
    value = store.get_setting(DELIVERY_KEY)
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k in DELIVERY_DEFAULTS}


def network_policy(store: SettingsRepository) -> str:
    """A store's network policy setting: ``workstation`` (default) or ``strict``."""
    value = store.get_setting(NETWORK_POLICY_KEY)
    return value if value in NETWORK_POLICIES else "workstation"


def retention_days(store: SettingsRepository) -> int:
    """The retention setting of a store in days (default 30)."""
    value = store.get_setting(RETENTION_KEY)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return DEFAULT_RETENTION_DAYS


def prune_history(store: Repository, *, now: float | None = None) -> int:
    """Delete a store's finished deliveries older than its retention setting, and
    audit entries older than the audit retention setting (by default none).

    Returns:
        The number of deliveries deleted.
    """
    now = time.time() if now is None else now
    audit.prune_audit(store, now=now)
    return store.prune(now - retention_days(store) * 86400.0)


def prepare_event(event_type: str, resource: bytes | str | dict[str, Any]) -> tuple[str, bytes]:
    """Check an event and serialise its body once.

    Bytes and text are stored exactly as given (less a leading UTF-8 byte order mark);
    the parsed object (or the dict) is
    only checked against the Job or Cluster shape of DESIGN.md §7
    (:func:`hookadmin.core.resources.validate_resource`).

    Returns:
        (event type, body bytes).

    Raises:
        InputError: unknown type, invalid JSON or UTF-8, not an object, over 1 MiB, or
            the resource is not a valid job (``job.*``) or cluster (``cluster.*``).
    """
    if event_type == catalog.PING:
        raise InputError("'ping' events are sent with `hookadmin ping ID`, not published.",
                         field="type")
    if event_type in catalog.OPERATOR_TYPES:
        raise InputError(f"{event_type!r} events are sent by the engine about hooks; they "
                         "cannot be published.", field="type")
    catalog.event_type(event_type)
    if isinstance(resource, dict):
        parsed = resource
        try:
            body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError, RecursionError) as err:
            raise InputError(f"The resource cannot be sent as standard JSON ({_short(err)}); "
                             "remove NaN/Infinity values and unpaired surrogates.",
                             field="resource") from None
    else:
        body = resource.encode("utf-8", "surrogatepass") if isinstance(resource, str) \
            else bytes(resource)
        # A byte order mark (editors on Windows write one) is not part of the JSON: the
        # stored body is the JSON without it, as receivers' parsers expect.
        body = body.removeprefix(UTF8_BOM)
        if len(body) > MAX_BODY_BYTES:  # before parsing: a huge body is refused cheaply
            raise InputError(f"The resource is {len(body):,} bytes; the limit is "
                             f"{MAX_BODY_BYTES:,} bytes (1 MiB).", field="resource")
        parsed = parse_strict_json(body, what="The resource")
        if not isinstance(parsed, dict):
            raise InputError("The resource must be a JSON object ({...}) such as a job or a "
                             f"cluster, not a {_json_kind(parsed)}.", field="resource")
    if len(body) > MAX_BODY_BYTES:
        raise InputError(f"The resource is {len(body):,} bytes; the limit is "
                         f"{MAX_BODY_BYTES:,} bytes (1 MiB).", field="resource")
    validate_resource(event_type, parsed)
    return event_type, body


UTF8_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark, stripped from the start of a published resource or batch."""

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def parse_strict_json(data: bytes, *, what: str) -> Any:
    """Parse JSON as strict receivers (JavaScript's ``JSON.parse``, Go) read it: UTF-8,
    no NaN or Infinity, no duplicate keys, no unpaired surrogates, nesting at most 200
    levels deep.

    Args:
        data: the raw bytes.
        what: how to name the input in the error ("The resource", "Line 3").

    Raises:
        InputError: one sentence saying what is wrong.
    """
    def no_constants(name: str) -> Any:
        raise InputError(f"{what} contains {name}, which is not JSON; use a number or null.",
                         field="resource")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise InputError(f"{what} has the key {key!r} twice; receivers would read "
                                 "only one of them, so keep one.", field="resource")
            seen[key] = value
        return seen

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text; save it as UTF-8 JSON.",
                         field="resource") from None
    depth = max_depth = 0
    # Brackets outside strings: refuse deep nesting before parsing (a regular
    # expression drops the strings, so only the brackets are looked at in Python).
    for char in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            max_depth = max(max_depth, depth)
        else:
            depth -= 1
    if max_depth > MAX_JSON_DEPTH:
        raise InputError(f"{what} is nested {max_depth} levels deep; the limit is "
                         f"{MAX_JSON_DEPTH}.", field="resource")
    try:
        parsed = json.loads(text, parse_constant=no_constants,
                            object_pairs_hook=no_duplicates)
    except ValueError as err:
        raise InputError(f"{what} is not valid JSON ({_short(err)}); fix it and try again.",
                         field="resource") from None
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} contains an unpaired surrogate escape (like \\ud800), "
                         "which strict JSON parsers refuse; remove it.",
                         field="resource") from None
    return parsed


def _short(err: Exception) -> str:
    return str(err).split("\n")[0]


def _json_kind(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), "value")
