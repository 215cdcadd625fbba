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
# 8 workers on 2 cores, measured (README, "Run the whole test suite"): the tests spend
# much of their time waiting on the processes they start, and on a machine shared with
# other runs more workers get more of its CPU. worksteal evens out the slow tests.
# Then the tests marked `alone` (they bound wall time) in one process, with no other
# worker beside them. Exit status: the first failure's; 5 (no tests) only if neither
# run had a test.
parallel=0
.venv/bin/python -m pytest -n 8 --dist worksteal --alone-tests exclude "$@" || parallel=$?
alone=0
.venv/bin/python -m pytest -n 0 --alone-tests only "$@" || alone=$?
if [ "$parallel" -ne 0 ] && [ "$parallel" -ne 5 ]; then exit "$parallel"; fi
if [ "$alone" -ne 0 ] && [ "$alone" -ne 5 ]; then exit "$alone"; fi
if [ "$parallel" -eq 5 ] && [ "$alone" -eq 5 ]; then exit 5; fi
exit 0
