"""Fixtures of the core tests: ``store``, a fresh store of each backend (a real SQLite
file, a real PostgreSQL database), so a scenario written once runs on both. A test
module that defines its own ``store`` uses that one instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.core.store import Repository, Store
from hookadmin.core.store.postgres import PostgresStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repository]:
    """A fresh, empty store: SQLite in ``tmp_path/home``, or PostgreSQL in the test's
    own database (``postgres_url``)."""
    if request.param == "sqlite":
        with Store.in_home(tmp_path / "home") as s:
            yield s
    else:
        with PostgresStore.init(request.getfixturevalue("postgres_url")) as pg:
            yield pg
