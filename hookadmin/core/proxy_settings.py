"""The global proxy setting: the ``http://`` or ``https://`` proxy every HTTP hook
without a proxy of its own sends through, and whether the proxy variables of the
environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``) are honoured (off by
default: the environment is ignored unless the administrator turns this on).

The setting is kept in the database (``settings`` key :data:`PROXY_KEY`, shared by the
window and every engine); the proxy's password is kept where hook secrets are (the OS
keyring, or a team database's sealed secrets) under the reserved id
:data:`GLOBAL_SECRETS_ID`, as an option secret (:data:`~hookadmin.core.hook_types.PROXY_PASSWORD`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hookadmin.core.hook_types import PROXY_PASSWORD, parse_proxy_url, read_option_secrets
from hookadmin.core.hooks import validate_ca_bundle
from hookadmin.core.operations import Operations

if TYPE_CHECKING:
    from hookadmin.core.secrets import HookSecrets
    from hookadmin.core.store import SettingsRepository

PROXY_KEY = "proxy"
GLOBAL_SECRETS_ID = 0
"""The secret-store id of settings' secrets (hook ids start at 1): its option-secrets
entry (``<database id>/hook/0/options``) holds the global proxy's password."""


@dataclass(frozen=True)
class ProxySetting:
    """The global proxy setting.

    Attributes:
        url: the proxy (``http://user@proxy.example:3128``; its password, if any, is a
            secret), or None for none.
        from_environment: honour ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` for hooks
            with neither their own proxy nor a global one.
        serial: grows at every change (a new password included), so a running engine
            knows to read the password again.
        ca_bundle: the absolute path of a PEM file of CA certificates trusted, besides
            the usual ones, by requests through the global or the environment's proxy
            (an ``https://`` proxy's certificate from a private CA), or None.
    """

    url: str | None = None
    from_environment: bool = False
    serial: int = 0
    ca_bundle: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"url": self.url, "environment": self.from_environment, "serial": self.serial,
                "ca_bundle": self.ca_bundle}


def proxy_setting(store: SettingsRepository) -> ProxySetting:
    """A store's global proxy setting (none, environment ignored, by default)."""
    value = store.get_setting(PROXY_KEY)
    if not isinstance(value, dict):
        return ProxySetting()
    url, env, serial = value.get("url"), value.get("environment"), value.get("serial")
    bundle = value.get("ca_bundle")
    return ProxySetting(url=url if isinstance(url, str) and url else None,
                        from_environment=env is True,
                        serial=serial if isinstance(serial, int) else 0,
                        ca_bundle=bundle if isinstance(bundle, str) and bundle else None)


def global_proxy_password(secrets: HookSecrets) -> str | None:
    """The global proxy's password from the secret store, or None.

    Raises:
        SecretStoreError: the store cannot be read.
    """
    return read_option_secrets(secrets, GLOBAL_SECRETS_ID).get(PROXY_PASSWORD)


class ProxySettings(Operations):
    """The global proxy part of :class:`hookadmin.core.service.HookService` (a mixin
    over :class:`~hookadmin.core.operations.Operations`, whose ``_set_setting`` audits
    each change)."""

    def proxy_setting(self) -> ProxySetting:
        """The global proxy setting (see :class:`ProxySetting`)."""
        return proxy_setting(self.store)

    def set_proxy(self, *, url: str | None = None, password: str | None = None,
                  from_environment: bool | None = None,
                  ca_bundle: str | None = None) -> ProxySetting:
        """Change the global proxy; ``None`` leaves a value as it is.

        Args:
            url: ``http://user:password@proxy.example:3128`` (or ``https://``); an empty
                string removes the global proxy (and its password).
            password: the proxy's password when it is not in ``url``; a URL with the
                same user and no password keeps the stored one.
            from_environment: honour the environment's proxy variables.
            ca_bundle: a PEM file of CA certificates the global or environment's proxy
                is trusted with (see :class:`ProxySetting`); an empty string removes it.

        Returns:
            The new setting.

        Raises:
            InputError: the URL is not a valid proxy URL, or the CA bundle is not a
                readable PEM file of certificates.
            SecretStoreError: the secret store cannot be used (the setting is left as it
                was).
        """
        current = self.proxy_setting()
        bundle = current.ca_bundle if ca_bundle is None \
            else validate_ca_bundle(ca_bundle) or None
        new_url = current.url
        if url is not None:
            new_url = None
            if url.strip():
                new_url, inline = parse_proxy_url(url)
                password = inline if inline is not None else password
            if new_url is None or not urlsplit(new_url).username:
                password = None
                if current.url is not None and urlsplit(current.url).username:
                    self.secrets.delete(GLOBAL_SECRETS_ID, options=True)
            elif password is None and (current.url is None or urlsplit(current.url).username
                                       != urlsplit(new_url).username):
                self.secrets.delete(GLOBAL_SECRETS_ID, options=True)
        if password is not None and (new_url is None or not urlsplit(new_url).username):
            password = None  # a proxy without a user name takes no password
        if password is not None:
            self.secrets.set(GLOBAL_SECRETS_ID, json.dumps({PROXY_PASSWORD: password}),
                             options=True)
        env = current.from_environment if from_environment is None else from_environment
        changed = (new_url, env, bundle) != (current.url, current.from_environment,
                                             current.ca_bundle) or password is not None
        if not changed:
            return current
        setting = ProxySetting(url=new_url, from_environment=env, serial=current.serial + 1,
                               ca_bundle=bundle)
        self._set_setting(PROXY_KEY, setting.to_json())
        return setting
