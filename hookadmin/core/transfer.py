"""Moving hooks between machines: export to and import from JSON (DESIGN.md §4 shape).

The export is a JSON array of §4 hook objects and never holds a secret. Secrets are
written only when asked, to a separate file created with mode 0600:
``{"<exported hook id>": "<secret>", ...}``.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from hookadmin.core import events as catalog
from hookadmin.core.errors import InputError, SecretStoreError
from hookadmin.core.hooks import Hook, validate_ca_bundle, validate_name, validate_url
from hookadmin.core.service import HookService
from hookadmin.core.signing import check_secret, new_secret

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_HOOKS = 5000


def export_hooks(service: HookService) -> list[dict[str, Any]]:
    """Every hook as its §4 object, by id."""
    return [h.to_json() for h in service.hooks()]


def export_secrets(service: HookService, hooks: list[Hook] | None = None) -> dict[str, str]:
    """``{str(hook id): secret}`` for ``hooks`` (default: every hook).

    Raises:
        SecretStoreError: the keyring cannot be read (nothing partial is returned).
    """
    return {str(h.id): service.secrets.get(h.id) for h in (hooks or service.hooks())}


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, which is created (or truncated) with mode 0600 before
    any byte is written.

    Raises:
        InputError: the file cannot be written (one sentence with the reason).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as err:
        raise InputError(f"Cannot write {path} ({err.strerror}); choose another path.",
                         field="secrets") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


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
    try:
        return {"id": obj.get("id"), "url": validate_url(settings["url"]),
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


def parse_secrets(data: bytes) -> dict[str, str]:
    """Parse a secrets file ``{"<hook id>": "<secret>"}``.

    Raises:
        InputError: not JSON of that shape, or a secret is malformed.
    """
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputError("The secrets file is not valid JSON; use a file made by "
                         "`hookadmin hooks export --secrets FILE`.") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise InputError('The secrets file must be a JSON object {"<hook id>": "<secret>"}.')
    out = {}
    for key, value in doc.items():
        try:
            out[str(key)] = check_secret(value)
        except InputError as err:
            raise InputError(f"Secret of hook {key}: {err}", field="secrets") from None
    return out


def import_hooks(service: HookService, hooks: list[dict[str, Any]],
                 secrets: dict[str, str] | None = None) -> tuple[list[Hook], int]:
    """Create the checked ``hooks`` (from :func:`parse_export`), all or nothing.

    A hook identical to an existing one (same URL, name and events) is skipped. Each
    new hook takes its secret from ``secrets`` (keyed by its exported id) or gets a
    new random one.

    Returns:
        (the created hooks, how many were skipped).

    Raises:
        SecretStoreError: the keyring refused a secret; nothing is created then.
    """
    existing = {(h.url, h.name, tuple(h.events)) for h in service.hooks()}
    secrets = secrets or {}
    created: list[Hook] = []
    skipped = 0
    service.secrets.check()
    try:
        with service.store.transaction():
            for item in hooks:
                key = (item["url"], item["name"], tuple(item["events"]))
                if key in existing:
                    skipped += 1
                    continue
                existing.add(key)
                hook = service.store.add_hook(name=item["name"], url=item["url"],
                                              events=item["events"], active=item["active"],
                                              insecure_ssl=item["insecure_ssl"],
                                              ca_bundle=item["ca_bundle"])
                created.append(hook)
                service.secrets.set(hook.id, secrets.get(str(item["id"])) or new_secret())
    except BaseException:
        for hook in created:  # the rows were rolled back; take their secrets away too
            with contextlib.suppress(SecretStoreError):
                service.secrets.delete(hook.id)
        raise
    return created, skipped
