"""The window's own keyring call succeeding reaches the engine at once: deliveries that
waited for a keyring the engine cannot watch (a backend other than the Secret Service)
go out then, not at their next try a minute later."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

from keyring.errors import KeyringLocked

from hookadmin.core.secrets import SecretStore
from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from tests.helpers import FAST, body, wait_until
from tests.memory_keyring import MemoryKeyring, memory_service
from tests.receiver import Receiver

MINUTE = dataclasses.replace(FAST, secret_retry_interval=60.0)


class LockableKeyring(MemoryKeyring):
    """A keyring backend that refuses every read while ``locked`` (keyring's own
    :class:`KeyringLocked`) and offers nothing to watch for an unlock."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        """The password, or KeyringLocked while locked."""
        if self.locked:
            raise KeyringLocked("the keyring is locked")
        return super().get_password(service, username)


def test_a_keyring_answer_from_the_window_sends_what_waits_at_once(
        home: Path, receiver: Receiver) -> None:
    backend = LockableKeyring()
    with memory_service(home, backend) as service:
        hook = service.create_hook(url=receiver.url, events=["job"])
        store_id = service.store.store_id
    backend.locked = True
    told: list[str | None] = []
    engine = Engine(home, settings=MINUTE, secrets=SecretStore(store_id, backend),
                    on_keyring=told.append)
    runner = threading.Thread(target=engine.run, name="engine")
    runner.start()
    try:
        with HookService(home) as reader:
            reader.publish("job.failed", body("job.failed"))
            wait_until(lambda: any(d.last_error_kind == "secret_unavailable"
                                   for d in reader.store.list_deliveries(hook_id=hook.id)),
                       "the delivery waits for the keyring", timeout=30.0)
        assert told[-1] is not None
        assert "locked" in told[-1]
        backend.locked = False
        answered_at = time.time()
        engine.keyring_answered(True)  # what the window's successful keyring call says
        (request,) = receiver.wait_for_requests(1, timeout=10.0)
    finally:
        engine.stop()
        runner.join(20)
    assert not runner.is_alive()
    assert request.received_at - answered_at < 10.0
    assert told[-1] is None  # its read succeeded: the keyring is usable again
