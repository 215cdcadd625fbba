"""The PostgreSQL fixture: a fresh, empty database per test on the throw-away cluster.

``scripts/with-test-postgres.sh`` starts the cluster and sets
``HOOKADMIN_TEST_POSTGRES_URL`` (a superuser's ``postgresql://`` URL);
``scripts/run-tests`` does that for the whole suite. Without it, every test that asks
for a database fails with one sentence saying how to run it: a test needing PostgreSQL
is never skipped.

Fixtures:

* ``postgres_url``: the ``postgresql://`` URL of a new, empty database made for the
  test (``CREATE DATABASE``), dropped after it, with any connection left to it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

URL_ENV = "HOOKADMIN_TEST_POSTGRES_URL"
RUN_HINT = ("run the tests inside scripts/with-test-postgres.sh (scripts/run-tests does), "
            "which starts a throw-away PostgreSQL cluster and sets it")


def cluster_url() -> str:
    """The test cluster's superuser URL; fails the test with one sentence when unset."""
    url = os.environ.get(URL_ENV, "")
    if not url:
        pytest.fail(f"{URL_ENV} is not set; {RUN_HINT}.", pytrace=False)
    return url


def database_url(cluster: str, name: str) -> str:
    """``cluster`` (a ``postgresql://`` URL) with its database replaced by ``name``."""
    parts = urlsplit(cluster)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database on the test cluster, dropped after the test."""
    cluster = cluster_url()
    name = f"hookadmin_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(cluster, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(cluster, name)
    finally:
        with psycopg.connect(cluster, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
