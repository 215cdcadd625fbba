"""Receivers the benchmarks run in their own processes (not a benchmark itself).

    python benchmarks/receivers.py record [--port N]   # aiohttp, 204, records arrivals
    python benchmarks/receivers.py hang [--port N]     # accepts, reads, never answers

Both bind 127.0.0.1 (a free port unless ``--port``) and print the port alone as the
first line of stdout once they listen.

``record`` notes ``time.time()`` the moment each request's headers have been parsed,
with its ``X-Hook-Delivery`` header, then answers 204 without reading further work;
``GET /_arrivals`` returns ``{"arrivals": [[delivery_id, unix_time], ...]}`` and
``GET /_count`` the number recorded so far.

``hang`` accepts every connection, reads and discards what is sent, and never writes a
byte, like a receiver whose application is stuck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import time

from aiohttp import web


def _listen_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


def record(port: int) -> None:
    arrivals: list[tuple[str, float]] = []

    async def hook(request: web.Request) -> web.Response:
        arrivals.append((request.headers.get("X-Hook-Delivery", ""), time.time()))
        await request.read()
        return web.Response(status=204)

    async def get_arrivals(_request: web.Request) -> web.Response:
        return web.Response(text=json.dumps({"arrivals": arrivals}),
                            content_type="application/json")

    async def get_count(_request: web.Request) -> web.Response:
        return web.Response(text=str(len(arrivals)))

    app = web.Application()
    app.router.add_get("/_arrivals", get_arrivals)
    app.router.add_get("/_count", get_count)
    app.router.add_post("/{tail:.*}", hook)

    async def main() -> None:
        sock = _listen_socket(port)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.SockSite(runner, sock)
        await site.start()
        print(sock.getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def hang(port: int) -> None:
    held: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.add(writer)
        try:
            while await reader.read(65536):
                pass
        finally:
            held.discard(writer)
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=_listen_socket(port), backlog=4096)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


def main() -> int:
    p = argparse.ArgumentParser(description="Benchmark receivers: 'record' (204, notes "
                                            "arrival times) or 'hang' (never answers).")
    p.add_argument("mode", choices=("record", "hang"))
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    args = p.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        (record if args.mode == "record" else hang)(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
