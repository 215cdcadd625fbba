"""Fixtures shared by every test (tests/ui reuses them too).

The suite runs against the real Secret Service only; start it like this::

    QT_QPA_PLATFORM=offscreen dbus-run-session -- scripts/with-test-keyring.sh \\
        .venv/bin/python -m pytest tests

Fixtures:

* ``home``: a fresh, not yet created data directory (``tmp_path / "home"``);
  ``HOOKADMIN_HOME`` points at it for the test and for every subprocess it starts.
  A fresh directory means a fresh database, a fresh store id and therefore a fresh
  keyring namespace, so tests never see each other's secrets.
* ``service``: ``HookService(home)``, closed after the test.
* ``make_receiver(behaviour=None, secrets=None)``: starts a test webhook receiver in
  a separate process (:class:`tests.receiver.Receiver`) listening on 127.0.0.1 and
  returns it; every receiver is terminated after the test. ``behaviour`` is one of
  the helpers in :mod:`tests.receiver` (``ok()``, ``status(410)``,
  ``status(301, Location=...)``, ``delay(2.0)``, ``fail_first(1)``,
  ``big_body(100_000)``) or a behaviour dict. The receiver has ``.url``,
  ``.url_for(path)``, ``.requests()`` (a list of :class:`tests.receiver.ReceivedRequest`),
  ``.wait_for_requests(n)`` and ``.set_secrets({label: secret})``; each request records
  whether its ``X-Hook-Signature`` matches one of those secrets (``verified_by``).
* ``receiver``: ``make_receiver()``, a receiver that always answers 200.
* ``postgres_url``: a fresh, empty PostgreSQL database for the test (:mod:`tests.pg`);
  run the suite inside ``scripts/with-test-postgres.sh`` for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import SecretService

from hookadmin.core.paths import HOME_ENV
from hookadmin.core.service import HookService
from tests.receiver import Receiver

pytest_plugins = ["tests.pg"]

RUN_HINT = ("run the tests inside a private D-Bus session with a fresh keyring: "
            "QT_QPA_PLATFORM=offscreen dbus-run-session -- scripts/with-test-keyring.sh "
            ".venv/bin/python -m pytest tests")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run against anything but the throw-away test Secret Service, so the
    suite never writes into a developer's own keyring and never silently skips the
    keyring checks."""
    if os.environ.get("HOOKADMIN_TEST_SECRET_SERVICE") != "1":
        raise pytest.UsageError(f"HOOKADMIN_TEST_SECRET_SERVICE is not set; {RUN_HINT}")
    backend = keyring.get_keyring()
    if not isinstance(backend, SecretService.Keyring):
        raise pytest.UsageError(f"the keyring backend is {backend!r}, not the Secret Service; "
                                f"{RUN_HINT}")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory; ``HOOKADMIN_HOME`` points at it."""
    path = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(path))
    return path


@pytest.fixture
def service(home: Path) -> Iterator[HookService]:
    """``HookService(home)``, closed after the test."""
    with HookService(home) as svc:
        yield svc


@pytest.fixture
def make_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Factory: ``make_receiver(behaviour=None, secrets=None) -> Receiver`` (started).
    Every receiver it made is terminated at teardown."""
    started: list[Receiver] = []

    def factory(behaviour: dict[str, Any] | None = None,
                secrets: dict[str, str] | None = None) -> Receiver:
        workdir = tmp_path / f"receiver-{len(started)}"
        receiver = Receiver(workdir, behaviour, secrets)
        started.append(receiver)
        return receiver.start()

    yield factory
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    """A receiver process that answers every request with 200 and a small JSON body."""
    return make_receiver()
