"""Option secrets: the secret settings of a hook beyond its signing secret.

A Slack URL, a PagerDuty routing key, passwords, an encrypted client key's passphrase
and secret header values are kept as :data:`OptionSecrets` where hook secrets live;
their names are the keys of that mapping.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hookadmin.core.errors import SecretStoreError

if TYPE_CHECKING:
    from hookadmin.core.secrets import HookSecrets

# Option secret names (keys of an OptionSecrets mapping).
SLACK_URL = "slack_url"
ROUTING_KEY = "routing_key"
BASIC_AUTH_PASSWORD = "basic_auth_password"  # noqa: S105 - a name, not a password
SMTP_PASSWORD = "smtp_password"  # noqa: S105 - a name, not a password
KEY_PASSPHRASE = "key_passphrase"  # noqa: S105 - a name, not a passphrase
PROXY_PASSWORD = "proxy_password"  # noqa: S105 - a name, not a password
HEADER_PREFIX = "header:"

OptionSecrets = dict[str, str]
"""Option secret name → value: :data:`SLACK_URL`, :data:`ROUTING_KEY`,
:data:`BASIC_AUTH_PASSWORD`, :data:`SMTP_PASSWORD`, and ``header:<Name>`` for each
secret header's value."""


def mask(value: str) -> str:
    """A secret as shown in logs and the window: never any of its characters."""
    return "***" if value else ""


def read_option_secrets(secrets: HookSecrets, hook_id: int) -> OptionSecrets:
    """A hook's option secrets from the secret store (empty when it has none).

    Raises:
        SecretStoreError: the store cannot be read, or the entry is not a JSON object
            of strings.
    """
    text = secrets.get_optional(hook_id, options=True)
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SecretStoreError(f"The option secrets of hook {hook_id} are damaged; set them "
                               "again with `hookadmin hooks edit`.", cause="damaged")
    return value
