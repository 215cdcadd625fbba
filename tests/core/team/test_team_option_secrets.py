"""A hook's option secrets in a team database: sealed in ``hook_secrets`` beside its
signing secret (entry ``hook/<id>/options``), never in clear, and used by the engine."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import psycopg

from hookadmin.core.hook_types import BASIC_AUTH_PASSWORD, HookOptions
from hookadmin.core.service import HookService
from hookadmin.core.team.secrets import EncryptedSecretStore
from hookadmin.delivery.engine import Engine
from tests.core.team.test_encrypted_secrets import (  # noqa: F401 - fixtures
    blobs,
    store,
    team_key,
    team_url,
)
from tests.helpers import FAST, body
from tests.receiver import Receiver

Make = Callable[..., Receiver]
PASSWORD = "team-basic-Pa55"


def test_option_secrets_are_sealed_in_the_team_database_and_used(
        home: Path, team_url: str, store: EncryptedSecretStore,  # noqa: F811 - fixtures
        make_receiver: Make) -> None:
    receiver = make_receiver()
    with HookService(home, secrets=store) as service:
        hook = service.create_hook(url=receiver.url, events=["job"],
                                   options=HookOptions(basic_auth_user="team"),
                                   option_secrets={BASIC_AUTH_PASSWORD: PASSWORD})
        service.publish("job.failed", body("job.failed"))
        assert service.option_secrets(hook.id) == {BASIC_AUTH_PASSWORD: PASSWORD}
    with psycopg.connect(team_url) as db:
        rows = db.execute("SELECT name, ciphertext FROM hook_secrets ORDER BY name").fetchall()
    assert [r[0] for r in rows] == [f"hook/{hook.id}", f"hook/{hook.id}/options"]
    assert all(PASSWORD.encode() not in bytes(r[1]) for r in rows)
    assert Engine(home, settings=FAST, secrets=store).run(until_idle=True) == 1
    (request,) = receiver.wait_for_requests(1)
    assert request.header("Authorization") == "Basic " + base64.b64encode(
        f"team:{PASSWORD}".encode()).decode()


def test_the_global_proxy_password_is_sealed_in_the_team_database_and_used(
        home: Path, team_url: str, store: EncryptedSecretStore,  # noqa: F811 - fixtures
        make_receiver: Make, tmp_path: Path) -> None:
    from tests.forward_proxy import ForwardProxy

    secret = "team-proxy-Pa55-3e"
    proxy = ForwardProxy(tmp_path, user="gate", password=secret)
    try:
        receiver = make_receiver()
        with HookService(home, secrets=store) as service:
            service.create_hook(url=receiver.url, events=["job"])
            service.set_proxy(url=proxy.url.replace("http://", f"http://gate:{secret}@"))
            service.publish("job.failed", body("job.failed"))
        with psycopg.connect(team_url) as db:
            rows = db.execute("SELECT name, ciphertext FROM hook_secrets ORDER BY name"
                              ).fetchall()
        assert "hook/0/options" in [r[0] for r in rows]
        assert all(secret.encode() not in bytes(r[1]) for r in rows)
        assert Engine(home, settings=FAST, secrets=store).run(until_idle=True) == 1
        receiver.wait_for_requests(1)
        assert [r["authorized"] for r in proxy.requests()] == [True]
    finally:
        proxy.stop()
