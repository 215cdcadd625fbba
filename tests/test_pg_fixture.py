"""The PostgreSQL test fixture gives each test an empty database of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from tests.pg import URL_ENV


def test_each_test_gets_an_empty_database_of_its_own(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as db:
        name = db.execute("SELECT current_database()").fetchone()
        tables = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone()
    assert name is not None
    assert name[0].startswith("hookadmin_test_")
    assert tables == (0,)


def test_without_the_cluster_a_test_fails_with_one_sentence(tmp_path: Path) -> None:
    test = tmp_path / "test_needs_pg.py"
    test.write_text("def test_it(postgres_url):\n    pass\n")
    env_code = (f"import os, sys, pytest; os.environ.pop({URL_ENV!r}, None); "
                "sys.exit(pytest.main(['-q', '-p', 'tests.pg', '-p', 'no:cacheprovider', "
                f"'--rootdir', {str(tmp_path)!r}, {str(test)!r}]))")
    result = subprocess.run([sys.executable, "-c", env_code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, timeout=60, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{URL_ENV} is not set; run the tests inside scripts/with-test-postgres.sh" \
        in result.stdout
    assert "1 error" in result.stdout  # failed in set-up, not skipped
