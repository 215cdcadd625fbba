"""CPU per request of the engine's sending layers, one on top of the other, side by side.

    .venv/bin/python benchmarks/send_layers.py [--requests 40000] [--concurrency 64]
        [--rounds 3] [--event-loop asyncio|uvloop] [--json [FILE]]

Each layer is a loop of ``--concurrency`` coroutines POSTing the same body to a private
nginx (204) on 127.0.0.1, in this process, with its CPU time (user + system) per
request:

* ``aiohttp``: bare ``session.post`` with hookadmin's header set (throughput.py's (a));
* ``send``: hookadmin's :func:`hookadmin.delivery.http.send` (its session, timeouts,
  response record) with fixed headers;
* ``sign+send``: plus :func:`hookadmin.core.signing.delivery_headers` per request;
* ``sender``: :meth:`hookadmin.delivery.sender.Sender.attempt` (the hook's cached
  secret, signing, send) — everything the engine does for a request except the
  dispatcher, the loop and the bookkeeping.

Layers alternate (``--rounds``) and the median is reported, so the machine's other load
falls on all of them alike. No database and no keyring: the secret is in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import benchlib
import engine_phase

from hookadmin.core.hooks import Hook
from hookadmin.core.signing import delivery_headers
from hookadmin.core.store import DeliveryJob
from hookadmin.delivery.event_loop import EventLoop
from hookadmin.delivery.event_loop import run as run_on
from hookadmin.delivery.http import make_session, send
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.secret_cache import SecretCache
from hookadmin.delivery.sender import Sender
from hookadmin.delivery.session_pool import SessionPool

SCRIPT = "send_layers.py"
LAYERS = ("aiohttp", "send", "sign+send", "sender")
def _hook(url: str) -> Hook:
    return Hook(id=1, name="bench", url=url, events=("job",))


async def _layer(name: str, url: str, body: bytes, total: int, concurrency: int
                 ) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``total`` requests through one layer."""
    settings = DeliverySettings(max_in_flight=concurrency)
    counter = itertools.count()
    session = make_session(settings) if name != "aiohttp" else aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency))
    pool = SessionPool(settings)
    cache = SecretCache(engine_phase.OneSecret())
    sender = Sender(cache, pool, settings)
    hook = _hook(url)
    await cache.get(hook)
    one: Callable[[int], Awaitable[object]]

    async def bare(_i: int) -> None:
        async with session.post(url, data=body, headers=engine_phase.HEADERS) as resp:
            await resp.read()

    async def hookadmin_send(_i: int) -> object:
        return await send(session, url, engine_phase.HEADERS, body, settings)

    async def sign_send(i: int) -> object:
        headers = delivery_headers(secret=engine_phase.SECRET, event_type="job.completed",
                                   delivery_id=f"00000000-0000-4000-8000-{i:012d}",
                                   timestamp=int(time.time()), body=body)
        return await send(session, url, headers, body, settings)

    async def via_sender(i: int) -> object:
        job = DeliveryJob(i, f"00000000-0000-4000-8000-{i:012d}", 1, "job.completed", body, 0)
        return await sender.attempt(job, hook)

    one = {"aiohttp": bare, "send": hookadmin_send, "sign+send": sign_send,
           "sender": via_sender}[name]

    async def worker() -> None:
        while (i := next(counter)) < total:
            await one(i)
    await one(0)  # connections and TLS-free warm-up outside the measurement
    cpu0, wall0 = benchlib.self_cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = benchlib.self_cpu_seconds() - cpu0, time.perf_counter() - wall0
    await session.close()
    await pool.close()
    return cpu, wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=40_000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--event-loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE")
    args = p.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1:
        print(f"{SCRIPT}: --requests, --concurrency and --rounds must be >= 1",
              file=sys.stderr)
        return 2
    body = benchlib.job_bodies(1)[0]
    loop = EventLoop.parse(args.event_loop)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in LAYERS}
    with benchlib.Nginx() as nginx:
        url = nginx.url("/hook/1")
        for r in range(args.rounds):
            for name in LAYERS:
                runs[name].append(run_on(_layer(name, url, body, args.requests,
                                                args.concurrency), loop))
                benchlib.log(f"round {r + 1} {name}: "
                             f"{runs[name][-1][0] / args.requests * 1e6:.1f} µs CPU/req")
    layers: list[dict[str, Any]] = []
    for name in LAYERS:
        cpu = statistics.median(c for c, _ in runs[name]) / args.requests * 1e6
        rate = statistics.median(args.requests / w for _, w in runs[name])
        layers.append({"layer": name, "cpu_us_per_req": round(cpu, 1),
                       "req_per_s": round(rate, 1)})
    base = layers[0]["cpu_us_per_req"]
    for layer in layers:
        layer["cpu_vs_aiohttp"] = round(layer["cpu_us_per_req"] / base, 3)
    result = {"benchmark": "send_layers", "machine": benchlib.machine_info(),
              "command": " ".join(["python", *sys.argv]), "event_loop": args.event_loop,
              "params": {"requests": args.requests, "concurrency": args.concurrency,
                         "rounds": args.rounds, "body_bytes": len(body)},
              "layers": layers}

    def human(res: dict[str, Any]) -> None:
        benchlib.print_machine(res["machine"], res)
        benchlib.print_table(("layer", "CPU µs/req (median)", "req/s (median)", "CPU / aiohttp"),
                             [(x["layer"], x["cpu_us_per_req"], x["req_per_s"],
                               x["cpu_vs_aiohttp"]) for x in res["layers"]])
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
