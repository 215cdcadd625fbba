"""``hookadmin-gui`` and ``hookadmin gui`` take ``--database`` and
``HOOKADMIN_DATABASE`` like the command line; a wrong one is refused with one sentence,
exit status 2, before any window opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from hookadmin.core.store import DATABASE_ENV
from hookadmin.ui.app import main, start_location
from tests.helpers import run_cli


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    return tmp_path / "config" / "hookadmin"


def test_a_database_option_that_is_not_a_postgresql_url_exits_2(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    windows = len(QApplication.topLevelWidgets())
    assert main(argv=["--database", "mysql://root:hunter2@db/hooks"]) == 2
    assert len(QApplication.topLevelWidgets()) == windows  # refused before any window
    err = capsys.readouterr().err
    assert err.startswith("hookadmin: --database is not a PostgreSQL URL")
    assert err.count("\n") == 1
    assert "hunter2" not in err


def test_the_environment_variable_is_checked_too(
        home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DATABASE_ENV, "sqlite:///tmp/x.db")
    windows = len(QApplication.topLevelWidgets())
    assert main(argv=[]) == 2
    assert len(QApplication.topLevelWidgets()) == windows
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


def test_hookadmin_gui_takes_the_global_database_option(home: Path) -> None:
    result = run_cli("--database", "postgresql://admin@db.example/hooks?no_such_option=1",
                     "gui", home=home)
    assert result.returncode == 2
    assert result.stderr.startswith("hookadmin: --database is not a valid PostgreSQL "
                                    "connection URL")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_the_window_refuses_a_database_it_cannot_reach_with_exit_1(
        home: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    """Not a remembered choice but one given: no local window instead, exit 1 (the
    message box is answered by the test instead of waiting for a click)."""
    port = closed_port
    shown: list[str] = []

    def critical(parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", critical)
    assert main(argv=["--database", f"postgresql://admin@127.0.0.1:{port}/hooks"]) == 1
    assert len(shown) == 1
    assert "nothing accepts connections there" in shown[0]


def test_a_data_directory_the_window_cannot_use_is_said_on_stderr_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Started from a terminal, the sentence of the message box is on stderr as well
    (one line, no traceback), and the exit status is 1."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    shown: list[str] = []

    def critical(parent: object, title: str, text: str) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", critical)
    assert main(argv=["--home", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert len(shown) == 1
    assert err.startswith(f"hookadmin: Cannot use {blocker / 'sub'} as the data directory")
    assert err.count("\n") == 1
    assert "Traceback" not in err
