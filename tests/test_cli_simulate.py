"""``hookadmin simulate`` as a real subprocess: it publishes to the outbox, prints JSON
Lines that ``hookadmin publish --batch -`` accepts, paces with --rate, and refuses bad
arguments with exit status 2 and one line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from hookadmin.core.simulate import simulate
from hookadmin.core.store import DB_FILENAME
from tests.helpers import db_rows, run_cli


def _queued(home: Path) -> list[tuple[str, object]]:
    rows = db_rows(home, "SELECT type, body FROM events ORDER BY seq")
    return [(str(t), json.loads(b)) for t, b in rows]  # type: ignore[arg-type]


def _summary(verb: str, events: list[tuple[str, object]]) -> str:
    groups = Counter(t.split(".")[0] for t, _ in events)
    return f"{verb} {len(events)} events: {groups['cluster']} cluster, {groups['job']} job."


def test_simulate_publishes_the_seeded_events_to_the_outbox(home: Path) -> None:
    expected = list(simulate(2, 5, 7))
    result = run_cli("simulate", "--clusters", "2", "--jobs", "5", "--seed", "7", home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == _summary("Published", expected) + "\n"  # type: ignore[arg-type]
    assert _queued(home) == expected


def test_simulate_batches_large_runs_without_losing_or_reordering_events(home: Path) -> None:
    expected = list(simulate(3, 200, 1))
    assert len(expected) > 500  # more than one publish_many transaction
    result = run_cli("simulate", "--clusters", "3", "--jobs", "200", "--seed", "1", home=home)
    assert result.returncode == 0, result.stderr
    assert _queued(home) == expected


def test_simulate_defaults_to_two_clusters_and_ten_jobs(home: Path) -> None:
    result = run_cli("simulate", home=home)
    assert result.returncode == 0, result.stderr
    events = _queued(home)
    assert len({r["id"] for t, r in events if t.startswith("job.")}) == 10  # type: ignore[index]
    assert len({r["id"] for t, r in events if t.startswith("cluster.")}) == 2  # type: ignore[index]
    assert result.stdout == _summary("Published", events) + "\n"


def test_print_writes_json_lines_that_publish_batch_accepts(home: Path) -> None:
    expected = list(simulate(2, 6, 21))
    printed = run_cli("simulate", "--clusters", "2", "--jobs", "6", "--seed", "21", "--print",
                      home=home)
    assert printed.returncode == 0, printed.stderr
    assert not (home / DB_FILENAME).exists()  # nothing published, no database made
    lines = printed.stdout.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"type": t, "resource": r} for t, r in expected]
    assert printed.stderr.strip() == _summary("Printed", expected)  # type: ignore[arg-type]
    # Non-ASCII text (names like "Zoë Ångström") is written as UTF-8, not \u-escaped.
    assert any(ord(c) > 127 for c in printed.stdout)
    assert "\\u" not in printed.stdout

    queued = run_cli("publish", "--batch", "-", home=home, input=printed.stdout.encode())
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.strip() == f"Queued {len(expected)} events."
    assert _queued(home) == expected


def test_dry_run_is_the_same_as_print(home: Path) -> None:
    a = run_cli("simulate", "--seed", "4", "--dry-run", home=home)
    b = run_cli("simulate", "--seed", "4", "--print", home=home)
    assert (a.returncode, b.returncode) == (0, 0)
    assert a.stdout == b.stdout
    assert a.stdout


def test_rate_paces_publishing(home: Path) -> None:
    expected = list(simulate(1, 1, 1))
    rate = 10.0
    result = run_cli("simulate", "--clusters", "1", "--jobs", "1", "--seed", "1",
                     "--rate", str(rate), home=home)
    assert result.returncode == 0, result.stderr
    assert _queued(home) == expected
    ((first, last),) = db_rows(home, "SELECT min(occurred_at), max(occurred_at) FROM events")
    assert isinstance(first, float)
    assert isinstance(last, float)
    # Published one by one at 10 per second: the first and last are (n-1)/10 s apart.
    spread = (len(expected) - 1) / rate
    assert spread * 0.9 <= last - first <= spread + 5


@pytest.mark.parametrize(("args", "fragment"), [
    (["--clusters", "-1"], "argument --clusters: '-1' is not a count"),
    (["--jobs", "many"], "argument --jobs: 'many' is not a count"),
    (["--jobs", "2.5"], "argument --jobs: '2.5' is not a count"),
    (["--rate", "0"], "argument --rate: '0' is not a rate"),
    (["--rate", "-3"], "argument --rate: '-3' is not a rate"),
    (["--rate", "nan"], "argument --rate: 'nan' is not a rate"),
    (["--rate", "inf"], "argument --rate: 'inf' is not a rate"),
    (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["--clusters", "0", "--jobs", "3"], "Jobs need a cluster to run on"),
    (["--clusters", "0", "--jobs", "3", "--print"], "Jobs need a cluster to run on"),
])
def test_bad_arguments_exit_2_with_one_line(home: Path, args: list[str],
                                            fragment: str) -> None:
    result = run_cli("simulate", *args, home=home)
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hookadmin: ")
    assert fragment in line
    assert result.stdout == ""
    if (home / DB_FILENAME).exists():
        assert db_rows(home, "SELECT count(*) FROM events") == [(0,)]
