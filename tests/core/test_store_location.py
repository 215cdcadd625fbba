"""Where the store is: --database, HOOKADMIN_DATABASE, else SQLite in the data
directory; the URL's password is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.store import DATABASE_ENV, StoreLocation, as_location, resolve_location

URL = "postgresql://team:s3cr3t-pw@db.example.com:5432/hooks"


def test_the_option_wins_over_the_environment_which_wins_over_sqlite(tmp_path: Path) -> None:
    env = {DATABASE_ENV: "postgresql://other@db.example.com/other"}
    assert resolve_location(tmp_path, URL, environ=env) == StoreLocation(tmp_path, URL)
    assert resolve_location(tmp_path, None, environ=env).url == env[DATABASE_ENV]
    assert resolve_location(tmp_path, None, environ={}) == StoreLocation(tmp_path)
    assert resolve_location(tmp_path, None, environ={DATABASE_ENV: ""}).url is None


def test_the_password_is_never_shown(tmp_path: Path) -> None:
    location = StoreLocation(tmp_path, URL)
    assert "s3cr3t-pw" not in repr(location)
    assert location.describe() == "PostgreSQL database team@db.example.com:5432/hooks"
    assert StoreLocation(tmp_path).describe() == f"SQLite database in {tmp_path}"


def test_children_get_the_url_in_their_environment(tmp_path: Path) -> None:
    assert StoreLocation(tmp_path, URL).environ({"A": "1"}) == {"A": "1", DATABASE_ENV: URL}
    assert StoreLocation(tmp_path).environ({DATABASE_ENV: URL}) == {}


@pytest.mark.parametrize(("given", "expected"), [
    ("mysql://u@h/db", "--database is not a PostgreSQL URL"),
    ("postgresql://u:pw@h/db?nonsense=1", "--database is not a valid PostgreSQL connection"),
])
def test_a_malformed_url_is_one_sentence_without_it(tmp_path: Path, given: str,
                                                     expected: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_location(tmp_path, given, environ={})
    assert str(caught.value).startswith(expected)
    assert "pw" not in str(caught.value).replace("PostgreSQL", "")
    assert caught.value.field == "database"


def test_a_data_directory_follows_the_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, URL)
    assert as_location(tmp_path) == StoreLocation(tmp_path, URL)
    monkeypatch.delenv(DATABASE_ENV)
    assert as_location(tmp_path) == StoreLocation(tmp_path)
    assert as_location(URL).url == URL
