"""Moving hooks between machines: export to and import from JSON (DESIGN.md §4 shape).

The export is a JSON array of §4 hook objects and never holds a secret. Secrets are
written only when asked, to a separate file created with mode 0600:
``{"<exported hook id>": "<secret>", ...}``. A hook whose replaced secret still signs
``webhook-signature`` (the overlap after a reset, docs/decisions.md "Secret
rotation") has an object instead: ``{"secret": ..., "previous": ...,
"previous_expires_at": "2026-11-29T10:00:00Z"}``, so an import within the overlap
keeps it. A hook with option secrets (a Slack URL, a PagerDuty routing key,
passwords, secret header values) has an object too, with ``"options": {name: value}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as _random
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from hookadmin.core import events as catalog
from hookadmin.core.errors import HookadminError, InputError, SecretStoreError
from hookadmin.core.hook_types import (
    EMAIL,
    SLACK,
    WEB,
    HookOptions,
    check_config,
    hook_type,
    parse_smtp_url,
    read_option_secrets,
)
from hookadmin.core.hooks import Hook, validate_ca_bundle, validate_name, validate_url
from hookadmin.core.service import HookService
from hookadmin.core.signing import check_secret, new_secret
from hookadmin.core.store import iso

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_HOOKS = 5000
# The keys of a hook's §4 settings that are its options (HookOptions.to_json).
_OPTION_KEYS = ("basic_auth_user", "headers", "secret_headers", "filter", "rate_limit", "to",
                "client_cert", "client_key", "proxy")


@dataclass(frozen=True)
class ExportedSecret:
    """A hook's secrets as they travel in a secrets file.

    Attributes:
        secret: the hook's secret (64 lowercase hex characters).
        previous: the secret the last reset replaced, while it still signs
            ``webhook-signature`` beside the new one; else None.
        previous_expires_at: Unix seconds when ``previous`` stops signing, or None.
    """

    secret: str
    previous: str | None = None
    previous_expires_at: float | None = None
    options: dict[str, str] | None = None

    def to_json(self) -> str | dict[str, Any]:
        """The secret alone, or an object when a replaced secret or option secrets
        travel with it."""
        out: dict[str, Any] = {"secret": self.secret}
        if self.previous is not None and self.previous_expires_at is not None:
            out.update(previous=self.previous,
                       previous_expires_at=iso(self.previous_expires_at))
        if self.options:
            out["options"] = dict(self.options)
        return self.secret if len(out) == 1 else out


def export_hooks(service: HookService) -> list[dict[str, Any]]:
    """Every hook as its §4 object, by id (audited as ``hooks.exported``)."""
    hooks = service.hooks()
    service.audit("hooks.exported", hooks=[h.id for h in hooks], secrets=False)
    return [h.to_json() for h in hooks]


def export_secrets(service: HookService, hooks: list[Hook] | None = None, *,
                   now: float | None = None) -> dict[str, ExportedSecret]:
    """``{str(hook id): ExportedSecret}`` for ``hooks`` (default: every hook), with the
    replaced secret of each hook whose overlap has not ended by ``now`` (Unix
    seconds, default the current time).

    Raises:
        SecretStoreError: the keyring cannot be read (nothing partial is returned).
    """
    now = time.time() if now is None else now
    out = {}
    for h in hooks or service.hooks():
        previous = None
        expiry = h.previous_secret_expires_at
        if expiry is not None and expiry > now:
            previous = service.secrets.get_optional(h.id, previous=True)
        options = None if h.type == WEB and h.options.empty \
            else read_option_secrets(service.secrets, h.id) or None
        out[str(h.id)] = ExportedSecret(service.secrets.get(h.id), previous,
                                        expiry if previous is not None else None, options)
    service.audit("secrets.exported", hooks=[int(k) for k in out], secrets=True)
    return out


def secrets_document(secrets: dict[str, ExportedSecret]) -> dict[str, Any]:
    """The JSON object of a secrets file (see the module docstring)."""
    return {key: value.to_json() for key, value in secrets.items()}


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, readable by the owner only.

    The bytes go to a new temporary file next to ``path``, created with mode 0600,
    ``O_EXCL`` and ``O_NOFOLLOW``, flushed to disk, then renamed over ``path``: no
    other name of an existing file (a hard link) ever sees them, and a crash leaves
    either the old file or the whole new one.

    Raises:
        InputError: ``path`` is a symbolic link (refused: the secrets would land
            wherever it points) or a folder, or its folder cannot be written to.
        HookadminError: writing failed part way (a full disk, an I/O error); nothing
            is left behind.
    """
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise InputError(f"{path} is a symbolic link; give the path of a regular file "
                             "(secrets are never written through a link).", field="secrets")
    except FileNotFoundError:
        pass
    except OSError as err:
        raise InputError(f"Cannot write {path} ({err.strerror}); choose another path.",
                         field="secrets") from None
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the path of a file.", field="secrets")
    temp = path.with_name(f".{path.name}.{_random.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temp, flags, 0o600)
    except OSError as err:
        raise InputError(f"Cannot write {path} ({err.strerror}); choose another path.",
                         field="secrets") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)  # whatever the umask
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)  # replaces a link or file at path itself, never its target
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise HookadminError(f"Cannot write {path} ({err.strerror}); nothing was written. "
                             "Free some space or choose another path, then try again.") from None
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _check_hook_object(obj: Any, position: int) -> dict[str, Any]:
    where = f"Hook {position}"
    if not isinstance(obj, dict):
        raise InputError(f"{where} is not a JSON object; export files hold a list of hooks.")
    settings = obj.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("url"), str):
        raise InputError(f'{where} has no settings.url; each hook needs '
                         '"settings": {"url": "https://..."}.')
    events = obj.get("events")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise InputError(f'{where} needs "events": a list of event types or groups.')
    name = obj.get("name", "")
    active = obj.get("active", True)
    insecure = settings.get("insecure_ssl", False)
    if not isinstance(name, str) or not isinstance(active, bool) \
            or not isinstance(insecure, bool):
        raise InputError(f'{where}: "name" must be text and "active" and '
                         '"settings.insecure_ssl" true or false.')
    ca_bundle = settings.get("ca_bundle")
    if ca_bundle is not None and not isinstance(ca_bundle, str):
        raise InputError(f'{where}: "settings.ca_bundle" must be the path of a PEM file.')
    type_name = obj.get("type", WEB)
    try:
        type_name = hook_type(str(type_name))
        url = settings["url"]
        if type_name == EMAIL:
            url = parse_smtp_url(url).url()
        elif type_name != SLACK:  # a Slack hook's real URL travels with its secrets
            url = validate_url(url)
        return {"id": obj.get("id"), "url": url, "type": type_name,
                "options": HookOptions.from_json(
                    {k: v for k, v in settings.items() if k in _OPTION_KEYS}),
                "name": validate_name(name), "events": catalog.normalize_subscription(events),
                "active": active, "insecure_ssl": insecure,
                "ca_bundle": validate_ca_bundle(ca_bundle) if ca_bundle else None}
    except InputError as err:
        raise InputError(f"{where}: {err}", field=err.field) from None


def parse_export(data: bytes) -> list[dict[str, Any]]:
    """Parse and check an export file; returns the checked hooks.

    Raises:
        InputError: not JSON, not a list, or a hook is invalid (its position is named).
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise InputError(f"The hooks file is {len(data):,} bytes; the limit is "
                         f"{MAX_IMPORT_BYTES:,} (10 MiB). Split it and import the parts.")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise InputError(f"The hooks file is not valid JSON ({str(err).splitlines()[0]}); "
                         "use a file made by `hookadmin hooks export`.") from None
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        raise InputError("The hooks file must hold a JSON list of hooks.")
    if len(doc) > MAX_IMPORT_HOOKS:
        raise InputError(f"The hooks file holds {len(doc):,} hooks; import at most "
                         f"{MAX_IMPORT_HOOKS:,} at a time.")
    return [_check_hook_object(obj, i) for i, obj in enumerate(doc, start=1)]


def parse_secrets(data: bytes) -> dict[str, ExportedSecret]:
    """Parse a secrets file: ``{"<hook id>": "<secret>" or {"secret": ..., "previous":
    ..., "previous_expires_at": ISO-8601}}`` (see the module docstring).

    Raises:
        InputError: not JSON of that shape, or a secret or time is malformed.
    """
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError("The secrets file is not valid JSON; use a file made by "
                         "`hookadmin hooks export --secrets FILE`.") from None
    shape = ('The secrets file must be a JSON object {"<hook id>": "<secret>"}, as '
             "`hookadmin hooks export --secrets FILE` writes it.")
    if not isinstance(doc, dict):
        raise InputError(shape)
    out = {}
    for key, value in doc.items():
        if isinstance(value, str):
            value = {"secret": value}
        options = value.get("options") if isinstance(value, dict) else None
        if not isinstance(value, dict) or not isinstance(value.get("secret"), str) \
                or not all(isinstance(value.get(k), str | None)
                           for k in ("previous", "previous_expires_at")) \
                or not (options is None or (isinstance(options, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in options.items()))):
            raise InputError(shape)
        try:
            secret = check_secret(value["secret"])
            previous = value.get("previous")
            previous = None if previous is None else check_secret(previous)
        except InputError as err:
            raise InputError(f"Secret of hook {key}: {err}", field="secrets") from None
        expiry = value.get("previous_expires_at")
        out[str(key)] = ExportedSecret(secret, previous, None if expiry is None or previous
                                       is None else _parse_time(expiry, key), options)
    return out


def _parse_time(text: str, key: str) -> float:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"Secret of hook {key}: previous_expires_at {text!r} is not an "
                         "ISO-8601 time like 2026-11-29T10:00:00Z.", field="secrets") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class ImportResult(NamedTuple):
    """What :func:`import_hooks` did.

    Attributes:
        created: the hooks it created.
        skipped: how many hooks it skipped as identical to existing ones.
        restored: the ids of skipped (existing) hooks whose secret was not in this
            keyring and was put there from the secrets file.
    """

    created: list[Hook]
    skipped: int
    restored: list[int]


def import_hooks(service: HookService, hooks: list[dict[str, Any]],
                 secrets: dict[str, ExportedSecret] | None = None, *,
                 now: float | None = None) -> ImportResult:
    """Create the checked ``hooks`` (from :func:`parse_export`), all or nothing.

    A hook identical to an existing one (same URL, name and events) is skipped; when
    the existing hook's secret is not in this keyring, as for a hook whose database
    came from another machine, it is put there from ``secrets``, with its option
    secrets when those are missing too (a secret that is there is never replaced).
    Each new hook takes its secret from ``secrets`` (keyed by its exported id) or gets
    a new random one; a replaced secret whose overlap has not ended by ``now`` (Unix
    seconds, default the current time) keeps signing until the same time.

    Returns:
        The created hooks, how many were skipped and which of those got their secret.

    Raises:
        SecretStoreError: the keyring refused a secret; nothing is created or put back
            then.
    """
    existing = {(h.url, h.name, tuple(h.events)): h.id for h in service.hooks()}
    secrets = secrets or {}
    now = time.time() if now is None else now
    created: list[Hook] = []
    restored: list[tuple[int, bool]] = []  # (existing hook id, its option secrets too)
    skipped = 0
    configs = []
    for position, item in enumerate(hooks, start=1):
        given = secrets.get(str(item["id"]))
        try:
            configs.append(check_config(
                item["type"], None if item["type"] == SLACK else item["url"],
                item["options"], (given.options if given else None) or {},
                url_check=validate_url))
        except InputError as err:
            hint = "" if given else (" Its secret settings travel only in a secrets file: "
                                     "export and import with --secrets FILE.")
            raise InputError(f"Hook {position}: {err}{hint}", field=err.field) from None
    service.secrets.check()
    try:
        with service.store.transaction():
            for item, config in zip(hooks, configs, strict=True):
                key = (item["url"], item["name"], tuple(item["events"]))
                if key in existing:
                    skipped += 1
                    given = secrets.get(str(item["id"]))
                    if given is not None:
                        restored += _put_back(service, existing[key], given.secret,
                                              config.secrets)
                    continue
                hook = service.store.add_hook(name=item["name"], url=config.url,
                                              events=item["events"], active=item["active"],
                                              insecure_ssl=item["insecure_ssl"],
                                              ca_bundle=item["ca_bundle"], type=item["type"],
                                              options=config.options)
                existing[key] = hook.id
                created.append(hook)
                given = secrets.get(str(item["id"]))
                service.secrets.set(hook.id, given.secret if given else new_secret())
                if config.secrets:
                    service.secrets.set(hook.id, json.dumps(config.secrets), options=True)
                if given and given.previous and given.previous_expires_at \
                        and given.previous_expires_at > now:
                    service.secrets.set(hook.id, given.previous, previous=True)
                    hook = service.store.update_hook(
                        hook.id, previous_secret_expires_at=given.previous_expires_at)
                    created[-1] = hook
            service.audit("hooks.imported", hooks=[h.id for h in created], skipped=skipped,
                          with_secrets=bool(secrets),
                          secrets_restored=[hook_id for hook_id, _ in restored])
    except BaseException:
        for hook in created:  # the rows were rolled back; take their secrets away too
            with contextlib.suppress(SecretStoreError):
                service.secrets.delete(hook.id)
                service.secrets.delete(hook.id, previous=True)
                service.secrets.delete(hook.id, options=True)
        for hook_id, options in restored:  # they were missing before: missing again
            with contextlib.suppress(SecretStoreError):
                service.secrets.delete(hook_id)
                if options:
                    service.secrets.delete(hook_id, options=True)
        raise
    return ImportResult(created, skipped, [hook_id for hook_id, _ in restored])


def _put_back(service: HookService, hook_id: int, secret: str,
              option_secrets: dict[str, str]) -> list[tuple[int, bool]]:
    """Put an existing hook's secret (and option secrets) from a secrets file into this
    keyring when it is not there; ``[(hook_id, options put back)]``, or ``[]`` when
    its secret was there already (nothing is replaced).

    Raises:
        SecretStoreError: the keyring cannot be used.
    """
    if service.secrets.get_optional(hook_id) is not None:
        return []
    service.secrets.set(hook_id, secret)
    options = bool(option_secrets) and \
        service.secrets.get_optional(hook_id, options=True) is None
    if options:
        service.secrets.set(hook_id, json.dumps(option_secrets), options=True)
    return [(hook_id, options)]
