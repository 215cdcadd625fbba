"""The window's remembered team database: a password in the URL is split off for the
keyring and put back exactly; a broken choice file is ignored, not fatal."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.team.database_choice import (
    load_choice,
    parse_team_url,
    split_password,
    with_password,
)


@pytest.mark.parametrize("password", ["s3cret", "p@ss:w/rd%?#", "ünïcode ☃"])
def test_a_password_goes_out_of_the_url_and_back_unchanged(password: str) -> None:
    url = with_password("postgresql://hooks@db.example:5432/hookadmin?sslmode=require",
                        password)
    assert psycopg.conninfo.conninfo_to_dict(url)["password"] == password
    bare, found = split_password(url)
    assert bare == "postgresql://hooks@db.example:5432/hookadmin?sslmode=require"
    assert found == password
    assert with_password(bare, found) == url


def test_a_url_without_password_is_left_as_it_is() -> None:
    assert split_password("postgresql://db.example/hooks") == (
        "postgresql://db.example/hooks", None)
    assert with_password("postgresql://db.example/hooks", "") == "postgresql://db.example/hooks"


@pytest.mark.parametrize(("typed", "sentence"), [
    ("  ", "Enter the team database's URL"),
    ("db.example/hooks", "must start with postgresql://"),
    ("postgresql://u@h/db?no_such_option=1", "is not a valid PostgreSQL connection URL"),
])
def test_a_wrong_url_is_one_sentence_without_the_url(typed: str, sentence: str) -> None:
    with pytest.raises(InputError, match=sentence) as caught:
        parse_team_url(typed, "hunter2")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("content", ["{not json", '["postgresql://x/y"]',
                                     '{"database": "mysql://x/y"}', '{"database": 3}'])
def test_a_broken_choice_file_means_the_local_database(tmp_path: Path, content: str) -> None:
    path = tmp_path / "database.json"
    path.write_text(content, encoding="utf-8")
    assert load_choice(path) is None
    assert load_choice(tmp_path / "missing.json") is None


def test_a_choice_file_that_is_not_utf8_means_the_local_database(tmp_path: Path) -> None:
    path = tmp_path / "database.json"
    path.write_bytes(b'{"database": "postgresql://h\xff/db"}')
    assert load_choice(path) is None
