"""A data directory that cannot be used: the command line says "choose another
--home"; the window names the folder and the fix for how it was started (``--home``,
``$HOOKADMIN_HOME`` or the user data folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookadmin.core.errors import DataDirectoryError, StoreError
from hookadmin.core.paths import (
    HOME_ENV,
    HomeSource,
    default_home,
    home_source,
    window_sentence,
)
from hookadmin.core.service import HookService
from hookadmin.core.store import StoreLocation


@pytest.fixture
def not_a_folder(tmp_path: Path) -> Path:
    """A data directory under a file: it cannot be created."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    return blocker / "home"


def test_the_command_line_says_choose_another_home(not_a_folder: Path) -> None:
    with pytest.raises(DataDirectoryError) as caught:
        HookService(StoreLocation(not_a_folder))
    err = caught.value
    assert isinstance(err, StoreError)  # what callers of the store already catch
    assert (err.folder, err.reason) == (not_a_folder, "Not a directory")
    assert str(err) == (f"Cannot use {not_a_folder} as the data directory (Not a "
                        "directory); choose another --home.")


def test_how_the_folder_was_chosen(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    assert home_source(folder, {HOME_ENV: str(folder)}) is HomeSource.ENVIRONMENT
    assert home_source(folder, {HOME_ENV: str(tmp_path / "other")}) is HomeSource.OPTION
    assert home_source(folder, {}) is HomeSource.OPTION
    assert home_source(default_home(), {}) is HomeSource.DEFAULT
    # --home naming the user data folder while $HOOKADMIN_HOME names another: --home.
    assert home_source(default_home(), {HOME_ENV: str(folder)}) is HomeSource.OPTION


def test_the_window_names_the_folder_and_the_fix_for_how_it_was_started(
        not_a_folder: Path) -> None:
    with pytest.raises(DataDirectoryError) as caught:
        HookService(StoreLocation(not_a_folder))
    start = f"Cannot use {not_a_folder} as the data directory (Not a directory); "
    assert window_sentence(caught.value, {}) == (
        start + "start hookadmin again with --home set to a folder you can write to.")
    assert window_sentence(caught.value, {HOME_ENV: str(not_a_folder)}) == (
        start + "set HOOKADMIN_HOME to a folder you can write to and start hookadmin "
                "again.")
    default = DataDirectoryError(default_home(), "Permission denied")
    assert window_sentence(default, {}) == (
        f"Cannot use {default_home()} as the data directory (Permission denied); make it "
        "a folder you can write to, or start hookadmin with --home set to one.")
    other = StoreError("The database was written by a newer hookadmin.")
    assert window_sentence(other, {}) == str(other)
