"""Where hookadmin keeps its state (DESIGN.md §5)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "HOOKADMIN_HOME"


def data_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``explicit`` (``--home``), else ``$HOOKADMIN_HOME``, else
    ``platformdirs.user_data_dir("hookadmin")``. The folder is not created here."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only here: the window reads its folders after its first paint

    return Path(platformdirs.user_data_dir("hookadmin", appauthor=False))
