"""``hookadmin-gui`` and ``hookadmin gui`` take ``--database`` and
``HOOKADMIN_DATABASE`` like the command line; a wrong one is refused with one sentence,
exit status 2, before any window opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookadmin.core.store import DATABASE_ENV
from hookadmin.ui.app import main, start_location


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    return tmp_path / "config" / "hookadmin"


def test_a_database_option_that_is_not_a_postgresql_url_exits_2(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv=["--database", "mysql://root:hunter2@db/hooks"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hookadmin: --database is not a PostgreSQL URL")
    assert err.count("\n") == 1
    assert "hunter2" not in err


def test_the_environment_variable_is_checked_too(
        home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DATABASE_ENV, "sqlite:///tmp/x.db")
    assert main(argv=[]) == 2
    assert f"{DATABASE_ENV} is not a PostgreSQL URL" in capsys.readouterr().err


def test_an_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv=["--databse", "postgresql://db/hooks"])
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_the_option_wins_over_the_environment_and_the_remembered_choice(
        home: Path, monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "database.json").write_text('{"database": "postgresql://remembered/db"}',
                                              encoding="utf-8")
    location, remembered = start_location(None, "postgresql://given/db")
    assert (location.url, remembered) == ("postgresql://given/db", False)
    monkeypatch.setenv(DATABASE_ENV, "postgresql://from-env/db")
    location, remembered = start_location(None, None)
    assert (location.url, remembered) == ("postgresql://from-env/db", False)
    monkeypatch.delenv(DATABASE_ENV)
    location, remembered = start_location(None, None)
    assert (location.url, remembered) == ("postgresql://remembered/db", True)
    assert location.home == home
    (config_dir / "database.json").write_text('{"database": null}', encoding="utf-8")
    location, remembered = start_location(None, None)
    assert (location.url, remembered) == (None, False)
