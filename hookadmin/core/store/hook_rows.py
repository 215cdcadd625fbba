"""How a hook is kept as a row of the ``hooks`` table, the same in every store.

The SQLite and the PostgreSQL store read the same columns in the same order and
store a hook's options the same way; these are the pure helpers both use (plain SQL
text without placeholders, and conversions of values: no connection here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hookadmin.core.hook_types import HookOptions
from hookadmin.core.hooks import Hook

SELECT_HOOKS = ("SELECT id, name, url, events, active, insecure_ssl, created_at, updated_at,"
                " deactivated_reason, ca_bundle, previous_secret_expires_at, type, options,"
                " filtered_out FROM hooks")
"""The columns of a :class:`~hookadmin.core.hooks.Hook`; add ``WHERE``/``ORDER BY``."""


def hook_from_row(row: Sequence[Any]) -> Hook:
    """A row of :data:`SELECT_HOOKS` (14 values) as a :class:`~hookadmin.core.hooks.Hook`.

    Raises:
        ValueError: the stored events or options are not JSON (a damaged row).
        InputError: the stored options are JSON but not valid options.
    """
    (id_, name, url, events, active, insecure_ssl, created_at, updated_at, reason, ca_bundle,
     previous_expiry, type_, options, filtered_out) = row
    return Hook(id=int(id_), name=name, url=url, events=tuple(json.loads(events)),
                active=bool(active), insecure_ssl=bool(insecure_ssl), created_at=created_at,
                updated_at=updated_at, deactivated_reason=reason, ca_bundle=ca_bundle,
                previous_secret_expires_at=previous_expiry, type=type_,
                options=HookOptions.from_json(json.loads(options)) if options
                else HookOptions(), filtered_out=int(filtered_out))


def options_text(options: HookOptions | None) -> str | None:
    """A hook's options as stored in its ``options`` column: JSON text, or None (NULL)
    when it has none."""
    if options is None or options.empty:
        return None
    return json.dumps(options.to_json())
