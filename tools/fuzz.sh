#!/usr/bin/env bash
# The long fuzzing campaign: tests/test_fuzz.py (every loss class, every public
# method, perturbed inputs and extreme hyper-parameters) with EXAMPLES examples per
# class and test, in PROCESSES processes with different seeds. An example is one
# call (four for the hyper-parameter test, one per method); the number of examples
# is printed at the end, and the logs are left in LOGS (default: a new temporary
# folder). Run from a clone with fastloss installed.
#
#   EXAMPLES=11000 PROCESSES=2 tools/fuzz.sh      (about 10^6 calls over the classes)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${EXAMPLES:-11000}
processes=${PROCESSES:-2}
logs=${LOGS:-$(mktemp -d)}
pids=()
for p in $(seq 1 "$processes"); do
    FUZZ_EXAMPLES=$examples FUZZ_SEED=$p python -P -m pytest -q -p no:cacheprovider \
        tests/test_fuzz.py > "$logs/fuzz-$p.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
tests=$( (grep -ho "[0-9]* passed" "$logs"/fuzz-*.log || true) | awk '{s += $1} END {print s + 0}')
echo "$tests tests passed x up to $examples examples each = $((tests * examples)); status $status"
tail -n 3 "$logs"/fuzz-*.log
exit $status
