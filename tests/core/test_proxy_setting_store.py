"""The global proxy setting in both stores (SQLite and PostgreSQL): what is saved comes
back, and a damaged value reads as no proxy with the environment ignored."""

from __future__ import annotations

from hookadmin.core.proxy_settings import PROXY_KEY, ProxySetting, proxy_setting
from hookadmin.core.store import Repository


def test_the_proxy_setting_comes_back_as_saved(store: Repository) -> None:
    assert proxy_setting(store) == ProxySetting()  # none, environment ignored
    saved = ProxySetting(url="http://gate@proxy.example:3128", from_environment=True,
                         serial=3)
    store.set_setting(PROXY_KEY, saved.to_json())
    assert proxy_setting(store) == saved
    store.set_setting(PROXY_KEY, {"url": 7, "environment": "yes", "serial": "x"})
    assert proxy_setting(store) == ProxySetting()
