"""A forwarding HTTP proxy that runs in its own process, for hooks with ``--proxy``.

Server side::

    python -m tests.forward_proxy --log FILE [--user U --password P] [--cert F --key F]

binds ``127.0.0.1`` on a free port and prints the port alone as the first line of
standard output. It forwards each absolute-form request (``POST http://host/path``)
to its destination and opens a tunnel for each ``CONNECT host:port`` (what a client
sends for an ``https://`` destination), appending ``{"method", "target",
"authorized"}`` to ``--log`` per request (``target`` is the absolute URL, or
``host:port`` for ``CONNECT``). With ``--user``/``--password`` a request without that
``Proxy-Authorization`` gets ``407`` and goes nowhere. With ``--cert``/``--key`` (a
PEM certificate chain and its key) the proxy itself speaks TLS: an ``https://``
proxy. One request per connection (answers carry ``Connection: close``); a tunnel
lasts until either side closes. Standard library only (asyncio).

Client side: :class:`ForwardProxy` starts it (see :mod:`tests.server_process`) and
reads its log.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.server_process import ServerProcess

_HOP_BY_HOP = ("proxy-authorization", "proxy-connection", "connection", "keep-alive", "host")


def _answer(status: str, *headers: str) -> bytes:
    return ("\r\n".join((f"HTTP/1.1 {status}", *headers, "Content-Length: 0",
                         "Connection: close")) + "\r\n\r\n").encode()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until end of stream, then close ``writer``."""
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError, ConnectionError, RuntimeError):
        writer.close()


class _Proxy:
    def __init__(self, log: Path, expected: str | None) -> None:
        self.log = log
        self.expected = expected

    def record(self, method: str, target: str, authorized: bool) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"method": method, "target": target,
                                  "authorized": authorized}) + "\n")

    async def handle(self, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()
            return
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1))
                   for line in lines if ":" in line]
        given = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
        authorized = self.expected is None or given == self.expected
        self.record(method, target, authorized)
        if not authorized:
            writer.write(_answer("407 Proxy Authentication Required",
                                 'Proxy-Authenticate: Basic realm="test"'))
            await writer.drain()
            writer.close()
            return
        if method == "CONNECT":
            await self.tunnel(target, reader, writer)
        else:
            await self.forward(method, target, headers, reader, writer)

    async def tunnel(self, target: str, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        host, _, port = target.rpartition(":")
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.write(_answer("502 Bad Gateway"))
            await writer.drain()
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))

    async def forward(self, method: str, target: str, headers: list[tuple[str, ...]],
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        body = await reader.readexactly(length)
        url = urlsplit(target)
        try:
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        except OSError:
            writer.write(_answer("502 Bad Gateway"))
            await writer.drain()
            writer.close()
            return
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        kept = [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
        up_writer.write(("\r\n".join((f"{method} {path} HTTP/1.1", f"Host: {url.netloc}",
                                      *kept, "Connection: close")) + "\r\n\r\n").encode()
                        + body)
        await up_writer.drain()
        answer_head = await up_reader.readuntil(b"\r\n\r\n")
        status_line, *answer_lines = answer_head.decode("latin-1").split("\r\n")
        answer_kept = [line for line in answer_lines
                       if line and line.split(":", 1)[0].strip().lower() != "connection"]
        writer.write(("\r\n".join((status_line, *answer_kept, "Connection: close"))
                      + "\r\n\r\n").encode())
        await _pump(up_reader, writer)
        up_writer.close()


async def _serve(log: Path, expected: str | None, tls: ssl.SSLContext | None) -> None:
    proxy = _Proxy(log, expected)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0, ssl=tls)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class ForwardProxy(ServerProcess):
    """The proxy process; ``url`` is ``http://127.0.0.1:<port>`` (``https://`` with
    ``tls``).

    Args:
        workdir: where its log goes.
        user, password: the credentials it requires (none when ``user`` is None).
        tls: (certificate chain PEM file, private key PEM file) to be an ``https://``
            proxy.
    """

    def __init__(self, workdir: Path, *, user: str | None = None,
                 password: str | None = None, tls: tuple[Path, Path] | None = None) -> None:
        args: list[str] = []
        if user is not None:
            args += ["--user", user, "--password", password or ""]
        if tls is not None:
            args += ["--cert", str(tls[0]), "--key", str(tls[1])]
        super().__init__("tests.forward_proxy", workdir / f"proxy-{id(self)}.jsonl", args,
                         what="test proxy")
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def requests(self) -> list[dict[str, Any]]:
        """Every request the proxy got, in order."""
        return [json.loads(line) for line in self.log.read_text().splitlines()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    credentials = None if args.user is None else "Basic " + base64.b64encode(
        f"{args.user}:{args.password}".encode()).decode()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(Path(args.log), credentials, context))
