"""Start-up of a test server that runs in its own process (the forwarding proxy, the
SMTP server).

Such a server is a module of this package run as ``python -m tests.NAME --log FILE
[ARG...]`` from the repository's root: it binds ``127.0.0.1`` on a free port, prints
the port alone as the first line of standard output once it accepts connections, and
appends what it received to ``FILE``. :class:`ServerProcess` starts one, waits for
that line and ends the process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


class ServerProcess:
    """One test server process.

    Args:
        module: the server's module (``tests.smtp_server``).
        log: the file it appends to (created empty here).
        args: its other command-line arguments.
        what: the server's name in the error (``test SMTP server``).

    Attributes:
        log: as given.
        port: the port it listens on (on ``127.0.0.1``).
        proc: the process.

    Raises:
        RuntimeError: it ended or printed something else before its port (its own
            error is on standard error).
    """

    def __init__(self, module: str, log: Path, args: Sequence[str], *, what: str) -> None:
        self.log = log
        self.log.touch()
        self.proc = subprocess.Popen([sys.executable, "-m", module, "--log", str(log), *args],
                                     stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the port, once it accepts connections
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"The {what} did not start; see its stderr above.")
        self.port = int(line)

    def stop(self) -> None:
        """End the process."""
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
