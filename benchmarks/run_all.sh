#!/usr/bin/env bash
# Runs every benchmark once, one after the other, at the sizes used for README.md, under
# the test keyring. Results: benchmarks/results/NAME.json (machine-readable) and
# NAME.txt (the printed table). Takes about 40 minutes on the 2-core machine.
#   benchmarks/run_all.sh            # everything
#   benchmarks/run_all.sh latency    # only the names given
set -uo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/results
mkdir -p "$out"
run() {
  local name=$1; shift
  echo "== $name: $*" >&2
  dbus-run-session -- scripts/with-test-keyring.sh .venv/bin/python "$@" \
    --json "$out/$name.json" >"$out/$name.txt" 2>"$out/$name.log"
  echo "   exit $? ($(tail -n 1 "$out/$name.txt"))" >&2
}
want() { [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; }
declare -A cmd=(
  [throughput]="benchmarks/throughput.py --max-seconds 160"
  [throughput-2000]="benchmarks/throughput.py --events 2000"
  [throughput-profile]="benchmarks/throughput.py --only engine --max-seconds 160 --profile /tmp/hookadmin-engine.raw"
  [latency]="benchmarks/latency.py"
  [latency-batch1]="benchmarks/latency.py --batch 1"
  [latency-100]="benchmarks/latency.py --rate 100 --batch 1"
  [isolation]="benchmarks/isolation.py"
  [fanout]="benchmarks/fanout.py"
  [memory]="benchmarks/memory.py"
)
for name in throughput throughput-2000 throughput-profile latency latency-batch1 latency-100 \
            isolation fanout memory; do
  if want "$@"; then
    # shellcheck disable=SC2086
    run "$name" ${cmd[$name]}
  fi
done
