#!/usr/bin/env bash
# The checks CI runs: ruff, mypy --strict, the import contract, then pytest in
# parallel worker processes (pytest-xdist; each worker starts its own D-Bus session
# and test keyring, tests/worker_keyring.py). Arguments after these go to pytest,
# so `-n 0` runs the tests in this one process.
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check hookadmin tests benchmarks
.venv/bin/mypy
.venv/bin/lint-imports
# 4 workers: measured on 2 shared cores, the suite mostly waits on the processes its
# tests start (README, "Run the whole test suite"); worksteal evens out the slow tests.
.venv/bin/python -m pytest -n 4 --dist worksteal "$@"
