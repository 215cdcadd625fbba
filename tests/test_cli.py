"""The command line, run as a subprocess: exit codes, messages and JSON shapes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import keyring
import pytest

from hookadmin.core.errors import StoreFullError, StoreUnavailable
from hookadmin.core.events import catalog_json
from hookadmin.core.secrets import SERVICE_NAME
from hookadmin.core.store import DB_FILENAME, StoreLocation, open_store
from tests.helpers import FIXTURES_DIR, body, db_rows, resource, run_cli

HEX64 = re.compile(r"[0-9a-f]{64}")
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _add(home: Path, *args: str) -> dict[str, object]:
    result = run_cli("hooks", "add", *args, "--json", home=home)
    assert result.returncode == 0, result.stderr
    hook: dict[str, object] = json.loads(result.stdout)
    return hook


def _events_queued(home: Path) -> int:
    if not (home / DB_FILENAME).exists():
        return 0
    ((count,),) = db_rows(home, "SELECT count(*) FROM events")
    assert isinstance(count, int)
    return count


def test_events_json_is_the_catalog() -> None:
    result = run_cli("events", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data == catalog_json()
    assert len(data) == 17
    assert [d["id"] for d in data[:3]] == ["job", "cluster", "hook"]
    assert all(set(d) == {"id", "group_name", "name"} for d in data)
    assert {"id": "cluster.idled", "group_name": "Cluster", "name": "Cluster Idled"} in data


def test_events_text_lists_every_type() -> None:
    result = run_cli("events")
    assert result.returncode == 0
    for entry in catalog_json():
        assert str(entry["id"]) in result.stdout
        assert str(entry["name"]) in result.stdout


def test_hooks_add_list_show(home: Path) -> None:
    hook = _add(home, "--url", "https://Ops.Example.com/hooks/etl", "--event", "job.failed",
                "--event", "cluster", "--name", "ops monitor")
    assert set(hook) == {"id", "name", "type", "active", "settings", "events", "created_at",
                         "updated_at"}
    assert hook["id"] == 1
    assert hook["name"] == "ops monitor"
    assert hook["type"] == "web"
    assert hook["active"] is True
    assert hook["settings"] == {"url": "https://ops.example.com/hooks/etl",
                                "insecure_ssl": False}
    assert hook["events"] == ["cluster", "job.failed"]
    assert ISO_Z.fullmatch(str(hook["created_at"]))
    assert ISO_Z.fullmatch(str(hook["updated_at"]))

    second = _add(home, "--url", "http://127.0.0.1:8080/x", "--event", "job", "--inactive")
    assert (second["id"], second["active"], second["name"]) == (2, False, "")

    listed = run_cli("hooks", "list", "--json", home=home)
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == [hook, second]

    shown = run_cli("hooks", "show", "1", "--json", home=home)
    assert shown.returncode == 0
    assert json.loads(shown.stdout) == hook

    text = run_cli("hooks", "show", "1", home=home)
    assert text.returncode == 0
    assert "https://ops.example.com/hooks/etl" in text.stdout
    assert "ops monitor" in text.stdout

    table = run_cli("hooks", "list", home=home)
    assert table.returncode == 0
    assert "https://ops.example.com/hooks/etl" in table.stdout
    assert "http://127.0.0.1:8080/x" in table.stdout


def test_hooks_list_empty(home: Path) -> None:
    result = run_cli("hooks", "list", "--json", home=home)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_secret_reveal_and_reset(home: Path) -> None:
    _add(home, "--url", "https://example.com/h", "--event", "job")
    first = run_cli("hooks", "secret", "1", home=home)
    assert first.returncode == 0
    secret = first.stdout.strip()
    assert HEX64.fullmatch(secret)
    assert first.stdout == secret + "\n"
    reset = run_cli("hooks", "reset-secret", "1", home=home)
    assert reset.returncode == 0
    new = reset.stdout.strip()
    assert HEX64.fullmatch(new)
    assert new != secret
    assert run_cli("hooks", "secret", "1", home=home).stdout.strip() == new
    # The JSON views never carry it.
    assert new not in run_cli("hooks", "list", "--json", home=home).stdout
    assert new not in run_cli("hooks", "show", "1", home=home).stdout


def test_hooks_edit_and_delete(home: Path) -> None:
    _add(home, "--url", "https://example.com/h", "--event", "job")
    edited = run_cli("hooks", "edit", "1", "--event", "cluster.error", "--inactive",
                     "--name", "renamed", "--json", home=home)
    assert edited.returncode == 0, edited.stderr
    data = json.loads(edited.stdout)
    assert (data["events"], data["active"], data["name"]) == (["cluster.error"], False,
                                                              "renamed")
    with_store_id = db_rows(home, "SELECT value FROM meta WHERE key = 'store_id'")
    username = f"{with_store_id[0][0]}/hook/1"
    assert keyring.get_password(SERVICE_NAME, username) is not None
    deleted = run_cli("hooks", "delete", "1", home=home)
    assert deleted.returncode == 0
    assert "Deleted hook 1" in deleted.stdout
    assert keyring.get_password(SERVICE_NAME, username) is None
    gone = run_cli("hooks", "show", "1", home=home)
    assert gone.returncode == 2
    assert "no hook 1" in gone.stderr


@pytest.mark.slow
def test_home_from_env_and_from_option(tmp_path: Path) -> None:
    env_home, opt_home = tmp_path / "env-home", tmp_path / "opt-home"
    env = {"HOOKADMIN_HOME": str(env_home)}
    added = run_cli("hooks", "add", "--url", "https://env.example/h", "--event", "job",
                    "--json", env=env)
    assert added.returncode == 0, added.stderr
    assert (env_home / DB_FILENAME).exists()
    # --home wins over HOOKADMIN_HOME.
    assert json.loads(run_cli("hooks", "list", "--json", home=opt_home, env=env).stdout) == []
    assert run_cli("hooks", "add", "--url", "https://opt.example/h", "--event", "job",
                   home=opt_home, env=env).returncode == 0
    in_env = json.loads(run_cli("hooks", "list", "--json", env=env).stdout)
    in_opt = json.loads(run_cli("hooks", "list", "--json", home=opt_home).stdout)
    assert [h["settings"]["url"] for h in in_env] == ["https://env.example/h"]
    assert [h["settings"]["url"] for h in in_opt] == ["https://opt.example/h"]
    # Each data directory has its own secrets.
    env_secret = run_cli("hooks", "secret", "1", env=env).stdout.strip()
    opt_secret = run_cli("hooks", "secret", "1", home=opt_home).stdout.strip()
    assert HEX64.fullmatch(env_secret)
    assert HEX64.fullmatch(opt_secret)
    assert env_secret != opt_secret


@pytest.mark.parametrize("folder", ["file/sub", "file"])
@pytest.mark.parametrize("command", [["hooks", "list"], ["deliveries"],
                                     ["worker", "--until-idle"],
                                     ["simulate", "--jobs", "1", "--clusters", "1"]])
def test_a_bad_home_is_one_sentence_and_exit_1_with_a_team_database_too(
        tmp_path: Path, team: StoreLocation, folder: str, command: list[str]) -> None:
    """A --home that cannot be a folder is said, whether the database is this
    machine's or a team's (whose hooks live elsewhere, but whose local files and the
    window's fallback are in that folder)."""
    (tmp_path / "file").write_text("x")
    bad = tmp_path / folder
    for database in ([], ["--database", str(team.url)]):
        result = run_cli(*database, *command, home=bad)
        assert result.returncode == 1, result.stdout
        assert result.stderr == (f"hookadmin: Cannot use {bad} as the data directory (Not a "
                                 "directory); choose another --home.\n")
        assert result.stdout == ""


@pytest.mark.parametrize(("args", "help_command"), [
    (["settings", "--metrics-port", "9000"], "hookadmin settings --help"),
    (["hooks", "add", "--url", "https://example.com/h", "--evnt", "job"],
     "hookadmin hooks add --help"),
    (["worker", "--until-idel"], "hookadmin worker --help"),
])
def test_an_unknown_option_points_at_its_subcommands_help(home: Path, args: list[str],
                                                          help_command: str) -> None:
    result = run_cli(*args, home=home)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "unrecognized arguments" in lines[0], lines[0]
    assert lines[0].endswith(f"see `{help_command}`."), lines[0]


@pytest.mark.parametrize(("args", "fragment"), [
    (["hooks", "add", "--url", "ftp://example.com/h", "--event", "job"], "scheme 'ftp'"),
    (["hooks", "add", "--url", "https://user:pw@example.com/", "--event", "job"],
     "user name or password"),
    (["hooks", "add", "--url", "https://example.com/h", "--event", "job.exploded"],
     "Unknown event type 'job.exploded'"),
    (["hooks", "add", "--url", "https://example.com/h", "--event", "ping"], "'ping'"),
    (["hooks", "add", "--event", "job"], "--url"),
    (["hooks", "add", "--url", "https://example.com/h", "--name", "x" * 201], "too long"),
    (["hooks", "show"], "required: id"),
    (["hooks", "show", "abc"], "'abc' is not a hook id"),
    (["hooks", "show", "0"], "ids start at 1"),
    (["hooks", "show", "-3"], "hooks show"),
    (["hooks", "show", "42"], "There is no hook 42"),
    (["hooks", "secret", "42"], "There is no hook 42"),
    (["hooks", "delete", "42"], "There is no hook 42"),
    (["hooks", "edit", "1", "--active", "--inactive"], "not allowed with argument"),
    (["hooks"], "required: ACTION"),
    (["hooks", "frobnicate"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
    (["deliveries", "--status", "bogus"], "invalid choice"),
    (["deliveries", "--hook", "x"], "not a hook id"),
    (["deliveries", "--hook", "42"], "There is no hook 42"),
    (["deliveries", "--limit", "0"], "--limit"),
    (["ping", "42"], "There is no hook 42"),
    (["settings", "--retry-pace", "0"], "The retry pace must be from 1 to 100000"),
    (["settings", "--retry-pace", "fast"], "invalid float value"),
])
def test_bad_usage_exits_2_with_one_line(home: Path, args: list[str], fragment: str) -> None:
    result = run_cli(*args, home=home)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hookadmin: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    if (home / DB_FILENAME).exists():
        assert db_rows(home, "SELECT count(*) FROM hooks") == [(0,)]


@pytest.fixture
def resources(tmp_path: Path) -> dict[str, Path]:
    files = {
        "bad-json": b'{"id": 1,',
        "array": b'[{"id": 1}]',
        "latin1": b'{"name": "Soci\xe9t\xe9"}',
        "good": body("job.failed"),
        "invalid-job": body("job.failed", progress=1.5),
        "batch-bad": b'{"type": "job.failed", "resource": ' + body("job.failed") + b'}\n'
                     b'{"type": "job.nope", "resource": ' + body("job.failed", 2) + b'}\n',
    }
    out = {}
    for name, data in files.items():
        out[name] = tmp_path / f"{name}.json"
        out[name].write_bytes(data)
    return out


@pytest.mark.parametrize(("args", "fragment"), [
    (["publish", "job.failed", "--resource", "{bad-json}"], "not valid JSON"),
    (["publish", "job.failed", "--resource", "{array}"], "not a list"),
    (["publish", "job.failed", "--resource", "{latin1}"], "not UTF-8"),
    (["publish", "job.failed", "--resource", "{invalid-job}"],
     "The job's field progress must be between 0 and 1, not 1.5"),
    (["publish", "cluster.error", "--resource", "{good}"], "The cluster's field"),
    (["publish", "job.nope", "--resource", "{good}"], "Unknown event type 'job.nope'"),
    (["publish", "ping", "--resource", "{good}"], "Unknown event type 'ping'"),
    (["publish", "job.failed"], "--resource"),
    (["publish", "--resource", "{good}"], "Name the event type"),
    (["publish", "job.failed", "--resource", "{missing}"], "Cannot read the resource file"),
    (["publish", "--batch", "{batch-bad}"], "Line 2: Unknown event type 'job.nope'"),
    (["publish", "job.failed", "--batch", "{batch-bad}"], "not both"),
])
def test_bad_publish_exits_2_and_queues_nothing(home: Path, resources: dict[str, Path],
                                               args: list[str], fragment: str) -> None:
    argv = [a.format(**{k: str(v) for k, v in resources.items()},
                     missing=str(home.parent / "missing.json")) for a in args]
    result = run_cli(*argv, home=home)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _events_queued(home) == 0


def test_publish_stores_the_file_bytes_and_prints_the_event_id(home: Path) -> None:
    fixture = FIXTURES_DIR / "job-failed-unicode.json"
    result = run_cli("publish", "job.failed", "--resource", str(fixture), home=home)
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip()
    assert UUID.fullmatch(event_id)
    assert db_rows(home, "SELECT id, type, body FROM events") == [
        (event_id, "job.failed", fixture.read_bytes())]


def test_publish_from_stdin(home: Path) -> None:
    text = json.dumps(resource("cluster.error", name="Zoë", errors="a\nb"), ensure_ascii=False)
    assert "Zoë" in text
    assert "a\\nb" in text
    data = (text + "\n").encode()
    result = run_cli("publish", "cluster.error", "--resource", "-", home=home, input=data)
    assert result.returncode == 0, result.stderr
    assert db_rows(home, "SELECT type, body FROM events") == [("cluster.error", data)]


def test_publish_batch(home: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    job, cluster = resource("job.started", 1), resource("cluster.idled", 2)
    batch.write_text(json.dumps({"type": "job.started", "resource": job}) + "\n\n"
                     + json.dumps({"type": "cluster.idled", "resource": cluster}) + "\n",
                     encoding="utf-8")
    result = run_cli("publish", "--batch", str(batch), home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Queued 2 events."
    rows = db_rows(home, "SELECT type, body FROM events ORDER BY seq")
    assert [(t, json.loads(b)) for t, b in rows] == [  # type: ignore[arg-type]
        ("job.started", job), ("cluster.idled", cluster)]


def test_deliveries_json_is_empty_at_first(home: Path) -> None:
    _add(home, "--url", "https://example.com/h", "--event", "job")
    result = run_cli("deliveries", "--json", home=home)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])
    text = run_cli("deliveries", home=home)
    assert (text.returncode, text.stdout.strip()) == (0, "No deliveries yet.")


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"hookadmin \d+\.\d+\.\d+\n", result.stdout)


BOM = b"\xef\xbb\xbf"  # what Windows editors put at the start of "UTF-8" files


def test_a_resource_file_with_a_byte_order_mark_is_stored_without_it(home: Path,
                                                                     tmp_path: Path) -> None:
    fixture = FIXTURES_DIR / "job-failed-unicode.json"
    with_bom = tmp_path / "job.json"
    with_bom.write_bytes(BOM + fixture.read_bytes())
    result = run_cli("publish", "job.failed", "--resource", str(with_bom), home=home)
    assert result.returncode == 0, result.stderr
    from_stdin = run_cli("publish", "job.failed", "--resource", "-", home=home,
                         input=BOM + fixture.read_bytes())
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert db_rows(home, "SELECT body FROM events") == [(fixture.read_bytes(),)] * 2


def test_a_batch_file_with_a_byte_order_mark_is_accepted(home: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    job, cluster = resource("job.started", 1), resource("cluster.idled", 2)
    batch.write_bytes(BOM + (json.dumps({"type": "job.started", "resource": job}) + "\n"
                             + json.dumps({"type": "cluster.idled", "resource": cluster})
                             + "\n").encode("utf-8"))
    result = run_cli("publish", "--batch", str(batch), home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Queued 2 events."
    rows = db_rows(home, "SELECT type, body FROM events ORDER BY seq")
    assert [(t, json.loads(b)) for t, b in rows] == [  # type: ignore[arg-type]
        ("job.started", job), ("cluster.idled", cluster)]
    assert not any(bytes(b).startswith(BOM) for _, b in rows)  # type: ignore[arg-type]


def test_every_database_error_is_one_sentence_naming_what_was_left_undone() -> None:
    from hookadmin.cli.dispatch import store_sentence

    full = StoreFullError("The disk holding hookadmin's database is full",
                          "free some space and try again")
    assert store_sentence(full, "publish") == (
        "The disk holding hookadmin's database is full, so nothing was queued; free some "
        "space and try again.")
    assert store_sentence(full, "hooks") == str(full)  # "nothing was saved"
    with pytest.raises(StoreUnavailable) as down:  # a real refused connection
        open_store("postgresql://hookadmin@127.0.0.1:1/hookadmin?connect_timeout=5")
    assert store_sentence(down.value, "publish") == str(down.value)
    assert "\n" not in str(down.value)


def test_deliveries_table_columns_line_up_with_an_error_kind_in_code(home: Path) -> None:
    _add(home, "--url", "http://127.0.0.1:9/closed", "--event", "job")
    assert run_cli("ping", "1", home=home).returncode == 1
    result = run_cli("deliveries", home=home)
    assert result.returncode == 0, result
    header, row = result.stdout.splitlines()[:2]
    assert "connect" in row
    created = ISO_Z.search(row)
    assert created is not None
    assert created.start() == header.index("CREATED"), result.stdout


def test_the_retry_pace_is_a_setting_the_engine_reads(home: Path) -> None:
    from hookadmin.core.service import HookService
    from hookadmin.delivery.policy import DeliverySettings, with_options

    shown = run_cli("settings", home=home)
    assert "retry-pace: 50\n" in shown.stdout
    result = run_cli("settings", "--retry-pace", "20", home=home)
    assert result.returncode == 0, result
    assert "retry-pace: 20\n" in result.stdout
    with HookService(home) as service:
        options = service.delivery_options()
    assert with_options(DeliverySettings(), options).retry_rate_while_fresh == 20.0
