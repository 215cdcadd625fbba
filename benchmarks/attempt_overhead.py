"""hookadmin's own CPU per attempt, around an HTTP session that answers at once.

    .venv/bin/python benchmarks/attempt_overhead.py [--calls 20000] [--rounds 5] [--json [FILE]]

No network, no nginx, no database, no keyring: ``session.post`` returns a 204 with
nginx's three answer headers without suspending, so what is timed is only the Python
that the engine runs per attempt around aiohttp:

* ``send``: :func:`hookadmin.delivery.http.send` (policy check of the URL, the
  response's status and headers, the attempt record), fixed headers;
* ``attempt``: :meth:`hookadmin.delivery.sender.Sender.attempt` for a plain ``web``
  hook whose secret is cached (the claimed delivery made as the engine makes it, the
  signature headers, ``send``, the ended attempt).

CPU seconds of this process per call; the best of ``--rounds`` is reported (the
machine's other load only ever adds). To compare two trees, run it in each
(``PYTHONPATH=TREE``) one after the other, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from types import TracebackType
from typing import Any

import benchlib
from multidict import CIMultiDict, CIMultiDictProxy

from hookadmin.core.hooks import Hook
from hookadmin.core.secrets import HookSecrets
from hookadmin.core.store import DeliveryJob
from hookadmin.delivery.http import send
from hookadmin.delivery.policy import DeliverySettings
from hookadmin.delivery.secret_cache import SecretCache
from hookadmin.delivery.sender import Sender
from hookadmin.delivery.session_pool import SessionPool

SCRIPT = "attempt_overhead.py"
SECRET = "ab" * 32
DELIVERY_ID = "00000000-0000-4000-8000-000000000000"
HEADERS = {"Content-Type": "application/json", "User-Agent": "hookadmin/0.1.0"}
ANSWER_HEADERS = CIMultiDictProxy(CIMultiDict([
    ("Server", "nginx/1.22.1"), ("Date", "Sat, 05 Dec 2026 18:00:00 GMT"),
    ("Connection", "keep-alive")]))


class _Content:
    def at_eof(self) -> bool:
        return True  # a 204: no body to read


class _Answer:
    status = 204
    headers = ANSWER_HEADERS
    content = _Content()


class _Exchange:
    async def __aenter__(self) -> _Answer:
        return _Answer()

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None


class _Session:
    """Stands for ``aiohttp.ClientSession``: every POST is answered at once."""

    def post(self, *_args: object, **_kwargs: object) -> _Exchange:
        return _Exchange()

    async def close(self) -> None:
        return None


class _Secret(HookSecrets):
    def get(self, hook_id: int) -> str:
        return SECRET


async def _measure(calls: int, rounds: int) -> dict[str, float]:
    """Best CPU µs per call of each layer over ``rounds``."""
    settings = DeliverySettings()
    hook = Hook(id=1, name="bench", url="http://127.0.0.1:8/hook/1", events=("job",))
    pool = SessionPool(settings)
    session: Any = _Session()
    pool.get = lambda *_a, **_k: session  # type: ignore[method-assign]
    cache = SecretCache(_Secret())
    await cache.get(hook)
    sender = Sender(cache, pool, settings)
    body = benchlib.job_bodies(1)[0]
    best = {"send": float("inf"), "attempt": float("inf")}
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(calls):
            await send(session, hook.url, HEADERS, body, settings)
        best["send"] = min(best["send"], (time.process_time() - t0) / calls * 1e6)
        t0 = time.process_time()
        for seq in range(calls):
            await sender.attempt(DeliveryJob(seq, DELIVERY_ID, 1, "job.completed", body, 0),
                                 hook)
        best["attempt"] = min(best["attempt"], (time.process_time() - t0) / calls * 1e6)
    return {k: round(v, 2) for k, v in best.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=20_000, help="calls per layer and round")
    p.add_argument("--rounds", type=int, default=5, help="rounds; the best is reported")
    p.add_argument("--json", nargs="?", const="-", metavar="FILE")
    args = p.parse_args()
    if args.calls < 1 or args.rounds < 1:
        print(f"{SCRIPT}: --calls and --rounds must be >= 1", file=sys.stderr)
        return 2
    best = asyncio.run(_measure(args.calls, args.rounds))
    result = {"benchmark": "attempt_overhead", "machine": benchlib.machine_info(),
              "command": " ".join(["python", *sys.argv]),
              "params": {"calls": args.calls, "rounds": args.rounds},
              "cpu_us_per_call": best}

    def human(res: dict[str, Any]) -> None:
        benchlib.print_machine(res["machine"], res)
        benchlib.print_table(("layer", "CPU µs/call (best)"),
                             list(res["cpu_us_per_call"].items()))
    benchlib.emit(args.json, result, human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
