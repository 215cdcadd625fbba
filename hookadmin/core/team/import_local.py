"""``hookadmin team import-local``: a workstation's hooks, their secrets, its pending
deliveries and its history, moved into the team database.

Idempotent: which workstation hook became which team hook is kept in the team
database's settings (``import_local/<workstation store id>``), and deliveries keep
their ids, so running it again copies nothing twice and picks up what is new.
Secrets (a hook's signing secret, the one a reset replaced while it still signs, and
its option secrets: passwords, Slack URL, routing key, secret headers) are read from
the workstation's keyring and sealed with the team key; the workstation's database and
keyring are left as they were. Each hook copied is recorded in the team database's
audit log as ``hook.imported``, in the transaction that creates it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hookadmin.core import audit
from hookadmin.core.errors import InputError
from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.core.store import HistoryImport, ImportedDelivery

PAGE = 500  # deliveries read and written per transaction
MAPPING_KEY = "import_local/{store_id}"


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    Attributes:
        hooks_added: hooks created in the team database.
        hooks_known: hooks imported by an earlier run (left as they are).
        secrets: secrets sealed into the team database (a hook's current one, the
            one a reset replaced while it still signs, and its option secrets as one).
        deliveries_added: deliveries copied with their attempts.
        deliveries_known: deliveries the team database already had.
    """

    hooks_added: int
    hooks_known: int
    secrets: int
    deliveries_added: int
    deliveries_known: int


def import_local(source: HookService, target: HookService) -> ImportSummary:
    """Copy ``source`` (a workstation's SQLite store) into ``target`` (a team
    database).

    Events still waiting in the workstation's outbox are fanned out there first, so
    they travel as pending deliveries.

    Raises:
        InputError: ``target`` is not a team database.
        SecretStoreError: the workstation's keyring cannot be read, or this machine has
            no team key (``TeamKeyMissing``); no hook is copied then.
        StoreUnavailable, StoreError: a database cannot be used (what was committed
            stays, and a later run goes on from there).
    """
    team = target.store
    if not isinstance(team, HistoryImport) or not target.location.team:
        raise InputError("`hookadmin team import-local` copies into a team database; give "
                         "it with --database URL or HOOKADMIN_DATABASE.", field="database")
    if source.location.team:
        raise InputError("`hookadmin team import-local` copies a workstation's SQLite "
                         "database; name its data directory with --home DIR.", field="home")
    target.secrets.check()  # no team key here: one sentence, nothing copied
    while source.store.fan_out(limit=1000):
        pass
    now = time.time()
    hooks = source.hooks()
    current = source.secrets.get_many([h.id for h in hooks])
    options = {h.id: text for h in hooks
               if (text := source.secrets.get_optional(h.id, options=True)) is not None}
    previous = {h.id: s for h in hooks if _overlapping(h, now)
                and (s := source.secrets.get_optional(h.id, previous=True)) is not None}
    key = MAPPING_KEY.format(store_id=source.store.store_id)
    mapping: dict[str, int] = dict(team.get_setting(key) or {})
    added = secrets = 0
    for hook in hooks:
        if str(hook.id) in mapping:
            continue
        with team.transaction():
            new = team.add_hook(name=hook.name, url=hook.url, events=hook.events,
                                active=hook.active, insecure_ssl=hook.insecure_ssl,
                                ca_bundle=hook.ca_bundle, type=hook.type,
                                options=hook.options)
            if hook.deactivated_reason is not None or hook.id in previous:
                team.update_hook(new.id, deactivated_reason=hook.deactivated_reason,
                                 previous_secret_expires_at=hook.previous_secret_expires_at
                                 if hook.id in previous else None)
            mapping[str(hook.id)] = new.id
            team.set_setting(key, mapping)
            if hook.id in current:
                target.secrets.set(new.id, current[hook.id])
                secrets += 1
            if hook.id in previous:
                target.secrets.set(new.id, previous[hook.id], previous=True)
                secrets += 1
            if hook.id in options:
                target.secrets.set(new.id, options[hook.id], options=True)
                secrets += 1
            target.audit("hook.imported", hook_id=new.id, hook=audit.hook_snapshot(new),
                         source_store=source.store.store_id, source_hook_id=hook.id)
        added += 1
    copied = known = 0
    before: int | None = None
    while True:
        page = source.store.list_deliveries(limit=PAGE, before_seq=before)
        if not page:
            break
        before = page[-1].seq
        items = [ImportedDelivery(d, mapping[str(d.hook_id)],
                                  source.store.delivery_body(d.id),
                                  tuple(source.store.list_attempts(d.seq)))
                 for d in page if str(d.hook_id) in mapping]
        new_count = team.import_deliveries(items)
        copied += new_count
        known += len(items) - new_count
    return ImportSummary(added, len(hooks) - added, secrets, copied, known)


def _overlapping(hook: Hook, now: float) -> bool:
    expiry = hook.previous_secret_expires_at
    return expiry is not None and expiry > now
