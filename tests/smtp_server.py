"""A test SMTP server (aiosmtpd) that runs in its own process, for e-mail hooks.

Server side::

    python -m tests.smtp_server --log FILE [--user U --password P]

binds ``127.0.0.1`` on a free port, prints the port alone as the first line of
standard output, and appends one JSON object per message received to ``--log``:
``{"mail_from", "rcpt_tos", "data"}`` (``data`` is the raw message, latin-1). With
``--user``/``--password`` it requires that login (over plain SMTP: a test server).

Client side: :class:`SmtpServer` starts it (see :mod:`tests.server_process`) and
reads the messages back.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import socket
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.server_process import ServerProcess


def _serve(log: Path, user: str | None, password: str | None) -> None:
    import warnings

    warnings.simplefilter("ignore")  # AUTH without TLS: this is a test server
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                      "data": envelope.original_content.decode("latin-1")}
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
            return "250 Message accepted for delivery"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    kwargs: dict[str, Any] = {}
    if user is not None:
        kwargs = {"authenticator": authenticator, "auth_required": True,
                  "auth_require_tls": False}
    with socket.socket() as probe:  # aiosmtpd needs a port number: take a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(port, flush=True)
    threading.Event().wait()  # until killed


class SmtpServer(ServerProcess):
    """The test SMTP server process.

    Args:
        workdir: a folder for its log.
        user, password: the login it requires, or None for none.

    Attributes:
        port: the port it listens on.
    """

    def __init__(self, workdir: Path, *, user: str | None = None,
                 password: str | None = None) -> None:
        args = [] if user is None else ["--user", user, "--password", password or ""]
        super().__init__("tests.smtp_server", workdir / f"smtp-{id(self)}.jsonl", args,
                         what="test SMTP server")

    def messages(self) -> list[tuple[dict[str, Any], EmailMessage]]:
        """Every message received: (envelope record, parsed message)."""
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            msg = email.message_from_bytes(record["data"].encode("latin-1"),
                                           policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append((record, msg))
        return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    _serve(Path(args.log), args.user, args.password)
