"""Opening a store by location: a data directory gives SQLite, a ``postgresql://`` URL
PostgreSQL, each with the change feed of its kind, behind the same protocols."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hookadmin.core.errors import StoreError
from hookadmin.core.store import (
    ChangeFeed,
    Repository,
    SQLiteStore,
    is_database_url,
    open_change_feed,
    open_store,
)
from hookadmin.core.store.postgres import PostgresStore


def _wait_for_change(feed: ChangeFeed, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if feed.changed():
            return True
    return False


@pytest.mark.parametrize(("location", "url"), [
    ("postgresql://u@db.example:5432/hooks", True), ("postgres://db.example/hooks", True),
    ("/var/lib/hookadmin", False), (Path("postgresql:"), False), ("sqlite:///x", False)])
def test_only_a_postgresql_url_names_a_database_server(location: Path | str,
                                                        url: bool) -> None:
    assert is_database_url(location) is url


def test_a_data_directory_opens_sqlite(tmp_path: Path) -> None:
    store: Repository = open_store(str(tmp_path / "home"))
    try:
        assert isinstance(store, SQLiteStore)
    finally:
        store.close()


def test_an_empty_postgresql_database_is_refused_until_team_init(postgres_url: str) -> None:
    with pytest.raises(StoreError):
        open_store(postgres_url)
    PostgresStore.init(postgres_url).close()
    store = open_store(postgres_url)
    try:
        assert isinstance(store, PostgresStore)
        hook = store.add_hook(name="ops", url="https://example.com/h", events=["job"],
                              active=True)
        assert [h.id for h in store.list_hooks()] == [hook.id]
    finally:
        store.close()


def test_the_postgresql_change_feed_sees_another_connections_publish(
        postgres_url: str) -> None:
    PostgresStore.init(postgres_url).close()
    feed = open_change_feed(postgres_url)
    assert feed is not None
    publisher = open_store(postgres_url)
    try:
        assert feed.changed()  # the first look: nothing seen yet
        assert not feed.changed()
        publisher.add_events([("job.failed", b"{}")])
        assert _wait_for_change(feed)  # the NOTIFY arrives
        assert not feed.changed()  # and is reported once
    finally:
        publisher.close()
        feed.close()


def test_an_unreachable_server_has_no_change_feed() -> None:
    assert open_change_feed("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2") is None
