"""Without a usable keyring the window says why and what to do, still lists hooks, and
deliveries wait instead of going out unsigned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from keyring.backends import fail
from pytestqt.qtbot import QtBot

from hookadmin.core.secrets import SecretStore
from hookadmin.core.service import HookService
from hookadmin.delivery.engine import Engine
from hookadmin.ui.main_window import MainWindow
from tests.helpers import FAST, body
from tests.receiver import Receiver


def test_no_keyring_shows_a_banner_and_nothing_is_sent_unsigned(
        qtbot: QtBot, home: Path, service: HookService,
        make_receiver: Callable[..., Receiver]) -> None:
    receiver = make_receiver()
    hook = service.create_hook(url=receiver.url, events=["job"], name="ops")
    service.publish("job.failed", body("job.failed"))
    # keyring's own "no backend" backend: what keyring.get_keyring() returns on a
    # machine without any keyring service.
    without = HookService(home, secrets=SecretStore(service.store.store_id,
                                                    backend=fail.Keyring()))
    try:
        window = MainWindow(without)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.keyring_checked) as checked:
            window.show()  # the keyring is checked in the background after the first paint
            qtbot.waitExposed(window)
        assert checked.args == [False]
        assert window.banner.isVisible()
        text = window.banner.text()
        assert "No usable OS keyring" in text
        assert "never sent unsigned" in text
        assert window.hooks_model.rowCount() == 1
        assert window.hooks_model.hook_at(0).id == hook.id
        window.close()
    finally:
        without.close()

    Engine(home, settings=FAST,
           secrets=SecretStore(service.store.store_id, backend=fail.Keyring())
           ).run(until_idle=True)
    assert receiver.requests() == []
    (delivery,) = service.store.list_deliveries()
    assert (delivery.status, delivery.last_error_kind) == ("pending", "secret_unavailable")
