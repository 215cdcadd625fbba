"""Without a usable keyring the window says why and what to do, still lists hooks, and
deliveries wait instead of going out unsigned; a locked keyring is said once, not as
every hook failing, and deliveries go out once it is unlocked."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import secretstorage
from keyring.backends import fail
from pytestqt.qtbot import QtBot
from secretstorage.util import DBusAddressWrapper

from hookadmin.core.secrets import SecretStore
from hookadmin.core.service import HookService
from hookadmin.delivery.engine import AttemptOutcome, Engine
from hookadmin.ui.engine_host import EngineHost
from hookadmin.ui.main_window import MainWindow
from tests.helpers import FAST, body
from tests.receiver import Receiver
from tests.ui.conftest import HookFactory
from tests.ui.gui import refresh_window, select_hook, settled

Make = Callable[..., Receiver]
SOON = 10.0  # seconds: well under the minute a waiting delivery's next try is away


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


# The test keyring's password (scripts/with-test-keyring.sh unlocks it with this).
TEST_KEYRING_PASSWORD = b"hookadmin-test-login"


@contextlib.contextmanager
def locked_login_keyring() -> Iterator[None]:
    """Lock the real test keyring's default collection, and unlock it again with its
    password at the end (gnome-keyring's own unlock call, since no prompt can be
    answered headless)."""
    with contextlib.closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.get_default_collection(conn)
        collection.lock()
        assert collection.is_locked()
        try:
            yield
        finally:
            service = DBusAddressWrapper("/org/freedesktop/secrets",
                                         "org.freedesktop.Secret.Service", conn)
            _, session = service.call("OpenSession", "sv", "plain", ("s", ""))
            DBusAddressWrapper(
                "/org/freedesktop/secrets",
                "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", conn,
            ).call("UnlockWithMasterPassword", "o(oayays)", collection.collection_path,
                   (session, b"", TEST_KEYRING_PASSWORD, "text/plain"))
            assert not collection.is_locked()


def engine_past_its_start(qtbot: QtBot, service: HookService, make_receiver: Make,
                          hook_factory: HookFactory, outcomes: list[AttemptOutcome]) -> None:
    """Wait until the window's engine has delivered to a hook of its own (``cluster``
    events): it has read the secrets of the hooks there were at its start, so a hook
    made after this is read from the keyring at its first delivery."""
    warm = make_receiver()
    hook_factory(warm.url, name="warm", events=("cluster",))
    service.publish("cluster.available", body("cluster.available"))
    qtbot.waitUntil(lambda: any(o.error_kind is None for o in outcomes), timeout=20_000)
    outcomes.clear()


def test_a_locked_keyring_is_no_hook_failing_and_delivery_resumes_after_unlock(
        qtbot: QtBot, home: Path, service: HookService, receiver: Receiver,
        make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    # The default minute between tries of a delivery waiting for its secret: the
    # engine's process notices the unlock and sends it long before that.
    engine = EngineHost(home, replace(FAST, secret_retry_interval=60.0))
    window = open_window(engine)
    outcomes: list[AttemptOutcome] = []
    engine.attempt_recorded.connect(outcomes.append)
    engine_past_its_start(qtbot, service, make_receiver, hook_factory, outcomes)
    hook = hook_factory(receiver.url, name="ops", events=("job",))
    with locked_login_keyring():
        service.publish("job.completed", body("job.completed"))
        qtbot.waitUntil(lambda: bool(outcomes), timeout=20_000)
        assert outcomes[0].error_kind == "secret_unavailable"
        qtbot.waitUntil(
            lambda: window.engine_label.text() == "Delivery: waiting for the keyring",
            timeout=5000)
        select_hook(qtbot, window, hook.id)  # the window's own call fails too
        settled(qtbot, window)
        assert window.keyring.problem
        unlocked_at = time.time()
    # Unlocked: the waiting delivery goes out with the same window and engine.
    (request,) = receiver.wait_for_requests(1, timeout=SOON)
    assert request.received_at - unlocked_at < SOON
    qtbot.waitUntil(lambda: any(o.error_kind is None for o in outcomes), timeout=10_000)
    qtbot.waitUntil(lambda: window.engine_label.text() == "Delivery: running", timeout=5000)
    # A keyring that cannot be read is said once, in the status bar: no hook is failing.
    assert window.notifier.history == []


def test_a_hook_page_asks_a_locked_keyring_once_not_at_every_refresh(
        qtbot: QtBot, service: HookService, monkeypatch: pytest.MonkeyPatch,
        open_window: Callable[..., MainWindow]) -> None:
    hook = service.create_hook(url="https://example.com/hook", events=["job"], name="ops")
    window = open_window()
    qtbot.waitUntil(lambda: window.startup.wait(0), timeout=15_000)
    secrets = window.service.secrets  # the keyring lane's too
    asked: list[int] = []
    read = secrets.get_optional

    def counted(hook_id: int, **kwargs: bool) -> str | None:
        asked.append(hook_id)
        return read(hook_id, **kwargs)

    monkeypatch.setattr(secrets, "get_optional", counted)
    with locked_login_keyring():
        select_hook(qtbot, window, hook.id)
        settled(qtbot, window)
        for _ in range(3):  # what the window's 2 s poll does
            refresh_window(qtbot, window)
        # Each call of a locked keyring is an unlock prompt on a desktop: one, not one
        # every two seconds while the page shows.
        assert asked == [hook.id]
        assert window.engine_label.text() == "Delivery: waiting for the keyring"


def test_an_engine_started_again_after_a_keyring_problem_does_not_inherit_it(
        qtbot: QtBot, home: Path, service: HookService, receiver: Receiver,
        make_receiver: Make, hook_factory: HookFactory,
        open_window: Callable[..., MainWindow]) -> None:
    engine = EngineHost(home, replace(FAST, secret_retry_interval=0.5))
    window = open_window(engine)
    qtbot.waitUntil(lambda: window.startup.wait(0), timeout=15_000)
    outcomes: list[AttemptOutcome] = []
    engine.attempt_recorded.connect(outcomes.append)
    engine_past_its_start(qtbot, service, make_receiver, hook_factory, outcomes)
    hook_factory(receiver.url, name="ops", events=("job",))
    with locked_login_keyring():
        service.publish("job.completed", body("job.completed"))
        qtbot.waitUntil(lambda: bool(outcomes), timeout=20_000)
        qtbot.waitUntil(lambda: bool(window.keyring.engine_problem), timeout=5000)
        window.pause_action.trigger()
        qtbot.waitUntil(lambda: not engine.running, timeout=5000)
    window.pause_action.trigger()  # a new engine process, on an unlocked keyring
    receiver.wait_for_requests(1, timeout=20.0)
    qtbot.waitUntil(lambda: any(o.error_kind is None for o in outcomes), timeout=10_000)
    # The new process reads its secrets without a problem: nothing waits for the keyring.
    qtbot.waitUntil(lambda: window.engine_label.text() == "Delivery: running", timeout=5000)


def test_the_status_bar_clears_once_the_keyring_the_window_found_locked_is_unlocked(
        qtbot: QtBot, home: Path, service: HookService, make_receiver: Make,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    engine = EngineHost(home, replace(FAST, secret_retry_interval=60.0))
    window = open_window(engine)
    outcomes: list[AttemptOutcome] = []
    engine.attempt_recorded.connect(outcomes.append)
    engine_past_its_start(qtbot, service, make_receiver, hook_factory, outcomes)
    hook = hook_factory("https://example.com/hook", name="ops", events=("job",))
    with locked_login_keyring():
        select_hook(qtbot, window, hook.id)  # only the window's own call fails
        settled(qtbot, window)
        assert window.keyring.problem
        assert window.engine_label.text() == "Delivery: waiting for the keyring"
    # Nothing of the window's touches the keyring again: the engine, told that the
    # window found it locked, says when it can be used, and the status follows.
    qtbot.waitUntil(lambda: window.engine_label.text() == "Delivery: running",
                    timeout=int(SOON * 1000))
    assert not window.keyring.problem


def test_deliveries_going_out_with_read_secrets_are_not_said_to_wait_for_the_keyring(
        qtbot: QtBot, home: Path, service: HookService, receiver: Receiver,
        hook_factory: HookFactory, open_window: Callable[..., MainWindow]) -> None:
    # A hook whose secret the engine read at its start: locking the keyring afterwards
    # does not hold its deliveries, so the status bar must not say they wait.
    hook = hook_factory(receiver.url, name="ops", events=("job",))
    engine = EngineHost(home, replace(FAST, secret_retry_interval=60.0))
    window = open_window(engine)
    outcomes: list[AttemptOutcome] = []
    engine.attempt_recorded.connect(outcomes.append)
    service.publish("job.completed", body("job.completed"))
    qtbot.waitUntil(lambda: any(o.error_kind is None for o in outcomes), timeout=20_000)
    outcomes.clear()
    with locked_login_keyring():
        select_hook(qtbot, window, hook.id)  # the window's own call fails
        settled(qtbot, window)
        assert window.keyring.problem
        assert window.engine_label.text() == "Delivery: waiting for the keyring"
        service.publish("job.completed", body("job.completed"))
        qtbot.waitUntil(lambda: any(o.status == "succeeded" for o in outcomes),
                        timeout=20_000)
        assert len(receiver.wait_for_requests(2, timeout=SOON)) == 2
        # The delivery went out with the secret the engine holds: delivery runs.
        qtbot.waitUntil(lambda: window.engine_label.text() == "Delivery: running",
                        timeout=5000)
        refresh_window(qtbot, window)
        assert window.engine_label.text() == "Delivery: running"
