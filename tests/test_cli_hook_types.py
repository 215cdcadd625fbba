"""``hooks add/edit --type …`` and the endpoint options on the command line: bad input
is one sentence with exit status 2 and saves nothing; export and import carry every
option; option secrets never show up outside the keyring and a ``--secrets`` file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import body
from tests.receiver import Receiver, status
from tests.security.support import run_main

Make = Callable[..., Receiver]
PASSWORD = "s3cret-Basic-pw"
HEADER_VALUE = "hdr-secret-value-42"
SLACK_TOKEN = "T9/B9/slackTOKENzz"
ROUTING = "routingKEY-5566"


def _ok(*args: str, home: Path) -> str:
    result = run_main(*args, home=home)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def _hook_count(home: Path) -> int:
    return len(json.loads(_ok("hooks", "list", "--json", home=home)))


@pytest.mark.parametrize(("args", "message"), [
    (["--url", "https://x.example/h", "--header", "X-A: one\u0085two"], "line break"),
    (["--url", "https://x.example/h", "--header", "X-Hook-Event: x"], "set by hookadmin"),
    (["--url", "https://x.example/h", "--header", "Authorization: x"], "set by hookadmin"),
    (["--url", "https://x.example/h", "--header", "no colon"], "no colon"),
    (["--url", "https://x.example/h", "--filter", "status == "], "at its end"),
    (["--url", "https://x.example/h", "--filter", "status = 'x'"], "at character 8"),
    (["--url", "https://x.example/h", "--rate-limit", "5/h"], "N/s or N/m"),
    (["--type", "pagerduty"], "routing key"),
    (["--type", "pagerduty", "--event", "job", "--routing-key-file", "{rk}"], "remove"),
    (["--type", "slack"], "incoming-webhook URL"),
    (["--type", "email", "--smtp", "smtp://127.0.0.1:2525", "--to", "not-an-address"],
     "not an e-mail address"),
    (["--type", "email", "--smtp", "smtp://127.0.0.1:2525"], "at least one address"),
    (["--type", "email", "--smtp", "http://x", "--to", "a@example.com"], "smtp://"),
    (["--url", "https://x.example/h", "--basic-auth-file", "{missing}"], "Cannot read"),
    (["--url", "https://x.example/h", "--basic-auth-file", "{nocolon}"], "user:password"),
])
def test_bad_input_is_one_sentence_exit_2_and_nothing_saved(
        home: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "rk").write_text("key\n")
    (tmp_path / "nocolon").write_text("just-a-password\n")
    args = [a.format(rk=tmp_path / "rk", missing=tmp_path / "nope",
                     nocolon=tmp_path / "nocolon") for a in args]
    result = run_main("hooks", "add", *args, home=home)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert _hook_count(home) == 0


def test_every_option_round_trips_through_export_and_import_and_secrets_stay_out(
        home: Path, tmp_path: Path) -> None:
    (tmp_path / "auth").write_text(f"alice:{PASSWORD}\n")
    (tmp_path / "rk").write_text(ROUTING + "\n")
    _ok("hooks", "add", "--url", "https://x.example/h", "--basic-auth-file",
        str(tmp_path / "auth"), "--header", "X-Team: ops", "--secret-header",
        f"X-Api-Key: {HEADER_VALUE}", "--filter", "status == 'failed'", "--rate-limit",
        "30/m", "--event", "job", home=home)
    _ok("hooks", "add", "--type", "slack", "--url",
        f"https://hooks.slack.example/services/{SLACK_TOKEN}", home=home)
    _ok("hooks", "add", "--type", "pagerduty", "--routing-key-file", str(tmp_path / "rk"),
        home=home)
    _ok("hooks", "add", "--type", "email", "--smtp", "smtp://relay.example:587?starttls=1",
        "--to", "ops@example.com", "--to", "oncall@example.com", home=home)
    listed = json.loads(_ok("hooks", "list", "--json", home=home))
    assert [h["type"] for h in listed] == ["web", "slack", "pagerduty", "email"]
    web = listed[0]["settings"]
    assert web["basic_auth"] is True
    assert web["headers"] == [["X-Team", "ops"]]
    assert web["secret_headers"] == ["X-Api-Key"]
    assert (web["filter"], web["rate_limit"]) == ("status == 'failed'", "30/m")
    assert listed[0]["filtered_out"] == 0
    assert sorted(listed[2]["events"]) == ["cluster.available", "cluster.error",
                                           "job.completed", "job.failed"]
    assert listed[3]["settings"]["to"] == ["ops@example.com", "oncall@example.com"]

    exported, secrets_file = tmp_path / "hooks.json", tmp_path / "secrets.json"
    _ok("hooks", "export", str(exported), home=home)
    _ok("hooks", "export", str(exported), "--secrets", str(secrets_file), home=home)
    outputs = exported.read_text() + _ok("hooks", "show", "1", home=home) + json.dumps(listed)
    for secret in (PASSWORD, HEADER_VALUE, SLACK_TOKEN, ROUTING):
        assert secret not in outputs
        for path in home.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
        assert secret in secrets_file.read_text()

    other = tmp_path / "other"
    refused = run_main("hooks", "import", str(exported), home=other)
    assert refused.returncode == 2
    assert "--secrets" in refused.stderr
    assert _hook_count(other) == 0
    _ok("hooks", "import", str(exported), "--secrets", str(secrets_file), home=other)
    again = json.loads(_ok("hooks", "list", "--json", home=other))
    strip = [{k: v for k, v in h.items() if k not in ("id", "created_at", "updated_at")}
             for h in again]
    assert strip == [{k: v for k, v in h.items() if k not in ("id", "created_at", "updated_at")}
                     for h in listed]
    copied = tmp_path / "copied.json"
    _ok("hooks", "export", str(exported), "--secrets", str(copied), home=other)
    assert sorted(v["options"].items() for v in json.loads(copied.read_text()).values()
                  if isinstance(v, dict)) == \
        sorted(v["options"].items() for v in json.loads(secrets_file.read_text()).values()
               if isinstance(v, dict))


def test_edit_changes_and_removes_options(home: Path, tmp_path: Path,
                                          make_receiver: Make) -> None:
    receiver = make_receiver(status(200))
    _ok("hooks", "add", "--url", receiver.url, "--event", "job", "--header", "X-One: 1",
        "--rate-limit", "5/s", home=home)
    shown = json.loads(_ok("hooks", "edit", "1", "--header", "X-Two: 2", "--rate-limit", "",
                           "--secret-header", f"X-Key: {HEADER_VALUE}", "--json", home=home))
    assert shown["settings"]["headers"] == [["X-Two", "2"]]
    assert "rate_limit" not in shown["settings"]
    assert _ok("ping", "1", home=home)
    (req,) = receiver.requests()
    assert req.header("X-Two") == "2"
    assert req.header("X-Key") == HEADER_VALUE
    assert req.header("X-One") is None
    refused = run_main("hooks", "edit", "1", "--filter", "[", home=home)
    assert refused.returncode == 2
    assert "filter" not in json.loads(_ok("hooks", "show", "1", "--json", home=home)
                                      )["settings"]


def test_events_types_lists_the_hook_types() -> None:
    listed = json.loads(run_main("events", "--types", "--json").stdout)
    assert [t["name"] for t in listed] == ["web", "slack", "pagerduty", "email"]
    assert listed[0]["title"] == "Webhook"
    text = run_main("events", "--types").stdout
    # argparse wraps lines, at hyphens too ("incoming-" / "webhook")
    help_text = " ".join(run_main("hooks", "add", "--help").stdout.split()).replace("- ", "-")
    for hook_type in listed:
        assert f"{hook_type['name']:10} {hook_type['title']}: {hook_type['description']}" \
            in text
        assert f"{hook_type['name']} ({hook_type['title']}): {hook_type['description']}" \
            in help_text


def test_a_filtered_hook_gets_only_matching_events_from_the_worker(
        home: Path, tmp_path: Path, make_receiver: Make) -> None:
    from tests.helpers import run_until_idle

    receiver = make_receiver(status(200))
    _ok("hooks", "add", "--url", receiver.url, "--event", "job", "--filter",
        "status == 'failed'", home=home)
    failed, completed = tmp_path / "f.json", tmp_path / "c.json"
    failed.write_bytes(body("job.failed"))
    completed.write_bytes(body("job.completed"))
    _ok("publish", "job.failed", "--resource", str(failed), home=home)
    _ok("publish", "job.completed", "--resource", str(completed), home=home)
    run_until_idle(home)
    (req,) = receiver.requests()
    assert req.header("X-Hook-Event") == "job.failed"
    assert json.loads(_ok("hooks", "show", "1", "--json", home=home))["filtered_out"] == 1
