"""When deliveries that waited for the keyring are made due again: at once when it is
back, but a keyring found usable whose reads still fail is not retried at once again
(each such round waits twice as long as the last, until a read succeeds)."""

from __future__ import annotations

import asyncio
import time

from hookadmin.core.secrets import SecretStore
from hookadmin.delivery.keyring_wait import FIRST_PAUSE, KeyringWait
from tests.memory_keyring import MemoryKeyring


def test_rounds_whose_reads_still_fail_are_put_off_more_each_time() -> None:
    async def scenario() -> list[float]:
        back = asyncio.Event()
        waits = KeyringWait(SecretStore("s", MemoryKeyring()), back.set, longest_pause=60.0)
        gaps: list[float] = []
        start = time.monotonic()
        for _ in range(3):  # three rounds in a row, no read succeeding between them
            back.clear()
            waits.answered()
            waits.answered()  # a second answer meanwhile is the same round
            async with asyncio.timeout(FIRST_PAUSE * 4 + 5):
                await back.wait()
            assert waits.take_due()
            assert not waits.take_due()  # once per round
            gaps.append(time.monotonic() - start)
            start = time.monotonic()
        waits.read_ok()  # a secret was read: the next problem starts afresh
        back.clear()
        waits.answered()
        assert back.is_set()
        waits.close()
        return gaps

    first, second, third = asyncio.run(scenario())
    assert first < 1.0  # the keyring is back: at once
    assert FIRST_PAUSE - 0.1 <= second < FIRST_PAUSE + 2.0
    assert 2 * FIRST_PAUSE - 0.1 <= third < 2 * FIRST_PAUSE + 2.0
