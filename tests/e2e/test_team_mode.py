"""Team mode end to end: the command line on a real PostgreSQL database, machines with
keyrings of their own, workers killed or cut off from the database mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from hookadmin.core.service import HookService
from hookadmin.core.store import DATABASE_ENV, StoreLocation
from hookadmin.core.team.key import KEY_FILE_ENV, keyring_entry_name
from hookadmin.delivery.policy import DeliverySettings
from tests.helpers import FAST, REPO_ROOT, body, run_cli, run_until_idle
from tests.keyring_bus import forget_keyring_entry
from tests.receiver import Receiver, delay

pytestmark = pytest.mark.e2e

Make = Callable[..., Receiver]


def _password(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url)["password"])


def _database(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])


@pytest.fixture
def team(postgres_url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``postgres_url`` set up with `hookadmin team init` (its key in this machine's
    keyring, removed after); yields its database id."""
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    result = run_cli("--database", postgres_url, "team", "init", home=home)
    assert result.returncode == 0, result.stderr
    assert _password(postgres_url) not in result.stdout + result.stderr
    with HookService(StoreLocation(home, postgres_url)) as service:
        database_id = service.store.store_id
    assert f"team database {database_id}" in result.stdout
    assert "hookadmin team export-key" in result.stdout
    yield database_id
    forget_keyring_entry(keyring_entry_name(database_id), must_exist=True)


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as db:
        return db.execute(query.encode()).fetchall()


def _add_hook(url: str, home: Path, receiver: Receiver) -> str:
    """A hook for ``receiver`` added through the CLI; returns its secret."""
    added = run_cli("--database", url, "hooks", "add", "--url", receiver.url,
                    "--event", "job", home=home)
    assert added.returncode == 0, added.stderr
    assert "in the team database, sealed with the team key" in added.stdout
    secret = run_cli("--database", url, "hooks", "secret", "1", home=home)
    assert secret.returncode == 0, secret.stderr
    receiver.set_secrets({"hook": secret.stdout.strip()})
    return secret.stdout.strip()


def _publish(url: str, home: Path, count: int) -> None:
    batch = b"".join(json.dumps({"type": "job.completed",
                                 "resource": json.loads(body("job.completed", i))}).encode()
                     + b"\n" for i in range(count))
    result = run_cli("--database", url, "publish", "--batch", "-", input=batch, home=home)
    assert result.returncode == 0, result.stderr


# -- the command line ---------------------------------------------------------------------

@pytest.mark.slow
def test_init_add_publish_and_two_workers_deliver_signed_bodies(
        postgres_url: str, team: str, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    _add_hook(postgres_url, home, receiver)
    _publish(postgres_url, home, 40)
    # The URL in the environment, as the README says; the password never shows.
    result = run_cli("worker", "--until-idle", "--processes", "2", home=home,
                     env={DATABASE_ENV: postgres_url}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "40 attempts made by 2 engines" in result.stderr
    assert _password(postgres_url) not in result.stdout + result.stderr
    requests = receiver.wait_for_requests(40)
    assert len(requests) == 40
    assert {r.verified_by for r in requests} == {("hook",)}
    assert len({r.header("X-Hook-Delivery") for r in requests}) == 40
    assert _rows(postgres_url, "SELECT status, count(*) FROM deliveries GROUP BY status") \
        == [("succeeded", 40)]
    listed = run_cli("--database", postgres_url, "deliveries", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    assert {d["status"] for d in json.loads(listed.stdout)} == {"succeeded"}
    # No secret in the database: only nonces and ciphertexts.
    dump = repr(_rows(postgres_url, "SELECT * FROM hook_secrets"))
    assert requests[0].expected_signatures  # the receiver knew the secret
    secret = run_cli("--database", postgres_url, "hooks", "secret", "1", home=home).stdout
    assert secret.strip() not in dump


def test_init_refuses_a_foreign_database_and_a_second_init(postgres_url: str, team: str,
                                                           home: Path) -> None:
    again = run_cli("--database", postgres_url, "team", "init", home=home)
    assert again.returncode == 1
    assert "already set up for hookadmin" in again.stderr
    assert again.stderr.count("\n") == 1
    with psycopg.connect(postgres_url, autocommit=True) as db:
        name = f"{_database(postgres_url)}_foreign"
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    foreign = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        with psycopg.connect(foreign, autocommit=True) as db:
            db.execute("CREATE TABLE invoices (id int)")
        result = run_cli("--database", foreign, "team", "init", home=home)
        assert result.returncode == 1
        assert "is not hookadmin's" in result.stderr
        assert "'invoices'" in result.stderr
        assert result.stderr.count("\n") == 1
        listed = run_cli("--database", foreign, "hooks", "list", home=home)
        assert listed.returncode == 1
        assert "is not hookadmin's" in listed.stderr
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_bad_database_urls_are_one_sentence_without_the_password(postgres_url: str,
                                                                 home: Path) -> None:
    password = _password(postgres_url)
    refused = run_cli("--database", f"postgresql://hookadmin:{password}@127.0.0.1:1/x",
                      "hooks", "list", home=home)
    assert refused.returncode == 1
    assert "nothing accepts connections there" in refused.stderr
    wrong = postgres_url.replace(password, "not-the-password")
    bad_password = run_cli("--database", wrong, "hooks", "list", home=home)
    assert bad_password.returncode == 1
    assert "refused the user name or password" in bad_password.stderr
    malformed = run_cli("--database", f"postgresql://u:{password}@h/db?nonsense=1",
                        "hooks", "list", home=home)
    assert malformed.returncode == 2
    assert "is not a valid PostgreSQL connection URL" in malformed.stderr
    not_pg = run_cli("hooks", "list", home=home, env={DATABASE_ENV: "mysql://x"})
    assert not_pg.returncode == 2
    assert f"{DATABASE_ENV} is not a PostgreSQL URL" in not_pg.stderr
    empty = run_cli("--database", postgres_url, "hooks", "list", home=home)
    assert empty.returncode == 1
    assert "is empty; set it up with `hookadmin team init`" in empty.stderr
    for result in (refused, bad_password, malformed, not_pg, empty):
        assert password not in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


# -- a second machine ---------------------------------------------------------------------

SECOND_MACHINE = r"""
import json, subprocess, sys
home, key_file = sys.argv[1:3]
def cli(*args):
    r = subprocess.run([sys.executable, "-m", "hookadmin", "--home", home, *args],
                       capture_output=True, text=True)
    return {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
print(json.dumps({"list": cli("hooks", "list"), "secret": cli("hooks", "secret", "1"),
                  "ping": cli("ping", "1"), "import": cli("team", "import-key", key_file),
                  "after": cli("hooks", "secret", "1"), "ping_after": cli("ping", "1")}))
"""


def test_a_second_machine_lists_but_cannot_sign_until_it_imports_the_key(
        postgres_url: str, team: str, home: Path, tmp_path: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    secret = _add_hook(postgres_url, home, receiver)
    key_file = tmp_path / "team.key"
    exported = run_cli("--database", postgres_url, "team", "export-key", str(key_file),
                       home=home)
    assert exported.returncode == 0, exported.stderr
    other_home = tmp_path / "machine-2"
    env = {k: v for k, v in os.environ.items()
           if k not in (KEY_FILE_ENV, "DBUS_SESSION_BUS_ADDRESS", "HOOKADMIN_HOME")}
    env[DATABASE_ENV] = postgres_url
    result = subprocess.run(
        ["dbus-run-session", "--", str(REPO_ROOT / "scripts" / "with-test-keyring.sh"),
         sys.executable, "-c", SECOND_MACHINE, str(other_home), str(key_file)],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["list"]["rc"] == 0
    assert receiver.url in out["list"]["out"]
    for refused in (out["secret"], out["ping"]):
        assert refused["rc"] == 1
        assert f"This machine has no team key for team database {team}" in refused["err"]
        assert refused["err"].count("\n") == 1
    assert out["import"]["rc"] == 0, out["import"]["err"]
    assert out["after"] == {"rc": 0, "out": secret + "\n", "err": ""}
    assert out["ping_after"]["rc"] == 0, out["ping_after"]["err"]
    (ping,) = receiver.wait_for_requests(1)
    assert ping.header("X-Hook-Event") == "ping"
    assert ping.verified_by == ("hook",)


# -- moving a workstation in --------------------------------------------------------------

def test_import_local_moves_hooks_secrets_and_history_once(
        postgres_url: str, team: str, home: Path, make_receiver: Make) -> None:
    receiver = make_receiver()
    local = StoreLocation(home)
    with HookService(local) as workstation:
        hook = workstation.create_hook(url=receiver.url, events=["job"], name="ops")
        secret = workstation.reveal_secret(hook.id)
        receiver.set_secrets({"hook": secret})
        workstation.publish("job.completed", body("job.completed", 1))
    assert run_until_idle(home, FAST) == 1  # history: one delivered
    with HookService(local) as workstation:
        workstation.publish("job.completed", body("job.completed", 2))  # waiting
    receiver.wait_for_requests(1)

    first = run_cli("--database", postgres_url, "team", "import-local", home=home)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Copied 1 hook (0 copied before), 1 secret and 2 "
                                   "deliveries with their attempts (0 copied before)")
    second = run_cli("--database", postgres_url, "team", "import-local", home=home)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("Copied 0 hooks (1 copied before), 0 secrets and 0 "
                                    "deliveries with their attempts (2 copied before)")
    with HookService(local) as workstation:  # the waiting event was fanned out there
        sent = {d.id: d.status for d in workstation.store.list_deliveries()}
    assert sorted(sent.values()) == ["pending", "succeeded"]
    assert dict(_rows(postgres_url, "SELECT id, status FROM deliveries")) == sent
    assert _rows(postgres_url, "SELECT count(*) FROM attempts") == [(1,)]
    assert _rows(postgres_url, "SELECT name, url FROM hooks") == [("ops", receiver.url)]
    team_secret = run_cli("--database", postgres_url, "hooks", "secret", "1", home=home)
    assert team_secret.stdout.strip() == secret

    worker = run_cli("--database", postgres_url, "worker", "--until-idle", home=home,
                     timeout=60)
    assert worker.returncode == 0, worker.stderr
    requests = receiver.wait_for_requests(2)
    waiting = next(d for d, status in sent.items() if status == "pending")
    assert requests[-1].header("X-Hook-Delivery") == waiting  # same delivery id
    assert requests[-1].verified_by == ("hook",)


# -- workers that die or lose the database ------------------------------------------------

def _start_worker(url: str, home: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, DATABASE_ENV: url}
    return subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                             "worker", *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class _Lines:
    """The lines a process writes on stderr, collected by a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        assert proc.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> str:
        with self._changed:
            if not self._changed.wait_for(
                    lambda: any(text in line for line in self.lines), timeout):
                raise TimeoutError(f"no line with {text!r} in {self.lines[-5:]}")
            return next(line for line in self.lines if text in line)


@pytest.mark.slow
def test_kill_9_one_of_two_workers_loses_nothing(postgres_url: str, team: str, home: Path,
                                                 make_receiver: Make) -> None:
    events = 400
    receiver = make_receiver(delay(0.02))
    _add_hook(postgres_url, home, receiver)
    _publish(postgres_url, home, events)
    victim = _start_worker(postgres_url, home)
    survivor = _start_worker(postgres_url, home, "--until-idle")
    try:
        receiver.wait_for_requests(events // 4, timeout=60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert survivor.wait(timeout=120) == 0, survivor.stderr.read() if survivor.stderr else ""
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
    requests = receiver.requests()
    ids = Counter(r.header("X-Hook-Delivery") for r in requests)
    stored = {str(d) for (d,) in _rows(postgres_url, "SELECT id FROM deliveries")}
    assert set(ids) == stored
    assert len(stored) == events
    assert {r.verified_by for r in requests} == {("hook",)}
    assert _rows(postgres_url, "SELECT status, count(*) FROM deliveries GROUP BY status") \
        == [("succeeded", events)]


@pytest.mark.slow
def test_a_worker_that_loses_the_database_waits_and_records_everything(
        postgres_url: str, team: str, home: Path, make_receiver: Make) -> None:
    events = 300
    receiver = make_receiver(delay(0.05))
    _add_hook(postgres_url, home, receiver)
    _publish(postgres_url, home, events)
    worker = _start_worker(postgres_url, home, "--until-idle")
    lines = _Lines(worker)
    name = sql.Identifier(_database(postgres_url))
    admin = psycopg.connect(postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    try:
        receiver.wait_for_requests(40, timeout=60)
        # The database goes away: no new connections, and every one it had is cut.
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = %s", (_database(postgres_url),))
        lines.wait_for("nothing more is claimed until it is back", timeout=30)
        during = len(receiver.requests())
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
        lines.wait_for("is back after", timeout=30)
        assert worker.wait(timeout=120) == 0, "".join(lines.lines)
    finally:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
        admin.close()
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    text = "".join(lines.lines)
    assert text.count("nothing more is claimed") == 1, text  # said once
    assert text.count("is back after") == 1, text
    assert _password(postgres_url) not in text
    assert during < events
    requests = receiver.requests()
    assert len({r.header("X-Hook-Delivery") for r in requests}) == events
    assert _rows(postgres_url, "SELECT status, count(*) FROM deliveries GROUP BY status") \
        == [("succeeded", events)]
    # What was sent while the database was away was recorded once it was back.
    assert _rows(postgres_url, "SELECT count(*) FROM attempts")[0][0] >= events


@pytest.mark.slow
def test_a_hooks_limit_of_requests_in_flight_holds_across_two_workers(
        postgres_url: str, team: str, home: Path, make_receiver: Make) -> None:
    events = 80
    receiver = make_receiver(delay(0.2))  # each request holds its slot for 0.2 s
    _add_hook(postgres_url, home, receiver)
    workers = [_start_worker(postgres_url, home), _start_worker(postgres_url, home)]
    try:
        _publish(postgres_url, home, events)
        requests = receiver.wait_for_requests(events, timeout=120)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.communicate(timeout=30)
    arrivals = sorted(r.received_at for r in requests)
    busiest = max(sum(1 for u in arrivals if t - 0.19 < u <= t) for t in arrivals)
    assert busiest <= DeliverySettings().per_hook_in_flight, busiest
    assert len({r.header("X-Hook-Delivery") for r in requests}) == events


def test_hooks_export_and_import_move_hooks_between_the_two_stores(
        postgres_url: str, team: str, home: Path, tmp_path: Path) -> None:
    added = run_cli("hooks", "add", "--url", "https://ops.example.com/h", "--name", "ops",
                    home=home, env={DATABASE_ENV: None})
    assert added.returncode == 0, added.stderr
    secret = run_cli("hooks", "secret", "1", home=home, env={DATABASE_ENV: None}).stdout
    hooks_file, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    exported = run_cli("hooks", "export", str(hooks_file), "--secrets", str(secrets_file),
                       home=home, env={DATABASE_ENV: None})
    assert exported.returncode == 0, exported.stderr
    imported = run_cli("--database", postgres_url, "hooks", "import", str(hooks_file),
                       "--secrets", str(secrets_file), home=home)
    assert imported.returncode == 0, imported.stderr
    listed = run_cli("--database", postgres_url, "hooks", "list", "--json", home=home)
    assert [h["name"] for h in json.loads(listed.stdout)] == ["ops"]
    revealed = run_cli("--database", postgres_url, "hooks", "secret", "1", home=home)
    assert revealed.stdout == secret
    # And back: the team database's hooks into a new workstation.
    back = run_cli("--database", postgres_url, "hooks", "export", str(tmp_path / "b.json"),
                   "--secrets", str(tmp_path / "b-secrets.json"), home=home)
    assert back.returncode == 0, back.stderr
    other = tmp_path / "other-home"
    again = run_cli("hooks", "import", str(tmp_path / "b.json"), "--secrets",
                    str(tmp_path / "b-secrets.json"), home=other, env={DATABASE_ENV: None})
    assert again.returncode == 0, again.stderr
    assert run_cli("hooks", "secret", "1", home=other, env={DATABASE_ENV: None}).stdout \
        == secret
