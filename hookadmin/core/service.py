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

from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError, SecretStoreError
from hookadmin.core.hooks import Hook, validate_ca_bundle, validate_name, validate_url
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
DELIVERY_KEY = "delivery"
# The defaults of the delivery settings a user can change (seconds, bytes); the engine's
# DeliverySettings carries the same numbers.
DELIVERY_DEFAULTS: dict[str, Any] = {
    "retry_schedule": [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
    "connect_timeout": 5.0,
    "attempt_timeout": 15.0,
    "response_cap": 65536,
}


class HookService:
    """Hooks, secrets and the outbox of one store: SQLite in a data directory, or a
    team's PostgreSQL database.

    Args:
        home: a :class:`StoreLocation`, or a data directory (see
            :func:`hookadmin.core.paths.data_home`; ``$HOOKADMIN_DATABASE`` then selects
            a team database, as ``--database`` does).
        secrets: the secret store; defaults to the OS keyring namespaced by the
            database's store id, or in team mode the team database's secrets sealed
            with this machine's team key.

    Raises:
        InputError: ``$HOOKADMIN_DATABASE`` is not a PostgreSQL URL.
        StoreUnavailable: the team database cannot be reached.
        StoreError: the database cannot be opened, or is not hookadmin's.
    """

    def __init__(self, home: StoreLocation | str | os.PathLike[str] | None = None, *,
                 secrets: HookSecrets | None = None) -> None:
        self.location: StoreLocation = as_location(home)
        self.home: Path = self.location.home
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
        """Close the database connection."""
        self.store.close()

    def __enter__(self) -> HookService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks ----------------------------------------------------------------------------

    def create_hook(self, *, url: str, events: Iterable[str], name: str = "",
                    active: bool = True, insecure_ssl: bool = False,
                    ca_bundle: str | None = None) -> Hook:
        """Validate and create a hook, with a new secret in the OS keyring.

        The hook row and the secret are created together: if the keyring refuses the
        secret, no hook is left behind.

        Raises:
            InputError: a field is invalid (``field`` names it).
            SecretStoreError: the keyring cannot be used.
        """
        url = validate_url(url)
        name = validate_name(name)
        subscription = catalog.normalize_subscription(events)
        bundle = validate_ca_bundle(ca_bundle) if ca_bundle else None
        _check_tls_choice(insecure_ssl, bundle)
        self.secrets.check()
        with self.store.transaction():
            hook = self.store.add_hook(name=name, url=url, events=subscription, active=active,
                                       insecure_ssl=insecure_ssl, ca_bundle=bundle)
            self.secrets.set(hook.id, new_secret())
        return hook

    def edit_hook(self, hook_id: int, *, url: str | None = None,
                  events: Iterable[str] | None = None, name: str | None = None,
                  active: bool | None = None, insecure_ssl: bool | None = None,
                  ca_bundle: str | None = None) -> Hook:
        """Change a hook's fields; ``None`` leaves a field as it is (an empty
        ``ca_bundle`` removes the hook's CA bundle).

        Raises:
            InputError: a field is invalid. NotFoundError: no such hook.
        """
        current = self.store.get_hook(hook_id)
        _check_tls_choice(current.insecure_ssl if insecure_ssl is None else insecure_ssl,
                          current.ca_bundle if ca_bundle is None else ca_bundle)
        return self.store.update_hook(
            hook_id,
            url=None if url is None else validate_url(url),
            name=None if name is None else validate_name(name),
            events=None if events is None else catalog.normalize_subscription(events),
            active=active, insecure_ssl=insecure_ssl,
            ca_bundle=None if ca_bundle is None else validate_ca_bundle(ca_bundle))

    def delete_hook(self, hook_id: int) -> None:
        """Delete a hook, its delivery history and its secret.

        Raises:
            NotFoundError: no such hook.
        """
        self.store.delete_hook(hook_id)
        # The hook is gone either way; an orphaned keyring entry is unreachable.
        with contextlib.suppress(SecretStoreError):
            self.secrets.delete(hook_id)
            self.secrets.delete(hook_id, previous=True)  # replaced by a recent reset

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
        return self.secrets.get(hook_id)

    def reset_secret(self, hook_id: int, secret: str | None = None, *,
                     now: float | None = None) -> str:
        """Replace the hook's secret with a new random one (or ``secret``, checked).

        For 24 hours (:data:`SECRET_OVERLAP_SECONDS`) the replaced secret still signs
        ``webhook-signature`` beside the new one, so receivers can switch without
        losing deliveries; ``X-Hook-Signature`` uses the new secret at once.

        Returns:
            The new secret.

        Raises:
            NotFoundError, InputError, SecretStoreError (nothing changed then).
        """
        self.store.get_hook(hook_id)
        value = new_secret() if secret is None else check_secret(secret)
        old = self.secrets.get_optional(hook_id)
        if old is not None:
            self.secrets.set(hook_id, old, previous=True)
        self.secrets.set(hook_id, value)
        now = time.time() if now is None else now
        if old is not None:
            self.store.update_hook(hook_id,
                                   previous_secret_expires_at=now + SECRET_OVERLAP_SECONDS)
        else:
            self.store.update_hook(hook_id, clear_previous_secret=True)
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
        self.store.set_setting(DELIVERY_KEY, {k: v for k, v in current.items()
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
        self.store.set_setting(NETWORK_POLICY_KEY, policy)

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
        self.store.set_setting(RETENTION_KEY, days)

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
        transaction. Blank lines are skipped.

        Raises:
            InputError: a line is invalid (its line number is named); nothing is queued.
        """
        items: list[tuple[str, bytes]] = []
        for number, raw in enumerate(lines, start=1):
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
    """Delete a store's finished deliveries older than its retention setting.

    Returns:
        The number of deliveries deleted.
    """
    now = time.time() if now is None else now
    return store.prune(now - retention_days(store) * 86400.0)


def prepare_event(event_type: str, resource: bytes | str | dict[str, Any]) -> tuple[str, bytes]:
    """Check an event and serialise its body once.

    Bytes and text are stored exactly as given; the parsed object (or the dict) is
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
