"""A forwarding HTTP proxy that runs in its own process, for hooks with ``--proxy``.

Server side::

    python tests/forward_proxy.py --log FILE [--user U --password P]

binds ``127.0.0.1`` on a free port, prints the port alone as the first line of
standard output, and forwards each absolute-form request (``POST http://host/path``)
to its destination, appending ``{"method", "target", "authorized"}`` to ``--log``
per request. With ``--user``/``--password`` a request without that
``Proxy-Authorization`` gets ``407`` and is not forwarded. Standard library only.

Client side: :class:`ForwardProxy` starts it and reads its log.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def _serve(log: Path, user: str | None, password: str | None) -> None:
    expected = None if user is None else "Basic " + base64.b64encode(
        f"{user}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            authorized = expected is None or self.headers.get("Proxy-Authorization") == expected
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"method": "POST", "target": self.path,
                                      "authorized": authorized}) + "\n")
            if not authorized:
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = urlsplit(self.path)
            conn = http.client.HTTPConnection(target.hostname or "", target.port or 80,
                                              timeout=10)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("proxy-authorization", "proxy-connection",
                                            "connection", "host")}
            path = target.path + (f"?{target.query}" if target.query else "")
            conn.request("POST", path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class ForwardProxy:
    """The proxy process; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, workdir: Path, *, user: str | None = None,
                 password: str | None = None) -> None:
        self.log = workdir / f"proxy-{id(self)}.jsonl"
        self.log.touch()
        cmd = [sys.executable, __file__, "--log", str(self.log)]
        if user is not None:
            cmd += ["--user", user, "--password", password or ""]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("The test proxy did not start; see its stderr above.")
        self.url = f"http://127.0.0.1:{int(line)}"

    def requests(self) -> list[dict[str, Any]]:
        """Every request the proxy got, in order."""
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def stop(self) -> None:
        """End the process."""
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    _serve(Path(args.log), args.user, args.password)
